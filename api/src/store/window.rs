//! A bounded in-memory window of the most recent enriched mentions: what search, stats and
//! `TestQuery` read when there is no ClickHouse (`vigie standalone`). It follows
//! `vigie.mentions.enriched` like any other consumer; the oldest mentions are forgotten first,
//! a redelivered mention is kept once, and a re-enriched one (a newer version) replaces it.
//! It selects mentions by evaluating the same [`Filter`] the ClickHouse store renders to SQL.

use super::{BucketCounts, Filter, HitRow, MentionStore, Page, StatsQuery, StoreError};
use prost::Message;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError};
use vigie_core::clickhouse::MentionRow;
use vigie_core::metrics::StageMetrics;
use vigie_core::proto::EnrichedMention;
use vigie_core::topics;

/// The stage label of the window's metrics (`vigie_stage_errors_total{stage="api_window"}`).
const STAGE: &str = "api_window";

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

    /// The mentions `filter` selects, in arrival order.
    pub(crate) fn select(&self, filter: &Filter) -> Vec<Arc<Held>> {
        self.lock()
            .order
            .iter()
            .filter(|h| filter.matches(&h.tenant, &h.hit))
            .cloned()
            .collect()
    }

    /// Reads `vigie.mentions.enriched` from its start into the window, then follows it until
    /// `cancel`. A record that does not decode is left out, counted as
    /// `vigie_stage_errors_total{stage="api_window",error_type="undecodable"}`.
    pub async fn follow(
        &self,
        bus: &Bus,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let window = self.clone();
        let metrics = StageMetrics::new(STAGE);
        vigie_core::bus::materialise(bus, topics::MENTIONS_ENRICHED, cancel, move |r| {
            match EnrichedMention::decode(r.payload.as_deref().unwrap_or_default()) {
                Ok(m) => window.push(&m),
                Err(e) => {
                    metrics.error("undecodable");
                    tracing::warn!(
                        "api window: {} partition {} offset {}: undecodable enriched mention left out: {e}",
                        topics::MENTIONS_ENRICHED,
                        r.partition,
                        r.offset
                    );
                }
            }
        })
        .await
    }
}

#[async_trait::async_trait]
impl MentionStore for MentionWindow {
    async fn search(&self, filter: &Filter, size: usize, _deadline: Option<u64>) -> Result<Page, StoreError> {
        let mut held = self.select(filter);
        held.sort_by(|a, b| (b.hit.created_at_ms, &b.hit.id).cmp(&(a.hit.created_at_ms, &a.hit.id)));
        let more = held.len() > size;
        let rows: Vec<HitRow> = held.into_iter().take(size).map(|h| h.hit.clone()).collect();
        let next = more
            .then(|| rows.last().map(|h| (h.created_at_ms, h.id.clone())))
            .flatten();
        Ok(Page { rows, next })
    }

    async fn stats(&self, q: &StatsQuery, _deadline: Option<u64>) -> Result<Vec<BucketCounts>, StoreError> {
        let bucket_ms = q.bucket.ms();
        let mut buckets: BTreeMap<i64, BucketCounts> = BTreeMap::new();
        for h in self.select(&Filter::stats(q)) {
            let start_ms = h.hit.created_at_ms.div_euclid(bucket_ms) * bucket_ms;
            let c = buckets.entry(start_ms).or_insert_with(|| BucketCounts {
                start_ms,
                ..Default::default()
            });
            c.total += 1;
            match h.hit.sentiment_label.as_str() {
                "negative" => c.negative += 1,
                "neutral" => c.neutral += 1,
                "positive" => c.positive += 1,
                _ => {}
            }
        }
        Ok(buckets.into_values().collect())
    }

    async fn recent(&self, tenant: &str, n: u32, _deadline: Option<u64>) -> Result<Vec<HitRow>, StoreError> {
        let mut held = self.select(&Filter::of_tenant(tenant));
        held.sort_by_key(|h| std::cmp::Reverse(h.hit.created_at_ms));
        Ok(held.into_iter().take(n as usize).map(|h| h.hit.clone()).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Condition;
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
        let of = |id: &str| Filter::of_tenant("t").and(Condition::IdIn(vec![id.into()]));
        let ids: Vec<String> = w
            .select(&Filter::of_tenant("t"))
            .iter()
            .map(|h| h.hit.id.clone())
            .collect();
        assert_eq!(ids, ["b", "c", "d"], "oldest forgotten, redelivery kept once");
        assert!(w.select(&Filter::of_tenant("other")).is_empty());
        // A newer version (re-enriched) replaces the one held; an older one does not.
        let mut newer = enriched("t", "c", 5);
        newer.enriched_at_ms = 10;
        newer.language = "fr".into();
        w.push(&newer);
        let mut older = enriched("t", "c", 5);
        older.enriched_at_ms = 5;
        older.language = "de".into();
        w.push(&older);
        let c = w.select(&of("c"));
        assert_eq!((c.len(), c[0].hit.language.as_str()), (1, "fr"));
        // A forgotten mention can come back (its id is forgotten with it).
        w.push(&enriched("t", "a", 9));
        assert_eq!(w.len(), 3);
        assert_eq!(w.select(&of("a")).len(), 1);
    }
}
