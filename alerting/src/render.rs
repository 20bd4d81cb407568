//! How an alert reads outside the engine: one JSON object (backtest output, webhooks) and one
//! human line (logs, the standalone console, Slack).

use serde_json::{json, Value};
use vigie_core::model::format_rfc3339_ms;
use vigie_core::names::{severity_name, state_name};
use vigie_core::proto::Alert;

/// One alert state change as JSON; `time` is the event time of the change (RFC 3339).
pub fn alert_json(a: &Alert) -> Value {
    let ev = a.evidence.clone().unwrap_or_default();
    json!({
        "time": format_rfc3339_ms(a.updated_at_ms),
        "id": a.id,
        "tenant": a.tenant,
        "watch": a.watch_id,
        "watch_name": a.watch_name,
        "rule": a.rule,
        "type": a.rule_type,
        "severity": severity_name(a.severity()),
        "state": state_name(a.state()),
        "version": a.version,
        "fired_at": format_rfc3339_ms(a.fired_at_ms),
        "window_start": format_rfc3339_ms(a.window_start_ms),
        "window_end": format_rfc3339_ms(a.window_end_ms),
        "summary": a.summary,
        "group": a.group_key,
        "silenced_by": a.silenced_by,
        "actor": a.actor,
        "evidence": {
            "count": ev.count,
            "baseline": (ev.baseline * 100.0).round() / 100.0,
            "score": (ev.score * 100.0).round() / 100.0,
            "negative": ev.negative_count,
            "neutral": ev.neutral_count,
            "positive": ev.positive_count,
            "top_terms": ev.top_terms.iter().map(|t| json!([t.term, t.count])).collect::<Vec<_>>(),
            "samples": ev.sample_mention_ids,
            "path": ev.path,
        },
    })
}

/// One human line: severity, watch, rule, state, event time, summary, sample ids.
pub fn alert_text(a: &Alert) -> String {
    let ev = a.evidence.clone().unwrap_or_default();
    format!(
        "ALERT [{}] {}/{} rule={} {} at {} — {} (samples: {})",
        severity_name(a.severity()).to_uppercase(),
        a.tenant,
        a.watch_id,
        a.rule,
        state_name(a.state()),
        format_rfc3339_ms(a.updated_at_ms),
        a.summary,
        ev.sample_mention_ids.join(", ")
    )
}
