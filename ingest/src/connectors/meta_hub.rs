//! What Meta's webhooks share (Graph API, Instagram, WhatsApp Cloud API), used by the `meta`
//! and `whatsapp` connectors: the `hub.challenge` handshake on `GET`, the `X-Hub-Signature-256`
//! signature on `POST`, the two keys that configure them (`app_secret`, `verify_token`, each
//! also as `*_env`), and the one-event payload a mention or a dead letter keeps.

use crate::connectors::settings::{Secret, Settings};
use crate::connectors::signature::{from_hex, hmac_sha256_matches, same_secret};
use crate::connectors::webhook::{header, Answer, Refusal};
use crate::connectors::ConnectorError;
use axum::http::HeaderMap;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// The signature header: `sha256=<hex HMAC-SHA256(app secret, raw body)>`.
pub(crate) const SIGNATURE: &str = "x-hub-signature-256";

/// The secrets of a Meta app's webhook subscription.
pub(crate) struct Hub {
    app_secret: Secret,
    verify_token: Secret,
}

impl Hub {
    /// Reads `app_secret` and `verify_token` (or their `*_env`).
    pub(crate) fn read(settings: &mut Settings) -> Result<Self, ConnectorError> {
        Ok(Self {
            app_secret: settings.secret("app_secret")?,
            verify_token: settings.secret("verify_token")?,
        })
    }

    /// Meta's subscription check: `hub.mode=subscribe`, `hub.verify_token` equal (in constant
    /// time) to the configured token, and `hub.challenge`, answered as it came.
    pub(crate) fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        if query.get("hub.mode").map(String::as_str) != Some("subscribe") {
            return Err(Refusal::new(
                "bad_handshake",
                "hub.mode=subscribe is expected (Meta's subscription check)",
            ));
        }
        let Some(token) = query.get("hub.verify_token") else {
            return Err(Refusal::new("bad_verify_token", "hub.verify_token is missing"));
        };
        if !same_secret(token.as_bytes(), self.verify_token.expose()) {
            return Err(Refusal::new(
                "bad_verify_token",
                "hub.verify_token is not the configured verify_token",
            ));
        }
        match query.get("hub.challenge") {
            Some(challenge) if !challenge.is_empty() => Ok(Answer {
                content_type: "text/plain",
                body: challenge.clone(),
            }),
            _ => Err(Refusal::new("bad_handshake", "hub.challenge is missing")),
        }
    }

    /// Checks `X-Hub-Signature-256` against the HMAC-SHA256 of the raw body under the app
    /// secret, in constant time.
    pub(crate) fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let Some(value) = header(headers, SIGNATURE) else {
            if headers.contains_key(SIGNATURE) {
                return Err(Refusal::new(
                    "bad_signature",
                    "X-Hub-Signature-256 is not readable text",
                ));
            }
            let message = if headers.contains_key("x-hub-signature") {
                "X-Hub-Signature-256 is missing (the SHA-1 X-Hub-Signature alone is not accepted)"
            } else {
                "X-Hub-Signature-256 is missing"
            };
            return Err(Refusal::new("missing_signature", message));
        };
        let value = value.trim();
        let hex = match value.get(..7) {
            Some(prefix) if prefix.eq_ignore_ascii_case("sha256=") => &value[7..],
            _ => {
                return Err(Refusal::new(
                    "bad_signature",
                    "X-Hub-Signature-256 does not start with sha256=",
                ))
            }
        };
        let Some(mac) = from_hex(hex) else {
            return Err(Refusal::new(
                "bad_signature",
                "X-Hub-Signature-256 is not sha256=<hexadecimal>",
            ));
        };
        if hmac_sha256_matches(self.app_secret.expose(), body, &mac) {
            Ok(())
        } else {
            Err(Refusal::new(
                "bad_signature",
                "X-Hub-Signature-256 does not match the body under the configured app_secret",
            ))
        }
    }
}

/// A delivery holding one event of `entry` only: `{"object", "entry": [{"id", "time", key:
/// [event]}]}`. What a mention or a dead letter keeps as its original: it says which page or
/// account and when, and it can be delivered again as it is.
pub(crate) fn one_event(object: &str, entry: &Value, key: &str, event: &Value) -> Value {
    let mut one = Map::new();
    for k in ["id", "time"] {
        if let Some(v) = entry.get(k) {
            one.insert(k.to_string(), v.clone());
        }
    }
    one.insert(key.to_string(), Value::Array(vec![event.clone()]));
    json!({ "object": object, "entry": [one] })
}
