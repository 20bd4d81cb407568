//! A Mastodon Status (the JSON of a streaming `update` or `status.update` event, or of a
//! timeline) as a [`Mention`].

use super::html;
use crate::connectors::map::{self, Mapped};
use serde_json::Value;
use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Visibility};

/// Longest text kept, in characters (ingest's default limit is 20,000).
pub const MAX_TEXT_CHARS: usize = 10_000;
/// Longest title (content warning) kept, in characters.
pub const MAX_TITLE_CHARS: usize = 1_000;
/// Longest URL kept (ingest's limit); a longer one is left out.
const MAX_URL: usize = 4_096;

/// Whether a status is new or an edit of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// An `update` event, or a status of a timeline.
    New,
    /// A `status.update` event: the status as edited.
    Edit,
}

/// Maps status `v` into `mapped` (a mention, an event ignored by design, or an unmapped one),
/// `host` being the instance's, which local accounts' handles get; returns the status's id
/// when it has one (the cursor moves to it whatever became of it).
pub fn map(v: &Value, version: Version, host: &str, mapped: &mut Mapped) -> Option<String> {
    let Some(id) = map::id(v, &["id"]) else {
        mapped.unmapped("id", "a status without id", v);
        return None;
    };
    if v.get("reblog").is_some_and(|r| !r.is_null()) {
        // A boost repeats someone else's words; the original is its own status.
        mapped.ignore("reblog");
        return Some(id);
    }
    match map::text(v, &["visibility"]) {
        None | Some("public" | "unlisted") => {}
        Some(_) => {
            // Public and hashtag timelines carry only public statuses: a private or direct one
            // is not for listening.
            mapped.ignore("not_public");
            return Some(id);
        }
    }
    let text = match content(v) {
        Some(t) => t,
        None => {
            mapped.unmapped("content", "a status without text, media or poll", v);
            return Some(id);
        }
    };
    let created = match v.get("created_at") {
        None | Some(Value::Null) => 0,
        Some(_) => match map::time_ms(v, &["created_at"]) {
            Some(ms) => ms,
            None => {
                mapped.unmapped("created_at", "not an RFC 3339 time", v);
                return Some(id);
            }
        },
    };
    let (native_id, created_at_ms) = match version {
        Version::New => (id.clone(), created),
        Version::Edit => {
            // The edit is a mention of its own, named and dated by `edited_at`; undated, by its
            // words (and received now: the creation time would date it before the original).
            let at = map::time_ms(v, &["edited_at"]);
            (map::edit_id(&id, at, &text), at.unwrap_or(0))
        }
    };
    let parent = map::id(v, &["in_reply_to_id"]);
    let url = ["url", "uri"]
        .iter()
        .filter_map(|k| map::text(v, &[k]))
        .find(|u| (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= MAX_URL)
        .unwrap_or_default()
        .to_string();
    let title = map::text(v, &["spoiler_text"])
        .map(|s| bounded(s.trim(), MAX_TITLE_CHARS))
        .unwrap_or_default();
    mapped.mention(
        Mention {
            source: Source::Mastodon as i32,
            visibility: Visibility::Public as i32,
            kind: if parent.is_some() { Kind::Reply } else { Kind::Post } as i32,
            native_id,
            author: author(v.get("account"), host),
            title,
            text,
            url,
            language_hint: map::language_hint(map::text(v, &["language"])),
            created_at_ms,
            engagement: Some(Engagement {
                likes: map::count(v, &["favourites_count"]).unwrap_or(0),
                shares: map::count(v, &["reblogs_count"]).unwrap_or(0),
                comments: map::count(v, &["replies_count"]).unwrap_or(0),
                views: 0,
            }),
            // A root is its own thread; a reply's thread is its parent (the status does not say
            // which root the chain started from).
            thread_id: parent.clone().unwrap_or(id.clone()),
            parent_id: parent.unwrap_or_default(),
            ..Default::default()
        },
        v,
    );
    Some(id)
}

/// The status's text, else placeholders for its media (`[image]`, `[video]`, `[gifv]`,
/// `[audio]`…) and poll (`[poll]`), so that a status that is only a picture is still seen.
fn content(v: &Value) -> Option<String> {
    let text = map::text(v, &["content"]).map(html::to_text).unwrap_or_default();
    if !text.is_empty() {
        return Some(bounded(&text, MAX_TEXT_CHARS));
    }
    let mut placeholders: Vec<String> = v
        .get("media_attachments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|m| {
            let kind = map::text(m, &["type"])
                .filter(|t| t.len() <= 16 && t.bytes().all(|b| b.is_ascii_alphanumeric()))
                .unwrap_or("media");
            format!("[{kind}]")
        })
        .collect();
    if v.get("poll").is_some_and(|p| !p.is_null()) {
        placeholders.push("[poll]".to_string());
    }
    (!placeholders.is_empty()).then(|| placeholders.join(" "))
}

/// The account: its id, handle (`acct`, with `@<instance>` added for a local account, whose
/// `acct` is the bare user name), display name and followers; never verified (Mastodon's
/// verified links prove a website, not an identity).
fn author(account: Option<&Value>, host: &str) -> Option<Author> {
    let a = account?;
    let id = map::id(a, &["id"])?;
    let acct = map::text(a, &["acct"]).or_else(|| map::text(a, &["username"]));
    let handle = match acct {
        Some(acct) if acct.contains('@') => acct.to_string(),
        Some(acct) => {
            let home = map::text(a, &["url"])
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| host.to_string());
            if home.is_empty() {
                acct.to_string()
            } else {
                format!("{acct}@{home}")
            }
        }
        None => String::new(),
    };
    Some(Author {
        id,
        handle: bounded_bytes(&handle, 512),
        display_name: bounded_bytes(map::text(a, &["display_name"]).unwrap_or_default().trim(), 512),
        followers: map::count(a, &["followers_count"]).unwrap_or(0),
        verified: false,
        // Mastodon accounts have no location field.
        location: String::new(),
    })
}

/// At most `max` characters of `s`.
fn bounded(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or_default().to_string(),
        None => s.to_string(),
    }
}

/// At most `max` bytes of `s`, ending on a character boundary (ingest's short fields are
/// bounded in bytes).
fn bounded_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_string()
}
