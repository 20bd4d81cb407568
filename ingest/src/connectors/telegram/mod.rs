//! The `telegram` connector: a bot's Bot API webhook (`setWebhook` with `secret_token`), one
//! `Update` per `POST`. Key: `secret_token` (or `secret_token_env`), the same value as given to
//! `setWebhook` (1 to 256 characters `A-Z a-z 0-9 _ -`, as Telegram requires).
//!
//! - `POST` must carry `X-Telegram-Bot-Api-Secret-Token`, compared in constant time with the
//!   secret (`missing_signature`, `bad_signature`).
//! - `GET` is refused (`no_handshake`): Telegram has no handshake.
//!
//! Mapped: `message`, `edited_message`, `channel_post`, `edited_channel_post`, and (Telegram
//! Business, the brand's own account connected to the bot) `business_message` and
//! `edited_business_message`, whose text is `text` or else `caption`; in a private chat or a
//! members-only group, a message with neither is mapped with a placeholder for what it holds,
//! `[photo]`, `[video]`, `[animation]`, `[video_note]`, `[voice]`, `[audio]`, `[sticker]`,
//! `[location]` (with a venue's title and address), `[contact]`, `[document]`, `[poll]`,
//! `[dice]`, `[story]`, `[paid_media]`, `[game]`, `[invoice]`, `[giveaway]`, so that the
//! `unanswered` rule sees a customer who sent only a photo waiting:
//! - native id `<chat.id>:<message_id>` (message ids are unique per chat only); an edit is a new
//!   mention, `<chat.id>:<message_id>:edit:<edit_date>`, created at `edit_date`, so the edited
//!   words are kept next to the first version (a retry of the same edit is a duplicate);
//! - for Telegram Business, the chat is `b:<business_connection_id>:<chat.id>` in the native id
//!   (`b:<connection>:<chat.id>:<message_id>`), the thread and the parent: a customer's chat
//!   with the Business account has the same `chat.id` (the customer's id) as their chat with the
//!   bot, and the two number their messages independently;
//! - source `telegram`; `thread_id` = `chat.id`; `parent_id` = `<chat.id>:<reply_to_message.message_id>`
//!   when it replies; `created_at` = `date` (Unix seconds);
//! - author = `from` (`id`, `username`, `first_name` + `last_name`), or `sender_chat` (`id`,
//!   `username`, `title`) for channel posts and messages sent on behalf of a chat;
//! - a `private` chat → private, kind `direct_message` (the thread is the chat with that person);
//! - a `group` or `supergroup` → kind `reply` when it replies, else `post`; public when the group
//!   has a public `username` (anyone can read it at `t.me/<username>`), private otherwise (members
//!   only: then the chat is a conversation for the `unanswered` rule);
//! - a `channel` → public (a broadcast), kind `post` (or `reply`);
//! - url `https://t.me/<username>/<message_id>` for chats with a username, else
//!   `https://t.me/c/<id without -100>/<message_id>` for supergroups and channels (members only),
//!   none for private chats and basic groups.
//!
//! Ignored by design (`vigie_connector_ignored_total{event}`): `no_text` (a message without text
//! or caption that is a service message, such as joins, pins and title changes, or media
//! without caption in a channel or a public group, where no one waits for an answer),
//! `callback_query`, `inline_query`, `chosen_inline_result`, `shipping_query`,
//! `pre_checkout_query`, `purchased_paid_media`, `poll`, `poll_answer`, `my_chat_member`,
//! `chat_member`, `chat_join_request`, `message_reaction`, `message_reaction_count`, `chat_boost`,
//! `removed_chat_boost`, `business_connection`, `deleted_business_messages` (each by its update
//! field's name). An update with another field (a type this connector does not know) is
//! dead-lettered (unmapped) with its JSON.
//!
//! Limits: a bot does not receive the messages it sends itself, so the brand's answers sent
//! through the Bot API are not seen here (send them to `/v1/mentions` with the same `thread_id`,
//! or use Telegram Business, whose `business_message` updates carry both sides); a bot in a group
//! with privacy mode on only receives commands, replies to it and mentions of it; forum topics
//! (`message_thread_id`) are not told apart within a chat. An update does not say which bot it
//! was sent to, and a person's private chat has that person's id whatever the bot: two bots
//! whose connectors write for the same tenant would give the same native ids to different
//! messages (the second taken for a duplicate of the first). Keep one `telegram` connector per
//! tenant, or give each bot's connector a tenant of its own.

