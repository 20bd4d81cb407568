//! The cursor of a feed, saved as JSON on `vigie.connectors.state` under the connector's name:
//! the validators of the last answer (ETag, Last-Modified) for the next conditional GET, and
//! the keys of the entries already handed on (the latest [`MAX_SEEN`]), so that an overlap
//! after a restart is skipped rather than published again; and, while the feed answers with
//! something that is no feed, the hash of that body, dead-lettered once.
//!
//! ```json
//! {"v":1,"etag":"\"5f2b\"","last_modified":"Mon, 30 Nov 2026 08:40:03 GMT","seen":["tag:…","https://…"]}
//! ```

use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};

/// Most entry keys a cursor remembers (oldest forgotten first): well above what a feed lists
/// (Google Alerts: 20, news sites: 50 to 100), with a cursor of at most about 260 KB.
pub const MAX_SEEN: usize = 1_000;

/// The cursor's format version.
const VERSION: u32 = 1;

/// A feed's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Format version.
    #[serde(default)]
    pub v: u32,
    /// The ETag of the last feed handed on, sent as `If-None-Match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Its Last-Modified, sent as `If-Modified-Since`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// Keys of the entries handed on, oldest first.
    #[serde(default)]
    pub seen: VecDeque<String>,
    /// The SHA-256 (hex) of the last body that was no feed, once its dead letter is
    /// acknowledged: the same body again is an error, not another dead letter (absent from
    /// cursors saved before it existed, and once the feed reads again).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub malformed: Option<String>,
}

impl Cursor {
    /// The cursor saved as `bytes`; empty (the first poll) when there is none. An unreadable
    /// cursor is `Err`: the caller starts afresh (overlaps are duplicates by mention id).
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        serde_json::from_slice(bytes)
    }

    /// The cursor as saved.
    pub fn encode(&self) -> Vec<u8> {
        let mut c = self.clone();
        c.v = VERSION;
        serde_json::to_vec(&c).unwrap_or_default()
    }

    /// The keys already seen, for look-ups.
    pub fn seen_set(&self) -> HashSet<&str> {
        self.seen.iter().map(String::as_str).collect()
    }

    /// Remembers `keys` (entries of the feed just handed on), forgetting the oldest beyond
    /// [`MAX_SEEN`]; a key seen again moves to the newest end, so the entries a feed still
    /// lists are the last forgotten.
    pub fn remember<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) {
        let keys: Vec<&str> = keys.into_iter().collect();
        let fresh: HashSet<&str> = keys.iter().copied().collect();
        self.seen.retain(|k| !fresh.contains(k.as_str()));
        let mut added = HashSet::new();
        for k in keys {
            if added.insert(k) {
                self.seen.push_back(k.to_string());
            }
        }
        while self.seen.len() > MAX_SEEN {
            self.seen.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_stays_bounded() {
        assert_eq!(Cursor::decode(b"").unwrap(), Cursor::default());
        assert!(Cursor::decode(b"not json").is_err());
        let mut c = Cursor {
            etag: Some("\"abc\"".into()),
            last_modified: Some("Mon, 30 Nov 2026 08:40:03 GMT".into()),
            ..Default::default()
        };
        c.remember(["a", "b", "a"]);
        assert_eq!(c.seen, ["a", "b"]);
        c.remember(["c", "a"]);
        assert_eq!(c.seen, ["b", "c", "a"], "a key seen again is the newest");
        let bytes = c.encode();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\"v\":1,\"etag\":\"\\\"abc\\\"\""), "{text}");
        let back = Cursor::decode(&bytes).unwrap();
        assert_eq!(back.seen, c.seen);
        assert_eq!(back.etag, c.etag);

        let many: Vec<String> = (0..MAX_SEEN + 50).map(|i| format!("k{i}")).collect();
        c.remember(many.iter().map(String::as_str));
        assert_eq!(c.seen.len(), MAX_SEEN);
        assert_eq!(c.seen.front().map(String::as_str), Some("k50"));
        assert!(c.seen_set().contains(format!("k{}", MAX_SEEN + 49).as_str()));
    }

    #[test]
    fn a_cursor_saved_before_malformed_existed_reads_and_round_trips_it() {
        let old = Cursor::decode(br#"{"v":1,"etag":"\"e\"","seen":["a"]}"#).unwrap();
        assert_eq!(old.malformed, None);
        assert!(!String::from_utf8(old.encode()).unwrap().contains("malformed"));
        let c = Cursor {
            malformed: Some("ab12".into()),
            ..old
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
    }
}
