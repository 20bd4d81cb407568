//! One line of X's filtered stream (`{"data":{…},"includes":{"users":[…]},"matching_rules":[…]}`,
//! API v2) as a [`Mention`].

use crate::connectors::map::{self, Mapped};
use serde_json::Value;
use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Visibility};

/// Longest URL kept (ingest's limit).
const MAX_URL: usize = 4_096;

/// Maps the tweet of stream line `v` into `mapped` (a mention, a retweet ignored by design, or
/// an unmapped one); returns the tweet's id when it has one.
pub fn map(v: &Value, mapped: &mut Mapped) -> Option<String> {
    let Some(data) = v.get("data") else {
        mapped.unmapped("data", "missing", v);
        return None;
    };
    let Some(id) = map::id(data, &["id"]) else {
        mapped.unmapped("data.id", "a tweet without id", v);
        return None;
    };
    let referenced = |kind: &str| {
        data.get("referenced_tweets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|r| map::text(r, &["type"]) == Some(kind))
            .and_then(|r| map::id(r, &["id"]))
    };
    if referenced("retweeted").is_some() {
        // A retweet repeats the original's words; quotes, which add words, are mapped.
        mapped.ignore("retweet");
        return Some(id);
    }
    // A long post's whole text is its note_tweet; `text` is its first 280 characters.
    let Some(text) = map::non_blank(map::text(data, &["note_tweet", "text"]))
        .or_else(|| map::non_blank(map::text(data, &["text"])))
    else {
        mapped.unmapped("data.text", "a tweet without text", v);
        return Some(id);
    };
    let created_at_ms = match data.get("created_at") {
        None | Some(Value::Null) => 0,
        Some(_) => match map::time_ms(data, &["created_at"]) {
            Some(ms) => ms,
            None => {
                mapped.unmapped("data.created_at", "not an RFC 3339 time", v);
                return Some(id);
            }
        },
    };
    let author_id = map::id(data, &["author_id"]);
    let user = author_id.as_deref().and_then(|author| {
        v.get("includes")
            .and_then(|i| i.get("users"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|u| map::id(u, &["id"]).as_deref() == Some(author))
    });
    let username = user
        .and_then(|u| map::text(u, &["username"]))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    let url = match username {
        Some(name) => format!("https://x.com/{name}/status/{id}"),
        None => format!("https://x.com/i/web/status/{id}"),
    };
    let parent = referenced("replied_to");
    // A geotagged tweet's place (`geo.place_id`, expanded in `includes.places`): its country,
    // and its name when it is a city.
    let place = map::text(data, &["geo", "place_id"]).and_then(|pid| {
        v.get("includes")
            .and_then(|i| i.get("places"))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| map::text(p, &["id"]) == Some(pid))
    });
    let country = place
        .and_then(|p| map::text(p, &["country_code"]))
        .filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()))
        .unwrap_or_default()
        .to_ascii_uppercase();
    let city = place
        .filter(|p| map::text(p, &["place_type"]) == Some("city"))
        .map(|p| map::location(map::text(p, &["name"])))
        .unwrap_or_default();
    let metric = |name: &str| map::count(data, &["public_metrics", name]).unwrap_or(0);
    mapped.mention(
        Mention {
            source: Source::X as i32,
            visibility: Visibility::Public as i32,
            kind: if parent.is_some() { Kind::Reply } else { Kind::Post } as i32,
            native_id: id.clone(),
            author: author_id.map(|author_id| Author {
                id: author_id,
                handle: username.unwrap_or_default().to_string(),
                display_name: user
                    .and_then(|u| map::text(u, &["name"]))
                    .map(|n| bounded_bytes(n.trim(), 512))
                    .unwrap_or_default(),
                followers: user
                    .and_then(|u| map::count(u, &["public_metrics", "followers_count"]))
                    .unwrap_or(0),
                verified: user
                    .and_then(|u| u.get("verified"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                location: map::location(user.and_then(|u| map::text(u, &["location"]))),
            }),
            text: text.to_string(),
            url: if url.len() <= MAX_URL { url } else { String::new() },
            language_hint: map::language_hint(map::text(data, &["lang"])),
            created_at_ms,
            engagement: Some(Engagement {
                likes: metric("like_count"),
                shares: metric("retweet_count").saturating_add(metric("quote_count")),
                comments: metric("reply_count"),
                views: metric("impression_count"),
            }),
            parent_id: parent.unwrap_or_default(),
            thread_id: map::id(data, &["conversation_id"]).unwrap_or_else(|| id.clone()),
            country,
            city,
            matched_rules: v
                .get("matching_rules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| {
                    map::non_blank(map::text(r, &["tag"]))
                        .map(str::to_string)
                        .or_else(|| map::id(r, &["id"]))
                })
                .take(64)
                .map(|tag| bounded_bytes(&tag, 512))
                .collect(),
            ..Default::default()
        },
        v,
    );
    Some(id)
}

/// What an `{"errors":[…]}` line of the stream says (`title: detail`, for each error).
pub fn describe_errors(errors: &Value) -> String {
    let list: Vec<String> = errors
        .as_array()
        .into_iter()
        .flatten()
        .take(5)
        .map(|e| {
            let title = map::text(e, &["title"]).unwrap_or("error");
            match map::text(e, &["detail"]).or_else(|| map::text(e, &["message"])) {
                Some(detail) => format!("{title}: {detail}"),
                None => title.to_string(),
            }
        })
        .collect();
    let text = if list.is_empty() {
        errors.to_string()
    } else {
        list.join("; ")
    };
    bounded_bytes(&text, 1024)
}

/// At most `max` bytes of `s`, ending on a character boundary.
pub fn bounded_bytes(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or_default().to_string()
}
