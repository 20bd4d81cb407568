//! HTTP front end: `POST /v1/mentions` plus `/metrics` and `/healthz`.
//!
//! Status codes: 200 when every item was accepted (or a duplicate); 400 when any item was
//! rejected (the body lists each item's outcome; accepted items were published); 413 when the
//! body or the item count is over the limit; 503 when the broker did not acknowledge every
//! record (some may have been stored; retrying the whole request is safe, as mention ids make
//! it idempotent).

use crate::body::split;
use crate::ingestor::{IngestError, Ingestor, Item, Submitted};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::AUTHORIZATION;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use vigie_core::proto::PublishResponse;
use vigie_core::tokens::AuthError;

/// The ingest HTTP router (metrics and health included).
pub fn router(ingestor: Arc<Ingestor>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/v1/mentions", post(post_mentions))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(ingestor)
        .merge(vigie_core::metrics::router())
}

/// 401 or 403 with the reason.
fn auth_error(e: AuthError) -> Response {
    let status = match e {
        AuthError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AuthError::PermissionDenied(_) => StatusCode::FORBIDDEN,
    };
    (status, Json(json!({ "error": e.to_string() }))).into_response()
}

async fn post_mentions(State(ingestor): State<Arc<Ingestor>>, headers: HeaderMap, body: Bytes) -> Response {
    let authorization = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
    let principal = match ingestor.authorize(authorization) {
        Ok(p) => p,
        Err(e) => return auth_error(e),
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
            return match ingestor.submit(submitted, "http").await {
                Ok(r) => (StatusCode::BAD_REQUEST, Json(response_json(&r))).into_response(),
                Err(e) => error_response(e),
            };
        }
    };
    let limits = *ingestor.limits();
    let now = vigie_core::now_ms();
    let mut submitted: Vec<Submitted> = items
        .into_iter()
        .map(|raw| {
            // Items may leave the tenant out: the token says whose they are.
            let value = raw.value.map(|mut v| {
                if let (Some(p), Some(o)) = (&principal, v.as_object_mut()) {
                    o.entry("tenant").or_insert_with(|| json!(p.tenant));
                }
                v
            });
            Submitted {
                item: Item::from_json(value, &limits, now),
                original: raw.original,
            }
        })
        .collect();
    Ingestor::bind_tenant(principal.as_ref(), &mut submitted);
    match ingestor.submit(submitted, "http").await {
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
        "results": r.results.iter().map(|x| {
            let mut o = json!({ "index": x.index, "status": x.status });
            if !x.mention_id.is_empty() { o["id"] = json!(x.mention_id); }
            if !x.field.is_empty() || !x.reason.is_empty() {
                o["field"] = json!(x.field);
                o["reason"] = json!(x.reason);
            }
            o
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
        let router = router(ingestor, 1024);
        let ok = r#"{"tenant":"acme","source":"x","native_id":"1","text":"hello"}"#;
        let (s, body) = post(&router, ok).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["results"][0]["id"], "acme:x:1");
        let mixed = r#"[{"tenant":"acme","source":"x","native_id":"2","text":"hi"},{"tenant":"acme","source":"fax","native_id":"3","text":"hi"}]"#;
        let (s, body) = post(&router, mixed).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["accepted"], 1);
        assert_eq!(body["results"][1]["field"], "items[1].source");
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
        let router = router(Arc::new(ingestor), 1 << 16);
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
        assert_eq!(
            (s, body["results"][0]["id"].as_str()),
            (StatusCode::OK, Some("acme:x:1")),
            "{body}"
        );
        // Another tenant's mention is refused, named, and kept on the dead-letter topic.
        let theirs = r#"{"tenant":"globex","source":"x","native_id":"2","text":"hello"}"#;
        let (s, body) = post_as(&router, Some(&operator), theirs).await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
        assert_eq!(body["results"][0]["field"], "items[0].tenant", "{body}");
        assert_eq!(bus.snapshot(vigie_core::topics::DEADLETTER).len(), 1);
        assert_eq!(bus.snapshot(vigie_core::topics::MENTIONS_RAW).len(), 1);
    }
}
