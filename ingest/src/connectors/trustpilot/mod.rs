//! The `trustpilot` connector: Trustpilot's service review webhooks (Integrations > Developers >
//! Webhooks in the business app). Keys: `secret` (or `secret_env`), and `secret_header`, the
//! header that carries it (default `Authorization`).
//!
//! - `POST` is accepted when the header's value, in constant time, is the secret itself,
//!   `Bearer <secret>`, or `Basic <base64(user:password)>` whose password, or whole
//!   `user:password`, is the secret (what a subscription URL `https://user:secret@host/…` sends);
//!   scheme names in any case (`missing_signature`, `bad_signature`).
//! - `GET` is refused (`no_handshake`): Trustpilot has none (its "Test" button posts).
//!
//! Mapped, from `events[]` (`eventName`, `eventData`):
//! - `service-review-created` → source `review`, public, kind `review`; native id
//!   `eventData.id`; rating = `stars` (1 to 5); `title`; `text`; `language` as the hint (its first
//!   two letters); `created_at` = `createdAt`; author `consumer.id` and `consumer.displayName`
//!   (or `consumer.name`, as Trustpilot's sample writes it); `thread_id` = the review id; url =
//!   the public page `https://www.trustpilot.com/reviews/<id>` (`eventData.link` is the API
//!   resource, which needs an API key: it stays in the original JSON).
//! - `service-review-updated` → the same, as a new mention whose native id is
//!   `<id>:edit:<updatedAt ms>` (or, without `updatedAt`, `<id>:edit:<16 hex digits of the
//!   SHA-256 of stars, title and text>`: [`map::edit_id`]), created at `updatedAt` (else the
//!   reception time): a review raised from 1 to 4 stars after the brand answered is seen, and
//!   the first version is kept.
//!
//! Ignored by design (`vigie_connector_ignored_total{event}`): `service-review-deleted` (a
//! deletion does not retract a mention). Any other `eventName` (product reviews, whose payload
//! differs, included), an event without id, a body without `events` → dead-lettered (unmapped)
//! with its JSON.
//!
//! Limits: the brand's replies to reviews are not delivered by these webhooks (a review's
//! `unanswered` rule cannot be resolved from them); `isVerified` (a verified order) is not an
//! author verification and is not mapped; the consumer's email is never in the payload.

use super::map::{self, Mapped};
use super::settings::{Secret, Settings};
use super::signature;
use super::webhook::{header, Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::{HeaderMap, HeaderName};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

/// The header carrying the secret when `secret_header` is not given.
pub const DEFAULT_HEADER: &str = "Authorization";

/// Builds a `trustpilot` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let secret = settings.secret("secret")?;
    let name = settings
        .optional_string("secret_header")?
        .unwrap_or_else(|| DEFAULT_HEADER.to_string());
    let header = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| settings.error("secret_header", format!("{name:?} is not an HTTP header name")))?;
    Ok(Built::Push(Arc::new(Trustpilot { secret, header })))
}

/// Trustpilot's service review webhook.
pub struct Trustpilot {
    secret: Secret,
    header: HeaderName,
}

impl Trustpilot {
    /// The webhook whose deliveries carry `secret` in `header`.
    pub fn new(secret: Secret, header: HeaderName) -> Self {
        Self { secret, header }
    }

    /// Whether `value` carries the secret in one of the accepted forms (each compared in
    /// constant time, all of them always).
    fn carries_secret(&self, value: &str) -> bool {
        let secret = self.secret.expose();
        let value = value.trim();
        let mut ok = signature::same_secret(value.as_bytes(), secret);
        if let Some((scheme, rest)) = value.split_once(' ') {
            let rest = rest.trim();
            if scheme.eq_ignore_ascii_case("bearer") {
                ok |= signature::same_secret(rest.as_bytes(), secret);
            } else if scheme.eq_ignore_ascii_case("basic") {
                if let Some(pair) = signature::from_base64(rest) {
                    ok |= signature::same_secret(&pair, secret);
                    if let Some(colon) = pair.iter().position(|b| *b == b':') {
                        ok |= signature::same_secret(&pair[colon + 1..], secret);
                    }
                }
            }
        }
        ok
    }
}

impl Webhook for Trustpilot {
    fn handshake(&self, _query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        Err(Refusal::new(
            "no_handshake",
            "Trustpilot has no handshake: its webhooks only POST",
        ))
    }

    fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), Refusal> {
        let name = self.header.as_str();
        match header(headers, name) {
            None => Err(Refusal::new("missing_signature", format!("no {name} header"))),
            Some(value) if self.carries_secret(value) => Ok(()),
            Some(_) => Err(Refusal::new(
                "bad_signature",
                format!("{name} does not carry the configured secret"),
            )),
        }
    }

    fn map(&self, body: &[u8]) -> Mapped {
        let Ok(payload) = serde_json::from_slice::<Value>(body) else {
            return Mapped::malformed("not JSON: not a Trustpilot webhook payload", body);
        };
        let Some(events) = payload.get("events").and_then(Value::as_array) else {
            return Mapped::malformed("no events array", body);
        };
        let mut mapped = Mapped::default();
        for event in events {
            match map::text(event, &["eventName"]) {
                Some("service-review-created") => review(event, false, &mut mapped),
                Some("service-review-updated") => review(event, true, &mut mapped),
                Some("service-review-deleted") => mapped.ignore("service-review-deleted"),
                Some(other) => mapped.unmapped(
                    "events[].eventName",
                    format!("{other:?} is not a Trustpilot event this connector knows"),
                    event,
                ),
                None => mapped.unmapped("events[].eventName", "missing", event),
            }
        }
        mapped
    }
}

/// A service review, first written or updated.
fn review(event: &Value, updated: bool, mapped: &mut Mapped) {
    let Some(d) = event.get("eventData") else {
        mapped.unmapped("events[].eventData", "missing", event);
        return;
    };
    let Some(id) = map::id(d, &["id"]) else {
        mapped.unmapped("events[].eventData.id", "missing", event);
        return;
    };
    let title = map::text(d, &["title"]).unwrap_or_default();
    let text = map::text(d, &["text"]).unwrap_or_default();
    let stars = map::count(d, &["stars"]);
    let (native_id, created_at_ms) = if updated {
        let at = map::time_ms(d, &["updatedAt"]);
        let words = format!("{}\u{1f}{title}\u{1f}{text}", stars.unwrap_or(0));
        (map::edit_id(&id, at, &words), at.unwrap_or(0))
    } else {
        (id.clone(), map::time_ms(d, &["createdAt"]).unwrap_or(0))
    };
    let language = map::language_hint(map::text(d, &["language"]));
    let mention = Mention {
        source: Source::Review as i32,
        visibility: Visibility::Public as i32,
        kind: Kind::Review as i32,
        native_id,
        author: Some(Author {
            id: map::id(d, &["consumer", "id"]).unwrap_or_default(),
            display_name: map::text(d, &["consumer", "displayName"])
                .or_else(|| map::text(d, &["consumer", "name"]))
                .unwrap_or_default()
                .to_string(),
            ..Default::default()
        }),
        text: text.to_string(),
        title: title.to_string(),
        url: format!("https://www.trustpilot.com/reviews/{id}"),
        language_hint: language,
        created_at_ms,
        rating: stars.map_or(0.0, |s| s as f32),
        thread_id: id,
        ..Default::default()
    };
    mapped.mention(mention, event);
}

#[cfg(test)]
mod tests {
    use super::super::webhook::testing::Harness;
    use super::*;
    use axum::http::StatusCode;
    use sha2::Digest;
    use vigie_core::config::ConnectorConfig;

    const SECRET: &str = "tp-webhook-secret";

