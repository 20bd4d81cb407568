//! The `whatsapp` connector: the WhatsApp Cloud API's webhooks (object
//! `whatsapp_business_account`) for the business's phone numbers, served at
//! `/v1/webhooks/{name}`.
//!
//! Keys: `app_secret` (the Meta app's secret, which signs every delivery) and `verify_token`
//! (the token typed in the app's webhook settings), each also as `*_env`. The handshake and the
//! signature are Meta's, as for the `meta` connector: `GET` with `hub.mode=subscribe` and the
//! right `hub.verify_token` is answered with `hub.challenge` (text/plain), otherwise 403
//! (`bad_verify_token`, `bad_handshake`); `POST` needs `X-Hub-Signature-256: sha256=<hex
//! HMAC-SHA256(app_secret, raw body)>`, 401 `missing_signature` or `bad_signature` otherwise.
//!
//! Mapped (source whatsapp, private, direct_message; the tenant is the connector's; each
//! mention's original is its one message wrapped as a delivery of its own, with the entry id,
//! the field, the metadata and the sender's contact):
//! - `entry[].changes[]` with `field: "messages"`, each of `value.messages[]`: native_id =
//!   `id` (the `wamid.…`), author id = handle = the customer's number `from` (the `to` of the
//!   business's answers), display_name = `profile.name` of the contact in `contacts[]` whose
//!   `wa_id` is `from` (or of the only one), thread_id = `<metadata.phone_number_id>:<from>`
//!   (the same as the echoes' `<phone_number_id>:<to>`), created_at =
//!   `timestamp` (Unix seconds), parent_id = `context.id` when the customer replies to a
//!   message. Text by `type`: `text` → `text.body`; `image`, `video`, `document` → the caption,
//!   else `[image]`, `[video]`, `[document]`; `audio` → `[audio]` (`[voice]` for a voice note);
//!   `sticker` → `[sticker]`; `location` → `[location]` and its name and address if given;
//!   `contacts` → `[contacts]`; `interactive` → the title of the button or list row chosen
//!   (`[interactive]` otherwise); `button` → its text; `order` → its text, else `[order]`;
//!   `unsupported` (and the older `unknown`: what the Cloud API cannot deliver) →
//!   `[unsupported]`. Placeholders keep a customer's message that has no text visible to the
//!   `unanswered` rule.
//! - `field: "smb_message_echoes"` (messages the business sent from the WhatsApp Business app,
//!   for numbers onboarded in coexistence), each of `value.message_echoes[]`, read as above:
//!   author = the business number (id = `metadata.phone_number_id`, handle =
//!   `metadata.display_phone_number`), thread_id = `<phone_number_id>:<to>`: put the
//!   phone_number_id (or the display number) in the `unanswered` rule's `brand_authors`, and
//!   the business's answer resolves the customer's wait.
//!
//! Ignored by design, counted in `vigie_connector_ignored_total{connector,event}`: every
//! `value.statuses[]` entry, sent/delivered/read/failed (`statuses`); `reaction` messages
//! (`reaction`); `system` messages, such as a customer's number change (`system`).
//!
//! Dead-lettered (stage `connector:<name>`, with the event's bytes): an object other than
//! `whatsapp_business_account` (the whole body); a field other than `messages` and
//! `smb_message_echoes` (template, quality, account updates…); a message of a type not listed
//! above (a type Meta adds later is kept to be replayed once mapped, rather than reduced to a
//! placeholder); `value.errors[]`; a `messages` value with no `metadata.phone_number_id`, or
//! none of messages, statuses or errors; a message without `id`, `from` or text. A body that
//! is not JSON, or has no `entry` array, is dead-lettered whole.
//!
//! Known limits: the Cloud API does not echo the messages the business sends through the API
//! itself (a helpdesk's answers show only as `statuses`, ignored), so such answers resolve an
//! `unanswered` alert only if they reach Vigie another way (`/v1/mentions`, or the
//! `smb_message_echoes` of a coexistence number); group messages (`group_id`) are threaded by
//! sender like one-to-one chats; media are not downloaded (a caption or a placeholder only);
//! no follower counts or verification marks.

#[cfg(test)]
mod tests;

use super::map::{id, non_blank, text, time_ms, Mapped};
use super::meta_hub::{one_event, Hub};
use super::settings::Settings;
use super::webhook::{Answer, Refusal, Webhook};
use super::{Built, ConnectorError};
use axum::http::HeaderMap;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

const OBJECT: &str = "whatsapp_business_account";

/// Builds a `whatsapp` connector from its settings (`app_secret`, `verify_token`).
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Ok(Built::Push(Arc::new(WhatsApp {
        hub: Hub::read(settings)?,
    })))
}

/// A WhatsApp Business Account's webhooks.
struct WhatsApp {
    hub: Hub,
}