use super::map::{self, Mapped};
use super::settings::{Secret, Settings};
use super::signature;
use super::webhook::{header, Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::HeaderMap;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

/// The header carrying the secret token.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Update fields that are messages, whether they are edits, and whether they are Telegram
/// Business's (the brand's own account, not the bot: a chat of their own).
const MESSAGES: &[(&str, bool, bool)] = &[
    ("message", false, false),
    ("edited_message", true, false),
    ("channel_post", false, false),
    ("edited_channel_post", true, false),
    ("business_message", false, true),
    ("edited_business_message", true, true),
];

/// The placeholder of a message without text or caption, by the field its content is in (the
/// first present wins: an animation also has a `document`, a venue a `location`).
const MEDIA: &[(&str, &str)] = &[
    ("photo", "[photo]"),
    ("animation", "[animation]"),
    ("video", "[video]"),
    ("video_note", "[video_note]"),
    ("voice", "[voice]"),
    ("audio", "[audio]"),
    ("sticker", "[sticker]"),
    ("venue", "[location]"),
    ("location", "[location]"),
    ("contact", "[contact]"),
    ("document", "[document]"),
    ("poll", "[poll]"),
    ("dice", "[dice]"),
    ("story", "[story]"),
    ("paid_media", "[paid_media]"),
    ("game", "[game]"),
    ("invoice", "[invoice]"),
    ("giveaway", "[giveaway]"),
];

/// Update fields ignored by design (the field is the metric label).
const IGNORED: &[&str] = &[
    "callback_query",
    "inline_query",
    "chosen_inline_result",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "message_reaction",
    "message_reaction_count",
    "chat_boost",
    "removed_chat_boost",
    "business_connection",
    "deleted_business_messages",
];

/// Builds a `telegram` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let secret_token = settings.secret("secret_token")?;
    let token = secret_token.expose();
    if token.len() > 256
        || !token
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
    {
        return Err(settings.error(
            "secret_token",
            "Telegram accepts 1 to 256 characters A-Z, a-z, 0-9, _ and - (setWebhook's secret_token)",
        ));
    }
    Ok(Built::Push(Arc::new(Telegram { secret_token })))
}

/// A Telegram bot's webhook.
pub struct Telegram {
    secret_token: Secret,
}

impl Telegram {
    /// The webhook of a bot registered with `secret_token`.
    pub fn new(secret_token: Secret) -> Self {
        Self { secret_token }
    }
}

impl Webhook for Telegram {
    fn handshake(&self, _query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        Err(Refusal::new(
            "no_handshake",
            "Telegram has no handshake: register this URL with setWebhook and secret_token",
        ))
    }

    fn verify(&self, headers: &HeaderMap, _body: &[u8]) -> Result<(), Refusal> {
        match header(headers, SECRET_HEADER) {
            None => Err(Refusal::new(
                "missing_signature",
                "no X-Telegram-Bot-Api-Secret-Token header (was setWebhook given secret_token?)",
            )),
            Some(token) if signature::same_secret(token.as_bytes(), self.secret_token.expose()) => Ok(()),
            Some(_) => Err(Refusal::new(
                "bad_signature",
                "X-Telegram-Bot-Api-Secret-Token is not the configured secret_token",
            )),
        }
    }

