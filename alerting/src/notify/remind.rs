//! The remind stage: alerts still firing are sent again every `repeat_interval_secs` as one
//! reminder (like Alertmanager's `repeat_interval`) until acknowledged, resolved or silenced.
//! What is still open is read from `vigie.alerts` itself, from its start when the receiver
//! starts, so reminders keep their rhythm across a receiver's restarts.

use super::deliver::Delivery;
use super::filter::Filter;
use super::ratelimit::Limiter;
use super::{Notification, REMEMBERED};
use prost::Message;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, InRecord};
use vigie_core::proto::{Alert, AlertState};
use vigie_core::topics;

/// The alerts of a receiver still firing, each with when it was last sent: what reminders are
/// made of.
#[derive(Default)]
pub struct StillFiring {
    alerts: HashMap<String, (Alert, i64)>,
    /// The version at which recently closed alerts closed (the last `REMEMBERED`), so an older
    /// record arriving late does not reopen them.
    closed: HashMap<String, u64>,
    closed_order: VecDeque<String>,
}

impl StillFiring {
    /// Takes in a state change seen at `now_ms`: a firing alert the `filter` routes is open
    /// (sent now, if new); an acknowledged, resolved or silenced one is not. Older versions
    /// than the one held are ignored.
    pub fn apply(&mut self, filter: &Filter, alert: Alert, now_ms: i64) {
        let held = self.alerts.get(&alert.id);
        let newest = held
            .map(|(a, _)| a.version)
            .or(self.closed.get(&alert.id).copied());
        if newest.is_some_and(|v| v > alert.version) {
            return;
        }
        if alert.state() == AlertState::Firing && filter.routes(&alert) {
            // First seen: it was sent when produced (or is about to be); read back after a
            // restart, its reminders keep their rhythm instead of starting over.
            let produced = if alert.raised_at_ms > 0 {
                alert.raised_at_ms.min(now_ms)
            } else {
                now_ms
            };
            let sent = held.map(|(_, t)| *t).unwrap_or(produced);
            self.alerts.insert(alert.id.clone(), (alert, sent));
        } else {
            self.alerts.remove(&alert.id);
            if self.closed.insert(alert.id.clone(), alert.version).is_none() {
                self.closed_order.push_back(alert.id);
                if self.closed_order.len() > REMEMBERED {
                    if let Some(old) = self.closed_order.pop_front() {
                        self.closed.remove(&old);
                    }
                }
            }
        }
    }

    /// What a reminder at `now_ms` holds: nothing unless an alert was last sent `every_ms` or
    /// more ago; then also every alert sent at least half that long ago, so alerts that fired
    /// at different times settle into one reminder instead of one each. Oldest first.
    pub fn due(&self, every_ms: i64, now_ms: i64) -> Vec<Alert> {
        if !self.alerts.values().any(|(_, sent)| now_ms - *sent >= every_ms) {
            return Vec::new();
        }
        let mut due: Vec<Alert> = self
            .alerts
            .values()
            .filter(|(_, sent)| now_ms - *sent >= every_ms / 2)
            .map(|(a, _)| a.clone())
            .collect();
        due.sort_by(|a, b| (a.fired_at_ms, &a.id).cmp(&(b.fired_at_ms, &b.id)));
        due
    }

    /// Records that `alerts` were sent at `now_ms`.
    pub fn sent(&mut self, alerts: &[Alert], now_ms: i64) {
        for a in alerts {
            if let Some((_, sent)) = self.alerts.get_mut(&a.id) {
                *sent = now_ms;
            }
        }
    }
}

/// One receiver's reminders: what they follow, how often, and the way out they share with its
/// notifications (rate limit and delivery).
pub struct Reminders {
    filter: Filter,
    every_ms: i64,
    limit: Limiter,
    delivery: Delivery,
}

impl Reminders {
    /// Reminders every `repeat_interval_secs` (`None` when 0: never).
    pub fn new(
        repeat_interval_secs: u64,
        filter: Filter,
        limit: Limiter,
        delivery: Delivery,
    ) -> Option<Self> {
        (repeat_interval_secs > 0).then(|| Self {
            filter,
            every_ms: repeat_interval_secs.saturating_mul(1000) as i64,
            limit,
            delivery,
        })
    }

