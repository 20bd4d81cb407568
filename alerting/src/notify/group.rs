//! The group stage: alerts arriving within `group_wait_ms` (one batch of the receiver's
//! consuming loop, which lingers that long) go out as one notification per group key (tenant
//! and watch), groups in key order, alerts in arrival order.

use super::Notification;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;
use vigie_core::config::ReceiverConfig;
use vigie_core::proto::Alert;
use vigie_core::stage::Batching;

/// Most records taken in one batch.
const MAX_BATCH: usize = 1_000;

/// The consuming loop's batching for `receiver`: its grouping window.
pub fn window(receiver: &ReceiverConfig) -> Batching {
    Batching {
        max: MAX_BATCH,
        linger: Duration::from_millis(receiver.group_wait_ms),
    }
}

/// One notification per group key of `alerts`.
pub fn by_key(alerts: Vec<Alert>) -> VecDeque<Notification> {
    let mut groups: BTreeMap<String, Vec<Alert>> = BTreeMap::new();
    for a in alerts {
        groups.entry(a.group_key.clone()).or_default().push(a);
    }
    groups
        .into_iter()
        .map(|(group, alerts)| Notification::group(group, alerts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::alert;
    use vigie_core::proto::{AlertState, Severity};

    #[test]
    fn one_notification_per_group_in_key_order() {
        let a = |id: &str, watch: &str| alert(id, 1, watch, Severity::Warning, AlertState::Firing);
        let groups = by_key(vec![a("a1", "w2"), a("a2", "w1"), a("a3", "w2")]);
        let got: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|n| (n.group.as_str(), n.alerts.iter().map(|a| a.id.as_str()).collect()))
            .collect();
        assert_eq!(got, [("acme/w1", vec!["a2"]), ("acme/w2", vec!["a1", "a3"])]);
    }
}
