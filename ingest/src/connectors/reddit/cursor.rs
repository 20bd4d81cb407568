//! The cursor of a `reddit` connector, saved as JSON on `vigie.connectors.state` under the
//! connector's name: per listing (`r/<sub>/new`, `r/<sub>/comments`, `search:<query>`) the
//! newest `created_utc` seen and the fullnames handed on (the latest [`Cursor::bound`]), so
//! that the overlap of the next poll, or of a restart, is skipped.
//!
//! ```json
//! {"v":1,"listings":{"r/acme/new":{"newest_ms":1796029200000,"floor_ms":0,"seen":["t3_1h0acm2","t3_1h0acm3"]}}}
//! ```
//!
//! `floor_ms`: a child the cursor does not know, created at or before it, is taken as handed
//! on before (the first poll's only page ends there, and the fullnames forgotten past the bound
//! raise it to their time). The bound forgets by `created_utc`, the oldest first, so the floor
//! stays below the fullnames kept, however many one poll notes (they come newest first).
//!
//! `backlog`, when a poll stopped at [`MAX_PAGES`](super::MAX_PAGES) before reaching what the
//! cursor knew: the `after` of the next page to read and the high-water mark of the start of
//! that backlog (`{"after":"t3_…","until_ms":…}`); the next poll reads it first.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Most fullnames remembered by a cursor, all listings together (each keeps at least
/// [`MIN_SEEN_PER_LISTING`]): about 15 bytes each.
pub const MAX_SEEN: usize = 10_000;
/// Fewest fullnames remembered per listing: two pages of 100.
pub const MIN_SEEN_PER_LISTING: usize = 200;

const VERSION: u32 = 1;

/// Children not read yet past the page limit: where to go on, and where to stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Backlog {
    /// The `after` (a fullname) of the next page to read.
    pub after: String,
    /// The newest `created_utc` seen before that backlog: reading stops at a page reaching it.
    pub until_ms: i64,
}

/// What the cursor knows of one listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// The newest `created_utc` seen, Unix milliseconds.
    pub newest_ms: i64,
    /// Unknown children created at or before this are taken as handed on.
    pub floor_ms: i64,
    /// Older children left to read (see the module).
    pub backlog: Option<Backlog>,
    /// Fullname → (created ms, order seen).
    seen: HashMap<String, (i64, u64)>,
    tick: u64,
}

#[derive(Serialize, Deserialize)]
struct ListingRepr {
    #[serde(default)]
    newest_ms: i64,
    #[serde(default)]
    floor_ms: i64,
    /// `[fullname, created_ms]`, oldest first.
    #[serde(default)]
    seen: Vec<(String, i64)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    backlog: Option<Backlog>,
}

impl Listing {
    /// Whether `key` was handed on.
    pub fn knows(&self, key: &str) -> bool {
        self.seen.contains_key(key)
    }

    /// Notes `key` (created at `created_ms`) as seen now, at the newest end.
    pub fn note(&mut self, key: &str, created_ms: i64) {
        self.tick += 1;
        self.seen.insert(key.to_string(), (created_ms, self.tick));
    }

    /// How many fullnames it remembers.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// Whether it remembers none.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Forgets the oldest fullnames (by creation) beyond `bound`, raising the floor to the
    /// newest time forgotten: the fullnames kept are all at or above it.
    pub fn trim(&mut self, bound: usize) {
        if self.seen.len() <= bound {
            return;
        }
        let mut order: Vec<(i64, u64, &String)> =
            self.seen.iter().map(|(k, (at, tick))| (*at, *tick, k)).collect();
        order.sort_unstable();
        let cut = order.len() - bound;
        let highest = order.get(cut - 1).map_or(i64::MIN, |(at, _, _)| *at);
        let forgotten: Vec<String> = order.iter().take(cut).map(|(_, _, k)| (*k).clone()).collect();
        self.floor_ms = self.floor_ms.max(highest);
        for k in forgotten {
            self.seen.remove(&k);
        }
    }

