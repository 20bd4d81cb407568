//! The alerting engine: routes each enriched mention to the rules of the watches it matched,
//! keeps every rule's detector and alert book, moves each tenant's event-time clock, applies
//! operators' commands, and exports its state as checkpoint pieces.
//!
//! Pure stage logic: no clock (wall time is passed in, only to stamp `raised_at`), no transport.
//! The same engine runs the service, `vigie standalone` and `vigie backtest`.

use crate::book::{AlertBook, RuleContext, SilenceRule};
use crate::detector::{Observed, Signal, LATENESS_MS};
use crate::rules::Detector;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_core::proto::{alert_command, rule::Kind, Alert, AlertCommand, EnrichedMention, Rule};
use vigie_core::rules::type_name;
use vigie_core::watches::{CompiledWatch, WatchSet};

/// Unanswered questions stay open (and answerable) this long.
const UNANSWERED_OPEN_MS: i64 = 7 * 86_400_000;
/// Event time between two sweeps of a tenant's rules (closing windows, deadlines, expiry).
const SWEEP_MS: i64 = 60_000;
/// Sweeps between checkpoints of a watch whose sweeps raised nothing.
const CHECKPOINT_SWEEPS: i64 = 10;

/// Where a record sits in its input: (partition, offset). A state piece remembers the last
/// position it applied, so a redelivered record never counts twice after a restore.
pub type Position = (i32, i64);

fn applied(record: Option<Position>, piece: Option<Position>) -> bool {
    matches!((record, piece), (Some((p, o)), Some((pp, oo))) if p == pp && o <= oo)
}

/// One rule's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RuleSlot {
    name: String,
    /// Rule type and severity, to resolve its open alerts if the rule goes away.
    #[serde(default)]
    rule_type: String,
    #[serde(default)]
    severity: String,
    /// Hash of the rule definition the detector was built for; a changed rule starts afresh.
    fingerprint: u64,
    detector: Detector,
    book: AlertBook,
}

/// The state of one watch's rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct WatchState {
    /// `updated_at_ms` of the definition the slots follow.
    definition_ms: i64,
    /// The watch's display name (for alerts resolved after it was deleted).
    #[serde(default)]
    name: String,
    rules: Vec<RuleSlot>,
    position: Option<Position>,
    #[serde(skip)]
    dirty: bool,
}

/// The state of one tenant: its event-time clock, silences and watches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TenantState {
    watermark_ms: i64,
    swept_ms: i64,
    silences: Vec<SilenceRule>,
    position: Option<Position>,
    #[serde(skip)]
    watches: HashMap<String, WatchState>,
    /// Keys of deleted watches whose checkpoint pieces must be tombstoned.
    #[serde(skip)]
    deleted: Vec<String>,
    /// Question native id → watches with an `unanswered` rule waiting for it.
    #[serde(skip)]
    questions: HashMap<String, Vec<String>>,
    #[serde(skip)]
    dirty: bool,
    /// Wall time at which the watermark last moved (not checkpointed: a restored tenant starts
    /// a fresh idle period).
    #[serde(skip)]
    moved_at_wall_ms: i64,
}

/// Counters the service turns into metrics.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct EngineStats {
    /// Mentions ignored because they came later than the lateness allowance.
    pub late: u64,
    /// Records skipped because the restored state had already applied them.
    pub replayed: u64,
}

/// The engine's whole state.
#[derive(Debug, Default)]
pub struct Engine {
    tenants: HashMap<String, TenantState>,
    stats: EngineStats,
    signals: Vec<Signal>,
}

impl TenantState {
    /// Rebuilds the reply index from the questions that still wait.
    fn reindex_questions(&mut self) {
        self.questions.clear();
        for (id, ws) in &self.watches {
            for slot in &ws.rules {
                if let Detector::Unanswered(u) = &slot.detector {
                    for q in u.waiting() {
                        self.questions.entry(q.clone()).or_default().push(id.clone());
                    }
                }
            }
        }
    }
}

/// Hash of a rule's detector parameters: a changed severity or cooldown keeps the detector's
/// state, a changed window or threshold starts it afresh.
fn fingerprint(rule: &Rule) -> u64 {
    use prost::Message;
    let kind = rule.kind.as_ref().map(|k| {
        Rule {
            kind: Some(k.clone()),
            ..Default::default()
        }
        .encode_to_vec()
    });
    crate::detector::stable_hash(&format!("{:?}", kind))
}

