//! The mastodon connector's cursor: the newest status id seen on each stream, as JSON
//! (`{"streams":{"hashtag:acme":"113000000000000042","public":"113000000000000051"}}`).

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// The newest status id seen per stream (`hashtag:<tag>`, `public`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// By stream key.
    #[serde(default)]
    pub streams: BTreeMap<String, String>,
}

impl Cursor {
    /// The cursor saved as `bytes` (empty: a first run).
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        serde_json::from_slice(bytes)
    }

    /// As saved.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// The newest id seen on `stream`.
    pub fn last(&self, stream: &str) -> Option<&str> {
        self.streams.get(stream).map(String::as_str)
    }

    /// Notes `id` seen on `stream`: kept when newer than the one there.
    pub fn advance(&mut self, stream: &str, id: &str) {
        match self.streams.get_mut(stream) {
            Some(last) if compare_ids(id, last) != Ordering::Greater => {}
            Some(last) => *last = id.to_string(),
            None => {
                self.streams.insert(stream.to_string(), id.to_string());
            }
        }
    }
}

/// Mastodon's ids in their order: as numbers when both are digits (snowflakes of any length),
/// else as text (the sortable string ids of other fediverse servers).
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_numbers_and_the_cursor_only_moves_forward() {
        assert_eq!(compare_ids("99", "100"), Ordering::Less);
        assert_eq!(compare_ids("0100", "100"), Ordering::Equal);
        assert_eq!(
            compare_ids("113000000000000000000000000001", "99"),
            Ordering::Greater
        );
        assert_eq!(compare_ids("AbC2", "AbC10"), Ordering::Greater, "as text");
        let mut c = Cursor::default();
        c.advance("public", "100");
        c.advance("public", "99");
        assert_eq!(c.last("public"), Some("100"));
        c.advance("public", "101");
        assert_eq!(c.last("public"), Some("101"));
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert_eq!(Cursor::decode(b"").unwrap(), Cursor::default());
        assert!(Cursor::decode(b"{").is_err());
        assert_eq!(
            String::from_utf8(c.encode()).unwrap(),
            r#"{"streams":{"public":"101"}}"#
        );
    }
}
