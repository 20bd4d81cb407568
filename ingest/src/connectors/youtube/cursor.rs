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
//! again when it shows up again.

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
    tick: u64,
}

/// What the cursor knows of one target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// The newest activity (a comment's `publishedAt` or `updatedAt`) seen on the target.
    pub newest_ms: i64,
    /// Unknown comments at or before this time are taken as handed on (see the module).
    pub floor_ms: i64,
    seen: HashMap<String, Known>,
    tick: u64,
}

#[derive(Serialize, Deserialize)]
struct TargetRepr {
    #[serde(default)]
    newest_ms: i64,
    #[serde(default)]
    floor_ms: i64,
    /// `[id, updated_ms, replies]`, oldest first.
    #[serde(default)]
    seen: Vec<(String, i64, u64)>,
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
            tick,
        });
        entry.updated_ms = entry.updated_ms.max(updated_ms);
        entry.tick = tick;
        if let Some(r) = replies {
            entry.replies = r;
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

    /// Forgets the comments seen longest ago beyond `bound`, raising the floor to their times.
    pub fn trim(&mut self, bound: usize) {
        if self.seen.len() <= bound {
            return;
        }
        let mut ticks: Vec<(u64, i64)> = self.seen.values().map(|k| (k.tick, k.updated_ms)).collect();
        ticks.sort_unstable();
        let cut = ticks.len() - bound;
        let (forgotten, _) = ticks.split_at(cut);
        let last_tick = forgotten.last().map_or(0, |(t, _)| *t);
        let highest = forgotten.iter().map(|(_, u)| *u).max().unwrap_or(i64::MIN);
        self.floor_ms = self.floor_ms.max(highest);
        self.seen.retain(|_, k| k.tick > last_tick);
    }

    fn repr(&self) -> TargetRepr {
        let mut seen: Vec<(&String, &Known)> = self.seen.iter().collect();
        seen.sort_unstable_by_key(|(_, k)| k.tick);
        TargetRepr {
            newest_ms: self.newest_ms,
            floor_ms: self.floor_ms,
            seen: seen
                .into_iter()
                .map(|(id, k)| (id.clone(), k.updated_ms, k.replies))
                .collect(),
        }
    }

    fn from_repr(repr: TargetRepr) -> Self {
        let mut target = Target {
            newest_ms: repr.newest_ms,
            floor_ms: repr.floor_ms,
            ..Default::default()
        };
        for (id, updated_ms, replies) in repr.seen {
            target.note(&id, updated_ms, Some(replies));
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

        t.trim(1);
        assert_eq!(t.len(), 1);
        assert!(t.known("a").is_some(), "the last seen stays");
        assert_eq!(t.floor_ms, 30, "the newest time forgotten");
        assert_eq!(Cursor::bound(1), MAX_SEEN);
        assert_eq!(Cursor::bound(100), MIN_SEEN_PER_TARGET);
    }
}
