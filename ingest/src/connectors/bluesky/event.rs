//! One Jetstream event read: its time and identity (for the cursor), and what it is for Vigie —
//! a post kept by the keywords and mapped to a [`Mention`], a post the keywords drop, an event
//! ignored by design, or an event that is not Jetstream's shape (dead-lettered).
//!
//! Jetstream's events (JSON text frames):
//!
//! ```json
//! {"did":"did:plc:…","time_us":1796025601000123,"kind":"commit","commit":{"rev":"…",
//!  "operation":"create","collection":"app.bsky.feed.post","rkey":"3m4…","cid":"bafy…",
//!  "record":{"$type":"app.bsky.feed.post","text":"…","createdAt":"…","langs":["en"],
//!   "reply":{"root":{"uri":"at://…","cid":"…"},"parent":{"uri":"at://…","cid":"…"}},
//!   "facets":[{"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"panne"}],"index":{…}}],
//!   "tags":["…"]}}}
//! {"did":"did:plc:…","time_us":…,"kind":"identity","identity":{"did":"…","handle":"alice.bsky.social","seq":…,"time":"…"}}
//! {"did":"did:plc:…","time_us":…,"kind":"account","account":{"active":false,"did":"…","seq":…,"time":"…"}}
//! ```

use crate::connectors::map::{self, Mapping};
use crate::connectors::signature;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use vigie_core::model::{FieldError, MIN_CREATED_AT_MS};
use vigie_core::proto::{Author, Kind, Mention, Source, Visibility};

/// The collection of posts, the only one mapped.
pub const POST: &str = "app.bsky.feed.post";
/// Most handles remembered from identity events (the oldest forgotten first).
pub const MAX_HANDLES: usize = 10_000;
/// How far past its event a post's own `createdAt` may be before the event's time is used
/// instead (a client's clock, or a date made up).
const CREATED_AHEAD_MS: i64 = 10 * 60 * 1000;

/// What one event is.
#[derive(Debug)]
pub enum Read {
    /// A post the keywords keep (or an edit of one), mapped; with the event as JSON.
    Kept(Mapping),
    /// A post the keywords drop (counted in `vigie_connector_filtered_total`).
    Filtered,
    /// An event ignored by design, by type: `identity`, `account`, `delete`, `collection` (a
    /// record of another collection), `kind` (a kind of event Jetstream may add).
    Ignored(&'static str),
    /// Not Jetstream's shape: dead-lettered with the frame as received.
    Malformed(Mapping),
}

/// One event read.
#[derive(Debug)]
pub struct Event {
    /// Its `time_us`, when it has one.
    pub time_us: Option<i64>,
    /// Its identity (16 hex digits): the repository, collection, record key, operation and
    /// revision of a commit (the same from every Jetstream instance), else the frame's hash.
    pub key: String,
    /// What it is.
    pub read: Read,
}

impl Event {
    /// Whether it is handed on (a mention or a dead letter), so remembered by the cursor.
    pub fn handed_on(&self) -> bool {
        matches!(self.read, Read::Kept(_) | Read::Malformed(_))
    }
}

/// The keywords a post must contain one of: words (or phrases) matched as whole words, and
/// `#hashtags` matched in the text and against the post's tag facets and tags; all
/// case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keywords {
    /// Lowercased, as written (`acme`, `#panne`, `acme bank`).
    words: Vec<String>,
    /// The hashtags' tags, lowercased, without `#`.
    tags: Vec<String>,
}

impl Keywords {
    /// The keywords as configured; each needs a letter or digit (`#` alone is no keyword).
    pub fn new(keywords: &[String]) -> Result<Self, String> {
        if keywords.is_empty() {
            return Err("at least one keyword is needed (Jetstream sends every post of the network)".into());
        }
        let mut words = Vec::new();
        let mut tags = Vec::new();
        for k in keywords {
            let word = k.trim().to_lowercase();
            if !word.chars().any(char::is_alphanumeric) {
                return Err(format!("{k:?} has no letter or digit"));
            }
            if let Some(tag) = word.strip_prefix('#') {
                if tag.starts_with('#') || tag.chars().any(char::is_whitespace) {
                    return Err(format!("{k:?}: a hashtag is one word after one #"));
                }
                tags.push(tag.to_string());
            }
            words.push(word);
        }
        Ok(Self { words, tags })
    }

