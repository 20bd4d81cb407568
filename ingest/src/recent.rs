//! A bounded memory of recently accepted mention ids, to answer repeats as duplicates without
//! publishing them again. Oldest ids are forgotten first; forgetting is safe because every sink
//! is idempotent by id.

use std::collections::{HashSet, VecDeque};

/// The last `capacity` accepted ids.
#[derive(Debug)]
pub struct RecentIds {
    set: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

impl RecentIds {
    /// Remembers at most `capacity` ids.
    pub fn new(capacity: usize) -> Self {
        Self {
            set: HashSet::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    /// Whether `id` was accepted recently.
    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Remembers `id`, forgetting the oldest when full.
    pub fn insert(&mut self, id: String) {
        if self.capacity == 0 || self.set.contains(&id) {
            return;
        }
        if self.order.len() == self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        self.set.insert(id.clone());
        self.order.push_back(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_first() {
        let mut r = RecentIds::new(2);
        r.insert("a".into());
        r.insert("b".into());
        r.insert("c".into());
        assert!(!r.contains("a"));
        assert!(r.contains("b") && r.contains("c"));
    }
}
