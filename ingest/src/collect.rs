//! The pull connectors' loop, run by `vigie collect` over Kafka and by `vigie standalone` over
//! its in-process bus: the same code on any [`Bus`].
//!
//! At start, every connector's last cursor is read from `vigie.connectors.state` (compacted,
//! keyed by connector name; the latest value of a key wins). Then each pull connector runs in a
//! task of its own: poll from the cursor, hand what it found to the [`Ingestor`] (in pieces of
//! at most `collect.max_items`, each acknowledged by the broker before the next), and only then
//! publish the new cursor; wait the connector's interval, and again. A failed poll or hand-over
//! is counted (`vigie_connector_errors_total{kind}`) and retried after a back-off ([`backoff`]:
//! doubling from the interval up to [`MAX_BACKOFF`], never sooner than the source's
//! `Retry-After`); nothing is lost meanwhile, as the cursor only moves once every item is
//! acknowledged, and anything handed on twice is a duplicate by mention id.

use crate::connectors::map::{HandOff, Mapped, Mapping};
use crate::connectors::poll::Poller;
use crate::connectors::{Built, Connector};
use crate::Ingestor;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError, OutRecord, Publisher};
use vigie_core::config::CollectConfig;
use vigie_core::topics;

/// The schema header of cursor records (a connector's own JSON).
pub const CURSOR_SCHEMA: &str = "vigie.connectors.Cursor+json";
/// Longest back-off after failures (unless the interval itself is longer).
pub const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Longest `Retry-After` honoured: a source asking for more is asked again after a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The wait before the next poll after `failures` failures in a row (0 after a success):
/// `interval`, then doubling from it with each failure up to [`MAX_BACKOFF`] (or the interval
/// when longer), and never less than `retry_after` (capped at [`MAX_RETRY_AFTER`]).
pub fn backoff(interval: Duration, failures: u32, retry_after: Option<Duration>) -> Duration {
    let factor = 1u32 << failures.saturating_sub(1).min(20);
    let delay = interval.saturating_mul(factor).min(MAX_BACKOFF.max(interval));
    match retry_after {
        Some(asked) => delay.max(asked.min(MAX_RETRY_AFTER)),
        None => delay,
    }
}

/// A `Retry-After` header's wait: seconds (`120`) or an HTTP date (`Wed, 21 Oct 2026 07:28:00
/// GMT`, then the time left from `now`, zero when past); `None` when it is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The latest cursor of every connector saved on `vigie.connectors.state`, by connector name
/// (a tombstone forgets one).
pub async fn saved_cursors(
    bus: &Bus,
    cancel: &CancellationToken,
) -> Result<HashMap<String, Vec<u8>>, BusError> {
    let mut reader = bus.read_from_start(topics::CONNECTOR_STATE)?;
    let mut cursors = HashMap::new();
    vigie_core::bus::catch_up(&mut reader, topics::CONNECTOR_STATE, cancel, |r| {
        match r.payload.as_deref() {
            Some(p) if !p.is_empty() => {
                cursors.insert(r.key_str(), p.to_vec());
            }
            _ => {
                cursors.remove(&r.key_str());
            }
        }
    })
    .await?;
    Ok(cursors)
}

/// Whether any of `connectors` is a pull connector (something for this loop to run).
pub fn has_pull(connectors: &[Connector]) -> bool {
    connectors.iter().any(|c| matches!(c.built, Built::Pull(_)))
}

/// Runs every pull connector of `connectors` over `bus` until `cancel`, handing what they find
/// to `ingestor`; push connectors (webhooks) are ingest's and skipped. Fails only when the
/// saved cursors cannot be read.
pub async fn run(
    bus: &Bus,
    ingestor: Arc<Ingestor>,
    connectors: &[Connector],
    config: &CollectConfig,
    cancel: CancellationToken,
) -> Result<(), BusError> {
    let pulls: Vec<(&Connector, Arc<dyn Poller>)> = connectors
        .iter()
        .filter_map(|c| match &c.built {
            Built::Pull(p) => Some((c, p.clone())),
            Built::Push(_) => None,
        })
        .collect();
    if pulls.is_empty() {
        tracing::warn!("collect: no pull connector in [[connectors]]; nothing to poll");
        cancel.cancelled().await;
        return Ok(());
    }
    let mut cursors = saved_cursors(bus, &cancel).await?;
    let publisher = bus.publisher()?;
    let mut tasks = tokio::task::JoinSet::new();
    let mut running = HashMap::new();
    for (connector, poller) in pulls {
        let cursor = cursors.remove(&connector.name).unwrap_or_default();
        tracing::info!(
            "collect: {} ({}, tenant {}) every {:?}{}",
            connector.name,
            connector.kind,
            connector.tenant,
            poller.interval(),
            if cursor.is_empty() {
                ", first poll"
            } else {
                ", from its saved cursor"
            }
        );
        let spec = Spec {
            name: connector.name.clone(),
            poller,
            handoff: HandOff::new(ingestor.clone(), &connector.name, &connector.tenant),
            publisher: publisher.clone(),
            max_items: config.max_items.max(1),
        };
        let task = tasks.spawn(spec.collector(cursor).run(cancel.clone()));
        running.insert(task.id(), spec);
    }
    while let Some(done) = tasks.join_next_with_id().await {
        let id = match &done {
            Ok((id, ())) => *id,
            Err(e) => e.id(),
        };
        let Some(spec) = running.remove(&id) else {
            continue;
        };
        let Err(e) = done else { continue };
        if cancel.is_cancelled() {
            continue;
        }
        // A connector that panicked starts again from its saved cursor after a pause, instead
        // of silently never polling again.
        tracing::error!(
            "collect {}: its task failed ({e}); restarting it from its saved cursor in {RESTART_AFTER:?}",
            spec.name
        );
        spec.handoff.metrics().error("panic");
        let cursor = match saved_cursors(bus, &cancel).await {
            Ok(mut saved) => saved.remove(&spec.name).unwrap_or_default(),
            Err(e) => return Err(e),
        };
        let collector = spec.collector(cursor);
        let stop = cancel.clone();
        let task = tasks.spawn(async move {
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(RESTART_AFTER) => collector.run(stop).await,
            }
        });
        running.insert(task.id(), spec);
    }
    publisher.flush().await;
    Ok(())
}