    fn map(&self, body: &[u8]) -> Mapped {
        let Ok(Value::Object(update)) = serde_json::from_slice::<Value>(body) else {
            return Mapped::malformed("not a JSON object: not a Telegram Update", body);
        };
        let mut mapped = Mapped::default();
        let mut known = false;
        for (field, value) in &update {
            if field == "update_id" {
                continue;
            }
            known = true;
            if let Some((_, edit, business)) = MESSAGES.iter().find(|(f, ..)| f == field) {
                message(value, *edit, *business, &mut mapped);
            } else if let Some(label) = IGNORED.iter().find(|f| *f == field) {
                mapped.ignore(label);
            } else {
                mapped.unmapped(
                    field.as_str(),
                    format!("{field:?} is not a Telegram update type this connector knows"),
                    &Value::Object(update.clone()),
                );
            }
        }
        if !known {
            return Mapped::malformed("an Update without any update field", body);
        }
        mapped
    }
}

/// One message (or post, or edit) of a chat; `business` for Telegram Business's.
fn message(msg: &Value, edit: bool, business: bool, mapped: &mut Mapped) {
    let (Some(chat_id), Some(id)) = (map::id(msg, &["chat", "id"]), map::id(msg, &["message_id"])) else {
        mapped.unmapped("message", "chat.id and message_id are required", msg);
        return;
    };
    // The chat of a customer with the brand's Business account has the same id as that
    // customer's chat with the bot, and message ids are per chat: the connection tells them
    // apart.
    let chat = if business {
        let Some(connection) = map::id(msg, &["business_connection_id"]) else {
            mapped.unmapped(
                "business_connection_id",
                "a Telegram Business message without business_connection_id",
                msg,
            );
            return;
        };
        format!("b:{connection}:{chat_id}")
    } else {
        chat_id.clone()
    };
    let chat_type = map::text(msg, &["chat", "type"]).unwrap_or_default();
    let username = map::text(msg, &["chat", "username"]).filter(|u| !u.is_empty());
    // Private chats and members-only groups are conversations: a photo without caption there
    // is still a customer waiting for an answer.
    let conversation =
        chat_type == "private" || (matches!(chat_type, "group" | "supergroup") && username.is_none());
    let text = map::non_blank(map::text(msg, &["text"]))
        .or_else(|| map::non_blank(map::text(msg, &["caption"])))
        .map(str::to_string)
        .or_else(|| conversation.then(|| placeholder(msg)).flatten());
    let Some(text) = text else {
        mapped.ignore("no_text");
        return;
    };
    let (native_id, created_at_ms) = if edit {
        let Some(at) = map::id(msg, &["edit_date"]) else {
            mapped.unmapped("edit_date", "missing from an edited message", msg);
            return;
        };
        (
            format!("{chat}:{id}:edit:{at}"),
            map::time_ms(msg, &["edit_date"]).unwrap_or(0),
        )
    } else {
        (format!("{chat}:{id}"), map::time_ms(msg, &["date"]).unwrap_or(0))
    };
    let parent = map::id(msg, &["reply_to_message", "message_id"])
        .map(|reply| format!("{chat}:{reply}"))
        .unwrap_or_default();
    let (visibility, kind) = match chat_type {
        "private" => (Visibility::Private, Kind::DirectMessage),
        "group" | "supergroup" if username.is_none() => (Visibility::Private, post_or_reply(&parent)),
        _ => (Visibility::Public, post_or_reply(&parent)),
    };
    let url = match (username, chat_id.strip_prefix("-100")) {
        (Some(u), _) if chat_type != "private" => format!("https://t.me/{u}/{id}"),
        (_, Some(internal)) if matches!(chat_type, "supergroup" | "channel") => {
            format!("https://t.me/c/{internal}/{id}")
        }
        _ => String::new(),
    };
    let mention = Mention {
        source: Source::Telegram as i32,
        visibility: visibility as i32,
        kind: kind as i32,
        native_id,
        author: author(msg),
        text,
        url,
        created_at_ms,
        parent_id: parent,
        thread_id: chat,
        ..Default::default()
    };
    mapped.mention(mention, msg);
}

