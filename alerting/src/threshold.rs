//! The `threshold` rule: at least `min_count` matching mentions within `window` of event time,
//! then quiet for `cooldown`.
//!
//! The window that counts is the one ending at each mention's own event time, so mentions
//! arriving slightly out of order still count. Mentions are counted once by id (a redelivered
//! mention never counts twice); mentions older than the window plus [`LATENESS_MS`] behind the
//! newest one seen are too late and ignored.

use std::collections::{BTreeSet, HashMap, HashSet};
use vigie_core::proto::ThresholdRule;

/// How far behind the newest event time a mention may arrive and still count.
pub const LATENESS_MS: i64 = 10 * 60 * 1000;

/// Sliding-window state of one threshold rule of one watch.
#[derive(Debug, Default)]
pub struct ThresholdState {
    /// (event time, mention id) of retained mentions.
    entries: BTreeSet<(i64, String)>,
    /// Retained mention ids with their event time, for deduplication.
    seen: HashMap<String, i64>,
    /// Ids of retained negative mentions.
    negative: HashSet<String>,
    /// Newest event time seen.
    watermark: i64,
    /// Event time of the last firing.
    last_fired: Option<i64>,
}

/// A firing of a threshold rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// Start of the window, ms.
    pub window_start_ms: i64,
    /// End of the window (the event time of the mention that tripped the rule), ms.
    pub window_end_ms: i64,
    /// Mentions in the window.
    pub count: u64,
    /// Negative mentions in the window.
    pub negative_count: u64,
    /// Up to five mention ids, newest first.
    pub samples: Vec<String>,
}

impl ThresholdState {
    /// Adds one matching mention; returns a firing when the rule trips.
    pub fn observe(
        &mut self,
        rule: &ThresholdRule,
        id: &str,
        event_ms: i64,
        negative: bool,
    ) -> Option<Firing> {
        let window_ms = rule.window_seconds as i64 * 1000;
        let horizon = |watermark: i64| watermark - window_ms - LATENESS_MS;
        if self.seen.contains_key(id) || event_ms < horizon(self.watermark) {
            return None;
        }
        self.watermark = self.watermark.max(event_ms);
        self.entries.insert((event_ms, id.to_string()));
        self.seen.insert(id.to_string(), event_ms);
        if negative {
            self.negative.insert(id.to_string());
        }
        let keep_from = horizon(self.watermark);
        while let Some((t, old)) = self.entries.first().cloned() {
            if t >= keep_from {
                break;
            }
            self.entries.pop_first();
            self.seen.remove(&old);
            self.negative.remove(&old);
        }
        // The windows the new mention can complete end at its own time or, when it arrived
        // late, at any later mention within one window of it. The earliest end that reaches the
        // threshold fires.
        let ends: Vec<i64> = if event_ms == self.watermark {
            vec![event_ms]
        } else {
            let mut ends: Vec<i64> = self
                .entries
                .range((event_ms, String::new())..=(event_ms + window_ms, char::MAX.to_string()))
                .map(|(t, _)| *t)
                .collect();
            ends.dedup();
            ends
        };
        let cooldown_ms = rule.cooldown_seconds as i64 * 1000;
        for end in ends {
            if self
                .last_fired
                .is_some_and(|t| end < t + cooldown_ms && end >= t - cooldown_ms)
            {
                continue;
            }
            let start = end - window_ms;
            let in_window = || {
                self.entries
                    .range((start, String::new())..=(end, char::MAX.to_string()))
            };
            let count = in_window().count() as u64;
            if count < rule.min_count as u64 {
                continue;
            }
            self.last_fired = Some(end);
            return Some(Firing {
                window_start_ms: start,
                window_end_ms: end,
                count,
                negative_count: in_window().filter(|(_, id)| self.negative.contains(id)).count() as u64,
                samples: in_window().rev().take(5).map(|(_, id)| id.clone()).collect(),
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: ThresholdRule = ThresholdRule {
        min_count: 3,
        window_seconds: 60,
        cooldown_seconds: 600,
    };

    #[test]
    fn fires_once_when_the_window_fills_then_cools_down() {
        let mut s = ThresholdState::default();
        assert!(s.observe(&RULE, "a", 0, false).is_none());
        assert!(s.observe(&RULE, "b", 10_000, true).is_none());
        let f = s.observe(&RULE, "c", 20_000, false).expect("third mention trips");
        assert_eq!((f.count, f.negative_count, f.window_end_ms), (3, 1, 20_000));
        assert_eq!(f.samples, ["c", "b", "a"]);
        // Within the cooldown, more mentions do not fire again.
        assert!(s.observe(&RULE, "d", 30_000, false).is_none());
        // After the cooldown, a new burst fires again.
        for (i, t) in [700_000, 701_000].iter().enumerate() {
            assert!(s.observe(&RULE, &format!("e{i}"), *t, false).is_none());
        }
        assert!(s.observe(&RULE, "e2", 702_000, false).is_some());
    }

    #[test]
    fn redelivered_mentions_count_once() {
        let mut s = ThresholdState::default();
        for _ in 0..5 {
            assert!(s.observe(&RULE, "same", 0, false).is_none());
        }
        s.observe(&RULE, "b", 1, false);
        assert!(s.observe(&RULE, "b", 2, false).is_none());
    }

    #[test]
    fn mentions_spread_beyond_the_window_do_not_fire() {
        let mut s = ThresholdState::default();
        for i in 0..10 {
            assert!(s.observe(&RULE, &i.to_string(), i * 61_000, false).is_none());
        }
        // Late data older than the window and the lateness allowance is ignored.
        assert!(s.observe(&RULE, "late", 0, false).is_none());
    }

    #[test]
    fn a_late_mention_completes_a_window_that_ends_later() {
        let mut s = ThresholdState::default();
        assert!(s.observe(&RULE, "b", 100_000, false).is_none());
        assert!(s.observe(&RULE, "c", 110_000, false).is_none());
        let f = s
            .observe(&RULE, "a", 60_000, false)
            .expect("[50 s, 110 s] holds three");
        assert_eq!((f.window_end_ms, f.count), (110_000, 3));
    }

    #[test]
    fn slightly_late_mentions_still_count() {
        let mut s = ThresholdState::default();
        assert!(s.observe(&RULE, "new", 300_000, false).is_none());
        assert!(s.observe(&RULE, "a", 100_000, false).is_none());
        assert!(s.observe(&RULE, "b", 110_000, false).is_none());
        let f = s
            .observe(&RULE, "c", 120_000, false)
            .expect("three within a minute");
        assert_eq!(
            (f.window_start_ms, f.window_end_ms, f.count),
            (60_000, 120_000, 3)
        );
    }
}