    /// Whether the post `record` has one of the keywords.
    pub fn keep(&self, text: &str, record: &Value) -> bool {
        let text = text.to_lowercase();
        if self.words.iter().any(|w| whole_word(&text, w)) {
            return true;
        }
        if self.tags.is_empty() {
            return false;
        }
        let facet_tags = record
            .get("facets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("features").and_then(Value::as_array))
            .flatten()
            .filter(|f| map::text(f, &["$type"]) == Some("app.bsky.richtext.facet#tag"))
            .filter_map(|f| map::text(f, &["tag"]));
        let outline_tags = record
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str);
        facet_tags.chain(outline_tags).any(|t| {
            let t = t.trim_start_matches('#').to_lowercase();
            self.tags.contains(&t)
        })
    }
}

/// Whether `word` occurs in `text` with no letter or digit just before or after it.
fn whole_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(at, found)| {
        let before = text.get(..at).and_then(|s| s.chars().next_back());
        let after = text.get(at + found.len()..).and_then(|s| s.chars().next());
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The handles of the repositories (by DID) seen in identity events, at most [`MAX_HANDLES`].
#[derive(Debug, Default)]
pub struct Handles {
    by_did: HashMap<String, String>,
    order: VecDeque<String>,
}

impl Handles {
    /// The handle of `did`, when an identity event named it.
    pub fn get(&self, did: &str) -> Option<&str> {
        self.by_did.get(did).map(String::as_str)
    }

    /// Notes that `did` is now `handle` (none: forgotten).
    pub fn set(&mut self, did: &str, handle: Option<&str>) {
        match handle {
            Some(handle) => {
                if self.by_did.insert(did.to_string(), handle.to_string()).is_none() {
                    self.order.push_back(did.to_string());
                }
                while self.order.len() > MAX_HANDLES {
                    if let Some(old) = self.order.pop_front() {
                        self.by_did.remove(&old);
                    }
                }
            }
            None => {
                if self.by_did.remove(did).is_some() {
                    self.order.retain(|d| d != did);
                }
            }
        }
    }

    /// How many handles are known.
    pub fn len(&self) -> usize {
        self.by_did.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.by_did.is_empty()
    }
}

/// The post's URI, its native id: `at://<did>/app.bsky.feed.post/<rkey>`.
pub fn post_uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/{POST}/{rkey}")
}

fn key_of(identity: &str) -> String {
    let digest = signature::hex(&Sha256::digest(identity.as_bytes()));
    digest.get(..16).unwrap_or(&digest).to_string()
}

fn malformed(time_us: Option<i64>, key: String, field: &str, reason: String, original: Vec<u8>) -> Event {
    Event {
        time_us,
        key,
        read: Read::Malformed(Mapping {
            item: Err(FieldError::new(field, reason)),
            original,
        }),
    }
}

