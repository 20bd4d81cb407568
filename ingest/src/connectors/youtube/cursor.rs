//! The cursor of a `youtube` connector, saved as JSON on `vigie.connectors.state` under the
//! connector's name: the quota units used on the current Pacific day, and per target (a video,
//! or a channel) the newest activity seen, the comments handed on with the `updatedAt` last
//! published (and, for threads, their reply count), the latest [`Cursor::bound`] of them.
//!
//! ```json
//! {"v":1,"quota":{"day":"2026-11-30","used":37},
//!  "targets":{"video:AcmeVid0001":{"newest_ms":1764493200000,"floor_ms":0,
//!    "seen":[["UgzAcme…",1764493200000,3],["UgzAcme….AcmeR…",1764494000000,0]]}}}
//! ```
//!
//! `floor_ms` is the time below which a comment the cursor does not know is taken as handed on
//! before: the oldest activity of the first poll's only page (the backfill stops there) and the
//! times of the entries forgotten past the bound, so that a comment forgotten is not handed on
//! again when it shows up again. The bound forgets by time, the oldest first (a thread by its
//! latest activity, kept as a fourth element when newer than its `updatedAt`), so the floor
//! stays below the comments kept, however many one poll notes (they come newest first).
//!
//! `backlog`, when a poll stopped at [`MAX_PAGES`](super::MAX_PAGES) before reaching what the
//! cursor knew: the `pageToken` of the next page to read and the high-water mark of the start
//! of that backlog (`{"page_token":"…","until_ms":…}`); the next poll reads it first.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most comments remembered by a cursor, all targets together (each target keeps at least
/// [`MIN_SEEN_PER_TARGET`]): about 75 bytes each, a cursor of at most about 400 KB.
pub const MAX_SEEN: usize = 5_000;
/// Fewest comments remembered per target, whatever the number of targets.
pub const MIN_SEEN_PER_TARGET: usize = 200;

const VERSION: u32 = 1;

/// The quota units used on one Pacific day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quota {
    /// The Pacific date, `YYYY-MM-DD`.
    pub day: String,
    /// The units used on it.
    pub used: u64,
}

/// A comment handed on: the `updatedAt` last published, and for a thread its reply count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Known {
    /// The `updatedAt` of its last published version, Unix milliseconds.
    pub updated_ms: i64,
    /// Its thread's `totalReplyCount` when last read (0 for replies).
    pub replies: u64,
    /// Its latest activity (for a thread, its replies' too): what the bound forgets by.
    at_ms: i64,
    tick: u64,
}

/// Threads not read yet past the page limit: where to go on, and where to stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// The `pageToken` of the next page to read.
    pub page_token: String,
    /// The newest activity seen before that backlog: reading stops at a page reaching it.
    pub until_ms: i64,
}

/// What the cursor knows of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The newest activity (a comment's `publishedAt` or `updatedAt`) seen on the target.
    pub newest_ms: i64,
    /// Unknown comments at or before this time are taken as handed on (see the module).
    pub floor_ms: i64,
    /// Older threads left to read (see the module).
    pub backlog: Option<Backlog>,
    seen: HashMap<String, Known>,
    tick: u64,
}

/// A remembered comment as saved: `[id, updated_ms, replies]`, or with its latest activity
/// when newer than `updated_ms`.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Seen {
    Active(String, i64, u64, i64),
    Plain(String, i64, u64),
}

#[derive(Serialize, Deserialize)]
struct TargetRepr {
    #[serde(default)]
    newest_ms: i64,
    #[serde(default)]
    floor_ms: i64,
    /// `[id, updated_ms, replies(, at_ms)]`, in the order seen.
    #[serde(default)]
    seen: Vec<Seen>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backlog: Option<Backlog>,
}

impl Target {
    /// What is known of comment `id`.
    pub fn known(&self, id: &str) -> Option<Known> {
        self.seen.get(id).copied()
    }

    /// Notes comment `id` as seen now (the newest end), its last published `updatedAt` being
    /// `updated_ms` (kept when older than the one known), and, for a thread, its reply count.
    pub fn note(&mut self, id: &str, updated_ms: i64, replies: Option<u64>) {
        self.tick += 1;
        let tick = self.tick;
        let entry = self.seen.entry(id.to_string()).or_insert(Known {
            updated_ms,
            replies: 0,
            at_ms: updated_ms,
            tick,
        });
        entry.updated_ms = entry.updated_ms.max(updated_ms);
        entry.at_ms = entry.at_ms.max(updated_ms);
        entry.tick = tick;
        if let Some(r) = replies {
            entry.replies = r;
        }
    }

    /// Notes that comment `id` (a thread) had activity at `at_ms` (a reply): it is forgotten
    /// no sooner than that.
    pub fn active(&mut self, id: &str, at_ms: i64) {
        if let Some(k) = self.seen.get_mut(id) {
            k.at_ms = k.at_ms.max(at_ms);
        }
    }

