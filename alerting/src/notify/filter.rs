//! The filter stage: which alerts a receiver takes — its tenants, its lowest severity, not
//! silenced (what reminders follow too), and for new notifications also not older than
//! `max_age_secs` and resolutions only if `send_resolved`.

use vigie_core::config::ReceiverConfig;
use vigie_core::names::parse_severity;
use vigie_core::proto::{Alert, AlertState};

/// A receiver's filter, read once from its configuration.
#[derive(Debug, Clone)]
pub struct Filter {
    tenants: Vec<String>,
    min_severity: i32,
    send_resolved: bool,
    max_age_ms: i64,
}

impl Filter {
    /// The filter `receiver` asks for.
    pub fn new(receiver: &ReceiverConfig) -> Self {
        Self {
            tenants: receiver.tenants.clone(),
            min_severity: parse_severity(&receiver.min_severity)
                .map(|s| s as i32)
                .unwrap_or(0),
            send_resolved: receiver.send_resolved,
            max_age_ms: receiver.max_age_secs.saturating_mul(1000) as i64,
        }
    }

    /// Whether `alert` is for this receiver at all: its tenants, its lowest severity, not
    /// silenced.
    pub fn routes(&self, alert: &Alert) -> bool {
        (self.tenants.is_empty() || self.tenants.contains(&alert.tenant))
            && alert.severity >= self.min_severity
            && alert.silenced_by.is_empty()
    }

    /// Whether the receiver wants `alert` sent, at wall time `now_ms`: routed, firing unless it
    /// takes resolutions, and not too old.
    pub fn wants(&self, alert: &Alert, now_ms: i64) -> bool {
        self.routes(alert)
            && (self.send_resolved || alert.state() == AlertState::Firing)
            && now_ms - alert.raised_at_ms <= self.max_age_ms
    }

    /// The alerts of `alerts` the receiver wants at `now_ms`, in order.
    pub fn keep(&self, mut alerts: Vec<Alert>, now_ms: i64) -> Vec<Alert> {
        alerts.retain(|a| self.wants(a, now_ms));
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::{alert, receiver};
    use vigie_core::proto::Severity;

    #[test]
    fn the_filter_keeps_what_the_receiver_asked_for() {
        let r = Filter::new(&receiver("http://x"));
        let now = vigie_core::now_ms();
        assert!(r.wants(&alert("a", 1, "w", Severity::Warning, AlertState::Firing), now));
        assert!(!r.wants(&alert("a", 1, "w", Severity::Info, AlertState::Firing), now));
        let mut silenced = alert("a", 1, "w", Severity::Critical, AlertState::Firing);
        silenced.silenced_by = "s1".into();
        assert!(!r.wants(&silenced, now));
        assert!(!r.wants(
            &alert("a", 1, "w", Severity::Critical, AlertState::Firing),
            now + 7_200_000
        ));
        let other = Filter::new(&vigie_core::config::ReceiverConfig {
            tenants: vec!["globex".into()],
            ..receiver("http://x")
        });
        assert!(!other.wants(&alert("a", 1, "w", Severity::Critical, AlertState::Firing), now));
    }

    #[test]
    fn resolutions_only_when_asked_for() {
        let now = vigie_core::now_ms();
        let resolved = alert("a", 2, "w", Severity::Critical, AlertState::Resolved);
        assert!(Filter::new(&receiver("http://x")).wants(&resolved, now));
        let firing_only = Filter::new(&vigie_core::config::ReceiverConfig {
            send_resolved: false,
            ..receiver("http://x")
        });
        assert!(!firing_only.wants(&resolved, now));
        assert!(firing_only.routes(&resolved), "routing ignores the state");
        let kept = firing_only.keep(
            vec![
                resolved,
                alert("b", 1, "w", Severity::Critical, AlertState::Firing),
            ],
            now,
        );
        assert_eq!(kept.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["b"]);
    }
}