impl Webhook for WhatsApp {
    fn handshake(&self, query: &HashMap<String, String>) -> Result<Answer, Refusal> {
        self.hub.handshake(query)
    }

    fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), Refusal> {
        self.hub.verify(headers, body)
    }

    fn map(&self, body: &[u8]) -> Mapped {
        map(body)
    }
}

/// Maps one Cloud API webhook delivery.
fn map(body: &[u8]) -> Mapped {
    let payload: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => return Mapped::malformed(format!("not JSON: {e}"), body),
    };
    let Some(entries) = payload.get("entry").and_then(Value::as_array) else {
        return Mapped::malformed("no entry array: not a WhatsApp Cloud API webhook delivery", body);
    };
    let object = payload.get("object").and_then(Value::as_str).unwrap_or_default();
    if object != OBJECT {
        return Mapped::unmapped_body(
            "object",
            format!("object {object:?} is not mapped; this connector maps {OBJECT}"),
            body,
        );
    }
    let mut mapped = Mapped::default();
    for entry in entries {
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            mapped.unmapped(
                "entry.changes",
                "an entry without changes",
                &json!({ "object": OBJECT, "entry": [entry] }),
            );
            continue;
        };
        for change in changes {
            Change::new(entry, change).map(&mut mapped);
        }
    }
    mapped
}

/// One `entry[].changes[]`.
struct Change<'a> {
    entry: &'a Value,
    change: &'a Value,
    field: &'a str,
    value: &'a Value,
}

impl<'a> Change<'a> {
    fn new(entry: &'a Value, change: &'a Value) -> Self {
        Self {
            entry,
            change,
            field: text(change, &["field"]).unwrap_or_default(),
            value: change.get("value").unwrap_or(&Value::Null),
        }
    }

    /// The change as a delivery of its own, with `value` in place of its value.
    fn event(&self, value: Value) -> Value {
        let change = json!({ "field": self.field, "value": value });
        one_event(OBJECT, self.entry, "changes", &change)
    }

    /// The change as a delivery of its own, as received.
    fn whole(&self) -> Value {
        one_event(OBJECT, self.entry, "changes", self.change)
    }

    /// The change's value keeping only `list: [item]` of its lists, and the contact of `wa_id`.
    fn one(&self, list: &str, item: &Value, contact: Option<&Value>) -> Value {
        let mut value = serde_json::Map::new();
        for key in ["messaging_product", "metadata"] {
            if let Some(v) = self.value.get(key) {
                value.insert(key.to_string(), v.clone());
            }
        }
        if let Some(c) = contact {
            value.insert("contacts".to_string(), Value::Array(vec![c.clone()]));
        }
        value.insert(list.to_string(), Value::Array(vec![item.clone()]));
        self.event(Value::Object(value))
    }

    fn map(&self, mapped: &mut Mapped) {
        let echoes = match self.field {
            "messages" => false,
            "smb_message_echoes" => true,
            other => {
                return mapped.unmapped(
                    "changes.field",
                    format!(
                        "field {other:?} is not mapped; this connector maps messages and smb_message_echoes"
                    ),
                    &self.whole(),
                )
            }
        };
        let Some(phone_number_id) = id(self.value, &["metadata", "phone_number_id"]) else {
            return mapped.unmapped(
                "changes.value.metadata.phone_number_id",
                "a change without metadata.phone_number_id",
                &self.whole(),
            );
        };
        let list = |key: &str| {
            self.value
                .get(key)
                .and_then(Value::as_array)
                .filter(|l| !l.is_empty())
        };
        let (messages, statuses, errors) = if echoes {
            (list("message_echoes"), None, list("errors"))
        } else {
            (list("messages"), list("statuses"), list("errors"))
        };
        if messages.is_none() && statuses.is_none() && errors.is_none() {
            return mapped.unmapped(
                "changes.value",
                format!(
                    "a {} change with none of {}",
                    self.field,
                    if echoes {
                        "message_echoes, errors"
                    } else {
                        "messages, statuses, errors"
                    }
                ),
                &self.whole(),
            );
        }
        for _ in statuses.into_iter().flatten() {
            mapped.ignore("statuses");
        }
        if let Some(errors) = errors {
            let reasons: Vec<String> = errors
                .iter()
                .map(|e| {
                    format!(
                        "{} {}",
                        id(e, &["code"]).unwrap_or_default(),
                        text(e, &["title"]).unwrap_or_default()
                    )
                })
                .collect();
            mapped.unmapped(
                "changes.value.errors",
                format!("WhatsApp reported errors: {}", reasons.join("; ")),
                &self.whole(),
            );
        }
        for message in messages.into_iter().flatten() {
            if echoes {
                self.echo(&phone_number_id, message, mapped);
            } else {
                self.message(&phone_number_id, message, mapped);
            }
        }
    }

