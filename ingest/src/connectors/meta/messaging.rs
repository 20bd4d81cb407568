//! `entry[].messaging[]`: Messenger conversations of a Page, and Instagram direct messages, as
//! private direct messages threaded by conversation (the page or account, and the customer).

use super::{author, Object};
use crate::connectors::map::{id, non_blank, text, time_ms, Mapped};
use serde_json::Value;
use vigie_core::proto::{Kind, Mention, Source, Visibility};

/// Maps one messaging event of `object`; `event` is its one-event delivery.
pub(super) fn map(object: Object, messaging: &Value, event: &Value, mapped: &mut Mapped) {
    if let Some(message) = messaging.get("message").filter(|m| m.is_object()) {
        return map_message(object, messaging, message, event, mapped);
    }
    for (key, label) in [
        ("delivery", "delivery"),
        ("read", "read"),
        ("reaction", "reaction"),
    ] {
        if messaging.get(key).is_some() {
            return mapped.ignore(label);
        }
    }
    let mut keys: Vec<&str> = messaging
        .as_object()
        .map(|o| {
            o.keys()
                .map(String::as_str)
                .filter(|k| !matches!(*k, "sender" | "recipient" | "timestamp"))
                .collect()
        })
        .unwrap_or_default();
    keys.sort_unstable();
    mapped.unmapped(
        "messaging",
        format!(
            "messaging event {:?} is not mapped (message is; delivery, read, reaction are ignored)",
            keys.join(",")
        ),
        event,
    );
}

fn map_message(object: Object, messaging: &Value, message: &Value, event: &Value, mapped: &mut Mapped) {
    if message.get("is_deleted").and_then(Value::as_bool) == Some(true) {
        return mapped.ignore("unsend");
    }
    let Some(mid) = id(message, &["mid"]) else {
        return mapped.unmapped("messaging.message.mid", "a message without mid", event);
    };
    let (Some(sender), Some(recipient)) = (
        id(messaging, &["sender", "id"]),
        id(messaging, &["recipient", "id"]),
    ) else {
        return mapped.unmapped(
            "messaging.sender",
            "a message without sender.id and recipient.id",
            event,
        );
    };
    let echo = message.get("is_echo").and_then(Value::as_bool) == Some(true);
    // An echo is the page's (or account's) own message: sent by it, to the customer.
    let (page, customer) = if echo {
        (sender, recipient)
    } else {
        (recipient, sender)
    };
    let Some(body) = body(message) else {
        return mapped.unmapped(
            "messaging.message.text",
            "a message without text or attachment",
            event,
        );
    };
    let source = match object {
        Object::Page => Source::Messenger,
        Object::Instagram => Source::Instagram,
    };
    let writer = if echo { &page } else { &customer };
    mapped.mention(
        Mention {
            source: source as i32,
            visibility: Visibility::Private as i32,
            kind: Kind::DirectMessage as i32,
            native_id: mid,
            author: Some(author(writer, None, None)),
            text: body,
            created_at_ms: time_ms(messaging, &["timestamp"]).unwrap_or_default(),
            parent_id: id(message, &["reply_to", "mid"]).unwrap_or_default(),
            thread_id: format!("{page}:{customer}"),
            ..Default::default()
        },
        event,
    );
}

/// The message's text, or one `[type]` per attachment when it has none (`[image]`, `[video]`,
/// `[audio]`, `[file]`, `[story_mention]`…), `[unsupported]` for what the platform cannot show.
fn body(message: &Value) -> Option<String> {
    if let Some(t) = non_blank(text(message, &["text"])) {
        return Some(t.to_string());
    }
    let placeholders: Vec<String> = message
        .get("attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| format!("[{}]", non_blank(text(a, &["type"])).unwrap_or("attachment")))
        .collect();
    if !placeholders.is_empty() {
        return Some(placeholders.join(" "));
    }
    (message.get("is_unsupported").and_then(Value::as_bool) == Some(true))
        .then(|| "[unsupported]".to_string())
}