    /// Sends reminders until `cancel`, following `vigie.alerts` on `bus` from its start to know
    /// what is still open.
    pub async fn run(self, bus: Bus, cancel: CancellationToken) {
        let open = Arc::new(Mutex::new(StillFiring::default()));
        let Some(follow) = self.follow(&bus, &open, &cancel).await else {
            return;
        };
        let tick = Duration::from_millis((self.every_ms / 4).clamp(100, 60_000) as u64);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(tick) => {}
                _ = cancel.cancelled() => break,
            }
            let due = lock(&open).due(self.every_ms, vigie_core::now_ms());
            // A reminder waits for a free notification under the rate limit (tried next tick).
            if due.is_empty() || !self.limit.try_take() {
                continue;
            }
            lock(&open).sent(&due, vigie_core::now_ms());
            if self
                .delivery
                .send(&Notification::reminder(due), &cancel)
                .await
                .is_err()
            {
                break;
            }
        }
        follow.abort();
    }

    /// Starts applying `vigie.alerts` to `open`, retried until it can be read (reminders must
    /// not silently stay off); `None` when `cancel` fires first. A record that is not an alert
    /// is counted as skipped (`undecodable`); the receiver's consuming loop dead-letters it.
    async fn follow(
        &self,
        bus: &Bus,
        open: &Arc<Mutex<StillFiring>>,
        cancel: &CancellationToken,
    ) -> Option<tokio::task::JoinHandle<()>> {
        loop {
            let (open, filter) = (open.clone(), self.filter.clone());
            let apply = move |r: &InRecord| match Alert::decode(r.payload.as_deref().unwrap_or_default()) {
                Ok(alert) => lock(&open).apply(&filter, alert, vigie_core::now_ms()),
                Err(e) => {
                    vigie_core::metrics::record_skipped(topics::ALERTS, "undecodable");
                    tracing::warn!(key = %r.key_str(), "notify: reminders skip an undecodable alert: {e}");
                }
            };
            match vigie_core::bus::materialise(bus, topics::ALERTS, cancel.clone(), apply).await {
                Ok(task) => return Some(task),
                Err(e) => {
                    tracing::warn!("notify: reminders cannot read {}: {e}; retrying", topics::ALERTS);
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = cancel.cancelled() => return None,
                    }
                }
            }
        }
    }
}

fn lock(open: &Mutex<StillFiring>) -> std::sync::MutexGuard<'_, StillFiring> {
    open.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::{alert, receiver};
    use vigie_core::proto::Severity;

    #[test]
    fn still_firing_follows_versions_and_routing() {
        let r = Filter::new(&receiver("http://x"));
        let mut open = StillFiring::default();
        open.apply(&r, alert("a1", 1, "w", Severity::Critical, AlertState::Firing), 0);
        open.apply(&r, alert("a2", 1, "w", Severity::Info, AlertState::Firing), 0); // below min
        open.apply(&r, alert("a3", 2, "w", Severity::Warning, AlertState::Firing), 0);
        open.apply(
            &r,
            alert("a3", 3, "w", Severity::Warning, AlertState::Acknowledged),
            10,
        );
        open.apply(&r, alert("a3", 2, "w", Severity::Warning, AlertState::Firing), 20); // stale
        assert!(open.due(100, 99).is_empty(), "nothing due before the interval");
        let due = open.due(100, 100);
        assert_eq!(due.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["a1"]);
        open.sent(&due, 100);
        assert!(open.due(100, 150).is_empty());
        assert_eq!(open.due(100, 200).len(), 1);
        open.apply(
            &r,
            alert("a1", 2, "w", Severity::Critical, AlertState::Resolved),
            210,
        );
        assert!(open.due(100, 1_000).is_empty());
        // Alerts that fired at different times share a reminder once one of them is due.
        let firing = |id: &str| alert(id, 1, "w", Severity::Critical, AlertState::Firing);
        open.apply(&r, firing("b1"), 1_000);
        open.apply(&r, firing("b2"), 1_060);
        assert_eq!(open.due(100, 1_100).len(), 1, "b2 not half due yet");
        assert_eq!(open.due(100, 1_110).len(), 2, "b2 half due: both in one reminder");
    }
}