    /// How many comments it remembers.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Forgets the oldest comments (by their latest activity) beyond `bound`, raising the
    /// floor to the newest time forgotten: the comments kept are all at or above it.
    pub fn trim(&mut self, bound: usize) {
        if self.seen.len() <= bound {
            return;
        }
        let mut order: Vec<(i64, u64, &String)> =
            self.seen.iter().map(|(id, k)| (k.at_ms, k.tick, id)).collect();
        order.sort_unstable();
        let cut = order.len() - bound;
        let highest = order.get(cut - 1).map_or(i64::MIN, |(at, _, _)| *at);
        let forgotten: Vec<String> = order.iter().take(cut).map(|(_, _, id)| (*id).clone()).collect();
        self.floor_ms = self.floor_ms.max(highest);
        for id in forgotten {
            self.seen.remove(&id);
        }
    }

    fn repr(&self) -> TargetRepr {
        let mut seen: Vec<(&String, &Known)> = self.seen.iter().collect();
        seen.sort_unstable_by_key(|(_, k)| k.tick);
        TargetRepr {
            newest_ms: self.newest_ms,
            floor_ms: self.floor_ms,
            seen: seen
                .into_iter()
                .map(|(id, k)| match k.at_ms > k.updated_ms {
                    true => Seen::Active(id.clone(), k.updated_ms, k.replies, k.at_ms),
                    false => Seen::Plain(id.clone(), k.updated_ms, k.replies),
                })
                .collect(),
            backlog: self.backlog.clone(),
        }
    }

    fn from_repr(repr: TargetRepr) -> Self {
        let mut target = Target {
            newest_ms: repr.newest_ms,
            floor_ms: repr.floor_ms,
            backlog: repr.backlog,
            ..Default::default()
        };
        for seen in repr.seen {
            let (id, updated_ms, replies, at_ms) = match seen {
                Seen::Active(id, u, r, at) => (id, u, r, at),
                Seen::Plain(id, u, r) => (id, u, r, u),
            };
            target.note(&id, updated_ms, Some(replies));
            target.active(&id, at_ms);
        }
        target
    }
}

/// A `youtube` connector's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// The units used on the Pacific day they count against.
    pub quota: Quota,
    /// Per target (`video:<id>`, `channel:<id>`).
    pub targets: BTreeMap<String, Target>,
}

#[derive(Serialize, Deserialize)]
struct CursorRepr {
    #[serde(default)]
    v: u32,
    #[serde(default)]
    quota: Quota,
    #[serde(default)]
    targets: BTreeMap<String, TargetRepr>,
}

impl Cursor {
    /// The cursor saved as `bytes`; empty the first time. An unreadable cursor is `Err`.
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        let repr: CursorRepr = serde_json::from_slice(bytes)?;
        Ok(Cursor {
            quota: repr.quota,
            targets: repr
                .targets
                .into_iter()
                .map(|(k, t)| (k, Target::from_repr(t)))
                .collect(),
        })
    }

    /// The cursor as saved.
    pub fn encode(&self) -> Vec<u8> {
        let repr = CursorRepr {
            v: VERSION,
            quota: self.quota.clone(),
            targets: self.targets.iter().map(|(k, t)| (k.clone(), t.repr())).collect(),
        };
        serde_json::to_vec(&repr).unwrap_or_default()
    }

    /// Comments remembered per target when there are `targets` of them.
    pub fn bound(targets: usize) -> usize {
        (MAX_SEEN / targets.max(1)).max(MIN_SEEN_PER_TARGET)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_in_order_and_forgets_the_oldest_raising_its_floor() {
        assert_eq!(Cursor::decode(b"").unwrap(), Cursor::default());
        assert!(Cursor::decode(b"not json").is_err());
        let mut t = Target::default();
        t.note("a", 10, Some(2));
        t.note("b", 30, None);
        t.note("c", 20, None);
        t.note("a", 5, None);
        assert_eq!(
            t.known("a").map(|k| (k.updated_ms, k.replies)),
            Some((10, 2)),
            "a later note keeps the newer time and the count"
        );
        let mut c = Cursor {
            quota: Quota {
                day: "2026-11-30".into(),
                used: 3,
            },
            ..Default::default()
        };
        c.targets.insert("video:v".into(), t.clone());
        let text = String::from_utf8(c.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"quota":{"day":"2026-11-30","used":3},"targets":{"video:v":{"newest_ms":0,"floor_ms":0,"seen":[["b",30,0],["c",20,0],["a",10,2]]}}}"#
        );
        let back = Cursor::decode(text.as_bytes()).unwrap();
        assert_eq!(back.encode(), c.encode());

        t.trim(2);
        assert_eq!(t.len(), 2);
        assert!(t.known("a").is_none(), "the oldest by time is forgotten");
        assert_eq!(t.floor_ms, 10, "the newest time forgotten");
        t.active("c", 40);
        t.trim(1);
        assert!(t.known("c").is_some(), "a thread active later stays");
        assert_eq!(t.floor_ms, 30);
        let mut c2 = Cursor::default();
        t.backlog = Some(Backlog {
            page_token: "p2".into(),
            until_ms: 7,
        });
        c2.targets.insert("video:v".into(), t);
        let text = String::from_utf8(c2.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"quota":{"day":"","used":0},"targets":{"video:v":{"newest_ms":0,"floor_ms":30,"seen":[["c",20,0,40]],"backlog":{"page_token":"p2","until_ms":7}}}}"#
        );
        assert_eq!(Cursor::decode(text.as_bytes()).unwrap().encode(), text.as_bytes());
        assert_eq!(Cursor::bound(1), MAX_SEEN);
        assert_eq!(Cursor::bound(100), MIN_SEEN_PER_TARGET);
    }
}
