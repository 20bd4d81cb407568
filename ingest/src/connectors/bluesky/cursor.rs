//! The cursor of a Jetstream subscription, saved as JSON on `vigie.connectors.state` under the
//! connector's name: the `time_us` of the last event processed, and the keys of the recent
//! events that were handed on (mentions and dead letters) with their `time_us`, so that the
//! events a reconnection replays (it asks from `time_us - rewind`) are not handed on twice,
//! even by a fresh process whose ingest has no memory of them.
//!
//! ```json
//! {"v":1,"time_us":1796025608000123,"recent":[[1796025605000123,"9f2c4e1ab07d3356"]]}
//! ```
//!
//! A key is the first 16 hex digits of the SHA-256 of the event's identity ([`super::event`]).
//! Keys older than `time_us - rewind` are forgotten (a reconnection cannot replay them), and
//! at most [`MAX_RECENT`] are kept.

use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};

/// Most keys a cursor keeps (the oldest forgotten first): far more kept posts than a few
/// seconds of the network's posts carry, with a cursor of at most about 200 KB.
pub const MAX_RECENT: usize = 5_000;

const VERSION: u32 = 1;

/// A subscription's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Format version.
    #[serde(default)]
    pub v: u32,
    /// The `time_us` of the last event processed (0: none yet, the subscription starts live).
    #[serde(default)]
    pub time_us: i64,
    /// `(time_us, key)` of the events handed on lately, oldest first.
    #[serde(default)]
    pub recent: VecDeque<(i64, String)>,
    /// The keys of `recent`, for look-ups.
    #[serde(skip)]
    index: HashSet<String>,
}

impl Cursor {
    /// The cursor saved as `bytes`; the empty cursor (live from now) when there is none. An
    /// unreadable cursor is `Err`: the caller starts live (and says so).
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        let mut cursor: Cursor = serde_json::from_slice(bytes)?;
        cursor.index = cursor.recent.iter().map(|(_, k)| k.clone()).collect();
        Ok(cursor)
    }

    /// The cursor as saved.
    pub fn encode(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Saved<'a> {
            v: u32,
            time_us: i64,
            recent: &'a VecDeque<(i64, String)>,
        }
        serde_json::to_vec(&Saved {
            v: VERSION,
            time_us: self.time_us,
            recent: &self.recent,
        })
        .unwrap_or_default()
    }

    /// Whether the event of `key` was handed on lately.
    pub fn has(&self, key: &str) -> bool {
        self.index.contains(key)
    }

    /// Moves the cursor to `time_us` when later.
    pub fn advance(&mut self, time_us: i64) {
        self.time_us = self.time_us.max(time_us);
    }

    /// Remembers that the event of `key`, at `time_us` (the cursor's time when the event has
    /// none), was handed on.
    pub fn remember(&mut self, time_us: Option<i64>, key: String) {
        if self.index.insert(key.clone()) {
            self.recent.push_back((time_us.unwrap_or(self.time_us), key));
        }
    }

    /// Forgets the keys a reconnection `rewind_us` before the cursor's time cannot replay, and
    /// the oldest beyond [`MAX_RECENT`].
    pub fn prune(&mut self, rewind_us: i64) {
        let oldest = self.time_us.saturating_sub(rewind_us);
        while let Some((at, _)) = self.recent.front() {
            if *at >= oldest && self.recent.len() <= MAX_RECENT {
                break;
            }
            if let Some((_, key)) = self.recent.pop_front() {
                self.index.remove(&key);
            }
        }
    }

    /// The `cursor` to ask Jetstream for: `rewind_us` before the last event, or none (live)
    /// before the first.
    pub fn resume_from(&self, rewind_us: i64) -> Option<i64> {
        (self.time_us > 0).then(|| self.time_us.saturating_sub(rewind_us).max(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_forgets_what_cannot_come_back() {
        assert_eq!(Cursor::decode(b"").unwrap(), Cursor::default());
        assert_eq!(Cursor::default().resume_from(5_000_000), None, "live");
        assert!(Cursor::decode(b"{not json").is_err());
        let mut c = Cursor::default();
        c.advance(10_000_000);
        c.remember(Some(4_000_000), "old".into());
        c.remember(Some(9_000_000), "a".into());
        c.remember(None, "b".into());
        c.remember(Some(9_500_000), "a".into());
        c.advance(3);
        assert_eq!(c.time_us, 10_000_000, "the cursor never moves back");
        c.prune(5_000_000);
        assert!(!c.has("old") && c.has("a") && c.has("b"));
        assert_eq!(
            c.recent,
            [(9_000_000, "a".to_string()), (10_000_000, "b".to_string())]
        );
        assert_eq!(c.resume_from(5_000_000), Some(5_000_000));
        assert_eq!(c.resume_from(50_000_000), Some(0));

        let text = String::from_utf8(c.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"time_us":10000000,"recent":[[9000000,"a"],[10000000,"b"]]}"#
        );
        let back = Cursor::decode(text.as_bytes()).unwrap();
        assert!(back.has("a") && back.has("b"));
        assert_eq!(back.recent, c.recent);

        for i in 0..MAX_RECENT + 10 {
            c.remember(Some(10_000_000), format!("k{i}"));
        }
        c.prune(5_000_000);
        assert_eq!(c.recent.len(), MAX_RECENT);
        assert!(!c.has("k0") && c.has(&format!("k{}", MAX_RECENT + 9)));
    }
}
