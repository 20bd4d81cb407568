//! Each tenant's event-time clock: its watermark (newest event time seen) moves with its
//! mentions, or by a clock command when a live tenant goes quiet, and every [`SWEEP_MS`] of
//! event time a sweep moves every rule of the tenant to it: windows close, deadlines pass, old
//! episodes expire, deleted watches' alerts resolve.

use super::state::TenantState;
use super::Engine;
use crate::detector::{Signal, LATENESS_MS};
use crate::rules::Detector;
use vigie_core::proto::Alert;
use vigie_core::watches::WatchSet;

/// Event time between two sweeps of a tenant's rules (closing windows, deadlines, expiry).
pub(super) const SWEEP_MS: i64 = 60_000;
/// Sweeps between checkpoints of a watch whose sweeps raised nothing.
const CHECKPOINT_SWEEPS: i64 = 10;

impl Engine {
    /// Moves every rule of the tenant to its watermark: closes windows, checks deadlines,
    /// expires old episodes, drops the state of deleted watches.
    pub(super) fn sweep(
        tenant_name: &str,
        t: &mut TenantState,
        signals: &mut Vec<Signal>,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) {
        let watermark = t.watermark_ms;
        t.swept_ms = watermark - watermark.rem_euclid(SWEEP_MS);
        let gone: Vec<String> = t
            .watches
            .keys()
            .filter(|id| {
                watches
                    .get(&vigie_core::topics::watch_key(tenant_name, id))
                    .is_none()
            })
            .cloned()
            .collect();
        for id in gone {
            if let Some(mut ws) = t.watches.remove(&id) {
                ws.close(tenant_name, &id, watermark, now_ms, out);
                t.deleted.push(vigie_core::topics::watch_key(tenant_name, &id));
            }
        }
        let minute = t.swept_ms / SWEEP_MS;
        for (id, ws) in t.watches.iter_mut() {
            let Some(watch) = watches.get(&vigie_core::topics::watch_key(tenant_name, id)) else {
                continue;
            };
            let produced = out.len();
            ws.follow(watch, watermark, now_ms, out);
            for mut r in ws.rules(watch) {
                r.slot.detector.advance(r.kind, watermark, signals);
                r.settle(&t.silences, now_ms, signals, out);
                let ctx = r.context(&t.silences, now_ms);
                r.slot
                    .book
                    .expire(&ctx, watermark, Detector::keep_open_ms(r.kind), out);
            }
            // What a sweep changes without raising anything (closed buckets, pruned memories)
            // is redone identically after a restore, from the same open buckets: checkpoint it
            // only every CHECKPOINT_SWEEPS minutes per watch (staggered), not every minute.
            let stagger = crate::detector::stable_hash(id) as i64;
            if out.len() > produced || (minute + stagger).rem_euclid(CHECKPOINT_SWEEPS) == 0 {
                ws.dirty = true;
            }
        }
        t.silences.retain(|s| !s.outlived(watermark));
        t.reindex_replies();
        t.dirty = true;
    }

    /// Moves `tenant`'s clock to `to_ms` without a mention (a quiet live tenant, see
    /// [`Engine::quiet_tenants`]), running a sweep.
    pub fn advance(
        &mut self,
        tenant: &str,
        to_ms: i64,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) {
        let Some(t) = self.tenants.get_mut(tenant) else {
            return;
        };
        if to_ms <= t.watermark_ms {
            return;
        }
        t.watermark_ms = to_ms;
        t.moved_at_wall_ms = now_ms;
        Self::sweep(tenant, t, &mut self.signals, watches, now_ms, out);
    }

    /// Live tenants gone quiet, with the instant their clock should move to: tenants whose
    /// mentions this engine received since it started (restored copies of other members'
    /// tenants never tick), whose newest event time is within `live_ms` of wall time `now_ms`
    /// (not a replay of history), and whose clock has not moved for `idle_ms`. The clock moves
    /// by the wall time elapsed since it last moved, minus the lateness allowance: a tenant whose
    /// sources run late keeps its own delay, and mentions still in flight keep counting.
    pub fn quiet_tenants(&self, now_ms: i64, idle_ms: i64, live_ms: i64) -> Vec<(String, i64)> {
        self.tenants
            .iter()
            .filter(|(_, t)| t.moved_at_wall_ms > 0 && t.moved_at_wall_ms <= now_ms - idle_ms)
            .filter(|(_, t)| t.watermark_ms >= now_ms - live_ms)
            .map(|(name, t)| {
                (
                    name.clone(),
                    t.watermark_ms + (now_ms - t.moved_at_wall_ms) - LATENESS_MS,
                )
            })
            .filter(|(name, to)| self.tenants.get(name).is_some_and(|t| *to > t.watermark_ms))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{m, MIN};
    use vigie_core::proto::{alert_command, AlertCommand};
    use vigie_core::watches::{parse_file, WatchRegistry};

    const QUIET: i64 = 60_000;
    const LIVE: i64 = 6 * 3_600_000;

    #[test]
    fn a_live_tenant_gone_silent_gets_its_clock_moved_and_its_flatline_seen() {
        let registry = WatchRegistry::default();
        let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\n\
                    name = \"silence\"\ntype = \"flatline\"\nwindow = \"15m\"\nmin_expected = 2\n";
        registry.upsert(parse_file(file, "t").unwrap().remove(0)).unwrap();
        let watches = registry.read();
        let mut engine = Engine::default();
        let mut alerts = Vec::new();
        // Two days and an hour of live traffic (event time = wall time), one mention every two
        // minutes: `flatline` judges silences once two days were learned.
        let start = 1_800_000_000_000i64;
        let n = 49 * 30;
        for i in 0..n {
            let at = start + i * 2 * MIN;
            engine
                .observe(&m(&format!("m{i}"), at).build(), None, &watches, at, &mut alerts)
                .unwrap();
        }
        let last = start + (n - 1) * 2 * MIN;
        assert!(alerts.is_empty());
        // Replays of old history are not "live": never moved by the wall clock.
        assert!(engine
            .quiet_tenants(last + 400 * 86_400_000, QUIET, LIVE)
            .is_empty());
        // Thirty seconds of silence is not quiet yet; an hour is.
        assert!(engine.quiet_tenants(last + 30_000, QUIET, LIVE).is_empty());
        let now = last + 60 * MIN;
        let quiet = engine.quiet_tenants(now, QUIET, LIVE);
        // Moved by the hour of silence, minus the lateness allowance.
        assert_eq!(quiet, [("acme".to_string(), last + 60 * MIN - LATENESS_MS)]);
        let cmd = AlertCommand {
            tenant: "acme".into(),
            actor: "clock".into(),
            action: Some(alert_command::Action::ClockMs(quiet[0].1)),
        };
        engine.command(&cmd, &watches, now, &mut alerts).unwrap();
        assert!(alerts.iter().any(|a| a.rule == "silence"), "{alerts:?}");
    }
}
