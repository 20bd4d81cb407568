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
        Ok(Err(e)) => {
            tracing::warn!("webhook {name}: delivery not stored, answered 503: {e}");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the delivery could not be stored now: deliver again",
            )
        }
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

/// A served webhook over the in-process bus, for the connectors' tests: requests through the
/// real router, and what reached the topics.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use axum::http::Request;
    use tower::ServiceExt;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::model::Limits;
    use vigie_core::proto::{DeadLetter, Mention};

    /// One webhook `name` of `tenant`, served as ingest serves it.
    pub(crate) struct Harness {
        pub(crate) bus: MemoryBus,
        router: Router,
        name: String,
    }

    impl Harness {
        /// Serves `hook` as connector `name` of `tenant`.
        pub(crate) fn new(name: &str, tenant: &str, hook: Arc<dyn Webhook>) -> Self {
            Self::on(MemoryBus::default(), Duration::from_secs(5), name, tenant, hook)
        }

        /// [`Harness::new`] over `bus`, answering 503 after `deadline` without the broker's ack.
        pub(crate) fn on(
            bus: MemoryBus,
            deadline: Duration,
            name: &str,
            tenant: &str,
            hook: Arc<dyn Webhook>,
        ) -> Self {
            let ingestor = Arc::new(Ingestor::new(
                Publisher::Memory(bus.clone()),
                Limits::default(),
                100,
                1000,
            ));
            let mut endpoints = HashMap::new();
            endpoints.insert(name.to_string(), Endpoint::new(name, tenant, hook, ingestor));
            let webhooks = Webhooks::new(endpoints, 1 << 20, Duration::from_secs(5), deadline);
            Self {
                bus,
                router: router(Arc::new(webhooks)),
                name: name.to_string(),
            }
        }

        /// `GET /v1/webhooks/{name}?{query}`: the status and the body.
        pub(crate) async fn get(&self, query: &str) -> (StatusCode, String) {
            self.get_at(&self.name, query).await
        }

        /// `GET /v1/webhooks/{name}?{query}` for another `name`.
        pub(crate) async fn get_at(&self, name: &str, query: &str) -> (StatusCode, String) {
            let uri = format!("/v1/webhooks/{name}?{query}");
            self.send(Request::get(uri).body(Body::empty()).expect("request"))
                .await
        }

        /// `POST /v1/webhooks/{name}` with `headers` and `body`: the status and the body.
        pub(crate) async fn post(&self, headers: &[(&str, &str)], body: &[u8]) -> (StatusCode, String) {
            let mut request = Request::post(format!("/v1/webhooks/{}", self.name));
            for (k, v) in headers {
                request = request.header(*k, *v);
            }
            self.send(request.body(Body::from(body.to_vec())).expect("request"))
                .await
        }

        async fn send(&self, request: Request<Body>) -> (StatusCode, String) {
            let response = self
                .router
                .clone()
                .oneshot(request)
                .await
                .expect("router answers");
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("body");
            (status, String::from_utf8_lossy(&body).into_owned())
        }

        /// The mentions published so far.
        pub(crate) fn mentions(&self) -> Vec<Mention> {
            crate::connectors::testing::mentions(&self.bus)
        }

        /// The dead letters written so far.
        pub(crate) fn dead_letters(&self) -> Vec<DeadLetter> {
            crate::connectors::testing::dead_letters(&self.bus)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::Harness;
    use super::*;
    use vigie_core::proto::{Mention, Source};

    /// Accepts bodies signed `ok`, answers `?challenge=x` with `x`, maps `{"text": …}` lines.
    struct Hook;

    impl Webhook for Hook {
        fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
            match query.get("challenge") {
                Some(c) => Ok(Answer {
                    content_type: "text/plain",
                    body: c.clone(),
                }),
                None => Err(Refusal::new("bad_handshake", "no challenge")),
            }
        }

        fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), Refusal> {
            match header(headers, "x-sig") {
                Some("ok") => Ok(()),
                Some(_) => Err(Refusal::new("bad_signature", "wrong signature")),
                None => Err(Refusal::new("missing_signature", "no x-sig header")),
            }
        }

        fn map(&self, body: &[u8]) -> Mapped {
            let mut mapped = Mapped::default();
            for line in body.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                    mapped.items.push(super::super::map::Mapping {
                        item: Err(vigie_core::model::FieldError::new("body", "not JSON")),
                        original: line.to_vec(),
                    });
                    continue;
                };
                match v.get("text").and_then(|t| t.as_str()) {
                    Some(text) => mapped.mention(
                        Mention {
                            tenant: "someone-else".into(),
                            source: Source::Telegram as i32,
                            native_id: v["id"].as_str().unwrap_or_default().into(),
                            text: text.into(),
                            ..Default::default()
                        },
                        &v,
                    ),
                    None if v.get("receipt").is_some() => mapped.ignore("receipt"),
                    None => mapped.unmapped("event", "neither text nor receipt", &v),
                }
            }
            mapped
        }
    }

    #[tokio::test]
    async fn deliveries_are_verified_mapped_bound_to_the_tenant_and_nothing_is_lost() {
        let h = Harness::new("acme-test", "acme", Arc::new(Hook));
        assert_eq!(h.get("challenge=abc").await, (StatusCode::OK, "abc".to_string()));
        assert_eq!(h.get("nothing=1").await.0, StatusCode::FORBIDDEN);

        let body = b"{\"id\":\"1\",\"text\":\"hello\"}\n{\"receipt\":1}\n{\"other\":2}\nnot json\n";
        assert_eq!(h.post(&[], body).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            h.post(&[("x-sig", "bad")], body).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert!(
            h.mentions().is_empty() && h.dead_letters().is_empty(),
            "a refused delivery stores nothing"
        );

        let (status, answer) = h.post(&[("x-sig", "ok")], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        let mentions = h.mentions();
        assert_eq!(mentions.len(), 1);
        assert_eq!(
            mentions[0].tenant, "acme",
            "the connector's tenant, whatever the payload said"
        );
        assert_eq!(mentions[0].text, "hello");
        let letters = h.dead_letters();
        assert_eq!(
            letters.len(),
            2,
            "the unknown event and the line that is not JSON"
        );
        assert!(letters
            .iter()
            .all(|l| l.stage == "connector:acme-test" && l.tenant == "acme"));
        assert!(letters
            .iter()
            .any(|l| l.original == b"not json" && l.reason == "not JSON"));

        // A delivery again (the platform retries) is a duplicate, not a second mention.
        let (_, answer) = h
            .post(&[("x-sig", "ok")], b"{\"id\":\"1\",\"text\":\"hello\"}")
            .await;
        assert!(answer.contains("\"duplicates\":1"), "{answer}");
        assert_eq!(h.mentions().len(), 1);

        let metrics = vigie_core::metrics::render();
        for line in [
            "vigie_connector_refused_total{connector=\"acme-test\",reason=\"missing_signature\"} 1",
            "vigie_connector_refused_total{connector=\"acme-test\",reason=\"bad_signature\"} 1",
            "vigie_connector_refused_total{connector=\"acme-test\",reason=\"bad_handshake\"} 1",
            "vigie_connector_ignored_total{connector=\"acme-test\",event=\"receipt\"} 1",
            "vigie_connector_published_total{connector=\"acme-test\"} 1",
            "vigie_connector_duplicates_total{connector=\"acme-test\"} 1",
            "vigie_connector_deadlettered_total{connector=\"acme-test\"} 2",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn a_slow_broker_gets_a_503_within_the_deadline_so_the_platform_delivers_again() {
        // A topic that is full until its consumer moves on: the broker does not acknowledge.
        let bus = vigie_core::bus::memory::MemoryBus::with_capacity(1);
        let _stalled = bus.subscribe(vigie_core::topics::MENTIONS_RAW, Some("stalled"));
        let h = Harness::on(
            bus,
            Duration::from_millis(200),
            "acme-slow",
            "acme",
            Arc::new(Hook),
        );
        let first = h
            .post(&[("x-sig", "ok")], b"{\"id\":\"1\",\"text\":\"first\"}")
            .await;
        assert_eq!(first.0, StatusCode::OK, "{}", first.1);
        let (status, body) = h
            .post(&[("x-sig", "ok")], b"{\"id\":\"2\",\"text\":\"second\"}")
            .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(
            body.contains("webhook_deadline_ms") && !body.contains("topic full"),
            "{body}"
        );
        assert_eq!(
            h.mentions().len(),
            1,
            "the second is not stored: the platform delivers it again"
        );
        assert!(vigie_core::metrics::render()
            .contains("vigie_connector_errors_total{connector=\"acme-slow\",kind=\"deadline\"} 1"));
    }

    #[tokio::test]
    async fn an_unknown_name_is_not_found() {
        let h = Harness::new("acme-test2", "acme", Arc::new(Hook));
        let (status, body) = h.get_at("nobody", "challenge=x").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(
            body.contains("no connector named") && body.contains("nobody"),
            "{body}"
        );
        assert!(Webhooks::none().is_empty());
    }
}
