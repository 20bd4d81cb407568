//! An Instagram professional account's `changes`: comments on its media, and the @mentions of
//! the account elsewhere, as public Instagram mentions.

use super::author;
use crate::connectors::map::{id, non_blank, text, time_ms, Mapped};
use serde_json::Value;
use vigie_core::proto::{Kind, Mention, Source, Visibility};

/// Maps one `entry[].changes[]` of object `instagram`; `event` is its one-event delivery.
pub(super) fn map(entry: &Value, change: &Value, event: &Value, mapped: &mut Mapped) {
    let field = text(change, &["field"]).unwrap_or_default();
    let Some(value) = change.get("value").filter(|v| v.is_object()) else {
        return mapped.unmapped(
            "changes.value",
            format!("an Instagram {field:?} change without a value"),
            event,
        );
    };
    // The value carries no time: the entry's is when Meta sent the change.
    let created_at_ms = time_ms(entry, &["time"]).unwrap_or_default();
    let base = Mention {
        source: Source::Instagram as i32,
        visibility: Visibility::Public as i32,
        created_at_ms,
        ..Default::default()
    };
    match field {
        "comments" | "live_comments" => {
            let Some(native_id) = id(value, &["id"]) else {
                return mapped.unmapped("changes.value.id", "an Instagram comment without id", event);
            };
            let Some(body) = non_blank(text(value, &["text"])) else {
                return mapped.unmapped("changes.value.text", "an Instagram comment without text", event);
            };
            let media = id(value, &["media", "id"]).unwrap_or_default();
            let (kind, parent_id) = match id(value, &["parent_id"]) {
                Some(parent) => (Kind::Reply, parent),
                None => (Kind::Comment, media.clone()),
            };
            let from = id(value, &["from", "id"]);
            mapped.mention(
                Mention {
                    kind: kind as i32,
                    native_id,
                    author: from.map(|f| author(&f, text(value, &["from", "username"]), None)),
                    text: body.to_string(),
                    parent_id,
                    thread_id: media,
                    ..base
                },
                event,
            );
        }
        "mentions" => {
            let Some(media) = id(value, &["media_id"]) else {
                return mapped.unmapped("changes.value.media_id", "an Instagram mention without media_id", event);
            };
            let mention = match id(value, &["comment_id"]) {
                Some(comment) => Mention {
                    kind: Kind::Comment as i32,
                    text: format!(
                        "[Instagram @mention of the account in comment {comment} on media {media}: \
                         the webhook does not carry the text]"
                    ),
                    native_id: format!("mention:{comment}"),
                    parent_id: media.clone(),
                    thread_id: media,
                    ..base
                },
                None => Mention {
                    kind: Kind::Post as i32,
                    text: format!(
                        "[Instagram @mention of the account in the caption of media {media}: \
                         the webhook does not carry the text]"
                    ),
                    native_id: format!("mention:{media}"),
                    thread_id: media,
                    ..base
                },
            };
            mapped.mention(mention, event);
        }
        other => mapped.unmapped(
            "changes.field",
            format!("Instagram field {other:?} is not mapped; this connector maps comments, live_comments, mentions (and messaging)"),
            event,
        ),
    }
}
