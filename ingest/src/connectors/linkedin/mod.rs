//! The `linkedin` connector: LinkedIn's organization social action notifications
//! (`ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS`, pushed for the brand's Company Pages to the
//! webhook of the app). Key: `client_secret` (or `client_secret_env`), the app's client secret.
//!
//! - `GET ?challengeCode=…` (at registration, then every 2 hours) is answered
//!   `{"challengeCode":"…","challengeResponse":"<hex HMAC-SHA256(client_secret, challengeCode)>"}`
//!   as `application/json`; without `challengeCode` it is refused (`bad_handshake`).
//! - `POST` must carry `X-LI-Signature`: hex HMAC-SHA256 under `client_secret`. LinkedIn's
//!   page says the hash is "of the JSON-encoded string representation of the POST body prefixed
//!   by `hmacsha256=`", which is read both ways in the wild, so the header is accepted with or
//!   without a `hmacsha256=` prefix, and as the HMAC of the raw body or of `hmacsha256=` + the
//!   raw body (each needs the secret), compared in constant time (`missing_signature`,
//!   `bad_signature`).
//!
//! Mapped (source `linkedin`, public; `created_at` = `lastModifiedAt`; author id = the
//! activity's `owner` URN, a person or, for the page's own comments, the organization;
//! no handle or display name: LinkedIn sends URNs only):
//! - `COMMENT` and `ADMIN_COMMENT` → kind `comment`; native id = the comment URN
//!   (`decoratedGeneratedActivity.comment.entity`, else `generatedActivity`); text
//!   `decoratedGeneratedActivity.comment.text` (or `.message.text`); `parent_id` = the parent
//!   comment URN when the comment answers one (`parentComment`), else `sourcePost`; `thread_id` =
//!   `sourcePost`; url `https://www.linkedin.com/feed/update/<sourcePost>?commentUrn=<comment>`.
//! - `COMMENT_EDIT` → the same, as a new mention whose native id is `<comment URN>:edit:<lastModifiedAt>`
//!   (without `lastModifiedAt`, `<comment URN>:edit:<16 hex digits of the SHA-256 of the text>`):
//!   the edited words are kept next to the first version, retries of the same edit are duplicates.
//! - `SHARE` (a reshare of the page's post, with the resharer's commentary) → kind `post`;
//!   native id = the new share's URN; text = its commentary; `parent_id` and `thread_id` =
//!   `sourcePost`; url `https://www.linkedin.com/feed/update/<share URN>`.
//! - `SHARE_MENTION` (a post that mentions the page) → kind `post`, from
//!   `decoratedGeneratedActivity.share`, else from `decoratedSourcePost` (its `entity`, or
//!   `sourcePost`, is the native id).
//!
//! Ignored by design (`vigie_connector_ignored_total{event}`): `like` (LIKE, reactions carry no
//! words), `comment_delete` (COMMENT_DELETE: a deletion does not retract a mention), `reshare`
//! (SHARE without commentary: it repeats the page's own post).
//!
//! Dead-lettered (unmapped, with the notification's JSON): a notification without text — when
//! LinkedIn sends only URNs (no `decoratedGeneratedActivity`), the reason says to read the
//! comment with `GET /rest/socialActions/{sourcePost}/comments/{comment id}` (or the post with
//! `GET /rest/posts/{urn}`) and send it to `/v1/mentions`: a placeholder text would be scored
//! and matched as if someone wrote it; an unknown `action`; a payload of another `type` (such as
//! `LEAD_ACTION`: lead notifications are not mentions) or without `notifications`.
//!
//! Limits: native ids are the activity URNs, not `notificationId`, so the same comment notified
//! to several subscribed administrators is one mention; LinkedIn sends LIKE, COMMENT and SHARE
//! only for public posts; nested-reply structure is as LinkedIn decorates it.