impl WatchState {
    /// Aligns the slots with the watch's current rules: same name and detector parameters keep
    /// their state; anything else starts afresh, and the open alerts of a rule that changed or
    /// disappeared are resolved (at event time `at`) rather than left firing forever.
    fn follow(&mut self, watch: &CompiledWatch, at: i64, now_ms: i64, out: &mut Vec<Alert>) {
        if self.definition_ms == watch.watch.updated_at_ms && self.rules.len() == watch.watch.rules.len() {
            return;
        }
        self.name = watch.watch.name.clone();
        let mut old = std::mem::take(&mut self.rules);
        for r in &watch.watch.rules {
            let Some(kind) = &r.kind else { continue };
            let fp = fingerprint(r);
            let slot = match old.iter().position(|s| s.name == r.name && s.fingerprint == fp) {
                Some(i) => {
                    let mut slot = old.swap_remove(i);
                    slot.severity = r.severity.clone();
                    slot
                }
                None => RuleSlot {
                    name: r.name.clone(),
                    rule_type: type_name(kind).to_string(),
                    severity: r.severity.clone(),
                    fingerprint: fp,
                    detector: Detector::new(kind),
                    book: AlertBook::default(),
                },
            };
            self.rules.push(slot);
        }
        for gone in old {
            gone.close(
                &watch.watch.tenant,
                &watch.watch.id,
                &self.name,
                at,
                now_ms,
                "the rule changed",
                out,
            );
        }
        self.definition_ms = watch.watch.updated_at_ms;
        self.dirty = true;
    }

    /// Resolves every open alert: the watch was deleted.
    fn close(&mut self, tenant: &str, watch_id: &str, at: i64, now_ms: i64, out: &mut Vec<Alert>) {
        for slot in std::mem::take(&mut self.rules) {
            slot.close(
                tenant,
                watch_id,
                &self.name,
                at,
                now_ms,
                "the watch was deleted",
                out,
            );
        }
    }
}

impl RuleSlot {
    /// Resolves the open alerts of a rule whose definition is gone, saying why.
    #[allow(clippy::too_many_arguments)]
    fn close(
        self,
        tenant: &str,
        watch_id: &str,
        watch_name: &str,
        at: i64,
        now_ms: i64,
        why: &str,
        out: &mut Vec<Alert>,
    ) {
        let RuleSlot {
            name,
            rule_type,
            severity,
            mut book,
            ..
        } = self;
        let ctx = RuleContext {
            tenant,
            watch_id,
            watch_name,
            rule: &name,
            rule_type: &rule_type,
            severity: &severity,
            cooldown_ms: 0,
            episodic: true,
            episode_memory_ms: 0,
            silences: &[],
            now_ms,
        };
        book.close_all(&ctx, at, why, out);
    }
}

fn context<'a>(
    watch: &'a CompiledWatch,
    rule: &'a Rule,
    kind: &Kind,
    silences: &'a [SilenceRule],
    now_ms: i64,
) -> RuleContext<'a> {
    RuleContext {
        tenant: &watch.watch.tenant,
        watch_id: &watch.watch.id,
        watch_name: &watch.watch.name,
        rule: &rule.name,
        rule_type: type_name(kind),
        severity: &rule.severity,
        cooldown_ms: rule.cooldown_seconds as i64 * 1000,
        episodic: Detector::episodic(kind),
        episode_memory_ms: match kind {
            Kind::Escalation(r) => 2 * r.window_seconds as i64 * 1000,
            Kind::NewTerm(r) => r.window_seconds as i64 * 1000 + r.history_days as i64 * 86_400_000,
            Kind::Unanswered(r) => r.sla_seconds as i64 * 1000 + UNANSWERED_OPEN_MS,
            _ => 0,
        },
        silences,
        now_ms,
    }
}

/// Applies `signals` to `book`, draining them.
fn settle(book: &mut AlertBook, ctx: &RuleContext, signals: &mut Vec<Signal>, out: &mut Vec<Alert>) {
    for s in signals.drain(..) {
        book.apply(ctx, s, out);
    }
}

