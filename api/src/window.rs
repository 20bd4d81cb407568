//! A bounded in-memory window of the most recent enriched mentions: what search, stats and
//! `TestQuery` read when there is no ClickHouse (`vigie standalone`). It follows
//! `vigie.mentions.enriched` like any other consumer; the oldest mentions are forgotten first,
//! a redelivered mention is kept once, and a re-enriched one (a newer version) replaces it.

use crate::mentions::HitRow;
use prost::Message;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError};
use vigie_core::clickhouse::MentionRow;
use vigie_core::proto::EnrichedMention;
use vigie_core::topics;

/// A mention of the window, with its tenant.
#[derive(Debug)]
pub(crate) struct Held {
    pub tenant: String,
    pub hit: HitRow,
}

#[derive(Default)]
struct Inner {
    capacity: usize,
    /// Oldest arrival first.
    order: VecDeque<Arc<Held>>,
    /// (tenant, id) of what `order` holds, with the version held.
    ids: HashMap<(String, String), u64>,
}

/// The window; clones share it.
#[derive(Clone, Default)]
pub struct MentionWindow {
    inner: Arc<Mutex<Inner>>,
}

impl MentionWindow {
    /// A window keeping at most `capacity` mentions (at least one).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                capacity: capacity.max(1),
                ..Default::default()
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the window inconsistent (each push is
        // complete or not started), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps `mention`, forgetting the oldest one when full; a mention already held is ignored.
    pub fn push(&self, mention: &EnrichedMention) {
        let row = MentionRow::from_enriched(mention);
        let key = (row.tenant.clone(), row.id.clone());
        let version = row.version;
        let held = Arc::new(Held {
            tenant: row.tenant.clone(),
            hit: HitRow::from_row(row),
        });
        let mut inner = self.lock();
        if let Some(&have) = inner.ids.get(&key) {
            if version > have {
                // Rare (a re-enrichment): replaced where it stands.
                if let Some(slot) = inner
                    .order
                    .iter_mut()
                    .rev()
                    .find(|h| h.tenant == key.0 && h.hit.id == key.1)
                {
                    *slot = held;
                }
                inner.ids.insert(key, version);
            }
            return;
        }
        while inner.order.len() >= inner.capacity {
            if let Some(old) = inner.order.pop_front() {
                inner.ids.remove(&(old.tenant.clone(), old.hit.id.clone()));
            }
        }
        inner.ids.insert(key, version);
        inner.order.push_back(held);
    }

    /// How many mentions the window holds.
    pub fn len(&self) -> usize {
        self.lock().order.len()
    }

    /// Whether the window is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The mentions of `tenant` for which `keep` holds, in arrival order.
    pub(crate) fn of_tenant(&self, tenant: &str, keep: impl Fn(&HitRow) -> bool) -> Vec<Arc<Held>> {
        self.lock()
            .order
            .iter()
            .filter(|h| h.tenant == tenant && keep(&h.hit))
            .cloned()
            .collect()
    }

    /// Reads `vigie.mentions.enriched` from its start into the window, then follows it until
    /// `cancel`.
    pub async fn follow(
        &self,
        bus: &Bus,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let window = self.clone();
        vigie_core::bus::materialise(bus, topics::MENTIONS_ENRICHED, cancel, move |r| {
            if let Ok(m) = EnrichedMention::decode(r.payload.as_deref().unwrap_or_default()) {
                window.push(&m);
            }
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::proto::Mention;

    pub(crate) fn enriched(tenant: &str, id: &str, at_ms: i64) -> EnrichedMention {
        EnrichedMention {
            mention: Some(Mention {
                tenant: tenant.into(),
                id: id.into(),
                created_at_ms: at_ms,
                text: format!("mention {id}"),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn keeps_the_most_recent_once_each() {
        let w = MentionWindow::new(3);
        for (i, id) in ["a", "b", "b", "c", "d"].iter().enumerate() {
            w.push(&enriched("t", id, i as i64));
        }
        let ids: Vec<String> = w
            .of_tenant("t", |_| true)
            .iter()
            .map(|h| h.hit.id.clone())
            .collect();
        assert_eq!(ids, ["b", "c", "d"], "oldest forgotten, redelivery kept once");
        assert!(w.of_tenant("other", |_| true).is_empty());
        // A newer version (re-enriched) replaces the one held; an older one does not.
        let mut newer = enriched("t", "c", 5);
        newer.enriched_at_ms = 10;
        newer.language = "fr".into();
        w.push(&newer);
        let mut older = enriched("t", "c", 5);
        older.enriched_at_ms = 5;
        older.language = "de".into();
        w.push(&older);
        let c = w.of_tenant("t", |h| h.id == "c");
        assert_eq!((c.len(), c[0].hit.language.as_str()), (1, "fr"));
        // A forgotten mention can come back (its id is forgotten with it).
        w.push(&enriched("t", "a", 9));
        assert_eq!(w.len(), 3);
        assert_eq!(w.of_tenant("t", |h| h.id == "a").len(), 1);
    }
}