use super::map::{self, Mapped};
use super::settings::{Secret, Settings};
use super::signature;
use super::webhook::{header, Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

/// The header carrying the body's signature.
pub const SIGNATURE_HEADER: &str = "x-li-signature";

/// The prefix LinkedIn's documentation attaches to the signature.
const PREFIX: &str = "hmacsha256=";

/// The payload type this connector reads.
const TYPE: &str = "ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS";

/// Builds a `linkedin` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let client_secret = settings.secret("client_secret")?;
    Ok(Built::Push(Arc::new(LinkedIn { client_secret })))
}

/// LinkedIn's organization social action notifications webhook.
pub struct LinkedIn {
    client_secret: Secret,
}

impl LinkedIn {
    /// The webhook of an app whose client secret is `client_secret`.
    pub fn new(client_secret: Secret) -> Self {
        Self { client_secret }
    }
}

impl Webhook for LinkedIn {
    fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        match query.get("challengeCode").filter(|c| !c.is_empty()) {
            // LinkedIn sends a UUID; anything else could be a body (or "hmacsha256=" + a body).
            Some(code) if !signature::plain_challenge(code, 64, "-") => Err(Refusal::new(
                "bad_handshake",
                "challengeCode is not a plain code (letters, digits and -, at most 64): refused so the handshake cannot sign a delivery",
            )),
            Some(code) => Ok(Answer {
                content_type: "application/json",
                body: json!({
                    "challengeCode": code,
                    "challengeResponse": signature::hex(&signature::hmac_sha256(
                        self.client_secret.expose(),
                        code.as_bytes()
                    )),
                })
                .to_string(),
            }),
            None => Err(Refusal::new(
                "bad_handshake",
                "no challengeCode in the query: LinkedIn validates a webhook with GET ?challengeCode=…",
            )),
        }
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        let Some(value) = header(headers, SIGNATURE_HEADER) else {
            return Err(Refusal::new("missing_signature", "no X-LI-Signature header"));
        };
        let value = value.trim();
        let hex = match value.get(..PREFIX.len()) {
            Some(p) if p.eq_ignore_ascii_case(PREFIX) => &value[PREFIX.len()..],
            _ => value,
        };
        let Some(expected) = signature::from_hex(hex) else {
            return Err(Refusal::new(
                "bad_signature",
                "X-LI-Signature is not a hexadecimal HMAC-SHA256",
            ));
        };
        let secret = self.client_secret.expose();
        // Both forms are checked, without short-circuit.
        let plain = signature::hmac_sha256_matches(secret, body, &expected);
        let with_prefix = signature::hmac_sha256_parts_match(secret, &[PREFIX.as_bytes(), body], &expected);
        if plain | with_prefix {
            Ok(())
        } else {
            Err(Refusal::new(
                "bad_signature",
                "X-LI-Signature does not match the body under client_secret",
            ))
        }
    }

    fn map(&self, body: &[u8]) -> Mapped {
        let Ok(payload) = serde_json::from_slice::<Value>(body) else {
            return Mapped::malformed("not JSON: not a LinkedIn notification payload", body);
        };
        if let Some(kind) = map::text(&payload, &["type"]).filter(|t| *t != TYPE) {
            return Mapped::malformed(format!("type {kind:?}: this connector reads {TYPE} only"), body);
        }
        let Some(notifications) = payload.get("notifications").and_then(Value::as_array) else {
            return Mapped::malformed("no notifications array", body);
        };
        let mut mapped = Mapped::default();
        for n in notifications {
            match map::text(n, &["action"]) {
                Some("LIKE") => mapped.ignore("like"),
                Some("COMMENT_DELETE") => mapped.ignore("comment_delete"),
                Some(action @ ("COMMENT" | "ADMIN_COMMENT" | "COMMENT_EDIT")) => {
                    comment(n, action == "COMMENT_EDIT", &mut mapped)
                }
                Some(action @ ("SHARE" | "SHARE_MENTION")) => share(n, action == "SHARE", &mut mapped),
                Some(other) => mapped.unmapped(
                    "notifications[].action",
                    format!("{other:?} is not an organization social action this connector knows"),
                    n,
                ),
                None => mapped.unmapped("notifications[].action", "missing", n),
            }
        }
        mapped
    }
}

