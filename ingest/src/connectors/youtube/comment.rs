//! YouTube's `commentThread` and `comment` resources read, and a comment made a mention.
//!
//! A top-level comment is a public YouTube `comment` whose parent and thread are its video; a
//! reply is a `reply` whose parent is the top-level comment and whose thread is the video. The
//! text is `textOriginal`, else `textDisplay` with its HTML stripped; the author is the
//! comment's channel (`authorChannelId.value`), its handle and name `authorDisplayName` (the
//! `@handle` on YouTube); likes are `likeCount`, and a top-level comment's comments its
//! `totalReplyCount`.

use crate::connectors::html;
use crate::connectors::map::{count, id, non_blank, text, time_ms};
use serde_json::Value;
use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Visibility};

/// Why a resource cannot be read: the field at fault and the reason.
pub type Unreadable = (String, String);

fn unreadable(field: &str, reason: &str) -> Unreadable {
    (field.to_string(), reason.to_string())
}

/// One `comment` resource, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Comment {
    /// Its id.
    pub id: String,
    /// Its video, when it says.
    pub video_id: Option<String>,
    /// Its top-level comment, for a reply.
    pub parent_id: Option<String>,
    /// `publishedAt`, Unix milliseconds.
    pub published_ms: i64,
    /// `updatedAt` (`publishedAt` when absent), Unix milliseconds.
    pub updated_ms: i64,
    /// Its text, plain.
    pub text: String,
    /// Its author's channel, if known.
    pub author_channel: Option<String>,
    /// Its author's display name (the `@handle`).
    pub author_name: Option<String>,
    /// `likeCount`.
    pub likes: u64,
}

/// Reads a `comment` resource; `prefix` names where it is in its item (`snippet.topLevelComment.`
/// for a thread's), for the reason given when it cannot be read.
pub fn comment(v: &Value, prefix: &str) -> Result<Comment, Unreadable> {
    let field = |f: &str| format!("{prefix}{f}");
    let Some(comment_id) = id(v, &["id"]) else {
        return Err(unreadable(&field("id"), "a comment without id"));
    };
    let Some(snippet) = v.get("snippet").filter(|s| s.is_object()) else {
        return Err(unreadable(&field("snippet"), "a comment without snippet"));
    };
    let Some(published_ms) = time_ms(snippet, &["publishedAt"]) else {
        return Err(unreadable(
            &field("snippet.publishedAt"),
            "a comment without a readable publishedAt",
        ));
    };
    let updated_ms = time_ms(snippet, &["updatedAt"])
        .unwrap_or(published_ms)
        .max(published_ms);
    let body = match non_blank(text(snippet, &["textOriginal"])) {
        Some(original) => original.to_string(),
        None => html::to_text(text(snippet, &["textDisplay"]).unwrap_or_default()),
    };
    if body.trim().is_empty() {
        return Err(unreadable(
            &field("snippet.textDisplay"),
            "a comment without textOriginal or textDisplay",
        ));
    }
    Ok(Comment {
        id: comment_id,
        video_id: id(snippet, &["videoId"]),
        parent_id: id(snippet, &["parentId"]),
        published_ms,
        updated_ms,
        text: body,
        author_channel: id(snippet, &["authorChannelId", "value"]),
        author_name: non_blank(text(snippet, &["authorDisplayName"])).map(str::to_string),
        likes: count(snippet, &["likeCount"]).unwrap_or(0),
    })
}

/// One `commentThread` resource, read.
#[derive(Debug)]
pub struct Thread<'v> {
    /// The thread's id (its top-level comment's).
    pub id: String,
    /// Its video, when it says.
    pub video_id: Option<String>,
    /// Its top-level comment.
    pub top: Comment,
    /// `totalReplyCount`.
    pub total_replies: u64,
    /// The replies it carries (`replies.comments`, possibly fewer than all).
    pub carried: Vec<&'v Value>,
}

impl Thread<'_> {
    /// Its latest activity known: the newest of its comment's times and its carried replies'.
    pub fn activity_ms(&self) -> i64 {
        self.carried
            .iter()
            .filter_map(|r| {
                let s = r.get("snippet")?;
                time_ms(s, &["updatedAt"]).or_else(|| time_ms(s, &["publishedAt"]))
            })
            .fold(self.top.updated_ms, i64::max)
    }
}

/// Reads a `commentThread` item (its top-level comment must be readable; its replies are read
/// one by one by the caller).
pub fn thread(v: &Value) -> Result<Thread<'_>, Unreadable> {
    let Some(thread_id) = id(v, &["id"]) else {
        return Err(unreadable("id", "a comment thread without id"));
    };
    let Some(snippet) = v.get("snippet").filter(|s| s.is_object()) else {
        return Err(unreadable("snippet", "a comment thread without snippet"));
    };
    let Some(top) = snippet.get("topLevelComment").filter(|t| t.is_object()) else {
        return Err(unreadable(
            "snippet.topLevelComment",
            "a comment thread without its top-level comment",
        ));
    };
    let top = comment(top, "snippet.topLevelComment.")?;
    let carried = v
        .get("replies")
        .and_then(|r| r.get("comments"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    Ok(Thread {
        id: thread_id,
        video_id: id(snippet, &["videoId"]).or_else(|| top.video_id.clone()),
        total_replies: count(snippet, &["totalReplyCount"]).unwrap_or(0),
        top,
        carried,
    })
}

/// The watch page of `video`, opened at comment `comment_id`.
pub fn url(video: &str, comment_id: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("v", video)
        .append_pair("lc", comment_id)
        .finish();
    format!("https://www.youtube.com/watch?{q}")
}

/// Comment `c` of `video` as a mention: a top-level comment (`replies` its reply count) when
/// `parent` is `None`, else a reply to `parent`. `edit` is the edit's native id and time when
/// this is a new version of a comment handed on before.
pub fn mention(
    c: &Comment,
    video: &str,
    parent: Option<&str>,
    replies: u64,
    edit: Option<(String, i64)>,
) -> Mention {
    let (kind, parent_id) = match parent {
        None => (Kind::Comment, video.to_string()),
        Some(p) => (Kind::Reply, p.to_string()),
    };
    let (native_id, created_at_ms) = edit.unwrap_or_else(|| (c.id.clone(), c.published_ms));
    let author = match (&c.author_channel, &c.author_name) {
        (None, None) => None,
        (channel, name) => Some(Author {
            id: channel.clone().or_else(|| name.clone()).unwrap_or_default(),
            handle: name.clone().unwrap_or_default(),
            display_name: name.clone().unwrap_or_default(),
            ..Default::default()
        }),
    };
    Mention {
        source: Source::Youtube as i32,
        visibility: Visibility::Public as i32,
        kind: kind as i32,
        native_id,
        author,
        text: c.text.clone(),
        url: url(video, &c.id),
        created_at_ms,
        engagement: Some(Engagement {
            likes: c.likes,
            comments: if parent.is_none() { replies } else { 0 },
            ..Default::default()
        }),
        parent_id,
        thread_id: video.to_string(),
        ..Default::default()
    }
}