    fn repr(&self) -> ListingRepr {
        let mut seen: Vec<(&String, &(i64, u64))> = self.seen.iter().collect();
        seen.sort_unstable_by_key(|(_, (_, tick))| *tick);
        ListingRepr {
            newest_ms: self.newest_ms,
            floor_ms: self.floor_ms,
            seen: seen.into_iter().map(|(k, (at, _))| (k.clone(), *at)).collect(),
            backlog: self.backlog.clone(),
        }
    }

    fn from_repr(repr: ListingRepr) -> Self {
        let mut listing = Listing {
            newest_ms: repr.newest_ms,
            floor_ms: repr.floor_ms,
            backlog: repr.backlog,
            ..Default::default()
        };
        for (key, at) in repr.seen {
            listing.note(&key, at);
        }
        listing
    }
}

/// A `reddit` connector's cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Per listing.
    pub listings: BTreeMap<String, Listing>,
}

#[derive(Serialize, Deserialize)]
struct CursorRepr {
    #[serde(default)]
    v: u32,
    #[serde(default)]
    listings: BTreeMap<String, ListingRepr>,
}

impl Cursor {
    /// The cursor saved as `bytes`; empty the first time. An unreadable cursor is `Err`.
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        let repr: CursorRepr = serde_json::from_slice(bytes)?;
        Ok(Cursor {
            listings: repr
                .listings
                .into_iter()
                .map(|(k, l)| (k, Listing::from_repr(l)))
                .collect(),
        })
    }

    /// The cursor as saved.
    pub fn encode(&self) -> Vec<u8> {
        let repr = CursorRepr {
            v: VERSION,
            listings: self.listings.iter().map(|(k, l)| (k.clone(), l.repr())).collect(),
        };
        serde_json::to_vec(&repr).unwrap_or_default()
    }

    /// Fullnames remembered per listing when there are `listings` of them.
    pub fn bound(listings: usize) -> usize {
        (MAX_SEEN / listings.max(1)).max(MIN_SEEN_PER_LISTING)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_in_order_and_forgets_the_oldest_raising_its_floor() {
        assert_eq!(Cursor::decode(b"").unwrap(), Cursor::default());
        assert!(Cursor::decode(b"not json").is_err());
        let mut l = Listing {
            newest_ms: 30,
            ..Default::default()
        };
        l.note("t3_a", 10);
        l.note("t3_b", 30);
        l.note("t3_c", 20);
        l.note("t3_a", 10);
        let mut c = Cursor::default();
        c.listings.insert("r/acme/new".into(), l.clone());
        let text = String::from_utf8(c.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"listings":{"r/acme/new":{"newest_ms":30,"floor_ms":0,"seen":[["t3_b",30],["t3_c",20],["t3_a",10]]}}}"#
        );
        assert_eq!(Cursor::decode(text.as_bytes()).unwrap().encode(), c.encode());
        l.trim(2);
        assert!(
            !l.knows("t3_a") && l.len() == 2,
            "the oldest by creation is forgotten"
        );
        assert_eq!(l.floor_ms, 10);
        l.trim(1);
        assert!(l.knows("t3_b"));
        assert_eq!(l.floor_ms, 20, "the newest time forgotten, below the one kept");
        l.backlog = Some(Backlog {
            after: "t3_x".into(),
            until_ms: 5,
        });
        let mut c = Cursor::default();
        c.listings.insert("r/acme/new".into(), l);
        let text = String::from_utf8(c.encode()).unwrap();
        assert_eq!(
            text,
            r#"{"v":1,"listings":{"r/acme/new":{"newest_ms":30,"floor_ms":20,"seen":[["t3_b",30]],"backlog":{"after":"t3_x","until_ms":5}}}}"#
        );
        assert_eq!(Cursor::decode(text.as_bytes()).unwrap().encode(), text.as_bytes());
        assert_eq!(Cursor::bound(1), MAX_SEEN);
        assert_eq!(Cursor::bound(500), MIN_SEEN_PER_LISTING);
    }
}