/// Why a notification without text is dead-lettered, and how to get its text.
fn no_text(what: &str) -> String {
    format!(
        "LinkedIn sent the {what} without its text (URNs only, no decoratedGeneratedActivity): read it with \
         GET /rest/socialActions/{{sourcePost}}/comments/{{comment id}} (a comment) or GET /rest/posts/{{urn}} \
         (a post) and send it to /v1/mentions"
    )
}

/// A comment (or the page's own, or an edit) on one of the page's posts.
fn comment(n: &Value, edit: bool, mapped: &mut Mapped) {
    let decorated = map::at(n, &["decoratedGeneratedActivity", "comment"]);
    let text = map::non_blank(
        decorated.and_then(|c| map::text(c, &["text"]).or_else(|| map::text(c, &["message", "text"]))),
    );
    let Some(text) = text else {
        mapped.unmapped("decoratedGeneratedActivity.comment.text", no_text("comment"), n);
        return;
    };
    let decorated = decorated.unwrap_or(&Value::Null);
    let Some(urn) = map::id(decorated, &["entity"]).or_else(|| map::id(n, &["generatedActivity"])) else {
        mapped.unmapped("generatedActivity", "missing: the comment has no URN", n);
        return;
    };
    let post = map::id(n, &["sourcePost"])
        .or_else(|| map::id(decorated, &["object"]))
        .unwrap_or_default();
    let at = map::time_ms(n, &["lastModifiedAt"]);
    let native_id = if edit {
        // Undated, an edit is named by its words: each later wording is a mention of its own.
        map::edit_id(&urn, at, text)
    } else {
        urn.clone()
    };
    let url = if post.is_empty() {
        String::new()
    } else {
        format!(
            "https://www.linkedin.com/feed/update/{post}?commentUrn={}",
            encode(&urn)
        )
    };
    let mention = Mention {
        source: Source::Linkedin as i32,
        visibility: Visibility::Public as i32,
        kind: Kind::Comment as i32,
        native_id,
        author: author(decorated, n),
        text: text.to_string(),
        url,
        created_at_ms: at.unwrap_or(0),
        parent_id: map::id(decorated, &["parentComment"]).unwrap_or_else(|| post.clone()),
        thread_id: post,
        ..Default::default()
    };
    mapped.mention(mention, n);
}

/// A reshare of one of the page's posts (`reshare`), or a post that mentions the page.
fn share(n: &Value, reshare: bool, mapped: &mut Mapped) {
    let generated = map::at(n, &["decoratedGeneratedActivity", "share"]);
    let (decorated, urn) = match generated {
        Some(s) => (
            s,
            map::id(s, &["entity"]).or_else(|| map::id(n, &["generatedActivity"])),
        ),
        None if !reshare => match map::at(n, &["decoratedSourcePost"]) {
            Some(s) => (s, map::id(s, &["entity"]).or_else(|| map::id(n, &["sourcePost"]))),
            None => {
                mapped.unmapped(
                    "decoratedSourcePost.text",
                    no_text("post that mentions the page"),
                    n,
                );
                return;
            }
        },
        None => {
            mapped.unmapped("decoratedGeneratedActivity.share.text", no_text("reshare"), n);
            return;
        }
    };
    let text = map::text(decorated, &["text"]).unwrap_or_default().trim();
    if text.is_empty() {
        if reshare {
            mapped.ignore("reshare");
        } else {
            mapped.unmapped(
                "decoratedSourcePost.text",
                no_text("post that mentions the page"),
                n,
            );
        }
        return;
    }
    let Some(urn) = urn else {
        mapped.unmapped("generatedActivity", "missing: the post has no URN", n);
        return;
    };
    let source_post = if reshare {
        map::id(n, &["sourcePost"]).unwrap_or_default()
    } else {
        String::new()
    };
    let mention = Mention {
        source: Source::Linkedin as i32,
        visibility: Visibility::Public as i32,
        kind: Kind::Post as i32,
        url: format!("https://www.linkedin.com/feed/update/{urn}"),
        native_id: urn,
        author: author(decorated, n),
        text: text.to_string(),
        created_at_ms: map::time_ms(n, &["lastModifiedAt"]).unwrap_or(0),
        parent_id: source_post.clone(),
        thread_id: source_post,
        ..Default::default()
    };
    mapped.mention(mention, n);
}

