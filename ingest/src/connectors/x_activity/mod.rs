//! The `x_activity` connector: X's Account Activity API webhook for the brand's subscribed
//! accounts. Key: `consumer_secret` (or `consumer_secret_env`), the app's consumer secret.
//!
//! - `GET ?crc_token=…` (the challenge-response check, at registration and about daily) is
//!   answered `{"response_token":"sha256=<base64 HMAC-SHA256(consumer_secret, crc_token)>"}`
//!   as `application/json`; without `crc_token` it is refused (`bad_handshake`).
//! - `POST` must carry `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer_secret,
//!   raw body)>`, compared in constant time (`missing_signature`, `bad_signature`).
//!
//! Mapped:
//! - `tweet_create_events` (v1.1 tweet objects: mentions of, replies to, quotes of and tweets by
//!   the account) → source `x`, public; kind `reply` with `parent_id` = `in_reply_to_status_id_str`
//!   when it replies, else `post`; native id `id_str`; text `extended_tweet.full_text`, else
//!   `full_text`, else `text`; author from `user` (`id_str`, `screen_name`, `name`,
//!   `followers_count`, `verified`); `created_at` ("Wed Oct 10 20:19:24 +0000 2018"); likes =
//!   `favorite_count`, shares = `retweet_count` + `quote_count`, comments = `reply_count`;
//!   `lang` as the language hint, its two-letter code (`en`; `zh-cn` gives `zh`; not `und`); url
//!   `https://x.com/<screen_name>/status/<id>`. No `thread_id` (v1.1 objects carry no
//!   conversation id): answers are found by `parent_id`.
//! - `direct_message_events` of type `message_create` → source `x`, private, kind
//!   `direct_message`; native id the event `id`; `created_timestamp` (ms); text
//!   `message_create.message_data.text`; author = the sender (`sender_id`, with `screen_name`,
//!   `name`, `followers_count`, `verified` from the payload's top-level `users`), so the brand's
//!   own reply is authored by the brand account; `thread_id` = the one-to-one conversation id
//!   X uses, `<smaller user id>-<larger user id>`, the same for the customer's message and the
//!   brand's reply; url `https://x.com/messages/<thread_id>`.
//!
//! Ignored by design (counted in `vigie_connector_ignored_total{event}`, one per event):
//! `retweet` (a tweet with `retweeted_status`: it repeats the original's words, and the
//! original, mentioning or written by the account, was delivered itself; quote tweets, which
//! add words, are mapped), `favorite_events`,
//! `follow_events`, `block_events`, `mute_events`, `direct_message_indicate_typing_events`,
//! `direct_message_mark_read_events`, `tweet_delete_events` (Vigie keeps what was said; a
//! deletion does not retract a mention), `user_event` (authorization revoked). The top-level
//! `for_user_id`, `user_has_blocked`, `users` and `apps` are context, not events. Any other
//! top-level key, a direct message event of another type, or an event without its id is
//! dead-lettered (unmapped) with its JSON.
//!
//! Limits: retweet volume is not counted as mentions; a tweet's `created_at` has second
//! precision; a direct message without text (X puts a t.co link in the text of media
//! messages, so this is rare) is refused by validation and dead-lettered; group direct messages
//! are not delivered by the Account Activity API.

use super::map::{self, Mapped};
use super::settings::{Secret, Settings};
use super::signature;
use super::webhook::{header, Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Visibility};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-twitter-webhooks-signature";

/// Top-level keys whose events are ignored by design (the key is the metric label).
const IGNORED: &[&str] = &[
    "favorite_events",
    "follow_events",
    "block_events",
    "mute_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
    "tweet_delete_events",
    "user_event",
];

/// Top-level keys that give context to the events, not events.
const CONTEXT: &[&str] = &["for_user_id", "user_has_blocked", "users", "apps"];

/// Builds an `x_activity` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let consumer_secret = settings.secret("consumer_secret")?;
    Ok(Built::Push(Arc::new(XActivity { consumer_secret })))
}

/// X's Account Activity webhook.
pub struct XActivity {
    consumer_secret: Secret,
}

impl XActivity {
    /// The webhook of an app whose consumer secret is `consumer_secret`.
    pub fn new(consumer_secret: Secret) -> Self {
        Self { consumer_secret }
    }
}

