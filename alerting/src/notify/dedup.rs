//! The dedup stage: a receiver sends each (alert id, version) once, so a record redelivered
//! after a restart or a rebalance is not notified twice. The last pairs seen are remembered, up
//! to a bound.

use std::collections::{HashSet, VecDeque};
use vigie_core::proto::Alert;

/// The (id, version) pairs sent most recently.
#[derive(Debug)]
pub struct Dedup {
    seen: HashSet<(String, u64)>,
    order: VecDeque<(String, u64)>,
    capacity: usize,
}

impl Dedup {
    /// Remembers the last `capacity` pairs.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `alert` is seen for the first time (then it is remembered).
    pub fn first_time(&mut self, alert: &Alert) -> bool {
        let key = (alert.id.clone(), alert.version);
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
        true
    }

    /// The alerts of `alerts` not seen before, in order.
    pub fn keep_new(&mut self, mut alerts: Vec<Alert>) -> Vec<Alert> {
        alerts.retain(|a| self.first_time(a));
        alerts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::alert;
    use vigie_core::proto::{AlertState, Severity};

    #[test]
    fn each_version_passes_once_within_the_memory() {
        let a = |id: &str, v: u64| alert(id, v, "w", Severity::Warning, AlertState::Firing);
        let mut dedup = Dedup::new(2);
        let kept = dedup.keep_new(vec![a("a1", 1), a("a1", 1), a("a1", 2), a("a2", 1)]);
        let ids: Vec<_> = kept.iter().map(|x| (x.id.as_str(), x.version)).collect();
        assert_eq!(ids, [("a1", 1), ("a1", 2), ("a2", 1)]);
        assert!(!dedup.first_time(&a("a2", 1)));
        // ("a1", 1) was forgotten to keep the last two.
        assert!(dedup.first_time(&a("a1", 1)));
    }
}