/// The author of a decorated activity: its owner URN (or actor).
fn author(decorated: &Value, n: &Value) -> Option<Author> {
    let id = map::id(decorated, &["owner"])
        .or_else(|| map::id(decorated, &["actor"]))
        .or_else(|| map::id(n, &["actor"]))?;
    Some(Author {
        id,
        ..Default::default()
    })
}

/// `s` with the characters of URNs that are not safe in a query value percent-encoded.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3 / 2);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::webhook::testing::Harness;
    use super::*;
    use axum::http::StatusCode;
    use vigie_core::config::ConnectorConfig;

    const SECRET: &str = "li-client-secret-for-tests";

    fn hook() -> Arc<dyn Webhook> {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"li\"\ntype = \"linkedin\"\ntenant = \"acme\"\nclient_secret = \"{SECRET}\""
        ))
        .unwrap();
        match super::super::build_all(&[config]).unwrap().pop().unwrap().built {
            Built::Push(hook) => hook,
            Built::Pull(_) => unreachable!("linkedin is a webhook"),
        }
    }

    fn signed(body: &[u8]) -> String {
        signature::hex(&signature::hmac_sha256(SECRET.as_bytes(), body))
    }

    async fn deliver(h: &Harness, body: &[u8]) -> String {
        let (status, answer) = h.post(&[("X-LI-Signature", &signed(body))], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    #[tokio::test]
    async fn the_challenge_is_answered_with_the_documented_response() {
        let h = Harness::new("li-challenge", "acme", hook());
        let (status, body) = h.get("challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed0").await;
        assert_eq!(status, StatusCode::OK);
        // python3: hmac.new(b"li-client-secret-for-tests", b"890e4665-…", sha256).hexdigest()
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            answer,
            json!({
                "challengeCode": "890e4665-4dfe-4ab1-b689-ed553bceeed0",
                "challengeResponse": "bcf9b25003b332be215a958cabfe3a229dd1f2fa6677d49115069eee1e4886ba",
            })
        );
        assert_eq!(h.get("applicationId=1").await.0, StatusCode::FORBIDDEN);
    }

    #[tokio::test]
    async fn the_challenge_cannot_be_made_to_sign_a_delivery() {
        let h = Harness::new("li-oracle", "acme", hook());
        for forged in [
            r#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}"#.to_string(),
            format!("hmacsha256={}", r#"{"notifications":[]}"#),
        ] {
            let query: String = forged.bytes().map(|b| format!("%{b:02X}")).collect();
            let (status, body) = h.get(&format!("challengeCode={query}")).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        }
        // A UUID, as LinkedIn sends, is answered.
        assert_eq!(
            h.get("challengeCode=890e4bb6-7c3d-4b1a-9f0e-2b1c3d4e5f60")
                .await
                .0,
            StatusCode::OK
        );
    }

    #[tokio::test]
    async fn signatures_are_accepted_as_linkedin_documents_them_and_nothing_else() {
        let body =
            br#"{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[{"action":"LIKE"}]}"#;
        // python3: hmac.new(secret, body, sha256).hexdigest() and of b"hmacsha256=" + body
        let plain = "050bb6d217cca1e366c094824a3e068ff440c5678a5399cdb9392418bf995d09";
        let prefixed = "50b5e3b6d634064efe6cbd2d15748ae52876cde4880f2f39f98ddf193c242caf";
        assert_eq!(signed(body), plain);
        let h = Harness::new("li-sig", "acme", hook());
        for good in [
            plain.to_string(),
            format!("hmacsha256={plain}"),
            plain.to_uppercase(),
            prefixed.to_string(),
            format!("hmacsha256={prefixed}"),
        ] {
            let (status, answer) = h.post(&[("X-LI-Signature", &good)], body).await;
            assert_eq!(status, StatusCode::OK, "{good}: {answer}");
        }
        let mut changed = body.to_vec();
        changed[10] = b'X';
        assert_eq!(
            h.post(&[("X-LI-Signature", plain)], &changed).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            h.post(&[("X-LI-Signature", "zz")], body).await.0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(h.post(&[], body).await.0, StatusCode::UNAUTHORIZED);
        let metrics = vigie_core::metrics::render();
        for line in [
            "vigie_connector_refused_total{connector=\"li-sig\",reason=\"bad_signature\"} 2",
            "vigie_connector_refused_total{connector=\"li-sig\",reason=\"missing_signature\"} 1",
            "vigie_connector_ignored_total{connector=\"li-sig\",event=\"like\"} 5",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn comments_admin_comments_and_edits_hang_under_their_post() {
        let h = Harness::new("li-comments", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/linkedin/comment_notification.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 3);
        let post = "urn:li:activity:7174000000000000100";
        for c in &m {
            assert_eq!(c.source, Source::Linkedin as i32);
            assert_eq!(c.visibility, Visibility::Public as i32);
            assert_eq!(c.kind, Kind::Comment as i32);
            assert_eq!(c.parent_id, post);
            assert_eq!(c.thread_id, post);
        }
        let (customer, admin, edit) = (&m[0], &m[1], &m[2]);
        let urn = "urn:li:comment:(urn:li:activity:7174000000000000100,7174000000000000555)";
        assert_eq!(customer.native_id, urn);
        assert_eq!(customer.created_at_ms, 1_710_411_000_000);
        assert!(customer.text.starts_with("Since the update I cannot log in"));
        assert_eq!(customer.author.as_ref().unwrap().id, "urn:li:person:QwErTy9876");
        assert_eq!(
            customer.url,
            "https://www.linkedin.com/feed/update/urn:li:activity:7174000000000000100?commentUrn=\
             urn%3Ali%3Acomment%3A%28urn%3Ali%3Aactivity%3A7174000000000000100%2C7174000000000000555%29"
        );
        assert_eq!(admin.author.as_ref().unwrap().id, "urn:li:organization:5550001");
        assert_eq!(
            admin.native_id,
            "urn:li:comment:(urn:li:activity:7174000000000000100,7174000000000000777)"
        );
        assert_eq!(edit.native_id, format!("{urn}:edit:1710412200000"));
        assert!(edit.text.contains("EDIT: works again"));
        assert_eq!(edit.created_at_ms, 1_710_412_200_000);

        // The same comment notified to another subscribed administrator is a duplicate.
        let again = include_bytes!("../../../../testdata/connectors/linkedin/comment_notification.json");
        let again = String::from_utf8_lossy(again).replace("urn:li:person:aBcDeF1234", "urn:li:person:Other");
        let answer = deliver(&h, again.as_bytes()).await;
        assert!(answer.contains("\"duplicates\":3"), "{answer}");
    }

    #[tokio::test]
    async fn undated_edits_are_each_a_mention_of_their_own() {
        let h = Harness::new("li-undated", "acme", hook());
        let body = include_bytes!("../../../../testdata/connectors/linkedin/comment_notification.json");
        let payload: Value = serde_json::from_slice(body).unwrap();
        let edit = |words: &str| {
            let mut n = payload["notifications"][2].clone();
            n.as_object_mut().unwrap().remove("lastModifiedAt");
            n["decoratedGeneratedActivity"]["comment"]["text"] = words.into();
            json!({"type": TYPE, "notifications": [n]}).to_string()
        };
        let (first, second) = (edit("EDIT: still broken"), edit("EDIT: works again"));
        deliver(&h, first.as_bytes()).await;
        deliver(&h, second.as_bytes()).await;
        let answer = deliver(&h, second.as_bytes()).await;
        assert!(
            answer.contains("\"duplicates\":1"),
            "a retry is a duplicate: {answer}"
        );
        let m = h.mentions();
        assert_eq!(m.len(), 2, "the second edit is not a duplicate of the first");
        let urn = "urn:li:comment:(urn:li:activity:7174000000000000100,7174000000000000555)";
        assert_eq!(m[0].native_id, map::edit_id(urn, None, "EDIT: still broken"));
        assert_eq!(m[1].native_id, map::edit_id(urn, None, "EDIT: works again"));
        assert_ne!(m[0].native_id, m[1].native_id);
    }

    #[tokio::test]
    async fn reshares_with_words_and_posts_mentioning_the_page_are_posts() {
        let h = Harness::new("li-shares", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/linkedin/share_notification.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 2, "the reshare without commentary is ignored");
        let (reshare, mention) = (&m[0], &m[1]);
        assert_eq!(reshare.kind, Kind::Post as i32);
        assert_eq!(reshare.native_id, "urn:li:share:7174000000000000900");
        assert_eq!(reshare.parent_id, "urn:li:activity:7174000000000000100");
        assert_eq!(reshare.thread_id, "urn:li:activity:7174000000000000100");
        assert_eq!(reshare.author.as_ref().unwrap().id, "urn:li:person:ZxCvBn5555");
        assert_eq!(
            reshare.url,
            "https://www.linkedin.com/feed/update/urn:li:share:7174000000000000900"
        );
        assert_eq!(reshare.created_at_ms, 1_710_413_000_000);
        assert_eq!(mention.kind, Kind::Post as i32);
        assert_eq!(mention.native_id, "urn:li:share:7174000000000000950");
        assert_eq!(mention.parent_id, "");
        assert_eq!(mention.author.as_ref().unwrap().id, "urn:li:person:MnBvCx3333");
        assert!(mention.text.contains("nobody at Acme answers"));
        let metrics = vigie_core::metrics::render();
        assert!(
            metrics.contains("vigie_connector_ignored_total{connector=\"li-shares\",event=\"reshare\"} 1"),
            "{metrics}"
        );
    }

    #[tokio::test]
    async fn likes_and_deletions_are_ignored_and_counted() {
        let h = Harness::new("li-likes", "acme", hook());
        let answer = deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/linkedin/like_notification.json"),
        )
        .await;
        assert!(answer.contains("\"accepted\":0"), "{answer}");
        assert!(h.mentions().is_empty() && h.dead_letters().is_empty());
        let metrics = vigie_core::metrics::render();
        for event in ["like", "comment_delete"] {
            let line = format!("vigie_connector_ignored_total{{connector=\"li-likes\",event=\"{event}\"}} 1");
            assert!(metrics.contains(&line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn notifications_without_text_and_unknown_actions_are_dead_lettered() {
        let h = Harness::new("li-urns", "acme", hook());
        let body = include_bytes!("../../../../testdata/connectors/linkedin/comment_without_text.json");
        deliver(&h, body).await;
        assert!(h.mentions().is_empty());
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 2);
        assert!(letters
            .iter()
            .all(|l| l.stage == "connector:li-urns" && l.tenant == "acme"));
        assert!(
            letters[0].reason.contains("/rest/socialActions/") && letters[0].reason.contains("/v1/mentions"),
            "{}",
            letters[0].reason
        );
        let payload: Value = serde_json::from_slice(body).unwrap();
        for (letter, n) in letters.iter().zip(payload["notifications"].as_array().unwrap()) {
            assert_eq!(serde_json::from_slice::<Value>(&letter.original).unwrap(), *n);
        }
        assert!(letters[1].reason.contains("POLL_VOTE"), "{}", letters[1].reason);

        deliver(
            &h,
            br#"{"type":"LEAD_ACTION","leadGenFormResponse":"urn:li:leadGenFormResponse:1"}"#,
        )
        .await;
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 3);
        assert!(letters[2].reason.contains("LEAD_ACTION"), "{}", letters[2].reason);
    }
}