impl Webhook for XActivity {
    fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        match query.get("crc_token").filter(|t| !t.is_empty()) {
            // X's tokens are short base64-like strings; anything else could be a body to sign.
            Some(token) if !signature::plain_challenge(token, 256, "-_=+/") => Err(Refusal::new(
                "bad_handshake",
                "crc_token is not a plain token (letters, digits, -_=+/, at most 256): refused so the handshake cannot sign a delivery",
            )),
            Some(token) => {
                let mac = signature::hmac_sha256(self.consumer_secret.expose(), token.as_bytes());
                Ok(Answer {
                    content_type: "application/json",
                    body: json!({ "response_token": format!("sha256={}", signature::base64(&mac)) })
                        .to_string(),
                })
            }
            None => Err(Refusal::new(
                "bad_handshake",
                "no crc_token in the query: X's challenge-response check is GET ?crc_token=…",
            )),
        }
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let Some(value) = header(headers, SIGNATURE_HEADER) else {
            return Err(Refusal::new(
                "missing_signature",
                format!("no {SIGNATURE_HEADER} header"),
            ));
        };
        let expected = value
            .trim()
            .strip_prefix("sha256=")
            .and_then(signature::from_base64)
            .ok_or_else(|| {
                Refusal::new(
                    "bad_signature",
                    format!("{SIGNATURE_HEADER} is not sha256=<base64>"),
                )
            })?;
        if signature::hmac_sha256_matches(self.consumer_secret.expose(), body, &expected) {
            Ok(())
        } else {
            Err(Refusal::new(
                "bad_signature",
                format!("{SIGNATURE_HEADER} does not match the body under consumer_secret"),
            ))
        }
    }

    fn map(&self, body: &[u8]) -> Mapped {
        let Ok(Value::Object(payload)) = serde_json::from_slice::<Value>(body) else {
            return Mapped::malformed("not a JSON object: not an Account Activity payload", body);
        };
        let users = payload.get("users");
        let mut mapped = Mapped::default();
        for (key, value) in &payload {
            let key = key.as_str();
            if CONTEXT.contains(&key) {
                continue;
            }
            if let Some(label) = IGNORED.iter().find(|k| **k == key) {
                match value.as_array() {
                    Some(events) => events.iter().for_each(|_| mapped.ignore(label)),
                    None => mapped.ignore(label),
                }
                continue;
            }
            let events = match (key, value.as_array()) {
                ("tweet_create_events" | "direct_message_events", Some(events)) => events,
                ("tweet_create_events" | "direct_message_events", None) => {
                    mapped.unmapped(key, "expected an array of events", value);
                    continue;
                }
                _ => {
                    mapped.unmapped(
                        key,
                        format!("{key:?} is not an Account Activity event this connector knows"),
                        &json!({ key: value }),
                    );
                    continue;
                }
            };
            for event in events {
                if key == "tweet_create_events" {
                    tweet(event, &mut mapped);
                } else {
                    direct_message(event, users, &mut mapped);
                }
            }
        }
        mapped
    }
}