/// Reads one frame: `keywords` decide which posts are kept, `handles` learns from identity
/// events and names the authors of the posts kept.
pub fn read(frame: &[u8], keywords: &Keywords, handles: &mut Handles) -> Event {
    let frame_key = || key_of(&format!("frame:{}", signature::hex(&Sha256::digest(frame))));
    let event: Value = match serde_json::from_slice(frame) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => {
            return malformed(
                None,
                frame_key(),
                "event",
                "not a JSON object".into(),
                frame.to_vec(),
            )
        }
        Err(e) => {
            return malformed(
                None,
                frame_key(),
                "event",
                format!("not JSON: {e}"),
                frame.to_vec(),
            )
        }
    };
    let time_us = event.get("time_us").and_then(Value::as_i64).filter(|t| *t >= 0);
    let bad = |field: &str, reason: &str| {
        malformed(
            time_us,
            frame_key(),
            field,
            reason.to_string(),
            event.to_string().into_bytes(),
        )
    };
    let Some(time) = time_us else {
        return bad("time_us", "missing, or not a non-negative integer");
    };
    let Some(did) = map::text(&event, &["did"]).filter(|d| d.starts_with("did:") && !d.contains('/')) else {
        return bad("did", "missing, or not a DID");
    };
    let ignored = |kind: &'static str, key: String| Event {
        time_us,
        key,
        read: Read::Ignored(kind),
    };
    match map::text(&event, &["kind"]) {
        Some("commit") => {}
        Some("identity") => {
            handles.set(did, map::text(&event, &["identity", "handle"]));
            let seq = map::id(&event, &["identity", "seq"]).unwrap_or_else(|| time.to_string());
            return ignored("identity", key_of(&format!("identity:{did}:{seq}")));
        }
        Some("account") => {
            let seq = map::id(&event, &["account", "seq"]).unwrap_or_else(|| time.to_string());
            return ignored("account", key_of(&format!("account:{did}:{seq}")));
        }
        Some(_) => return ignored("kind", frame_key()),
        None => return bad("kind", "missing"),
    }
    let field = |name: &str| map::non_blank(map::text(&event, &["commit", name]));
    let (Some(operation), Some(collection)) = (field("operation"), field("collection")) else {
        return bad("commit", "no operation or collection");
    };
    let Some(rkey) = field("rkey").filter(|r| !r.contains('/')) else {
        return bad("commit.rkey", "missing, or not a record key");
    };
    let rev = field("rev").map_or_else(|| time.to_string(), str::to_string);
    let key = key_of(&format!("{did}/{collection}/{rkey}/{operation}@{rev}"));
    if collection != POST {
        return ignored("collection", key);
    }
    let update = match operation {
        "create" => false,
        "update" => true,
        "delete" => return ignored("delete", key),
        _ => return bad("commit.operation", "neither create, update nor delete"),
    };
    let Some(record) = map::at(&event, &["commit", "record"]).filter(|r| r.is_object()) else {
        return bad("commit.record", "a create or update without its record");
    };
    // A record without text (images only) cannot have a keyword.
    let text = map::text(record, &["text"]).unwrap_or_default();
    if !keywords.keep(text, record) {
        return Event {
            time_us,
            key,
            read: Read::Filtered,
        };
    }
    let mention = mention(did, rkey, time, update, text, record, handles);
    Event {
        time_us,
        key,
        read: Read::Kept(Mapping {
            item: Ok(mention),
            original: event.to_string().into_bytes(),
        }),
    }
}

/// The mention of a post kept (an edit is a mention of its own, named and dated by its event's
/// time).
fn mention(
    did: &str,
    rkey: &str,
    time_us: i64,
    update: bool,
    text: &str,
    record: &Value,
    handles: &Handles,
) -> Mention {
    let uri = post_uri(did, rkey);
    let event_ms = time_us / 1000;
    // An edit keeps the post's createdAt: it is dated by its event, like other platforms' edits.
    let created_at_ms = match update {
        true => event_ms,
        false => map::time_ms(record, &["createdAt"])
            .filter(|at| (MIN_CREATED_AT_MS..=event_ms.saturating_add(CREATED_AHEAD_MS)).contains(at))
            .unwrap_or(event_ms),
    };
    let parent = map::non_blank(map::text(record, &["reply", "parent", "uri"]));
    let root = map::non_blank(map::text(record, &["reply", "root", "uri"])).or(parent);
    let first_lang = record
        .get("langs")
        .and_then(Value::as_array)
        .and_then(|l| l.first())
        .and_then(Value::as_str);
    Mention {
        source: Source::Bluesky as i32,
        visibility: Visibility::Public as i32,
        kind: if parent.is_some() { Kind::Reply } else { Kind::Post } as i32,
        native_id: if update {
            map::edit_id(&uri, Some(event_ms), text)
        } else {
            uri.clone()
        },
        author: Some(Author {
            id: did.to_string(),
            handle: handles.get(did).unwrap_or_default().to_string(),
            ..Default::default()
        }),
        text: text.to_string(),
        url: format!("https://bsky.app/profile/{did}/post/{rkey}"),
        language_hint: map::language_hint(first_lang),
        created_at_ms,
        parent_id: parent.unwrap_or_default().to_string(),
        thread_id: root.map_or_else(|| uri.clone(), str::to_string),
        ..Default::default()
    }
}
