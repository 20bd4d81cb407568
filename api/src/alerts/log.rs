//! What the API knows of `vigie.alerts`, in memory: the latest state of every alert (resolved
//! ones forgotten after a retention), and the most recent records with their topic position,
//! from which a stream resumes after a client's cursor.

use prost::Message;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError};
use vigie_core::proto::Alert;
use vigie_core::topics;

/// Alert records kept in memory for resuming streams.
pub const RECENT: usize = 100_000;

/// One record of `vigie.alerts` with its position.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Partition.
    pub partition: i32,
    /// Offset within it.
    pub offset: i64,
    /// The alert state change.
    pub alert: Alert,
}

/// The log's state, under one lock.
#[derive(Default)]
pub(super) struct LogInner {
    /// The most recent records, oldest first (at most [`RECENT`]).
    pub(super) recent: VecDeque<Entry>,
    /// Per partition, the first offset still held once older records were dropped: a cursor
    /// behind it cannot be resumed without a gap.
    pub(super) dropped_before: HashMap<i32, i64>,
    /// Latest version of each alert, by (tenant, id), with when this process received it;
    /// resolved alerts are forgotten `keep_resolved_ms` after that (ClickHouse's `alerts` table
    /// keeps them all). Wall time, not the alerts' event time: a tenant replaying old data or
    /// sending future dates does not make others' alerts vanish.
    pub(super) latest: HashMap<(String, String), Latest>,
    keep_resolved_ms: i64,
    /// How many partitions the followed topic has (0 until [`AlertLog::follow`]): a cursor
    /// naming another partition is not from this service.
    pub(super) partitions: i32,
    /// When resolved alerts were last swept (wall time).
    swept_ms: i64,
}

/// An alert's latest state and when it was received.
pub(super) struct Latest {
    pub(super) alert: Alert,
    received_ms: i64,
}

/// How long the API lists a resolved alert after its last change, by default.
pub const KEEP_RESOLVED_MS: i64 = 30 * 86_400_000;

impl LogInner {
    /// Forgets alerts resolved and unchanged for `keep_resolved_ms` at `now_ms`, at most once
    /// an hour. (An alert forgotten that way could only come back from a republication of its
    /// old records, which happens within moments of a crash, not days later.)
    fn sweep(&mut self, now_ms: i64) {
        if now_ms - self.swept_ms < 3_600_000 {
            return;
        }
        self.swept_ms = now_ms;
        let horizon = now_ms - self.keep_resolved_ms;
        self.latest.retain(|_, l| {
            l.alert.state() != vigie_core::proto::AlertState::Resolved || l.received_ms >= horizon
        });
    }
}

/// What the API knows of `vigie.alerts`.
#[derive(Clone)]
pub struct AlertLog {
    pub(super) inner: Arc<Mutex<LogInner>>,
    pub(super) live: broadcast::Sender<Entry>,
}

impl Default for AlertLog {
    fn default() -> Self {
        Self::new(KEEP_RESOLVED_MS)
    }
}

impl AlertLog {
    /// A log listing resolved alerts for `keep_resolved_ms` after their last change.
    pub fn new(keep_resolved_ms: i64) -> Self {
        Self {
            inner: Arc::new(Mutex::new(LogInner {
                keep_resolved_ms,
                ..Default::default()
            })),
            live: broadcast::channel(4_096).0,
        }
    }

    /// Takes in one record.
    pub fn push(&self, entry: Entry) {
        self.push_at(entry, vigie_core::now_ms());
    }

    /// Takes in one record received at `now_ms`.
    fn push_at(&self, entry: Entry, now_ms: i64) {
        // Never dropped, not even after a panic elsewhere poisoned the lock.
        {
            let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
            let key = (entry.alert.tenant.clone(), entry.alert.id.clone());
            let newer = inner
                .latest
                .get(&key)
                .is_none_or(|l| l.alert.version <= entry.alert.version);
            if newer {
                let latest = Latest {
                    alert: entry.alert.clone(),
                    received_ms: now_ms,
                };
                inner.latest.insert(key, latest);
            }
            inner.sweep(now_ms);
            inner.recent.push_back(entry.clone());
            if inner.recent.len() > RECENT {
                if let Some(old) = inner.recent.pop_front() {
                    inner.dropped_before.insert(old.partition, old.offset + 1);
                }
            }
        }
        let _ = self.live.send(entry);
    }

