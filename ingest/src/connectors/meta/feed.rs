//! A Facebook Page's `feed` changes: posts and comments on the page, as public Facebook
//! mentions.

use super::author;
use crate::connectors::map::{edit_id, id, non_blank, text, time_ms, Mapped};
use serde_json::Value;
use vigie_core::proto::{Kind, Mention, Source, Visibility};

/// Maps one `entry[].changes[]` of object `page`; `event` is its one-event delivery.
pub(super) fn map(entry: &Value, change: &Value, event: &Value, mapped: &mut Mapped) {
    let field = text(change, &["field"]).unwrap_or_default();
    if field != "feed" {
        return mapped.unmapped(
            "changes.field",
            format!("page field {field:?} is not mapped; this connector maps feed (and messaging)"),
            event,
        );
    }
    let Some(value) = change.get("value").filter(|v| v.is_object()) else {
        return mapped.unmapped("changes.value", "a feed change without a value object", event);
    };
    let item = text(value, &["item"]).unwrap_or_default();
    let verb = text(value, &["verb"]).unwrap_or_default();
    if matches!(item, "reaction" | "like") {
        return mapped.ignore("reaction");
    }
    let edited = match verb {
        "add" => false,
        "edited" | "edit" | "update" => true,
        "remove" | "delete" => return mapped.ignore("remove"),
        "hide" | "unhide" => return mapped.ignore("hide"),
        other => {
            return mapped.unmapped(
                "changes.value.verb",
                format!("feed verb {other:?} is not mapped (add, edited, remove, hide are)"),
                event,
            )
        }
    };
    let Some(post_id) = id(value, &["post_id"]) else {
        return mapped.unmapped("changes.value.post_id", "a feed change without post_id", event);
    };
    let (kind, native_id, parent_id) = match item {
        "comment" => {
            let Some(comment_id) = id(value, &["comment_id"]) else {
                return mapped.unmapped("changes.value.comment_id", "a comment without comment_id", event);
            };
            let parent = id(value, &["parent_id"]).unwrap_or_else(|| post_id.clone());
            let kind = if parent == post_id {
                Kind::Comment
            } else {
                Kind::Reply
            };
            (kind, comment_id, parent)
        }
        "post" | "status" | "photo" | "video" | "share" => (Kind::Post, post_id.clone(), String::new()),
        other => {
            return mapped.unmapped(
                "changes.value.item",
                format!("feed item {other:?} is not mapped (comment, post, status, photo, video, share are)"),
                event,
            )
        }
    };
    let Some(body) = message(value, item) else {
        return mapped.unmapped(
            "changes.value.message",
            format!("a feed {item} without message, photo or video"),
            event,
        );
    };
    let (native_id, created_at_ms) = if edited {
        // The edit time is the entry's; without one, the edit is named by its words (the
        // post's creation time would make every later edit a duplicate of the first) and
        // dated at its reception.
        let at = time_ms(entry, &["time"]);
        (edit_id(&native_id, at, &body), at.unwrap_or(0))
    } else {
        (native_id, time_ms(value, &["created_time"]).unwrap_or_default())
    };
    let url = text(value, &["post", "permalink_url"])
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .unwrap_or_default();
    let from = id(value, &["from", "id"]);
    mapped.mention(
        Mention {
            source: Source::Facebook as i32,
            visibility: Visibility::Public as i32,
            kind: kind as i32,
            native_id,
            author: from.map(|f| author(&f, None, text(value, &["from", "name"]))),
            text: body,
            url: url.to_string(),
            created_at_ms,
            parent_id,
            thread_id: post_id,
            ..Default::default()
        },
        event,
    );
}

/// The text of a post or comment: its message, or what it is when it is only a photo, a video
/// or a share.
fn message(value: &Value, item: &str) -> Option<String> {
    if let Some(m) = non_blank(text(value, &["message"])) {
        return Some(m.to_string());
    }
    let has = |key: &str| value.get(key).is_some_and(|v| !v.is_null());
    let placeholder = match item {
        "photo" => "[photo]",
        "video" => "[video]",
        "share" => "[share]",
        _ if has("photo") || has("photos") => "[photo]",
        _ if has("video") => "[video]",
        _ => return None,
    };
    Some(placeholder.to_string())
}