/// A v1.1 tweet object.
fn tweet(t: &Value, mapped: &mut Mapped) {
    if t.get("retweeted_status").is_some_and(|r| !r.is_null()) {
        mapped.ignore("retweet");
        return;
    }
    let Some(id) = map::id(t, &["id_str"]).or_else(|| map::id(t, &["id"])) else {
        mapped.unmapped("tweet_create_events[].id_str", "missing", t);
        return;
    };
    let created_at_ms = match map::text(t, &["created_at"]) {
        None => 0,
        Some(s) => match parse_created_at(s) {
            Some(ms) => ms,
            None => {
                mapped.unmapped(
                    "tweet_create_events[].created_at",
                    format!("{s:?} is not a date as X writes them (\"Wed Oct 10 20:19:24 +0000 2018\")"),
                    t,
                );
                return;
            }
        },
    };
    let text = map::text(t, &["extended_tweet", "full_text"])
        .or_else(|| map::text(t, &["full_text"]))
        .or_else(|| map::text(t, &["text"]))
        .unwrap_or_default();
    let handle = map::text(t, &["user", "screen_name"]).unwrap_or_default();
    let parent = map::id(t, &["in_reply_to_status_id_str"]).unwrap_or_default();
    let url = if handle.is_empty() {
        format!("https://x.com/i/web/status/{id}")
    } else {
        format!("https://x.com/{handle}/status/{id}")
    };
    let shares =
        map::count(t, &["retweet_count"]).unwrap_or(0) + map::count(t, &["quote_count"]).unwrap_or(0);
    let mention = Mention {
        source: Source::X as i32,
        visibility: Visibility::Public as i32,
        kind: if parent.is_empty() {
            Kind::Post
        } else {
            Kind::Reply
        } as i32,
        native_id: id,
        author: Some(Author {
            id: map::id(t, &["user", "id_str"])
                .or_else(|| map::id(t, &["user", "id"]))
                .unwrap_or_default(),
            handle: handle.to_string(),
            display_name: map::text(t, &["user", "name"]).unwrap_or_default().to_string(),
            followers: map::count(t, &["user", "followers_count"]).unwrap_or(0),
            verified: map::at(t, &["user", "verified"])
                .and_then(Value::as_bool)
                .unwrap_or(false),
            location: map::location(map::text(t, &["user", "location"])),
        }),
        text: text.to_string(),
        url,
        language_hint: map::language_hint(map::text(t, &["lang"])),
        created_at_ms,
        engagement: Some(Engagement {
            likes: map::count(t, &["favorite_count"]).unwrap_or(0),
            shares,
            comments: map::count(t, &["reply_count"]).unwrap_or(0),
            views: 0,
        }),
        parent_id: parent,
        ..Default::default()
    };
    mapped.mention(mention, t);
}

/// A direct message event, its users looked up in the payload's `users`.
fn direct_message(e: &Value, users: Option<&Value>, mapped: &mut Mapped) {
    match map::text(e, &["type"]) {
        Some("message_create") => {}
        other => {
            mapped.unmapped(
                "direct_message_events[].type",
                format!("{other:?} is not message_create"),
                e,
            );
            return;
        }
    }
    let Some(id) = map::id(e, &["id"]) else {
        mapped.unmapped("direct_message_events[].id", "missing", e);
        return;
    };
    let (Some(sender), Some(recipient)) = (
        map::id(e, &["message_create", "sender_id"]),
        map::id(e, &["message_create", "target", "recipient_id"]),
    ) else {
        mapped.unmapped(
            "direct_message_events[].message_create",
            "sender_id and target.recipient_id are required",
            e,
        );
        return;
    };
    let thread = conversation_id(&sender, &recipient);
    let user = users.and_then(|u| u.get(&sender));
    let user_text = |key: &str| {
        user.and_then(|u| map::text(u, &[key]))
            .unwrap_or_default()
            .to_string()
    };
    let mention = Mention {
        source: Source::X as i32,
        visibility: Visibility::Private as i32,
        kind: Kind::DirectMessage as i32,
        native_id: id,
        author: Some(Author {
            id: sender,
            handle: user_text("screen_name"),
            display_name: user_text("name"),
            followers: user
                .and_then(|u| map::count(u, &["followers_count"]))
                .unwrap_or(0),
            verified: user
                .and_then(|u| u.get("verified"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            location: map::location(user.and_then(|u| map::text(u, &["location"]))),
        }),
        text: map::text(e, &["message_create", "message_data", "text"])
            .unwrap_or_default()
            .to_string(),
        url: format!("https://x.com/messages/{thread}"),
        created_at_ms: map::time_ms(e, &["created_timestamp"]).unwrap_or(0),
        thread_id: thread,
        ..Default::default()
    };
    mapped.mention(mention, e);
}

/// The one-to-one conversation of two users as X names it: the smaller id, a dash, the larger
/// (numerically; as text when an id is not a number). The same whichever of the two wrote.
pub fn conversation_id(a: &str, b: &str) -> String {
    let (low, high) = match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) if x > y => (b, a),
        (Ok(_), Ok(_)) => (a, b),
        _ if a > b => (b, a),
        _ => (a, b),
    };
    format!("{low}-{high}")
}