    /// Reads `vigie.alerts` from the beginning, returns once caught up (so lists and actions
    /// know every alert from the first call), and keeps following it until `cancel`. The
    /// partitions followed are those the topic has now (what a group-less reader is assigned).
    pub async fn follow(
        &self,
        bus: &Bus,
        cancel: CancellationToken,
    ) -> Result<tokio::task::JoinHandle<()>, BusError> {
        let partitions = bus.read_from_start(topics::ALERTS)?.end_offsets().await?.len();
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).partitions =
            i32::try_from(partitions).unwrap_or(i32::MAX);
        let log = self.clone();
        vigie_core::bus::materialise(bus, topics::ALERTS, cancel, move |r| log.push_record(r)).await
    }

    /// Takes in one record of `vigie.alerts`; one that does not decode is left out, counted as
    /// `vigie_stage_errors_total{stage="api_alert_log",error_type="undecodable"}`.
    fn push_record(&self, r: &vigie_core::bus::InRecord) {
        match Alert::decode(r.payload.as_deref().unwrap_or_default()) {
            Ok(alert) => self.push(Entry {
                partition: r.partition,
                offset: r.offset,
                alert,
            }),
            Err(e) => {
                vigie_core::metrics::StageMetrics::new("api_alert_log").error("undecodable");
                tracing::warn!(
                    "api alert log: {} partition {} offset {}: undecodable alert left out: {e}",
                    topics::ALERTS,
                    r.partition,
                    r.offset
                );
            }
        }
    }

    /// How many partitions of `vigie.alerts` this log follows (0 before [`AlertLog::follow`]).
    pub(super) fn partitions(&self) -> i32 {
        self.inner.lock().map(|i| i.partitions).unwrap_or(0)
    }

    /// The latest state of `tenant`'s alert `id`, if known.
    pub(super) fn get(&self, tenant: &str, id: &str) -> Option<Alert> {
        self.inner.lock().ok().and_then(|i| {
            i.latest
                .get(&(tenant.to_string(), id.to_string()))
                .map(|l| l.alert.clone())
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use vigie_core::proto::{AlertState, Severity};

    /// A warning alert of rule `r` on watch `w` (the alert tests' fixture).
    pub(crate) fn alert(tenant: &str, id: &str, version: u64, state: AlertState, fired: i64) -> Alert {
        Alert {
            id: id.into(),
            tenant: tenant.into(),
            watch_id: "w".into(),
            rule: "r".into(),
            severity: Severity::Warning as i32,
            state: state as i32,
            version,
            fired_at_ms: fired,
            ..Default::default()
        }
    }

    #[test]
    fn resolved_alerts_are_forgotten_after_the_retention_open_ones_never() {
        let day = 86_400_000;
        let log = AlertLog::new(day);
        let entry = |offset, a: Alert| Entry {
            partition: 0,
            offset,
            alert: a,
        };
        let t0 = 1_800_000_000_000;
        log.push_at(entry(0, alert("t", "t:w:r:1", 1, AlertState::Firing, 0)), t0);
        log.push_at(entry(1, alert("t", "t:w:r:2", 2, AlertState::Resolved, 0)), t0);
        // Received later, though about an older time: kept by when it was received.
        log.push_at(
            entry(2, alert("t", "t:w:r:3", 2, AlertState::Resolved, -5 * day)),
            t0 + 2 * day,
        );
        log.push_at(
            entry(3, alert("t", "t:w:r:4", 1, AlertState::Acknowledged, 0)),
            t0 + 2 * day,
        );
        let held = |id: &str| log.get("t", id).is_some();
        assert!(
            held("t:w:r:1") && held("t:w:r:4"),
            "open alerts stay, however old"
        );
        assert!(!held("t:w:r:2"), "resolved and unchanged for more than a day");
        assert!(held("t:w:r:3"), "resolved, received less than a day ago");
    }
}
