//! Routing: each enriched mention goes to the rules of the watches it matched (of its own
//! tenant), and a possible answer — a reply, or a private message in a conversation — also goes
//! to the rules awaiting an answer under its parent or its conversation (see
//! [`ReplyKey::answering`]), whether or not it matched their watch. A record already applied by
//! the restored state, or later than the lateness allowance, is counted in
//! [`super::EngineStats`] and goes nowhere.

use super::clock::SWEEP_MS;
use super::state::TenantState;
use super::{applied, Engine, Position};
use crate::detector::{Observed, ReplyKey, Signal, LATENESS_MS};
use vigie_core::proto::{Alert, EnrichedMention};
use vigie_core::watches::WatchSet;

/// Why a record could not be observed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObserveError {
    /// The enriched record carries no mention.
    #[error("enriched record carries no mention")]
    NoMention,
}

impl Engine {
    /// Feeds one enriched mention read at `position` (None when not from a partitioned input);
    /// alert state changes are appended to `out`. `now_ms` only stamps `raised_at`. A record
    /// with no mention in it is refused ([`ObserveError::NoMention`]).
    pub fn observe(
        &mut self,
        e: &EnrichedMention,
        position: Option<Position>,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) -> Result<(), ObserveError> {
        let o = Observed::new(e).ok_or(ObserveError::NoMention)?;
        let tenant_name = o.mention.tenant.as_str();
        if !self.tenants.contains_key(tenant_name) {
            self.tenants
                .insert(tenant_name.to_string(), TenantState::default());
        }
        let Some(t) = self.tenants.get_mut(tenant_name) else {
            return Ok(());
        };
        // A tenant piece is checkpointed after its watch pieces: when it has applied this record,
        // so has every watch the record touched.
        if applied(position, t.position) {
            self.stats.replayed += 1;
            return Ok(());
        }
        if t.watermark_ms > 0 && o.at() < t.watermark_ms - LATENESS_MS {
            // Too late for every detector; remembered as applied so a replay agrees.
            self.stats.late += 1;
            t.position = position.or(t.position);
            t.dirty = true;
            return Ok(());
        }
        let signals = &mut self.signals;
        let touched = to_matched_watches(t, &o, e, position, watches, now_ms, signals, out);
        let answers = ReplyKey::answering(&o);
        if !answers.is_empty() {
            to_awaiting_rules(t, &o, &answers, &touched, position, watches, now_ms, signals, out);
        }
        if o.at() > t.watermark_ms {
            t.watermark_ms = o.at();
            t.moved_at_wall_ms = now_ms;
        }
        t.position = position.or(t.position);
        t.dirty = true;
        if t.watermark_ms >= t.swept_ms + SWEEP_MS {
            Self::sweep(tenant_name, t, signals, watches, now_ms, out);
        }
        Ok(())
    }
}

/// Feeds the mention to every rule of the tenant's watches it matched; returns the ids of the
/// watches it was applied to.
#[allow(clippy::too_many_arguments)]
fn to_matched_watches<'w>(
    t: &mut TenantState,
    o: &Observed,
    e: &EnrichedMention,
    position: Option<Position>,
    watches: &'w WatchSet,
    now_ms: i64,
    signals: &mut Vec<Signal>,
    out: &mut Vec<Alert>,
) -> Vec<&'w str> {
    let mut touched = Vec::new();
    for key in &e.matched_watches {
        let Some(watch) = watches.get(key) else { continue };
        if watch.watch.rules.is_empty() || watch.watch.tenant != o.mention.tenant {
            continue;
        }
        let ws = t.watches.entry(watch.watch.id.clone()).or_default();
        if applied(position, ws.position) {
            continue;
        }
        ws.follow(watch, t.watermark_ms.max(o.at()), now_ms, out);
        let mut awaited = Vec::new();
        for mut r in ws.rules(watch) {
            r.slot.detector.observe(r.kind, o, signals);
            awaited.extend(r.slot.detector.reply_keys(o));
            r.settle(&t.silences, now_ms, signals, out);
        }
        ws.position = position.or(ws.position);
        ws.dirty = true;
        for key in awaited {
            t.await_reply(key, &watch.watch.id);
        }
        touched.push(watch.watch.id.as_str());
    }
    touched
}

/// Passes a possible answer to the rules awaiting an answer under one of `answers` (its parent
/// by full id or native id, its private conversation), in every watch of the tenant that has
/// one; `touched` are the watches that already observed it.
#[allow(clippy::too_many_arguments)]
fn to_awaiting_rules(
    t: &mut TenantState,
    o: &Observed,
    answers: &[ReplyKey],
    touched: &[&str],
    position: Option<Position>,
    watches: &WatchSet,
    now_ms: i64,
    signals: &mut Vec<Signal>,
    out: &mut Vec<Alert>,
) {
    for watch_id in t.awaiting_any(answers) {
        let key = vigie_core::topics::watch_key(&o.mention.tenant, &watch_id);
        let (Some(watch), Some(ws)) = (watches.get(&key), t.watches.get_mut(&watch_id)) else {
            continue;
        };
        // Skip only if an earlier run applied it (this record may have just been observed by
        // the same watch above).
        if applied(position, ws.position) && !touched.contains(&watch_id.as_str()) {
            continue;
        }
        ws.follow(watch, t.watermark_ms.max(o.at()), now_ms, out);
        for mut r in ws.rules(watch) {
            r.slot.detector.on_reply(r.kind, o, signals);
            r.settle(&t.silences, now_ms, signals, out);
        }
        ws.position = position.or(ws.position);
        ws.dirty = true;
    }
}
