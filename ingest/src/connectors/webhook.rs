//! Push connectors: a [`Webhook`] answers its platform's handshake (`GET`), verifies each
//! delivery's signature on the raw body (`POST`) and maps it; [`router`] serves every
//! configured webhook at `/v1/webhooks/{name}`.
//!
//! Answers: `200` once the broker acknowledged every record of the delivery (mentions and dead
//! letters); `401` for a missing or wrong signature and `403` for a failed handshake (counted in
//! `vigie_connector_refused_total{connector,reason}`, logged at most once per
//! [`LOG_EVERY`] per connector, nothing stored); `404` for a name no connector has; `413`/`408`
//! as `/v1/mentions`; `503` when the broker did not acknowledge within `ingest.webhook_deadline_ms`,
//! so that the platform delivers again (ids make the repeat a duplicate).

use super::map::{HandOff, Mapped};
use crate::ingestor::Ingestor;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Least time between two log lines about refused requests of one connector.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Why a request was refused: the reason counted in metrics, and the message answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Short label (`missing_signature`, `bad_signature`, `bad_verify_token`…).
    pub reason: &'static str,
    /// What was wrong, for the caller and the log (never a secret).
    pub message: String,
}

impl Refusal {
    /// A refusal for `reason`, saying `message`.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// A handshake answered: the body and its content type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `text/plain` or `application/json`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// A platform's webhook: its handshake, its signature, its payloads.
pub trait Webhook: Send + Sync {
    /// Answers the platform's `GET` (Meta's `hub.challenge`, X's CRC, LinkedIn's
    /// `challengeCode`), given the query's parameters; a platform without one refuses.
    fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal>;

    /// Checks a `POST`'s signature (or shared secret) on its headers and raw body.
    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal>;

    /// Maps a verified delivery. Events not understood are unmapped items (dead-lettered),
    /// events ignored by design are listed as such: nothing verified disappears silently.
    fn map(&self, body: &[u8]) -> Mapped;
}

/// A header's value as text, if present and readable.
pub fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// One served webhook.
pub struct Endpoint {
    hook: Arc<dyn Webhook>,
    hand_off: HandOff,
    last_log: Mutex<Option<Instant>>,
}

impl Endpoint {
    /// Webhook `hook` of connector `name`, handing its mentions to `ingestor` for `tenant`.
    pub fn new(name: &str, tenant: &str, hook: Arc<dyn Webhook>, ingestor: Arc<Ingestor>) -> Self {
        Self {
            hook,
            hand_off: HandOff::new(ingestor, name, tenant),
            last_log: Mutex::new(None),
        }
    }

    fn refuse(&self, status: StatusCode, refusal: Refusal) -> Response {
        let metrics = self.hand_off.metrics();
        metrics.refused(refusal.reason);
        let mut last = self.last_log.lock().unwrap_or_else(|p| p.into_inner());
        if last.is_none_or(|at| at.elapsed() >= LOG_EVERY) {
            *last = Some(Instant::now());
            tracing::warn!(
                "webhook {}: refused ({}): {} (further refusals within {:?} are only counted)",
                metrics.name(),
                refusal.reason,
                refusal.message,
                LOG_EVERY
            );
        }
        error(status, &refusal.message)
    }
}

/// The served webhooks and their limits.
pub struct Webhooks {
    endpoints: HashMap<String, Endpoint>,
    max_body_bytes: usize,
    body_timeout: Duration,
    deadline: Duration,
}

impl Webhooks {
    /// The webhooks `endpoints` by connector name; bodies over `max_body_bytes` or slower than
    /// `body_timeout` are refused, and a delivery the broker has not acknowledged within
    /// `deadline` gets 503.
    pub fn new(
        endpoints: HashMap<String, Endpoint>,
        max_body_bytes: usize,
        body_timeout: Duration,
        deadline: Duration,
    ) -> Self {
        Self {
            endpoints,
            max_body_bytes,
            body_timeout,
            deadline,
        }
    }

    /// No webhook at all (a front end without connectors).
    pub fn none() -> Self {
        Self::new(HashMap::new(), 0, Duration::ZERO, Duration::ZERO)
    }

    /// Whether no webhook is configured.
    pub fn is_empty(&self) -> bool {
        self.endpoints.is_empty()
    }

    /// The names served, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.endpoints.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }
}

/// `GET|POST /v1/webhooks/{name}` for every webhook in `webhooks`.
pub fn router(webhooks: Arc<Webhooks>) -> Router {
    Router::new()
        .route("/v1/webhooks/{name}", get(handshake).post(deliver))
        .with_state(webhooks)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unknown(name: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        &format!("no connector named {name:?} is configured here"),
    )
}

async fn handshake(
    State(webhooks): State<Arc<Webhooks>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(endpoint) = webhooks.endpoints.get(&name) else {
        return unknown(&name);
    };
    match endpoint.hook.handshake(&query) {
        Ok(answer) => (
            [(axum::http::header::CONTENT_TYPE, answer.content_type)],
            answer.body,
        )
            .into_response(),
        Err(refusal) => endpoint.refuse(StatusCode::FORBIDDEN, refusal),
    }
}

async fn deliver(
    State(webhooks): State<Arc<Webhooks>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = webhooks.endpoints.get(&name) else {
        return unknown(&name);
    };
    let body = match crate::http::read_limited(body, webhooks.max_body_bytes, webhooks.body_timeout).await {
        Ok(body) => body,
        Err(response) => {
            endpoint.hand_off.metrics().error("body");
            return response;
        }
    };
    if let Err(refusal) = endpoint.hook.verify(&headers, &body) {
        return endpoint.refuse(StatusCode::UNAUTHORIZED, refusal);
    }
    let mapped = endpoint.hook.map(&body);
    match tokio::time::timeout(webhooks.deadline, endpoint.hand_off.hand_on(mapped)).await {
        Ok(Ok(answer)) => Json(json!({
            "accepted": answer.accepted,
            "duplicates": answer.duplicates,
            "deadlettered": answer.rejected,
        }))
        .into_response(),
        Ok(Err(e)) => error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        Err(_) => {
            endpoint.hand_off.metrics().error("deadline");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                &format!(
                    "the broker did not acknowledge within {} ms (ingest.webhook_deadline_ms): deliver again",
                    webhooks.deadline.as_millis()
                ),
            )
        }
    }
}
