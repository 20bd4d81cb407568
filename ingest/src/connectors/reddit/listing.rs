//! Reddit's listing children read as mentions: `t3` (a post) and `t1` (a comment).
//!
//! A post is a public Reddit `post`, its native id and thread its fullname (`t3_…`), its title
//! `title` and its text `selftext` (the title when it has none: link and image posts); a comment
//! is a `comment` (a `reply` when its parent is a comment, `t1_…`), its parent its `parent_id`
//! and its thread its post (`link_id`). Both: the author `author` (id `author_fullname`), the
//! link `https://www.reddit.com<permalink>`, likes the `score` (0 when negative), a post's
//! comments `num_comments`, the time `created_utc`. Deleted and removed ones (`[deleted]` or
//! `[removed]` as their text, or a post with a `removed_by_category`) are ignored by design.

use crate::connectors::map::{count, id, non_blank, text, time_ms};
use crate::connectors::signature;
use serde_json::Value;
use sha2::{Digest, Sha256};
use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Visibility};

/// What a listing child is.
#[derive(Debug)]
pub enum Child {
    /// A mention.
    Mention(Box<Mention>),
    /// Deleted or removed: ignored by design.
    Deleted,
    /// Cannot be mapped: the field at fault and why.
    Unmapped(String, String),
}

/// The key a cursor remembers a child by: its fullname (`t3_…`, `t1_…`), else the hash of its
/// JSON (a child without name is dead-lettered once).
pub fn key(child: &Value) -> String {
    match id(child, &["data", "name"]) {
        Some(name) => name,
        None => {
            let digest = signature::hex(&Sha256::digest(child.to_string().as_bytes()));
            format!("sha256:{}", digest.get(..16).unwrap_or(&digest))
        }
    }
}

/// Reddit's `created_utc` (Unix seconds, with a fraction), in milliseconds.
pub fn created_ms(child: &Value) -> Option<i64> {
    child.get("data").and_then(created_of)
}

fn created_of(data: &Value) -> Option<i64> {
    match data.get("created_utc")?.as_f64() {
        Some(s) if s.is_finite() && (0.0..1e11).contains(&s) => Some((s * 1000.0).round() as i64),
        _ => time_ms(data, &["created_utc"]),
    }
}

/// `[deleted]` and `[removed]`, what Reddit writes in place of what is gone.
fn gone(s: Option<&str>) -> bool {
    matches!(s.map(str::trim), Some("[deleted]" | "[removed]"))
}

/// A listing child as a mention, ignored, or why it cannot be mapped.
pub fn map(child: &Value) -> Child {
    let unmapped = |field: &str, reason: &str| Child::Unmapped(field.to_string(), reason.to_string());
    let kind = text(child, &["kind"]).unwrap_or_default();
    let Some(data) = child.get("data").filter(|d| d.is_object()) else {
        return unmapped("data", "a listing child without data");
    };
    let Some(name) = id(data, &["name"]) else {
        return unmapped("data.name", "a listing child without its fullname");
    };
    match kind {
        "t3" => post(data, name),
        "t1" => comment(data, name),
        other => Child::Unmapped(
            "kind".to_string(),
            format!("a listing child of kind {other:?} is not mapped (t3 and t1 are)"),
        ),
    }
}

fn post(data: &Value, name: String) -> Child {
    let selftext = text(data, &["selftext"]);
    let removed = data.get("removed_by_category").is_some_and(|r| !r.is_null());
    if gone(selftext) || removed {
        return Child::Deleted;
    }
    let title = non_blank(text(data, &["title"])).unwrap_or_default().to_string();
    let body = non_blank(selftext)
        .map(str::to_string)
        .unwrap_or_else(|| title.clone());
    if body.trim().is_empty() {
        return Child::Unmapped("data.title".into(), "a post without title or selftext".into());
    }
    let url = permalink(data).or_else(|| {
        text(data, &["url"])
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(str::to_string)
    });
    Child::Mention(Box::new(Mention {
        source: Source::Reddit as i32,
        visibility: Visibility::Public as i32,
        kind: Kind::Post as i32,
        native_id: name.clone(),
        author: author(data),
        title,
        text: body,
        url: url.unwrap_or_default(),
        created_at_ms: created(data),
        engagement: Some(Engagement {
            likes: likes(data),
            comments: count(data, &["num_comments"]).unwrap_or(0),
            ..Default::default()
        }),
        thread_id: name,
        ..Default::default()
    }))
}

fn comment(data: &Value, name: String) -> Child {
    let body = text(data, &["body"]);
    if gone(body) {
        return Child::Deleted;
    }
    let Some(body) = non_blank(body) else {
        return Child::Unmapped("data.body".into(), "a comment without body".into());
    };
    let Some(link) = id(data, &["link_id"]) else {
        return Child::Unmapped(
            "data.link_id".into(),
            "a comment without its post (link_id)".into(),
        );
    };
    let parent = id(data, &["parent_id"]).unwrap_or_else(|| link.clone());
    let kind = if parent.starts_with("t1_") {
        Kind::Reply
    } else {
        Kind::Comment
    };
    Child::Mention(Box::new(Mention {
        source: Source::Reddit as i32,
        visibility: Visibility::Public as i32,
        kind: kind as i32,
        native_id: name,
        author: author(data),
        text: body.to_string(),
        url: permalink(data).unwrap_or_default(),
        created_at_ms: created(data),
        engagement: Some(Engagement {
            likes: likes(data),
            ..Default::default()
        }),
        parent_id: parent,
        thread_id: link,
        ..Default::default()
    }))
}

fn created(data: &Value) -> i64 {
    created_of(data).unwrap_or(0)
}

fn permalink(data: &Value) -> Option<String> {
    text(data, &["permalink"])
        .filter(|p| p.starts_with('/'))
        .map(|p| format!("https://www.reddit.com{p}"))
}

fn likes(data: &Value) -> u64 {
    let score = data
        .get("score")
        .and_then(Value::as_i64)
        .or_else(|| data.get("ups").and_then(Value::as_i64))
        .unwrap_or(0);
    u64::try_from(score).unwrap_or(0)
}

fn author(data: &Value) -> Option<Author> {
    let name = non_blank(text(data, &["author"])).filter(|a| !gone(Some(a)))?;
    Some(Author {
        id: id(data, &["author_fullname"]).unwrap_or_else(|| name.to_string()),
        handle: name.to_string(),
        display_name: name.to_string(),
        ..Default::default()
    })
}