/// X's v1.1 date, "Wed Oct 10 20:19:24 +0000 2018", in Unix milliseconds.
pub fn parse_created_at(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let parts: Vec<&str> = s.split_whitespace().collect();
    let [_weekday, month, day, time, offset, year] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? + 1;
    let day: u32 = day.parse().ok().filter(|d| (1..=31).contains(d))?;
    let year: u32 = year.parse().ok().filter(|_| year.len() == 4)?;
    let (sign, digits) = offset.split_at_checked(1)?;
    if !matches!(sign, "+" | "-") || digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if time.len() != 8 {
        return None;
    }
    let rfc3339 = format!(
        "{year:04}-{month:02}-{day:02}T{time}{sign}{}:{}",
        &digits[..2],
        &digits[2..]
    );
    vigie_core::model::parse_rfc3339_ms(&rfc3339)
}

#[cfg(test)]
mod tests {
    use super::super::webhook::testing::Harness;
    use super::*;
    use axum::http::StatusCode;
    use vigie_core::config::ConnectorConfig;

    const SECRET: &str = "x-consumer-secret-for-tests";

    fn hook() -> Arc<dyn Webhook> {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"x\"\ntype = \"x_activity\"\ntenant = \"acme\"\nconsumer_secret = \"{SECRET}\""
        ))
        .unwrap();
        match super::super::build_all(&[config]).unwrap().pop().unwrap().built {
            Built::Push(hook) => hook,
            Built::Pull(_) => unreachable!("x_activity is a webhook"),
        }
    }

    fn signed(body: &[u8]) -> String {
        format!(
            "sha256={}",
            signature::base64(&signature::hmac_sha256(SECRET.as_bytes(), body))
        )
    }

    async fn deliver(h: &Harness, body: &[u8]) -> String {
        let (status, answer) = h.post(&[(SIGNATURE_HEADER, &signed(body))], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    #[test]
    fn the_consumer_secret_is_required_and_unknown_keys_refused() {
        let config: ConnectorConfig =
            toml::from_str("name = \"x\"\ntype = \"x_activity\"\ntenant = \"acme\"").unwrap();
        let e = super::super::build_all(&[config]).err().unwrap().to_string();
        assert!(e.contains("consumer_secret") && e.contains("required"), "{e}");
        let config: ConnectorConfig = toml::from_str(
            "name = \"x\"\ntype = \"x_activity\"\ntenant = \"acme\"\nconsumer_secret = \"s\"\napp_secret = \"s\"",
        )
        .unwrap();
        let e = super::super::build_all(&[config]).err().unwrap().to_string();
        assert!(e.contains("app_secret: unknown key"), "{e}");
    }

    #[tokio::test]
    async fn the_crc_is_answered_with_the_documented_token() {
        let h = Harness::new("x-crc", "acme", hook());
        let (status, body) = h.get("crc_token=challenge-1234").await;
        assert_eq!(status, StatusCode::OK);
        // python3: base64(hmac.new(b"x-consumer-secret-for-tests", b"challenge-1234", sha256).digest())
        assert_eq!(
            body,
            r#"{"response_token":"sha256=nZy6yOskmG4d5Q/h8P9/l8Npo5aPc9TQkSOSecCu+n0="}"#
        );
        assert_eq!(h.get("").await.0, StatusCode::FORBIDDEN);
        assert_eq!(h.get("crc_token=").await.0, StatusCode::FORBIDDEN);
        let metrics = vigie_core::metrics::render();
        assert!(
            metrics.contains("vigie_connector_refused_total{connector=\"x-crc\",reason=\"bad_handshake\"} 2"),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn the_crc_cannot_be_made_to_sign_a_delivery() {
        let h = Harness::new("x-oracle", "acme", hook());
        let forged = r#"{"for_user_id":"1","tweet_create_events":[{"id_str":"9","text":"fake crisis","user":{"id_str":"2","screen_name":"a"},"created_at":"Wed Oct 10 20:19:24 +0000 2018"}]}"#;
        let query: String = forged.bytes().map(|b| format!("%{b:02X}")).collect();
        let (status, body) = h.get(&format!("crc_token={query}")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        // Had it answered, its token would sign the body: the delivery is refused either way.
        let mac = signature::hmac_sha256(b"x-consumer-secret-for-tests", forged.as_bytes());
        let sig = format!("sha256={}", signature::base64(&mac));
        assert!(body.is_empty() || !body.contains(&sig));
        assert!(h.mentions().is_empty());
    }

    #[tokio::test]
    async fn deliveries_are_signed_with_the_consumer_secret() {
        let body = br#"{"for_user_id":"1","favorite_events":[{"id":"f1"}]}"#;
        // python3: base64(hmac.new(b"x-consumer-secret-for-tests", body, sha256).digest())
        let good = "sha256=aG5UPDhptutwWDqaGNvWPLYJdeg/ncnCXjh0Xnpw2DQ=";
        assert_eq!(signed(body), good);
        let h = Harness::new("x-sig", "acme", hook());
        let mut changed = body.to_vec();
        changed[16] = b'2';
        assert_eq!(
            h.post(&[(SIGNATURE_HEADER, good)], &changed).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(h.post(&[], body).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(
            h.post(&[(SIGNATURE_HEADER, &good["sha256=".len()..])], body)
                .await
                .0,
            StatusCode::UNAUTHORIZED,
            "the sha256= prefix is part of the header"
        );
        assert_eq!(h.post(&[(SIGNATURE_HEADER, good)], body).await.0, StatusCode::OK);
        let metrics = vigie_core::metrics::render();
        for line in [
            "vigie_connector_refused_total{connector=\"x-sig\",reason=\"bad_signature\"} 2",
            "vigie_connector_refused_total{connector=\"x-sig\",reason=\"missing_signature\"} 1",
            "vigie_connector_ignored_total{connector=\"x-sig\",event=\"favorite_events\"} 1",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }

    #[test]
    fn dates_are_read_as_x_writes_them() {
        assert_eq!(
            parse_created_at("Wed Oct 10 20:19:24 +0000 2018"),
            Some(1_539_202_764_000)
        );
        assert_eq!(
            parse_created_at("Wed Oct 10 22:19:24 +0200 2018"),
            Some(1_539_202_764_000)
        );
        assert_eq!(
            parse_created_at("Thu Mar 14 08:05:09 +0000 2024"),
            Some(1_710_403_509_000)
        );
        assert_eq!(parse_created_at("Wed Foo 10 20:19:24 +0000 2018"), None);
        assert_eq!(parse_created_at("Wed Feb 30 20:19:24 +0000 2018"), None);
        assert_eq!(parse_created_at("2018-10-10T20:19:24Z"), None);
        assert_eq!(parse_created_at("Wed Oct 10 20:19:24 0000 2018"), None);
        assert_eq!(
            conversation_id("6253282", "1190000000000000001"),
            "6253282-1190000000000000001"
        );
        assert_eq!(
            conversation_id("1190000000000000001", "6253282"),
            "6253282-1190000000000000001"
        );
    }

    #[tokio::test]
    async fn a_reply_tweet_is_a_public_reply_to_its_parent() {
        let h = Harness::new("x-reply", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/x_activity/tweet_create_reply.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(m.tenant, "acme");
        assert_eq!(m.source, Source::X as i32);
        assert_eq!(m.visibility, Visibility::Public as i32);
        assert_eq!(m.kind, Kind::Reply as i32);
        assert_eq!(m.native_id, "1050118621198921728");
        assert_eq!(m.parent_id, "1050117000000000001");
        assert_eq!(m.thread_id, "");
        assert_eq!(m.created_at_ms, 1_539_202_764_000);
        assert_eq!(
            m.text,
            "@AcmeSupport my order #4411 never arrived and nobody answers, third time I ask"
        );
        assert_eq!(m.url, "https://x.com/janedoe_fr/status/1050118621198921728");
        assert_eq!(m.language_hint, "en");
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (
                a.id.as_str(),
                a.handle.as_str(),
                a.display_name.as_str(),
                a.followers,
                a.verified
            ),
            ("6253282", "janedoe_fr", "Jane Doe", 1534, false)
        );
        let e = m.engagement.as_ref().unwrap();
        assert_eq!((e.likes, e.shares, e.comments, e.views), (5, 4, 2, 0));
    }

    #[tokio::test]
    async fn an_extended_tweet_gives_its_full_text_and_a_retweet_is_ignored() {
        let h = Harness::new("x-post", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/x_activity/tweet_create_post_and_retweet.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1, "the retweet is not a mention");
        let m = &m[0];
        assert_eq!(m.kind, Kind::Post as i32);
        assert_eq!(m.parent_id, "");
        assert_eq!(m.native_id, "1768200000000000002");
        assert!(
            m.text.ends_with("Is anyone else seeing this? #AcmeDown"),
            "{}",
            m.text
        );
        assert_eq!(m.created_at_ms, 1_710_403_509_000);
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (a.handle.as_str(), a.followers, a.verified),
            ("techreviewsdaily", 250_400, true)
        );
        assert_eq!(m.engagement.as_ref().unwrap().shares, 56);
        let metrics = vigie_core::metrics::render();
        assert!(
            metrics.contains("vigie_connector_ignored_total{connector=\"x-post\",event=\"retweet\"} 1"),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn a_customer_dm_and_the_brand_reply_share_one_thread() {
        let h = Harness::new("x-dm", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/x_activity/direct_message_events.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 2);
        let (customer, brand) = (&m[0], &m[1]);
        for dm in [customer, brand] {
            assert_eq!(dm.source, Source::X as i32);
            assert_eq!(dm.visibility, Visibility::Private as i32);
            assert_eq!(dm.kind, Kind::DirectMessage as i32);
            assert_eq!(dm.thread_id, "6253282-1190000000000000001");
            assert_eq!(dm.parent_id, "");
            assert_eq!(dm.url, "https://x.com/messages/6253282-1190000000000000001");
        }
        assert_eq!(customer.native_id, "1768300000000000010");
        assert_eq!(customer.created_at_ms, 1_710_410_000_123);
        assert!(customer.text.starts_with("Hello, I was charged twice"));
        let a = customer.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.handle.as_str(), a.display_name.as_str()),
            ("6253282", "janedoe_fr", "Jane Doe")
        );
        assert_eq!(brand.native_id, "1768300000000000011");
        assert_eq!(brand.created_at_ms, 1_710_410_900_456);
        let a = brand.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.handle.as_str(), a.followers, a.verified),
            ("1190000000000000001", "AcmeSupport", 48_210, true),
            "the brand's own message is authored by the brand account"
        );
    }

    #[tokio::test]
    async fn favorites_typing_and_read_receipts_are_ignored_and_counted() {
        let h = Harness::new("x-ignored", "acme", hook());
        let answer = deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/x_activity/favorite_and_typing.json"),
        )
        .await;
        assert!(answer.contains("\"accepted\":0"), "{answer}");
        assert!(h.mentions().is_empty() && h.dead_letters().is_empty());
        let metrics = vigie_core::metrics::render();
        for event in [
            "favorite_events",
            "direct_message_indicate_typing_events",
            "direct_message_mark_read_events",
        ] {
            let line =
                format!("vigie_connector_ignored_total{{connector=\"x-ignored\",event=\"{event}\"}} 1");
            assert!(metrics.contains(&line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn unknown_events_are_dead_lettered_with_their_json() {
        let h = Harness::new("x-unknown", "acme", hook());
        let body = include_bytes!("../../../../testdata/connectors/x_activity/unknown_event.json");
        deliver(&h, body).await;
        assert!(h.mentions().is_empty());
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].stage, "connector:x-unknown");
        assert_eq!(letters[0].tenant, "acme");
        assert!(
            letters[0].reason.contains("community_note_events"),
            "{}",
            letters[0].reason
        );
        let payload: Value = serde_json::from_slice(body).unwrap();
        let original: Value = serde_json::from_slice(&letters[0].original).unwrap();
        assert_eq!(
            original,
            json!({ "community_note_events": payload["community_note_events"] })
        );
        let metrics = vigie_core::metrics::render();
        for event in ["tweet_delete_events", "follow_events"] {
            let line =
                format!("vigie_connector_ignored_total{{connector=\"x-unknown\",event=\"{event}\"}} 1");
            assert!(metrics.contains(&line), "{line} in\n{metrics}");
        }

        // A direct message event of another type, and a body that is not JSON.
        deliver(
            &h,
            br#"{"direct_message_events":[{"type":"reaction_create","id":"9"}]}"#,
        )
        .await;
        deliver(&h, b"not json").await;
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 3);
        assert!(
            letters[1].reason.contains("reaction_create"),
            "{}",
            letters[1].reason
        );
        assert_eq!(letters[2].original, b"not json");
    }
}
