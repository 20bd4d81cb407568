//! HTTP front end: `POST /v1/mentions` plus `/metrics` and `/healthz`.
//!
//! Status codes: 200 when every item was accepted (or a duplicate); 400 when any item was
//! rejected (the body lists each item's outcome; accepted items were published); 413 when the
//! body or the item count is over the limit; 503 when the broker did not acknowledge every
//! record (some may have been stored; retrying the whole request is safe, as mention ids make
//! it idempotent).

use crate::body::split;
use crate::ingestor::{IngestError, Ingestor, Item, Submitted};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use vigie_core::proto::PublishResponse;
use vigie_core::tokens::AuthError;

/// What the mentions endpoint needs.
struct Front {
    ingestor: Arc<Ingestor>,
    max_body_bytes: usize,
    body_timeout: Duration,
}

/// The ingest HTTP router (health, and metrics too unless `ingest.metrics_listen` serves them
/// elsewhere): bodies over `max_body_bytes` get 413, a body not received within `body_timeout` of
/// its headers gets 408.
pub fn router(ingestor: Arc<Ingestor>, max_body_bytes: usize, body_timeout: Duration) -> Router {
    mentions_router(ingestor, max_body_bytes, body_timeout).merge(vigie_core::metrics::metrics_router())
}

/// [`router`] without `/metrics` (served on `ingest.metrics_listen` instead); `/healthz` stays.
pub fn mentions_router(ingestor: Arc<Ingestor>, max_body_bytes: usize, body_timeout: Duration) -> Router {
    let front = Arc::new(Front {
        ingestor,
        max_body_bytes,
        body_timeout,
    });
    Router::new()
        .route("/v1/mentions", post(post_mentions))
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .with_state(front)
}

/// Reads the whole body within the time and size limits, or answers why not.
async fn read_body(front: &Front, body: Body) -> Result<Bytes, Response> {
    read_limited(body, front.max_body_bytes, front.body_timeout).await
}

/// Reads a whole request body of at most `max_body_bytes` (413 otherwise) arriving within
/// `body_timeout` (408 otherwise), or answers why not (the webhooks use it too).
pub(crate) async fn read_limited(
    body: Body,
    max_body_bytes: usize,
    body_timeout: Duration,
) -> Result<Bytes, Response> {
    let refuse =
        |status: StatusCode, error: String| (status, Json(json!({ "error": error }))).into_response();
    match tokio::time::timeout(body_timeout, axum::body::to_bytes(body, max_body_bytes)).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Err(_) => Err(refuse(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body did not arrive within {} ms of the headers (ingest.body_timeout_ms)",
                body_timeout.as_millis()
            ),
        )),
        Ok(Err(e)) if too_large(&e) => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the body is over {} bytes (ingest.max_body_bytes); send fewer mentions per request",
                max_body_bytes
            ),
        )),
        Ok(Err(e)) => Err(refuse(StatusCode::BAD_REQUEST, format!("reading the body: {e}"))),
    }
}

