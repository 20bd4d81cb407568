//! Silences: an operator's decision that alerts of a watch (or one of its rules) fired within a
//! span of event time are raised muted (`silenced_by` set) rather than notified. The engine keeps
//! each tenant's silences in its checkpoint; the alert book consults them when an alert fires.

use serde::{Deserialize, Serialize};
use vigie_core::proto::Silence;

/// How long an ended silence is kept (event time), so a late alert inside its span is still
/// muted.
const KEEP_AFTER_END_MS: i64 = 86_400_000;

/// A silence as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceRule {
    /// Silence id.
    pub id: String,
    /// Watch id, empty for any.
    pub watch_id: String,
    /// Rule name, empty for any.
    pub rule: String,
    /// Event-time span it covers.
    pub starts_at_ms: i64,
    /// End of the span.
    pub ends_at_ms: i64,
}

impl SilenceRule {
    /// The silence an operator's command asks for, or `None` when its span is empty.
    pub fn from_command(s: &Silence) -> Option<Self> {
        (s.ends_at_ms > s.starts_at_ms).then(|| Self {
            id: s.id.clone(),
            watch_id: s.watch_id.clone(),
            rule: s.rule.clone(),
            starts_at_ms: s.starts_at_ms,
            ends_at_ms: s.ends_at_ms,
        })
    }

    /// Whether it mutes an alert of `watch_id`/`rule` fired at `at`.
    pub fn mutes(&self, watch_id: &str, rule: &str, at: i64) -> bool {
        (self.watch_id.is_empty() || self.watch_id == watch_id)
            && (self.rule.is_empty() || self.rule == rule)
            && self.starts_at_ms <= at
            && at < self.ends_at_ms
    }

    /// Ends it early, as an operator asked at wall time `now_ms` with the tenant's event time at
    /// `at`: it ends at the later of the two, never later than it was to end.
    pub fn expire(&mut self, at: i64, now_ms: i64) {
        self.ends_at_ms = self.ends_at_ms.min(at.max(now_ms.min(self.ends_at_ms)));
    }

    /// Whether it ended long enough before the tenant's `watermark` to be forgotten.
    pub fn outlived(&self, watermark: i64) -> bool {
        self.ends_at_ms + KEEP_AFTER_END_MS < watermark
    }
}