    fn hook(extra: &str) -> Arc<dyn Webhook> {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"tp\"\ntype = \"trustpilot\"\ntenant = \"acme\"\nsecret = \"{SECRET}\"\n{extra}"
        ))
        .unwrap();
        match super::super::build_all(&[config]).unwrap().pop().unwrap().built {
            Built::Push(hook) => hook,
            Built::Pull(_) => unreachable!("trustpilot is a webhook"),
        }
    }

    async fn deliver(h: &Harness, body: &[u8]) -> String {
        let (status, answer) = h
            .post(&[("Authorization", &format!("Bearer {SECRET}"))], body)
            .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    #[test]
    fn a_header_name_that_is_not_one_is_refused() {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"tp\"\ntype = \"trustpilot\"\ntenant = \"acme\"\nsecret = \"{SECRET}\"\nsecret_header = \"bad header\""
        ))
        .unwrap();
        let e = super::super::build_all(&[config]).err().unwrap().to_string();
        assert!(
            e.contains("secret_header") && e.contains("not an HTTP header name"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn the_secret_is_accepted_raw_as_bearer_or_in_basic_auth() {
        let h = Harness::new("tp-auth", "acme", hook(""));
        let body = br#"{"events":[{"eventName":"service-review-deleted","eventData":{"id":"1"}}]}"#;
        // python3: base64.b64encode(b"trustpilot:tp-webhook-secret"), b"tp-webhook-secret"
        let basic_pair = "Basic dHJ1c3RwaWxvdDp0cC13ZWJob29rLXNlY3JldA==";
        let basic_whole = "basic dHAtd2ViaG9vay1zZWNyZXQ=";
        for good in [
            SECRET,
            "Bearer tp-webhook-secret",
            "bearer  tp-webhook-secret ",
            basic_pair,
            basic_whole,
        ] {
            let (status, answer) = h.post(&[("Authorization", good)], body).await;
            assert_eq!(status, StatusCode::OK, "{good}: {answer}");
        }
        // One byte changed, in each form.
        for bad in [
            "tp-webhook-secreT",
            "Bearer tp-webhook-secreT",
            "Basic dHJ1c3RwaWxvdDp0cC13ZWJob29rLXNlY3JldQ==",
            "Token tp-webhook-secret",
        ] {
            assert_eq!(
                h.post(&[("Authorization", bad)], body).await.0,
                StatusCode::UNAUTHORIZED,
                "{bad}"
            );
        }
        assert_eq!(h.post(&[], body).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(h.get("").await.0, StatusCode::FORBIDDEN);
        let metrics = vigie_core::metrics::render();
        for line in [
            "vigie_connector_refused_total{connector=\"tp-auth\",reason=\"bad_signature\"} 4",
            "vigie_connector_refused_total{connector=\"tp-auth\",reason=\"missing_signature\"} 1",
            "vigie_connector_refused_total{connector=\"tp-auth\",reason=\"no_handshake\"} 1",
            "vigie_connector_ignored_total{connector=\"tp-auth\",event=\"service-review-deleted\"} 5",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn the_secret_can_come_in_another_header() {
        let h = Harness::new("tp-header", "acme", hook("secret_header = \"X-Vigie-Token\""));
        let body = br#"{"events":[]}"#;
        assert_eq!(h.post(&[("x-vigie-token", SECRET)], body).await.0, StatusCode::OK);
        assert_eq!(
            h.post(&[("Authorization", SECRET)], body).await.0,
            StatusCode::UNAUTHORIZED,
            "only the configured header counts"
        );
    }

    #[tokio::test]
    async fn a_new_review_is_a_public_review_with_its_rating() {
        let h = Harness::new("tp-created", "acme", hook(""));
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/trustpilot/service_review_created.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(m.source, Source::Review as i32);
        assert_eq!(m.visibility, Visibility::Public as i32);
        assert_eq!(m.kind, Kind::Review as i32);
        assert_eq!(m.native_id, "65f2c1a0e3b4d5f600a1b2c3");
        assert_eq!(m.rating, 1.0);
        assert_eq!(m.title, "Livraison jamais arrivée");
        assert!(m.text.starts_with("Commande passée il y a trois semaines"));
        assert_eq!(m.language_hint, "fr");
        assert_eq!(
            ["en-GB", "pt_BR", "DE", "und", "e", "", "é", "aé"].map(|l| map::language_hint(Some(l))),
            ["en", "pt", "de", "", "", "", "", ""]
        );
        assert_eq!(m.created_at_ms, 1_710_407_730_000);
        assert_eq!(
            m.url,
            "https://www.trustpilot.com/reviews/65f2c1a0e3b4d5f600a1b2c3"
        );
        assert_eq!(m.thread_id, "65f2c1a0e3b4d5f600a1b2c3");
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.display_name.as_str()),
            ("5f0a1b2c3d4e5f6a7b8c9d0e", "Camille D.")
        );
    }

    #[tokio::test]
    async fn updates_are_new_versions_deletions_ignored_other_events_dead_lettered() {
        let h = Harness::new("tp-updates", "acme", hook(""));
        let body = include_bytes!(
            "../../../../testdata/connectors/trustpilot/service_review_updated_and_deleted.json"
        );
        deliver(&h, body).await;
        let m = h.mentions();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].native_id, "65f2c1a0e3b4d5f600a1b2c3:edit:1710781331000");
        assert_eq!(m[0].created_at_ms, 1_710_781_331_000);
        assert_eq!(m[0].rating, 4.0);
        assert_eq!(m[0].thread_id, "65f2c1a0e3b4d5f600a1b2c3");
        assert_eq!(m[0].author.as_ref().unwrap().display_name, "Camille D.");
        let metrics = vigie_core::metrics::render();
        let line =
            "vigie_connector_ignored_total{connector=\"tp-updates\",event=\"service-review-deleted\"} 1";
        assert!(metrics.contains(line), "{line} in\n{metrics}");
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].stage, "connector:tp-updates");
        assert!(
            letters[0].reason.contains("product-review-created"),
            "{}",
            letters[0].reason
        );
        let payload: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&letters[0].original).unwrap(),
            payload["events"][2]
        );

        // An update without updatedAt: named by its words, so a retry is a duplicate.
        let update = br#"{"events":[{"eventName":"service-review-updated","eventData":{"id":"r9","stars":3,"title":"ok","text":"fine now"}}]}"#;
        deliver(&h, update).await;
        let answer = deliver(&h, update).await;
        assert!(answer.contains("\"duplicates\":1"), "{answer}");
        let m = h.mentions();
        assert_eq!(m.len(), 2);
        assert!(m[1].native_id.starts_with("r9:edit:") && m[1].native_id.len() == "r9:edit:".len() + 16);
        // The digest is the SHA-256 of the stars, title and text (no keyed hash).
        assert_eq!(
            m[1].native_id,
            map::edit_id("r9", None, "3\u{1f}ok\u{1f}fine now")
        );
        let sha = signature::hex(&sha2::Sha256::digest("3\u{1f}ok\u{1f}fine now".as_bytes()));
        assert_eq!(m[1].native_id, format!("r9:edit:{}", &sha[..16]));
    }
}
