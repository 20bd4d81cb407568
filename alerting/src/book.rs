//! The alert lifecycle of one rule of one watch: firing → acknowledged → resolved, with
//! deterministic ids, cooldowns and silences. Detectors say *what holds*; the book decides what
//! is a new alert, what is the same alert again, and what changed state.
//!
//! Ids are `<tenant>:<watch>:<rule>:<episode>`, where the episode comes from the data (a bucket
//! start, a mention id, a term), so a replay or a redelivery produces the same ids. Each state
//! change is emitted once, with a version one higher than the last.

use crate::detector::{EvidenceData, Firing, Signal, LATENESS_MS};
use crate::silence::SilenceRule;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_core::names::parse_severity;
use vigie_core::proto::{Alert, AlertState, Severity};

/// An episodic alert nobody resolved closes by itself this long after firing (at least).
pub const EPISODIC_MIN_OPEN_MS: i64 = 3_600_000;

/// Everything the book needs to know about the rule it keeps alerts for.
pub struct RuleContext<'a> {
    /// Tenant.
    pub tenant: &'a str,
    /// Watch id.
    pub watch_id: &'a str,
    /// Watch display name.
    pub watch_name: &'a str,
    /// Rule name.
    pub rule: &'a str,
    /// Rule type.
    pub rule_type: &'a str,
    /// Rule severity name.
    pub severity: &'a str,
    /// Cooldown, ms.
    pub cooldown_ms: i64,
    /// Whether each episode is its own alert.
    pub episodic: bool,
    /// How long a fired episode stays reserved, so a detector reporting it again (a chain
    /// extended hours later, a question still unanswered) never reuses its id as a new alert.
    pub episode_memory_ms: i64,
    /// The tenant's silences.
    pub silences: &'a [SilenceRule],
    /// Wall time, stamped as `raised_at_ms`.
    pub now_ms: i64,
}

/// An alert that is firing or acknowledged.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OpenAlert {
    id: String,
    episode: String,
    acknowledged: bool,
    version: u64,
    fired_at_ms: i64,
    updated_at_ms: i64,
    window_start_ms: i64,
    window_end_ms: i64,
    summary: String,
    evidence: EvidenceData,
    silenced_by: String,
    actor: String,
}

/// The alerts of one rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AlertBook {
    open: Vec<OpenAlert>,
    /// Episodes that fired, with when: each fires once.
    fired: HashMap<String, i64>,
    /// When the rule's last alert resolved (condition rules' cooldown).
    last_resolved_ms: Option<i64>,
}

impl OpenAlert {
    fn to_alert(&self, ctx: &RuleContext, state: AlertState) -> Alert {
        Alert {
            id: self.id.clone(),
            tenant: ctx.tenant.to_string(),
            watch_id: ctx.watch_id.to_string(),
            watch_name: ctx.watch_name.to_string(),
            rule: ctx.rule.to_string(),
            rule_type: ctx.rule_type.to_string(),
            severity: parse_severity(ctx.severity).unwrap_or(Severity::Warning) as i32,
            state: state as i32,
            window_start_ms: self.window_start_ms,
            window_end_ms: self.window_end_ms,
            evidence: Some(self.evidence.to_proto()),
            summary: self.summary.clone(),
            raised_at_ms: ctx.now_ms,
            fired_at_ms: self.fired_at_ms,
            updated_at_ms: self.updated_at_ms,
            version: self.version,
            group_key: vigie_core::topics::watch_key(ctx.tenant, ctx.watch_id),
            silenced_by: self.silenced_by.clone(),
            actor: self.actor.clone(),
        }
    }
}

impl AlertBook {
    /// Applies a detector's signal; state changes are appended to `out`.
    pub fn apply(&mut self, ctx: &RuleContext, signal: Signal, out: &mut Vec<Alert>) {
        match signal {
            Signal::Fire(f) => self.fire(ctx, f, out),
            Signal::Clear { episode, at_ms, note } => {
                // A clear about data older than the firing (a late-closing earlier bucket) is stale.
                let index = match &episode {
                    Some(e) => self.open.iter().position(|a| a.episode == *e),
                    None if !ctx.episodic => (!self.open.is_empty()).then_some(0),
                    None => None,
                }
                .filter(|i| at_ms >= self.open[*i].fired_at_ms);
                if let Some(i) = index {
                    self.resolve_at(ctx, i, at_ms, &note, "", out);
                }
            }
        }
    }