/// The pause before a connector whose task failed starts again.
pub const RESTART_AFTER: Duration = Duration::from_secs(5);

/// What a connector's loop is made from (kept to start it again).
struct Spec {
    name: String,
    poller: Arc<dyn Poller>,
    handoff: HandOff,
    publisher: Publisher,
    max_items: usize,
}

impl Spec {
    /// The loop, starting from `cursor`.
    fn collector(&self, cursor: Vec<u8>) -> Collector {
        Collector {
            name: self.name.clone(),
            poller: self.poller.clone(),
            handoff: self.handoff.clone(),
            publisher: self.publisher.clone(),
            max_items: self.max_items,
            cursor,
            unsaved: None,
            failures: 0,
        }
    }
}

/// Why a cycle failed: the wait the source asked for, if it did.
struct Failed(Option<Duration>);

/// One pull connector's loop.
struct Collector {
    name: String,
    poller: Arc<dyn Poller>,
    handoff: HandOff,
    publisher: Publisher,
    max_items: usize,
    /// The cursor the next poll starts from.
    cursor: Vec<u8>,
    /// A cursor whose items are published but which could not be saved yet.
    unsaved: Option<Vec<u8>>,
    failures: u32,
}

impl Collector {
    async fn run(mut self, cancel: CancellationToken) {
        let interval = self.poller.interval();
        while !cancel.is_cancelled() {
            // A broker that never answers does not hold shutdown: what was handed on without its
            // cursor saved is handed on again after the restart, as duplicates.
            let outcome = tokio::select! {
                _ = cancel.cancelled() => break,
                outcome = self.cycle(&cancel) => outcome,
            };
            let wait = match outcome {
                Ok(()) => {
                    self.failures = 0;
                    interval
                }
                Err(Failed(retry_after)) => {
                    self.failures = self.failures.saturating_add(1);
                    let base = interval.max(self.poller.retry_base());
                    let wait = backoff(base, self.failures, retry_after);
                    tracing::info!("collect {}: next attempt in {wait:?}", self.name);
                    wait
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("collect {}: stopped", self.name);
    }

    /// Saves a cursor left unsaved, polls, hands on, saves the new cursor.
    async fn cycle(&mut self, cancel: &CancellationToken) -> Result<(), Failed> {
        if let Some(cursor) = self.unsaved.take() {
            self.save(cursor).await?;
        }
        let polled = tokio::select! {
            _ = cancel.cancelled() => return Ok(()),
            polled = self.poller.poll(&self.cursor) => polled,
        };
        let polled = polled.map_err(|e| {
            self.handoff.metrics().error(e.kind);
            tracing::warn!("collect {}: {e}", self.name);
            Failed(e.retry_after)
        })?;
        self.hand_on(polled.mapped).await?;
        if let Some(cursor) = polled.cursor {
            self.cursor.clone_from(&cursor);
            self.save(cursor).await?;
        }
        Ok(())
    }

    /// Hands `mapped` on in pieces of at most `max_items`, each acknowledged before the next.
    async fn hand_on(&self, mapped: Mapped) -> Result<(), Failed> {
        let Mapped { items, mut ignored } = mapped;
        let total = items.len();
        let mut items = items.into_iter().peekable();
        let (mut published, mut duplicates, mut rejected) = (0, 0, 0);
        while items.peek().is_some() || !ignored.is_empty() {
            let piece: Vec<Mapping> = items.by_ref().take(self.max_items).collect();
            let mapped = Mapped {
                items: piece,
                ignored: std::mem::take(&mut ignored),
            };
            let answer = self.handoff.hand_on(mapped).await.map_err(|e| {
                tracing::warn!("collect {}: handing on: {e}", self.name);
                Failed(None)
            })?;
            published += answer.accepted;
            duplicates += answer.duplicates;
            rejected += answer.rejected;
        }
        if total > 0 {
            tracing::info!(
                "collect {}: {total} new items: {published} published, {duplicates} duplicates, {rejected} dead-lettered",
                self.name
            );
        }
        Ok(())
    }

    /// Publishes `cursor` under the connector's name; kept to retry first thing next cycle when
    /// the broker does not acknowledge it.
    async fn save(&mut self, cursor: Vec<u8>) -> Result<(), Failed> {
        let record = OutRecord::message(self.name.clone(), CURSOR_SCHEMA, cursor.clone());
        match self
            .publisher
            .publish(topics::CONNECTOR_STATE, vec![record])
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                self.handoff.metrics().error("state");
                tracing::warn!("collect {}: cannot save its cursor: {e}", self.name);
                self.unsaved = Some(cursor);
                Err(Failed(None))
            }
        }
    }
}

#[cfg(test)]
mod tests;
