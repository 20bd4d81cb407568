//! The alerting engine: routes each enriched mention to the rules of the watches it matched and
//! turns rule firings into alerts with deterministic ids.

use crate::threshold::ThresholdState;
use std::collections::HashMap;
use vigie_core::clickhouse::{parse_severity, severity_name};
use vigie_core::proto::{rule, Alert, AlertState, EnrichedMention, Evidence, SentimentLabel, Severity};
use vigie_core::watches::WatchSet;

/// Rule state per (watch key, rule name).
#[derive(Debug, Default)]
pub struct Engine {
    thresholds: HashMap<(String, String), ThresholdState>,
}

/// "90 s", "10 min", "2 h".
fn human_duration(seconds: u32) -> String {
    if seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}

impl Engine {
    /// Feeds one enriched mention; returns the alerts it raised. `now_ms` stamps `raised_at`.
    pub fn observe(&mut self, mention: &EnrichedMention, watches: &WatchSet, now_ms: i64) -> Vec<Alert> {
        let Some(m) = &mention.mention else {
            return Vec::new();
        };
        let negative = mention.sentiment_label == SentimentLabel::Negative as i32;
        let mut alerts = Vec::new();
        for key in &mention.matched_watches {
            let Some(watch) = watches.get(key) else { continue };
            for r in &watch.watch.rules {
                let Some(rule::Kind::Threshold(t)) = &r.kind else {
                    continue;
                };
                let state = self.thresholds.entry((key.clone(), r.name.clone())).or_default();
                let Some(f) = state.observe(t, &m.id, m.created_at_ms, negative) else {
                    continue;
                };
                // Validated with the watch; warning is only a fallback for records from older versions.
                let sev = parse_severity(&r.severity).unwrap_or(Severity::Warning);
                vigie_core::metrics::alert_raised("threshold", severity_name(sev));
                alerts.push(Alert {
                    id: format!(
                        "{}:{}:{}:{}",
                        watch.watch.tenant, watch.watch.id, r.name, f.window_end_ms
                    ),
                    tenant: watch.watch.tenant.clone(),
                    watch_id: watch.watch.id.clone(),
                    watch_name: watch.watch.name.clone(),
                    rule: r.name.clone(),
                    rule_type: "threshold".into(),
                    severity: sev as i32,
                    state: AlertState::Firing as i32,
                    window_start_ms: f.window_start_ms,
                    window_end_ms: f.window_end_ms,
                    summary: format!(
                        "{} matching mentions in {} for watch \"{}\" (threshold {}; {} negative)",
                        f.count,
                        human_duration(t.window_seconds),
                        watch.watch.name,
                        t.min_count,
                        f.negative_count
                    ),
                    evidence: Some(Evidence {
                        count: f.count,
                        baseline: t.min_count as f64,
                        sample_mention_ids: f.samples,
                        negative_count: f.negative_count,
                    }),
                    raised_at_ms: now_ms,
                });
            }
        }
        alerts
    }

    /// Drops the state of rules whose watch no longer exists.
    pub fn retain_known(&mut self, watches: &WatchSet) {
        self.thresholds.retain(|(key, _), _| watches.get(key).is_some());
    }
}