impl Engine {
    /// Counters since start.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Newest event time seen for `tenant`.
    pub fn watermark(&self, tenant: &str) -> Option<i64> {
        self.tenants.get(tenant).map(|t| t.watermark_ms)
    }

    /// Feeds one enriched mention read at `position` (None when not from a partitioned input);
    /// alert state changes are appended to `out`. `now_ms` only stamps `raised_at`.
    pub fn observe(
        &mut self,
        e: &EnrichedMention,
        position: Option<Position>,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) {
        let Some(o) = Observed::new(e) else { return };
        let tenant_name = o.mention.tenant.as_str();
        if !self.tenants.contains_key(tenant_name) {
            self.tenants
                .insert(tenant_name.to_string(), TenantState::default());
        }
        let Some(t) = self.tenants.get_mut(tenant_name) else {
            return;
        };
        // A tenant piece is checkpointed after its watch pieces: when it has applied this record,
        // so has every watch the record touched.
        if applied(position, t.position) {
            self.stats.replayed += 1;
            return;
        }
        if t.watermark_ms > 0 && o.at() < t.watermark_ms - LATENESS_MS {
            // Too late for every detector; remembered as applied so a replay agrees.
            self.stats.late += 1;
            t.position = position.or(t.position);
            t.dirty = true;
            return;
        }
        let signals = &mut self.signals;
        let mut touched: Vec<&str> = Vec::new();
        for key in &e.matched_watches {
            let Some(watch) = watches.get(key) else { continue };
            if watch.watch.rules.is_empty() || watch.watch.tenant != tenant_name {
                continue;
            }
            let ws = t.watches.entry(watch.watch.id.clone()).or_default();
            if applied(position, ws.position) {
                continue;
            }
            ws.follow(watch, t.watermark_ms.max(o.at()), now_ms, out);
            for (rule, slot) in watch.watch.rules.iter().zip(ws.rules.iter_mut()) {
                let Some(kind) = &rule.kind else { continue };
                slot.detector.observe(kind, &o, signals);
                if let Detector::Unanswered(u) = &slot.detector {
                    if u.waits_for(&o.mention.native_id) {
                        let waiting = t.questions.entry(o.mention.native_id.clone()).or_default();
                        if !waiting.contains(&watch.watch.id) {
                            waiting.push(watch.watch.id.clone());
                        }
                    }
                }
                if !signals.is_empty() {
                    let ctx = context(watch, rule, kind, &t.silences, now_ms);
                    settle(&mut slot.book, &ctx, signals, out);
                }
            }
            ws.position = position.or(ws.position);
            ws.dirty = true;
            touched.push(&watch.watch.id);
        }
        if !o.mention.parent_id.is_empty() {
            let parent = o.mention.parent_id.as_str();
            let native = parent.rsplit(':').next().unwrap_or(parent);
            let waiting = t
                .questions
                .get(parent)
                .or_else(|| t.questions.get(native))
                .cloned();
            for watch_id in waiting.unwrap_or_default() {
                let key = vigie_core::topics::watch_key(tenant_name, &watch_id);
                let (Some(watch), Some(ws)) = (watches.get(&key), t.watches.get_mut(&watch_id)) else {
                    continue;
                };
                // Skip only if an earlier run applied it (this record may have just been observed
                // by the same watch above).
                if applied(position, ws.position) && !touched.contains(&watch_id.as_str()) {
                    continue;
                }
                ws.follow(watch, t.watermark_ms.max(o.at()), now_ms, out);
                for (rule, slot) in watch.watch.rules.iter().zip(ws.rules.iter_mut()) {
                    let (Some(Kind::Unanswered(r)), Detector::Unanswered(u)) =
                        (&rule.kind, &mut slot.detector)
                    else {
                        continue;
                    };
                    u.on_reply(r, &o, signals);
                    if let Some(kind) = &rule.kind {
                        let ctx = context(watch, rule, kind, &t.silences, now_ms);
                        settle(&mut slot.book, &ctx, signals, out);
                    }
                }
                ws.position = position.or(ws.position);
                ws.dirty = true;
            }
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
    }

    /// Moves every rule of the tenant to its watermark: closes windows, checks deadlines,
    /// expires old episodes, drops the state of deleted watches.
    fn sweep(
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
            for (rule, slot) in watch.watch.rules.iter().zip(ws.rules.iter_mut()) {
                let Some(kind) = &rule.kind else { continue };
                slot.detector.advance(kind, watermark, signals);
                let ctx = context(watch, rule, kind, &t.silences, now_ms);
                settle(&mut slot.book, &ctx, signals, out);
                let keep_open = if matches!(kind, Kind::Unanswered(_)) {
                    UNANSWERED_OPEN_MS
                } else {
                    0
                };
                slot.book.expire(&ctx, watermark, keep_open, out);
            }
            // What a sweep changes without raising anything (closed buckets, pruned memories)
            // is redone identically after a restore, from the same open buckets: checkpoint it
            // only every CHECKPOINT_SWEEPS minutes per watch (staggered), not every minute.
            let stagger = crate::detector::stable_hash(id) as i64;
            if out.len() > produced || (minute + stagger).rem_euclid(CHECKPOINT_SWEEPS) == 0 {
                ws.dirty = true;
            }
        }
        t.silences.retain(|s| s.ends_at_ms + 86_400_000 >= watermark);
        t.reindex_questions();
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

    /// Applies an operator's command; state changes are appended to `out`. Returns a
    /// description of what was wrong when the command names nothing that exists.
    pub fn command(
        &mut self,
        cmd: &AlertCommand,
        watches: &WatchSet,
        now_ms: i64,
        out: &mut Vec<Alert>,
    ) -> Result<(), String> {
        if let Some(alert_command::Action::ClockMs(to)) = &cmd.action {
            self.advance(&cmd.tenant, *to, watches, now_ms, out);
            return Ok(());
        }
        let t = self.tenants.entry(cmd.tenant.clone()).or_default();
        let at = t.watermark_ms.max(1);
        match &cmd.action {
            None | Some(alert_command::Action::ClockMs(_)) => Err("no action".into()),
            Some(alert_command::Action::Silence(s)) => {
                if s.ends_at_ms <= s.starts_at_ms {
                    return Err(format!("silence {}: ends_at must be after starts_at", s.id));
                }
                t.silences.retain(|x| x.id != s.id);
                t.silences.push(SilenceRule {
                    id: s.id.clone(),
                    watch_id: s.watch_id.clone(),
                    rule: s.rule.clone(),
                    starts_at_ms: s.starts_at_ms,
                    ends_at_ms: s.ends_at_ms,
                });
                t.dirty = true;
                Ok(())
            }
            Some(alert_command::Action::ExpireSilence(id)) => {
                let s = t
                    .silences
                    .iter_mut()
                    .find(|s| s.id == *id)
                    .ok_or_else(|| format!("no silence {id:?} for tenant {}", cmd.tenant))?;
                s.ends_at_ms = s.ends_at_ms.min(at.max(now_ms.min(s.ends_at_ms)));
                t.dirty = true;
                Ok(())
            }
            Some(alert_command::Action::Acknowledge(id)) | Some(alert_command::Action::Resolve(id)) => {
                let ack = matches!(cmd.action, Some(alert_command::Action::Acknowledge(_)));
                for (watch_id, ws) in t.watches.iter_mut() {
                    let key = vigie_core::topics::watch_key(&cmd.tenant, watch_id);
                    let Some(watch) = watches.get(&key) else { continue };
                    ws.follow(watch, at, now_ms, out);
                    for (rule, slot) in watch.watch.rules.iter().zip(ws.rules.iter_mut()) {
                        let Some(kind) = &rule.kind else { continue };
                        let ctx = context(watch, rule, kind, &t.silences, now_ms);
                        if !slot.book.open_ids().any(|x| x == id) {
                            if slot.book.knows(&ctx, id) {
                                // Already resolved (a repeated or replayed command): nothing to do.
                                return Ok(());
                            }
                            continue;
                        }
                        let changed = if ack {
                            slot.book.acknowledge(&ctx, id, &cmd.actor, at, out)
                        } else {
                            slot.book.resolve(&ctx, id, &cmd.actor, at, out)
                        };
                        ws.dirty |= changed;
                        return Ok(());
                    }
                }
                Err(format!("no open alert {id:?} for tenant {}", cmd.tenant))
            }
        }
    }

    /// Serialised pieces changed since the last call: ("<tenant>" or "<tenant>/<watch id>",
    /// LZ4-compressed JSON (see [`compress_piece`]), or `None` for the piece of a deleted watch). Watch pieces come before their
    /// tenant's piece.
    pub fn take_checkpoint(&mut self) -> Vec<(String, Option<Vec<u8>>)> {
        let mut pieces = Vec::new();
        for (name, t) in self.tenants.iter_mut() {
            pieces.extend(t.deleted.drain(..).map(|key| (key, None)));
            for (id, ws) in t.watches.iter_mut().filter(|(_, w)| w.dirty) {
                ws.dirty = false;
                if let Ok(bytes) = serde_json::to_vec(ws) {
                    pieces.push((
                        vigie_core::topics::watch_key(name, id),
                        Some(compress_piece(&bytes)),
                    ));
                }
            }
            if t.dirty {
                t.dirty = false;
                if let Ok(bytes) = serde_json::to_vec(t) {
                    pieces.push((name.clone(), Some(compress_piece(&bytes))));
                }
            }
        }
        pieces
    }

    /// Restores one checkpoint piece (as produced by [`Engine::take_checkpoint`]).
    pub fn restore(&mut self, key: &str, bytes: &[u8]) -> Result<(), String> {
        let json = decompress_piece(bytes).map_err(|e| format!("checkpoint piece {key}: {e}"))?;
        let bytes = json.as_slice();
        match key.split_once('/') {
            Some((tenant, watch)) => {
                let ws: WatchState =
                    serde_json::from_slice(bytes).map_err(|e| format!("checkpoint piece {key}: {e}"))?;
                self.tenants
                    .entry(tenant.to_string())
                    .or_default()
                    .watches
                    .insert(watch.to_string(), ws);
            }
            None => {
                let restored: TenantState =
                    serde_json::from_slice(bytes).map_err(|e| format!("checkpoint piece {key}: {e}"))?;
                let t = self.tenants.entry(key.to_string()).or_default();
                t.watermark_ms = restored.watermark_ms;
                t.swept_ms = restored.swept_ms;
                t.silences = restored.silences;
                t.position = restored.position;
            }
        }
        Ok(())
    }

    /// Rebuilds what checkpoints do not hold (the reply index) after restoring pieces.
    pub fn restored(&mut self) {
        for t in self.tenants.values_mut() {
            t.reindex_questions();
        }
    }

    /// Drops all state (before restoring from a checkpoint after a rebalance).
    pub fn clear(&mut self) {
        self.tenants.clear();
    }
}

/// Marks a compressed checkpoint piece; pieces written before compression are plain JSON
/// (starting with `{`) and still read.
const LZ4_MAGIC: &[u8; 4] = b"VLZ4";

/// A checkpoint piece as stored: `VLZ4`, then the JSON compressed with LZ4 (size prepended).
/// Busy watches' state (new terms, stories) is repetitive text: a fraction of its size on the
/// topic, far from the broker's message size limit.
pub fn compress_piece(json: &[u8]) -> Vec<u8> {
    let mut out = LZ4_MAGIC.to_vec();
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size(json));
    out
}

