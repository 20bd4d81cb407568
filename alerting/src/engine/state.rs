//! What the engine keeps per tenant, watch and rule (the checkpoint pieces' content), how a
//! watch's state follows its definition when rules change or disappear, and the one way to visit
//! a watch's rules ([`WatchState::rules`]).

use super::Position;
use crate::book::{AlertBook, RuleContext};
use crate::detector::{ReplyKey, Signal};
use crate::rules::Detector;
use crate::silence::SilenceRule;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_core::proto::{rule::Kind, Alert, Rule};
use vigie_core::rules::type_name;
use vigie_core::watches::CompiledWatch;

/// One rule's state.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct RuleSlot {
    name: String,
    /// Rule type and severity, to resolve its open alerts if the rule goes away.
    #[serde(default)]
    rule_type: String,
    #[serde(default)]
    severity: String,
    /// Hash of the rule definition the detector was built for; a changed rule starts afresh.
    fingerprint: u64,
    pub(super) detector: Detector,
    pub(super) book: AlertBook,
}

/// The state of one watch's rules.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct WatchState {
    /// `updated_at_ms` of the definition the slots follow.
    definition_ms: i64,
    /// The watch's display name (for alerts resolved after it was deleted).
    #[serde(default)]
    name: String,
    rules: Vec<RuleSlot>,
    pub(super) position: Option<Position>,
    #[serde(skip)]
    pub(super) dirty: bool,
}

/// The state of one tenant: its event-time clock, silences and watches.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct TenantState {
    pub(super) watermark_ms: i64,
    pub(super) swept_ms: i64,
    pub(super) silences: Vec<SilenceRule>,
    pub(super) position: Option<Position>,
    #[serde(skip)]
    pub(super) watches: HashMap<String, WatchState>,
    /// Keys of deleted watches whose checkpoint pieces must be tombstoned.
    #[serde(skip)]
    pub(super) deleted: Vec<String>,
    /// What a mention may answer (a parent's native id, a private conversation) → watches with
    /// a rule awaiting an answer under that key (see
    /// [`crate::detector::DetectorState::reply_keys`]).
    #[serde(skip)]
    pub(super) awaiting_reply: HashMap<ReplyKey, Vec<String>>,
    #[serde(skip)]
    pub(super) dirty: bool,
    /// Wall time at which the watermark last moved (not checkpointed: a restored tenant starts
    /// a fresh idle period).
    #[serde(skip)]
    pub(super) moved_at_wall_ms: i64,
}

impl TenantState {
    /// Rebuilds the reply index from what the rules still await.
    pub(super) fn reindex_replies(&mut self) {
        let mut index: HashMap<ReplyKey, Vec<String>> = HashMap::new();
        for (id, ws) in &self.watches {
            for slot in &ws.rules {
                for key in slot.detector.awaiting() {
                    let waiting = index.entry(key).or_default();
                    if !waiting.contains(id) {
                        waiting.push(id.clone());
                    }
                }
            }
        }
        self.awaiting_reply = index;
    }

    /// Notes that watch `watch_id` has a rule awaiting an answer under `key`.
    pub(super) fn await_reply(&mut self, key: ReplyKey, watch_id: &str) {
        let waiting = self.awaiting_reply.entry(key).or_default();
        if !waiting.iter().any(|w| w == watch_id) {
            waiting.push(watch_id.to_string());
        }
    }

    /// The watches awaiting an answer under any of `keys`, each once, in the order found.
    pub(super) fn awaiting_any(&self, keys: &[ReplyKey]) -> Vec<String> {
        let mut watches: Vec<String> = Vec::new();
        for key in keys {
            for w in self.awaiting_reply.get(key).into_iter().flatten() {
                if !watches.contains(w) {
                    watches.push(w.clone());
                }
            }
        }
        watches
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
    pub(super) fn follow(&mut self, watch: &CompiledWatch, at: i64, now_ms: i64, out: &mut Vec<Alert>) {
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

    /// Each rule of `watch` with its state, in the order [`WatchState::follow`] aligned them
    /// (call it first). Every visit of a watch's rules goes through here.
    pub(super) fn rules<'a>(
        &'a mut self,
        watch: &'a CompiledWatch,
    ) -> impl Iterator<Item = RuleRef<'a>> + 'a {
        watch
            .watch
            .rules
            .iter()
            .zip(self.rules.iter_mut())
            .filter_map(move |(rule, slot)| {
                let kind = rule.kind.as_ref()?;
                Some(RuleRef {
                    watch,
                    rule,
                    kind,
                    slot,
                })
            })
    }

    /// Resolves every open alert: the watch was deleted.
    pub(super) fn close(&mut self, tenant: &str, watch_id: &str, at: i64, now_ms: i64, out: &mut Vec<Alert>) {
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

/// One rule of a watch as the engine visits it: its definition and type, and its state.
pub(super) struct RuleRef<'a> {
    watch: &'a CompiledWatch,
    /// The rule's definition.
    pub(super) rule: &'a Rule,
    /// Its type and parameters.
    pub(super) kind: &'a Kind,
    /// Its detector and alert book.
    pub(super) slot: &'a mut RuleSlot,
}

impl<'a> RuleRef<'a> {
    /// What the rule's alert book needs to know, with the tenant's `silences`; `now_ms` only
    /// stamps `raised_at`.
    pub(super) fn context<'s>(&self, silences: &'s [SilenceRule], now_ms: i64) -> RuleContext<'s>
    where
        'a: 's,
    {
        let (watch, rule, kind) = (self.watch, self.rule, self.kind);
        RuleContext {
            tenant: &watch.watch.tenant,
            watch_id: &watch.watch.id,
            watch_name: &watch.watch.name,
            rule: &rule.name,
            rule_type: type_name(kind),
            severity: &rule.severity,
            cooldown_ms: rule.cooldown_seconds as i64 * 1000,
            episodic: Detector::episodic(kind),
            episode_memory_ms: Detector::episode_memory_ms(kind),
            silences,
            now_ms,
        }
    }

    /// Applies what the detector reported (`signals`, drained) to the rule's alert book; alert
    /// state changes are appended to `out`.
    pub(super) fn settle(
        &mut self,
        silences: &[SilenceRule],
        now_ms: i64,
        signals: &mut Vec<Signal>,
        out: &mut Vec<Alert>,
    ) {
        if signals.is_empty() {
            return;
        }
        let ctx = self.context(silences, now_ms);
        for s in signals.drain(..) {
            self.slot.book.apply(&ctx, s, out);
        }
    }
}