    /// A customer's message.
    fn message(&self, phone_number_id: &str, message: &Value, mapped: &mut Mapped) {
        let from = id(message, &["from"]);
        // The contact gives the name only: the author and the thread are `from`, the number the
        // business's answers (and their echoes, threaded by `to`) are sent to, even when the
        // contact's `wa_id` is written otherwise.
        let contacts = self.value.get("contacts").and_then(Value::as_array);
        let contact = contacts.and_then(|cs| {
            cs.iter()
                .find(|c| from.is_some() && id(c, &["wa_id"]) == from)
                .or(if cs.len() == 1 { cs.first() } else { None })
        });
        let event = self.one("messages", message, contact);
        let Some(customer) = from else {
            return mapped.unmapped("messages.from", "a message without from", &event);
        };
        let Some(body) = self.body(message, &event, mapped) else {
            return;
        };
        let Some(native_id) = id(message, &["id"]) else {
            return mapped.unmapped("messages.id", "a message without id", &event);
        };
        let author = Author {
            id: customer.clone(),
            handle: customer.clone(),
            display_name: contact
                .and_then(|c| text(c, &["profile", "name"]))
                .unwrap_or_default()
                .to_string(),
            ..Default::default()
        };
        mapped.mention(
            mention(
                native_id,
                author,
                body,
                message,
                format!("{phone_number_id}:{customer}"),
            ),
            &event,
        );
    }

    /// A message the business sent from the WhatsApp Business app.
    fn echo(&self, phone_number_id: &str, message: &Value, mapped: &mut Mapped) {
        let event = self.one("message_echoes", message, None);
        let Some(customer) = id(message, &["to"]) else {
            return mapped.unmapped("message_echoes.to", "an echo without to", &event);
        };
        let Some(body) = self.body(message, &event, mapped) else {
            return;
        };
        let Some(native_id) = id(message, &["id"]) else {
            return mapped.unmapped("message_echoes.id", "an echo without id", &event);
        };
        let author = Author {
            id: phone_number_id.to_string(),
            handle: id(self.value, &["metadata", "display_phone_number"])
                .unwrap_or_else(|| phone_number_id.to_string()),
            ..Default::default()
        };
        mapped.mention(
            mention(
                native_id,
                author,
                body,
                message,
                format!("{phone_number_id}:{customer}"),
            ),
            &event,
        );
    }

    /// The message's text by its type; `None` when it is ignored or unmapped (noted in
    /// `mapped`).
    fn body(&self, message: &Value, event: &Value, mapped: &mut Mapped) -> Option<String> {
        let kind = text(message, &["type"]).unwrap_or_default();
        let field = |path: &[&str]| non_blank(text(message, path)).map(str::to_string);
        let placeholder = |p: &str| Some(p.to_string());
        let body = match kind {
            "text" => field(&["text", "body"]),
            "image" | "video" | "document" => {
                field(&[kind, "caption"]).or_else(|| placeholder(&format!("[{kind}]")))
            }
            "audio" if message.pointer("/audio/voice").and_then(Value::as_bool) == Some(true) => {
                placeholder("[voice]")
            }
            "audio" => placeholder("[audio]"),
            "sticker" => placeholder("[sticker]"),
            "location" => {
                let place: Vec<String> = [&["location", "name"][..], &["location", "address"][..]]
                    .into_iter()
                    .filter_map(field)
                    .collect();
                Some(
                    std::iter::once("[location]".to_string())
                        .chain(place)
                        .collect::<Vec<_>>()
                        .join(" "),
                )
            }
            "contacts" => placeholder("[contacts]"),
            "interactive" => field(&["interactive", "button_reply", "title"])
                .or_else(|| field(&["interactive", "list_reply", "title"]))
                .or_else(|| placeholder("[interactive]")),
            "button" => field(&["button", "text"]),
            "order" => field(&["order", "text"]).or_else(|| placeholder("[order]")),
            "unsupported" | "unknown" => placeholder("[unsupported]"),
            "reaction" => {
                mapped.ignore("reaction");
                return None;
            }
            "system" => {
                mapped.ignore("system");
                return None;
            }
            other => {
                mapped.unmapped(
                    "messages.type",
                    format!("message type {other:?} is not mapped"),
                    event,
                );
                return None;
            }
        };
        if body.is_none() {
            mapped.unmapped("messages.text", format!("a {kind} message without text"), event);
        }
        body
    }
}

/// A WhatsApp message `native_id` by `author` saying `body`, in conversation `thread_id`.
fn mention(native_id: String, author: Author, body: String, message: &Value, thread_id: String) -> Mention {
    Mention {
        source: Source::Whatsapp as i32,
        visibility: Visibility::Private as i32,
        kind: Kind::DirectMessage as i32,
        native_id,
        author: Some(author),
        text: body,
        created_at_ms: time_ms(message, &["timestamp"]).unwrap_or_default(),
        parent_id: id(message, &["context", "id"]).unwrap_or_default(),
        thread_id,
        ..Default::default()
    }
}
