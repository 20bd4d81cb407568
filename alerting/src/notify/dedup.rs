//! The dedup stage: a receiver sends each (alert id, version) once, so a record redelivered
//! after a restart or a rebalance is not notified twice, and never a version older than one it
//! sent (a batch's alerts published again after a broker outage can arrive after a later
//! state change of the same alert). The last pairs seen are remembered, up to a bound.

use std::collections::{HashMap, HashSet, VecDeque};
use vigie_core::proto::Alert;

/// The (id, version) pairs sent most recently.
#[derive(Debug)]
pub struct Dedup {
    seen: HashSet<(String, u64)>,
    order: VecDeque<(String, u64)>,
    /// The newest version seen of each remembered alert.
    newest: HashMap<String, u64>,
    capacity: usize,
}

impl Dedup {
    /// Remembers the last `capacity` pairs.
    pub fn new(capacity: usize) -> Self {
        Self {
            seen: HashSet::new(),
            order: VecDeque::new(),
            newest: HashMap::new(),
            capacity: capacity.max(1),
        }
    }

    /// Whether `alert` is seen for the first time and is not older than a version already
    /// seen (then it is remembered).
    pub fn first_time(&mut self, alert: &Alert) -> bool {
        if self.newest.get(&alert.id).is_some_and(|&v| v > alert.version) {
            return false;
        }
        let key = (alert.id.clone(), alert.version);
        if !self.seen.insert(key.clone()) {
            return false;
        }
        self.newest.insert(alert.id.clone(), alert.version);
        self.order.push_back(key);
        if self.order.len() > self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
                if self.newest.get(&old.0) == Some(&old.1) {
                    self.newest.remove(&old.0);
                }
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
    fn an_older_version_after_a_newer_one_is_not_sent() {
        let a = |v: u64, state| alert("a1", v, "w", Severity::Warning, state);
        let mut dedup = Dedup::new(10);
        let kept = dedup.keep_new(vec![
            a(1, AlertState::Firing),
            a(2, AlertState::Resolved),
            a(1, AlertState::Firing),
        ]);
        let versions: Vec<u64> = kept.iter().map(|x| x.version).collect();
        assert_eq!(
            versions,
            [1, 2],
            "the republished FIRING after RESOLVED is dropped"
        );
    }

    #[test]
    fn each_version_passes_once_within_the_memory() {
        let a = |id: &str, v: u64| alert(id, v, "w", Severity::Warning, AlertState::Firing);
        let mut dedup = Dedup::new(2);
        let kept = dedup.keep_new(vec![a("a1", 1), a("a1", 1), a("a1", 2), a("a2", 1)]);
        let ids: Vec<_> = kept.iter().map(|x| (x.id.as_str(), x.version)).collect();
        assert_eq!(ids, [("a1", 1), ("a1", 2), ("a2", 1)]);
        assert!(!dedup.first_time(&a("a2", 1)));
        // ("a1", 1) was forgotten to keep the last two, but ("a1", 2) is remembered: the older
        // version is not sent.
        assert!(!dedup.first_time(&a("a1", 1)));
        // Once every version of a1 is forgotten, it passes again.
        assert!(dedup.first_time(&a("a3", 1)));
        assert!(dedup.first_time(&a("a1", 1)));
    }
}