/// The JSON of a stored checkpoint piece (compressed or, from before compression, plain).
pub fn decompress_piece(bytes: &[u8]) -> Result<Vec<u8>, String> {
    match bytes.strip_prefix(LZ4_MAGIC) {
        Some(compressed) => {
            // The size header is checked before anything is allocated: LZ4 expands at most
            // 255 times, and no piece is anywhere near 64 MiB.
            let (size, body) = compressed
                .split_first_chunk::<4>()
                .map(|(size, body)| (u32::from_le_bytes(*size) as usize, body))
                .ok_or("corrupt compressed piece: no size")?;
            if size > body.len().saturating_mul(255).max(16) || size > 64 << 20 {
                return Err(format!(
                    "corrupt compressed piece: claims {size} bytes from {}",
                    body.len()
                ));
            }
            lz4_flex::block::decompress(body, size).map_err(|e| format!("corrupt compressed piece: {e}"))
        }
        None => Ok(bytes.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_pieces_are_compressed_and_old_plain_ones_still_read() {
        let json: Vec<u8> = serde_json::to_vec(&serde_json::json!({
            "terms": (0..2_000).map(|i| format!("#term{i}")).collect::<Vec<_>>()
        }))
        .unwrap();
        let stored = compress_piece(&json);
        assert!(stored.starts_with(b"VLZ4"));
        assert!(
            stored.len() * 2 < json.len(),
            "{} -> {}",
            json.len(),
            stored.len()
        );
        assert_eq!(decompress_piece(&stored).unwrap(), json);
        assert_eq!(
            decompress_piece(b"{\"a\":1}").unwrap(),
            b"{\"a\":1}",
            "plain JSON as written before"
        );
        let mut corrupt = stored.clone();
        corrupt.truncate(20);
        assert!(decompress_piece(&corrupt).is_err());
        // A hostile size header is refused before any allocation.
        let mut huge = b"VLZ4".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(b"abc");
        assert!(decompress_piece(&huge).unwrap_err().contains("claims"));
    }
    use crate::testkit::{m, MIN};
    use vigie_core::proto::{AlertState, Source};
    use vigie_core::watches::{parse_file, WatchRegistry};

    /// One watch carrying every rule type.
    const WATCHES: &str = r#"
[[watch]]
tenant = "acme"
id = "w"
query = "acme"
[[watch.rule]]
name = "burst"
type = "threshold"
min_count = 5
window = "10m"
[[watch.rule]]
name = "spike"
type = "volume_spike"
min_count = 10
[[watch.rule]]
name = "negative"
type = "negative_surge"
min_negative = 5
[[watch.rule]]
name = "risky"
type = "risky_mention"
[[watch.rule]]
name = "newtag"
type = "new_term"
min_count = 3
history = "2d"
[[watch.rule]]
name = "silence"
type = "flatline"
window = "1h"
min_expected = 2
[[watch.rule]]
name = "overflow"
type = "escalation"
by = "watch"
min_stages = 3
window = "6h"
[[watch.rule]]
name = "sla"
type = "unanswered"
sla = "1h"
brand_authors = ["acmecare"]
"#;

    /// Six days of a crafted stream exercising every rule: routine traffic with a daily cycle,
    /// a silent afternoon, a new hashtag, a toxic post, a question answered late, and a story
    /// going from private messages to the press in a burst of complaints.
    fn stream() -> Vec<EnrichedMention> {
        let mut out = Vec::new();
        let day = 24 * 60 * MIN;
        for d in 0..6 {
            for slot in 0..(24 * 12) {
                let t = d * day + slot * 5 * MIN;
                let hour = slot / 12;
                // Routine: one mention every 5 minutes by day, every 15 at night; silent on
                // day 4 from 14:00 to 18:00.
                let silent = d == 4 && (14..18).contains(&hour);
                if silent || (!(8..20).contains(&hour) && slot % 3 != 0) {
                    continue;
                }
                out.push(m(&format!("r{d}-{slot}"), t).build());
            }
        }
        let t = 5 * day + 10 * 60 * MIN;
        out.push(
            m("dm", t)
                .source(Source::Whatsapp)
                .text("acme my order never came")
                .negative()
                .build(),
        );
        out.push(m("q", t + MIN).text("acme where is my parcel?").build());
        out.push(m("tox", t + 2 * MIN).risk(0.95, &[]).build());
        for k in 0..40 {
            let e = m(&format!("angry{k}"), t + 10 * MIN + k * 20_000)
                .negative()
                .hashtags(&["#acmefail"]);
            out.push(e.build());
        }
        out.push(m("press", t + 30 * MIN).source(Source::News).negative().build());
        out.push(
            m("reply", t + 3 * 60 * MIN)
                .reply_to("q")
                .author("acmecare", 10, true)
                .build(),
        );
        out.push(m("after", t + 4 * 60 * MIN).build());
        out.sort_by_key(|e| e.mention.as_ref().map(|m| m.created_at_ms));
        out
    }

    fn run(
        engine: &mut Engine,
        watches: &WatchSet,
        records: &[EnrichedMention],
        from: usize,
    ) -> Vec<(String, u64, i32)> {
        let mut alerts = Vec::new();
        for (i, e) in records.iter().enumerate() {
            engine.observe(e, Some((0, (from + i) as i64)), watches, 0, &mut alerts);
        }
        alerts.into_iter().map(|a| (a.id, a.version, a.state)).collect()
    }

    #[test]
    fn every_rule_type_fires_and_a_restore_mid_stream_changes_nothing() {
        let registry = WatchRegistry::default();
        registry
            .upsert(parse_file(WATCHES, "t").unwrap().remove(0))
            .unwrap();
        let watches = registry.read();
        let records = stream();
        let mut whole = Engine::default();
        let reference = run(&mut whole, &watches, &records, 0);
        for rule in [
            "burst", "spike", "negative", "risky", "newtag", "silence", "overflow", "sla",
        ] {
            assert!(
                reference
                    .iter()
                    .any(|(id, v, _)| id.contains(&format!(":{rule}:")) && *v == 1),
                "{rule} never fired: {reference:?}"
            );
        }
        // Interrupted at every fifth of the stream: checkpoint, restore into a fresh engine
        // (as a restarted instance would), and replay from a little before the cut (redelivery).
        for cut in [1, 2, 3, 4].map(|k| records.len() * k / 5) {
            let mut first = Engine::default();
            let mut got = run(&mut first, &watches, &records[..cut], 0);
            let mut second = Engine::default();
            for (key, bytes) in first.take_checkpoint() {
                second.restore(&key, &bytes.unwrap()).unwrap();
            }
            second.restored();
            let replay_from = cut.saturating_sub(30);
            got.extend(run(&mut second, &watches, &records[replay_from..], replay_from));
            assert_eq!(got, reference, "cut at {cut}");
        }
    }

    #[test]
    fn a_live_tenant_gone_silent_gets_its_clock_moved_and_its_flatline_seen() {
        let registry = WatchRegistry::default();
        let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\n\
                    name = \"silence\"\ntype = \"flatline\"\nwindow = \"15m\"\nmin_expected = 2\n";
        registry.upsert(parse_file(file, "t").unwrap().remove(0)).unwrap();
        let watches = registry.read();
        let mut engine = Engine::default();
        let mut alerts = Vec::new();
        // Eight hours of live traffic (event time = wall time), one mention every two minutes.
        let start = 1_800_000_000_000i64;
        for i in 0..240 {
            let at = start + i * 2 * MIN;
            engine.observe(&m(&format!("m{i}"), at).build(), None, &watches, at, &mut alerts);
        }
        let last = start + 239 * 2 * MIN;
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

    const QUIET: i64 = 60_000;
    const LIVE: i64 = 6 * 3_600_000;

    #[test]
    fn a_deleted_watch_or_a_changed_rule_resolves_its_open_alerts() {
        let registry = WatchRegistry::default();
        let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\n\
                    name = \"burst\"\ntype = \"threshold\"\nmin_count = 3\nwindow = \"1h\"\n";
        let mut watch = parse_file(file, "t").unwrap().remove(0);
        registry.upsert(watch.clone()).unwrap();
        let mut engine = Engine::default();
        let mut alerts = Vec::new();
        for i in 0..3 {
            engine.observe(
                &m(&format!("a{i}"), i * MIN).build(),
                None,
                &registry.read(),
                0,
                &mut alerts,
            );
        }
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        // The threshold changes: the open alert is resolved, the rule starts afresh.
        if let Some(vigie_core::proto::rule::Kind::Threshold(t)) = &mut watch.rules[0].kind {
            t.min_count = 10;
        }
        watch.updated_at_ms += 1;
        registry.upsert(watch).unwrap();
        engine.observe(&m("b", 4 * MIN).build(), None, &registry.read(), 0, &mut alerts);
        assert_eq!(alerts.len(), 2);
        assert_eq!(alerts[1].state(), AlertState::Resolved);
        assert!(
            alerts[1].summary.contains("the rule changed"),
            "{}",
            alerts[1].summary
        );
        // Fire again, then delete the watch: resolved at the next sweep, piece tombstoned.
        for i in 0..10 {
            engine.observe(
                &m(&format!("c{i}"), 5 * MIN + i * 1000).build(),
                None,
                &registry.read(),
                0,
                &mut alerts,
            );
        }
        assert_eq!(alerts.len(), 3);
        engine.take_checkpoint();
        registry.remove("acme/w");
        engine.observe(
            &m("d", 20 * MIN).watches(&[]).build(),
            None,
            &registry.read(),
            0,
            &mut alerts,
        );
        assert_eq!(alerts.len(), 4);
        assert!(alerts[3].summary.contains("the watch was deleted"));
        assert!(engine.take_checkpoint().contains(&("acme/w".to_string(), None)));
    }
}