/// Whether a body error is the size limit.
fn too_large(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// 401 or 403 with the reason.
fn auth_error(e: AuthError) -> Response {
    let status = match e {
        AuthError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AuthError::PermissionDenied(_) => StatusCode::FORBIDDEN,
    };
    (status, Json(json!({ "error": e.to_string() }))).into_response()
}

async fn post_mentions(State(front): State<Arc<Front>>, headers: HeaderMap, body: Body) -> Response {
    let ingestor = &front.ingestor;
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let caller = match ingestor.authorize(authorization) {
        Ok(c) => c,
        Err(e) => return auth_error(e),
    };
    let body = match read_body(&front, body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let items = match split(&body) {
        Ok(items) => items,
        Err(e) => {
            // The body as a whole is unreadable: dead-letter it as one item and say why.
            let submitted = vec![Submitted {
                item: Item::Refused {
                    error: e,
                    tenant: String::new(),
                },
                original: body.to_vec(),
            }];
            return match ingestor.submit(&caller, submitted, "http").await {
                Ok(r) => (StatusCode::BAD_REQUEST, Json(response_json(&r))).into_response(),
                Err(e) => error_response(e),
            };
        }
    };
    let limits = *ingestor.limits();
    let now = vigie_core::now_ms();
    let submitted: Vec<Submitted> = items
        .into_iter()
        // Items may leave the tenant out: the token says whose they are.
        .map(|raw| raw.into_submitted(caller.tenant(), &limits, now))
        .collect();
    match ingestor.submit(&caller, submitted, "http").await {
        Ok(r) if r.rejected > 0 => (StatusCode::BAD_REQUEST, Json(response_json(&r))).into_response(),
        Ok(r) => (StatusCode::OK, Json(response_json(&r))).into_response(),
        Err(e) => error_response(e),
    }
}

fn error_response(e: IngestError) -> Response {
    let status = match &e {
        IngestError::TooMany { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        IngestError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
    };
    (status, Json(json!({ "error": e.to_string() }))).into_response()
}

/// The JSON form of a publish response.
pub fn response_json(r: &PublishResponse) -> serde_json::Value {
    json!({
        "accepted": r.accepted,
        "duplicates": r.duplicates,
        "rejected": r.rejected,
        "rejected_unlisted": r.rejected_unlisted,
        "results": r.results.iter().map(|x| {
            json!({ "index": x.index, "status": x.status, "field": x.field, "reason": x.reason })
        }).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::model::Limits;

    async fn post(router: &Router, body: &str) -> (StatusCode, serde_json::Value) {
        post_as(router, None, body).await
    }

    async fn post_as(router: &Router, token: Option<&str>, body: &str) -> (StatusCode, serde_json::Value) {
        use tower::ServiceExt;
        let mut req = axum::http::Request::post("/v1/mentions");
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let req = req.body(axum::body::Body::from(body.to_string())).unwrap();
        let resp = router.clone().oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
        )
    }

    #[tokio::test]
    async fn statuses_and_per_item_errors() {
        let bus = MemoryBus::default();
        let ingestor = Arc::new(Ingestor::new(Publisher::Memory(bus), Limits::default(), 3, 100));
        let router = router(ingestor, 1024, Duration::from_secs(5));
        let ok = r#"{"tenant":"acme","source":"x","native_id":"1","text":"hello"}"#;
        let (s, body) = post(&router, ok).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["accepted"], 1);
        assert_eq!(
            body["results"],
            json!([]),
            "accepted items are counted, not listed"
        );
        let mixed = r#"[{"tenant":"acme","source":"x","native_id":"2","text":"hi"},{"tenant":"acme","source":"fax","native_id":"3","text":"hi"}]"#;
        let (s, body) = post(&router, mixed).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["accepted"], 1);
        assert_eq!(body["results"][0]["index"], 1);
        assert_eq!(body["results"][0]["field"], "items[1].source");
        let (s, _) = post(&router, "[1,2,3,4]").await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        let (s, _) = post(&router, &"x".repeat(2000)).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        let (s, body) = post(&router, "{not json").await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert!(body["results"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("invalid JSON"));
    }

    #[tokio::test]
    async fn metrics_can_be_kept_off_the_public_port() {
        use tower::ServiceExt;
        let ingestor = Arc::new(Ingestor::new(
            Publisher::Memory(MemoryBus::default()),
            Limits::default(),
            3,
            100,
        ));
        let get = |router: Router, path: &'static str| async move {
            let req = axum::http::Request::get(path)
                .body(axum::body::Body::empty())
                .unwrap();
            router.oneshot(req).await.unwrap().status()
        };
        let public = router(ingestor.clone(), 1024, Duration::from_secs(5));
        assert_eq!(get(public, "/metrics").await, StatusCode::OK);
        let private = mentions_router(ingestor, 1024, Duration::from_secs(5));
        assert_eq!(get(private.clone(), "/metrics").await, StatusCode::NOT_FOUND);
        assert_eq!(get(private, "/healthz").await, StatusCode::OK);
    }

    #[tokio::test]
    async fn tokens_bind_writes_to_their_tenant() {
        use vigie_core::proto::Role;
        use vigie_core::tokens::{make, TokenStore};
        let bus = MemoryBus::default();
        let store = TokenStore::default();
        let (operator, record) = make("acme", Role::Operator, "t").unwrap();
        store.upsert(record);
        let (reader, record) = make("acme", Role::Reader, "t").unwrap();
        store.upsert(record);
        let ingestor =
            Ingestor::new(Publisher::Memory(bus.clone()), Limits::default(), 10, 100).with_tokens(store);
        let router = router(Arc::new(ingestor), 1 << 16, Duration::from_secs(5));
        let mine = r#"{"source":"x","native_id":"1","text":"hello"}"#;
        assert_eq!(post_as(&router, None, mine).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            post_as(&router, Some("vigie_nope_nope"), mine).await.0,
            StatusCode::UNAUTHORIZED
        );
        let (s, body) = post_as(&router, Some(&reader), mine).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        // The token's tenant fills in a missing one.
        let (s, body) = post_as(&router, Some(&operator), mine).await;
        assert_eq!((s, &body["accepted"]), (StatusCode::OK, &json!(1)), "{body}");
        assert_eq!(bus.snapshot(vigie_core::topics::MENTIONS_RAW).len(), 1);
        // Another tenant's mention is refused, named, and kept on the dead-letter topic.
        let theirs = r#"{"tenant":"globex","source":"x","native_id":"2","text":"hello"}"#;
        let (s, body) = post_as(&router, Some(&operator), theirs).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["results"][0]["field"], "items[0].tenant", "{body}");
        assert_eq!(bus.snapshot(vigie_core::topics::DEADLETTER).len(), 1);
        assert_eq!(bus.snapshot(vigie_core::topics::MENTIONS_RAW).len(), 1);
    }
}