/// What a message without text or caption holds (`[photo]`, `[voice]`, `[location] <venue>`…);
/// `None` for service messages (joins, pins, title changes…), which have none of it.
fn placeholder(msg: &Value) -> Option<String> {
    let (field, label) = MEDIA
        .iter()
        .find(|(field, _)| msg.get(*field).is_some_and(|v| !v.is_null()))?;
    if *field == "venue" {
        let place: Vec<&str> = [&["venue", "title"][..], &["venue", "address"][..]]
            .into_iter()
            .filter_map(|path| map::non_blank(map::text(msg, path)))
            .collect();
        return Some(std::iter::once(*label).chain(place).collect::<Vec<_>>().join(" "));
    }
    Some(label.to_string())
}

fn post_or_reply(parent: &str) -> Kind {
    if parent.is_empty() {
        Kind::Post
    } else {
        Kind::Reply
    }
}

/// The sender: `from`, or the chat it wrote on behalf of.
fn author(msg: &Value) -> Option<Author> {
    if let Some(id) = map::id(msg, &["from", "id"]) {
        let name = [
            map::text(msg, &["from", "first_name"]),
            map::text(msg, &["from", "last_name"]),
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
        return Some(Author {
            id,
            handle: map::text(msg, &["from", "username"])
                .unwrap_or_default()
                .to_string(),
            display_name: name,
            ..Default::default()
        });
    }
    let chat = msg.get("sender_chat").or_else(|| msg.get("chat"))?;
    Some(Author {
        id: map::id(chat, &["id"])?,
        handle: map::text(chat, &["username"]).unwrap_or_default().to_string(),
        display_name: map::text(chat, &["title"]).unwrap_or_default().to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::webhook::testing::Harness;
    use super::*;
    use axum::http::StatusCode;
    use vigie_core::config::ConnectorConfig;

    const SECRET: &str = "tg-Secret_token-42";

    fn config(secret: &str) -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"tg\"\ntype = \"telegram\"\ntenant = \"acme\"\nsecret_token = \"{secret}\""
        ))
        .unwrap()
    }

    fn hook() -> Arc<dyn Webhook> {
        match super::super::build_all(&[config(SECRET)])
            .unwrap()
            .pop()
            .unwrap()
            .built
        {
            Built::Push(hook) => hook,
            Built::Pull(_) => unreachable!("telegram is a webhook"),
        }
    }

    async fn deliver(h: &Harness, body: &[u8]) -> String {
        let (status, answer) = h.post(&[("X-Telegram-Bot-Api-Secret-Token", SECRET)], body).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        answer
    }

    #[test]
    fn a_secret_token_telegram_would_refuse_is_refused() {
        let e = super::super::build_all(&[config("has space")])
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("secret_token") && e.contains("A-Z"), "{e}");
        assert!(super::super::build_all(&[config(&"a".repeat(257))]).is_err());
    }

    #[tokio::test]
    async fn the_secret_token_is_required_and_there_is_no_handshake() {
        let h = Harness::new("tg-secret", "acme", hook());
        let body = include_bytes!("../../../../testdata/connectors/telegram/private_message.json");
        assert_eq!(h.get("hub.challenge=1").await.0, StatusCode::FORBIDDEN);
        assert_eq!(h.post(&[], body).await.0, StatusCode::UNAUTHORIZED);
        let mut wrong = SECRET.as_bytes().to_vec();
        *wrong.last_mut().unwrap() = b'3';
        let wrong = String::from_utf8(wrong).unwrap();
        assert_eq!(
            h.post(&[("X-Telegram-Bot-Api-Secret-Token", &wrong)], body)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            h.post(&[("X-Telegram-Bot-Api-Secret-Token", &SECRET[1..])], body)
                .await
                .0,
            StatusCode::UNAUTHORIZED
        );
        assert!(h.mentions().is_empty());
        deliver(&h, body).await;
        assert_eq!(h.mentions().len(), 1);
        let metrics = vigie_core::metrics::render();
        for line in [
            "vigie_connector_refused_total{connector=\"tg-secret\",reason=\"no_handshake\"} 1",
            "vigie_connector_refused_total{connector=\"tg-secret\",reason=\"missing_signature\"} 1",
            "vigie_connector_refused_total{connector=\"tg-secret\",reason=\"bad_signature\"} 2",
        ] {
            assert!(metrics.contains(line), "{line} in\n{metrics}");
        }
    }

    #[tokio::test]
    async fn a_private_message_is_a_direct_message_in_the_chat_thread() {
        let h = Harness::new("tg-private", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/telegram/private_message.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(m.source, Source::Telegram as i32);
        assert_eq!(m.visibility, Visibility::Private as i32);
        assert_eq!(m.kind, Kind::DirectMessage as i32);
        assert_eq!(m.native_id, "412345678:4120");
        assert_eq!(m.thread_id, "412345678");
        assert_eq!(m.parent_id, "");
        assert_eq!(m.url, "");
        assert_eq!(m.created_at_ms, 1_710_410_000_000);
        assert!(m.text.starts_with("Bonjour, ma commande 4411"));
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.handle.as_str(), a.display_name.as_str()),
            ("412345678", "jmartin", "Jean Martin")
        );
    }

    #[tokio::test]
    async fn a_reply_in_a_public_group_is_a_public_reply_to_its_parent() {
        let h = Harness::new("tg-group", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/telegram/group_reply.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1, "the replied-to message is not a mention of its own");
        let m = &m[0];
        assert_eq!(m.visibility, Visibility::Public as i32);
        assert_eq!(m.kind, Kind::Reply as i32);
        assert_eq!(m.native_id, "-1001234567890:77812");
        assert_eq!(m.parent_id, "-1001234567890:77790");
        assert_eq!(m.thread_id, "-1001234567890");
        assert_eq!(m.url, "https://t.me/acme_users_fr/77812");
        assert_eq!(m.created_at_ms, 1_710_410_500_000);
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.handle.as_str(), a.display_name.as_str()),
            ("598765432", "lea_b", "Lea")
        );

        // The same group without a public username: members only.
        let body = include_bytes!("../../../../testdata/connectors/telegram/group_reply.json");
        let mut update: Value = serde_json::from_slice(body).unwrap();
        update["message"]["chat"]
            .as_object_mut()
            .unwrap()
            .remove("username");
        update["message"]["message_id"] = 77813.into();
        deliver(&h, update.to_string().as_bytes()).await;
        let m = h.mentions();
        assert_eq!(m[1].visibility, Visibility::Private as i32);
        assert_eq!(m[1].url, "https://t.me/c/1234567890/77813");
    }

    #[tokio::test]
    async fn a_channel_post_is_a_public_post_with_its_caption() {
        let h = Harness::new("tg-channel", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/telegram/channel_post.json"),
        )
        .await;
        let m = h.mentions();
        assert_eq!(m.len(), 1);
        let m = &m[0];
        assert_eq!(m.visibility, Visibility::Public as i32);
        assert_eq!(m.kind, Kind::Post as i32);
        assert_eq!(m.native_id, "-1009876543210:310");
        assert_eq!(m.thread_id, "-1009876543210");
        assert!(m.text.starts_with("Rappel produit"));
        assert_eq!(m.url, "https://t.me/conso_alertes/310");
        let a = m.author.as_ref().unwrap();
        assert_eq!(
            (a.id.as_str(), a.handle.as_str(), a.display_name.as_str()),
            ("-1009876543210", "conso_alertes", "Conso Alertes")
        );
    }

    #[tokio::test]
    async fn an_edit_is_kept_as_a_new_mention_next_to_the_first_version() {
        let h = Harness::new("tg-edit", "acme", hook());
        deliver(
            &h,
            include_bytes!("../../../../testdata/connectors/telegram/private_message.json"),
        )
        .await;
        let edited = include_bytes!("../../../../testdata/connectors/telegram/edited_message.json");
        deliver(&h, edited).await;
        let answer = deliver(&h, edited).await;
        assert!(
            answer.contains("\"duplicates\":1"),
            "a retried edit is a duplicate: {answer}"
        );
        let m = h.mentions();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].native_id, "412345678:4120:edit:1710410060");
        assert_eq!(m[1].created_at_ms, 1_710_410_060_000);
        assert_eq!(m[1].thread_id, m[0].thread_id);
        assert!(m[1].text.contains("dix jours"));
        assert_eq!(m[1].kind, Kind::DirectMessage as i32);
    }

    #[tokio::test]
    async fn other_updates_are_ignored_or_dead_lettered() {
        let h = Harness::new("tg-other", "acme", hook());
        let updates: Vec<Value> = serde_json::from_slice(include_bytes!(
            "../../../../testdata/connectors/telegram/ignored_updates.json"
        ))
        .unwrap();
        for update in &updates {
            deliver(&h, update.to_string().as_bytes()).await;
        }
        assert!(h.mentions().is_empty());
        let metrics = vigie_core::metrics::render();
        for event in ["callback_query", "my_chat_member", "no_text"] {
            let line = format!("vigie_connector_ignored_total{{connector=\"tg-other\",event=\"{event}\"}} 1");
            assert!(metrics.contains(&line), "{line} in\n{metrics}");
        }
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 1, "the unknown update type");
        assert_eq!(letters[0].stage, "connector:tg-other");
        assert!(
            letters[0].reason.contains("boost_campaign_finished"),
            "{}",
            letters[0].reason
        );
        assert_eq!(
            serde_json::from_slice::<Value>(&letters[0].original).unwrap(),
            updates[3]
        );

        deliver(&h, br#"{"update_id": 1}"#).await;
        deliver(&h, b"[]").await;
        assert_eq!(h.dead_letters().len(), 3);
        assert_eq!(h.dead_letters()[2].original, b"[]");
    }

    /// A `field` update: a message of Jean's in his private chat with the bot, with the keys of
    /// `message` in place of its own.
    fn update(field: &str, message: Value) -> Vec<u8> {
        let mut base = serde_json::json!({
            "message_id": 4130,
            "from": {"id": 412345678, "is_bot": false, "first_name": "Jean", "username": "jmartin"},
            "chat": {"id": 412345678, "first_name": "Jean", "username": "jmartin", "type": "private"},
            "date": 1710412100
        });
        base.as_object_mut()
            .unwrap()
            .extend(message.as_object().unwrap().clone());
        serde_json::json!({"update_id": 815300200, field: base})
            .to_string()
            .into_bytes()
    }

    #[tokio::test]
    async fn media_without_caption_in_a_conversation_gets_a_placeholder() {
        let h = Harness::new("tg-media", "acme", hook());
        let photo =
            serde_json::json!([{"file_id": "AgAC1", "file_unique_id": "u1", "width": 90, "height": 90}]);
        let cases = [
            (serde_json::json!({"message_id": 4130, "photo": photo}), "[photo]"),
            (
                serde_json::json!({"message_id": 4131, "voice": {"file_id": "v", "file_unique_id": "v", "duration": 4}}),
                "[voice]",
            ),
            (
                serde_json::json!({"message_id": 4132, "sticker": {"file_id": "s", "file_unique_id": "s", "type": "regular"}}),
                "[sticker]",
            ),
            (
                serde_json::json!({"message_id": 4133,
                    "location": {"latitude": 48.85, "longitude": 2.35},
                    "venue": {"location": {"latitude": 48.85, "longitude": 2.35}, "title": "Acme Rivoli", "address": "1 rue de Rivoli"}}),
                "[location] Acme Rivoli 1 rue de Rivoli",
            ),
            (
                serde_json::json!({"message_id": 4134,
                    "animation": {"file_id": "a", "file_unique_id": "a"},
                    "document": {"file_id": "a", "file_unique_id": "a"}}),
                "[animation]",
            ),
            (
                serde_json::json!({"message_id": 4135, "contact": {"phone_number": "+33600000000", "first_name": "Jean"}}),
                "[contact]",
            ),
        ];
        for (message, _) in &cases {
            deliver(&h, &update("message", message.clone())).await;
        }
        // In a members-only group too.
        let group = serde_json::json!({"message_id": 77830, "chat": {"id": -1_001_234_567_890i64, "title": "Acme Users FR", "type": "supergroup"}, "photo": photo});
        deliver(&h, &update("message", group)).await;
        let m = h.mentions();
        let texts: Vec<&str> = m.iter().map(|m| m.text.as_str()).collect();
        let mut expected: Vec<&str> = cases.iter().map(|(_, t)| *t).collect();
        expected.push("[photo]");
        assert_eq!(texts, expected);
        assert_eq!(m[0].native_id, "412345678:4130");
        assert_eq!(m[0].kind, Kind::DirectMessage as i32);
        assert_eq!(m[0].thread_id, "412345678");
        assert_eq!(m[6].visibility, Visibility::Private as i32);

        // Where no one waits (a channel, a public group), and service messages anywhere: no_text.
        let channel = serde_json::json!({"message_id": 311, "chat": {"id": -1_009_876_543_210i64, "title": "Conso Alertes", "username": "conso_alertes", "type": "channel"}, "photo": photo});
        deliver(&h, &update("channel_post", channel)).await;
        let public = serde_json::json!({"message_id": 77831, "chat": {"id": -1_001_234_567_890i64, "username": "acme_users_fr", "type": "supergroup"}, "photo": photo});
        deliver(&h, &update("message", public)).await;
        let pinned = serde_json::json!({"message_id": 4136, "pinned_message": {"message_id": 4130, "date": 1710412100, "chat": {"id": 412345678, "type": "private"}, "photo": photo}});
        deliver(&h, &update("message", pinned)).await;
        assert_eq!(h.mentions().len(), 7);
        let metrics = vigie_core::metrics::render();
        let line = "vigie_connector_ignored_total{connector=\"tg-media\",event=\"no_text\"} 3";
        assert!(metrics.contains(line), "{line} in\n{metrics}");
        assert!(h.dead_letters().is_empty());
    }

    #[tokio::test]
    async fn a_business_chat_is_not_the_bots_chat_with_the_same_person() {
        let h = Harness::new("tg-business", "acme", hook());
        let words = |text: &str| serde_json::json!({"message_id": 12, "text": text});
        deliver(&h, &update("message", words("to the bot"))).await;
        let mut business = words("to the business account");
        business["business_connection_id"] = "BCfake42".into();
        business["reply_to_message"] = serde_json::json!({"message_id": 11, "date": 1710412000, "chat": {"id": 412345678, "type": "private"}});
        deliver(&h, &update("business_message", business.clone())).await;
        business["edit_date"] = 1_710_412_160.into();
        business["text"] = "to the business account, edited".into();
        deliver(&h, &update("edited_business_message", business)).await;
        let m = h.mentions();
        assert_eq!(
            m.len(),
            3,
            "the same chat and message ids, three mentions: {m:#?}"
        );
        assert_eq!(
            (m[0].native_id.as_str(), m[0].thread_id.as_str()),
            ("412345678:12", "412345678")
        );
        assert_eq!(m[1].native_id, "b:BCfake42:412345678:12");
        assert_eq!(m[1].thread_id, "b:BCfake42:412345678");
        assert_eq!(m[1].parent_id, "b:BCfake42:412345678:11");
        assert_eq!(m[1].text, "to the business account");
        assert_eq!(m[2].native_id, "b:BCfake42:412345678:12:edit:1710412160");
        assert_eq!(m[2].thread_id, m[1].thread_id);

        // A Business message without its connection cannot be told apart: dead-lettered.
        deliver(&h, &update("business_message", words("who?"))).await;
        assert_eq!(h.mentions().len(), 3);
        let letters = h.dead_letters();
        assert_eq!(letters.len(), 1);
        assert!(
            letters[0].reason.contains("business_connection_id"),
            "{}",
            letters[0].reason
        );
    }
}