    fn fire(&mut self, ctx: &RuleContext, f: Firing, out: &mut Vec<Alert>) {
        if let Some(open) = self
            .open
            .iter_mut()
            .find(|a| a.episode == f.episode || !ctx.episodic)
        {
            // The same alert again: keep the strongest evidence, emit nothing.
            if f.evidence.count > open.evidence.count {
                open.evidence = f.evidence;
                open.window_end_ms = open.window_end_ms.max(f.window_end_ms);
            }
            return;
        }
        if self.fired.contains_key(&f.episode) {
            return;
        }
        if !ctx.episodic
            && self
                .last_resolved_ms
                .is_some_and(|t| f.at_ms < t + ctx.cooldown_ms)
        {
            return;
        }
        let silenced_by = ctx
            .silences
            .iter()
            .find(|s| s.mutes(ctx.watch_id, ctx.rule, f.at_ms))
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let alert = OpenAlert {
            id: format!("{}:{}:{}:{}", ctx.tenant, ctx.watch_id, ctx.rule, f.episode),
            episode: f.episode.clone(),
            acknowledged: false,
            version: 1,
            fired_at_ms: f.at_ms,
            updated_at_ms: f.at_ms,
            window_start_ms: f.window_start_ms,
            window_end_ms: f.window_end_ms,
            summary: f.summary,
            evidence: f.evidence,
            silenced_by,
            actor: String::new(),
        };
        vigie_core::metrics::alert_raised(ctx.rule_type, ctx.severity);
        out.push(alert.to_alert(ctx, AlertState::Firing));
        self.fired.insert(f.episode, f.at_ms);
        self.open.push(alert);
    }

    fn resolve_at(
        &mut self,
        ctx: &RuleContext,
        i: usize,
        at: i64,
        note: &str,
        actor: &str,
        out: &mut Vec<Alert>,
    ) {
        let mut a = self.open.remove(i);
        a.version += 1;
        a.updated_at_ms = at.max(a.fired_at_ms);
        a.summary = format!("{} — resolved: {note}", a.summary);
        a.actor = actor.to_string();
        out.push(a.to_alert(ctx, AlertState::Resolved));
        if !ctx.episodic {
            self.last_resolved_ms = Some(a.updated_at_ms);
        }
    }

    /// Closes episodic alerts that outlived their time and forgets old episodes.
    pub fn expire(&mut self, ctx: &RuleContext, watermark: i64, keep_open_ms: i64, out: &mut Vec<Alert>) {
        if ctx.episodic {
            let open_for = ctx.cooldown_ms.max(EPISODIC_MIN_OPEN_MS).max(keep_open_ms);
            while let Some(i) = self
                .open
                .iter()
                .position(|a| a.fired_at_ms + open_for <= watermark)
            {
                let at = self.open[i].fired_at_ms + open_for;
                self.resolve_at(ctx, i, at, "no longer current", "", out);
            }
        }
        let keep = ctx
            .cooldown_ms
            .max(EPISODIC_MIN_OPEN_MS)
            .max(keep_open_ms)
            .max(ctx.episode_memory_ms)
            + 2 * LATENESS_MS;
        // An episode stays remembered while its alert is open.
        let open = &self.open;
        self.fired
            .retain(|e, t| *t + keep >= watermark || open.iter().any(|a| a.episode == *e));
    }

    /// Acknowledges the open alert `id`; true when it changed.
    pub fn acknowledge(
        &mut self,
        ctx: &RuleContext,
        id: &str,
        actor: &str,
        at: i64,
        out: &mut Vec<Alert>,
    ) -> bool {
        let Some(a) = self.open.iter_mut().find(|a| a.id == id && !a.acknowledged) else {
            return false;
        };
        a.acknowledged = true;
        a.version += 1;
        a.updated_at_ms = at.max(a.fired_at_ms);
        a.actor = actor.to_string();
        out.push(a.to_alert(ctx, AlertState::Acknowledged));
        true
    }

    /// Resolves the open alert `id` by hand; true when it changed.
    pub fn resolve(
        &mut self,
        ctx: &RuleContext,
        id: &str,
        actor: &str,
        at: i64,
        out: &mut Vec<Alert>,
    ) -> bool {
        let Some(i) = self.open.iter().position(|a| a.id == id) else {
            return false;
        };
        self.resolve_at(ctx, i, at, &format!("by {actor}"), actor, out);
        true
    }

    /// Resolves every open alert (the rule or its watch is gone): `note` says why.
    pub fn close_all(&mut self, ctx: &RuleContext, at: i64, note: &str, out: &mut Vec<Alert>) {
        while !self.open.is_empty() {
            self.resolve_at(ctx, 0, at, note, "", out);
        }
    }

    /// Whether alert `id` fired here and is still remembered (e.g. already resolved): a command
    /// about it is a harmless repeat, not a mistake.
    pub fn knows(&self, ctx: &RuleContext, id: &str) -> bool {
        let prefix = format!("{}:{}:{}:", ctx.tenant, ctx.watch_id, ctx.rule);
        id.strip_prefix(&prefix)
            .is_some_and(|e| self.fired.contains_key(e))
    }

    /// Ids of the open alerts.
    pub fn open_ids(&self) -> impl Iterator<Item = &str> {
        self.open.iter().map(|a| a.id.as_str())
    }
}
