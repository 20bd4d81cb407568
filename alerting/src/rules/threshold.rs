//! The `threshold` rule: at least `min_count` matching mentions within `window` of event time.
//!
//! The window that counts is the one ending at each mention's own event time, so mentions
//! arriving slightly out of order still count. Mentions are counted once by id (a redelivered
//! mention never counts twice); mentions older than the window plus [`LATENESS_MS`] behind the
//! newest one seen are too late and ignored.

use crate::detector::{DetectorState, EvidenceData, Firing, Observed, Sentiments, Signal, LATENESS_MS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use vigie_core::proto::ThresholdRule;

/// Sliding-window state of one threshold rule of one watch.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ThresholdState {
    /// (event time, mention id) of retained mentions.
    entries: BTreeSet<(i64, String)>,
    /// Retained mention ids with their event time and sentiment label, for deduplication.
    seen: HashMap<String, (i64, i32)>,
    /// Newest event time seen.
    watermark: i64,
    /// End of the window that fired, until a clear follows: the clear then says exactly when
    /// the window fell below the threshold.
    #[serde(default)]
    fired_at: Option<i64>,
}

impl DetectorState for ThresholdState {
    type Rule = ThresholdRule;

    fn new(_rule: &ThresholdRule) -> Self {
        Self::default()
    }

    /// Adds one matching mention; reports a firing when a window reaches the threshold.
    fn observe(&mut self, rule: &ThresholdRule, o: &Observed, out: &mut Vec<Signal>) {
        let (id, event_ms) = (o.mention.id.as_str(), o.at());
        let window_ms = rule.window_seconds as i64 * 1000;
        let horizon = |watermark: i64| watermark - window_ms - LATENESS_MS;
        if self.seen.contains_key(id) || event_ms < horizon(self.watermark) {
            return;
        }
        if event_ms > self.watermark + LATENESS_MS {
            // A gap long enough for pruning to drop the evidence: did the window empty in it?
            // (Shorter gaps are settled by the minute sweep.)
            self.clear_until(rule, event_ms - 1, out);
        }
        self.watermark = self.watermark.max(event_ms);
        self.entries.insert((event_ms, id.to_string()));
        self.seen
            .insert(id.to_string(), (event_ms, o.enriched.sentiment_label));
        let keep_from = horizon(self.watermark);
        while let Some((t, old)) = self.entries.first().cloned() {
            if t >= keep_from {
                break;
            }
            self.entries.pop_first();
            self.seen.remove(&old);
        }
        if self.fired_at.is_some() {
            // Already firing: nothing new to say until the window empties.
            return;
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
        for end in ends {
            let start = end - window_ms;
            let count = self.count(start, end);
            if count < rule.min_count as u64 {
                continue;
            }
            let mut sentiments = Sentiments::default();
            let in_window = self
                .entries
                .range((start, String::new())..=(end, char::MAX.to_string()));
            for (_, id) in in_window.clone() {
                sentiments.add(self.seen.get(id).map(|(_, l)| *l).unwrap_or_default());
            }
            self.fired_at = Some(end);
            out.push(Signal::Fire(Firing {
                episode: end.to_string(),
                at_ms: end,
                window_start_ms: start,
                window_end_ms: end,
                summary: format!(
                    "{count} matching mentions in {} (threshold {}; {} negative)",
                    crate::detector::human_duration(window_ms / 1000),
                    rule.min_count,
                    sentiments.negative
                ),
                evidence: EvidenceData {
                    count,
                    baseline: rule.min_count as f64,
                    score: count as f64 / rule.min_count as f64,
                    samples: in_window.rev().take(5).map(|(_, id)| id.clone()).collect(),
                    sentiments,
                    ..Default::default()
                },
            }));
            return;
        }
    }

    /// Reports the open alert cleared once the window ending at `watermark` (the tenant's newest
    /// event time) holds fewer than the threshold.
    fn advance(&mut self, rule: &ThresholdRule, watermark: i64, out: &mut Vec<Signal>) {
        self.clear_until(rule, watermark, out);
    }
}

impl ThresholdState {
    fn count(&self, start: i64, end: i64) -> u64 {
        self.entries
            .range((start, String::new())..=(end, char::MAX.to_string()))
            .count() as u64
    }

    /// Clears the firing if the window fell below the threshold at some instant after it fired
    /// and up to `until`, at the first such instant (when its oldest mentions left it), not when a
    /// later mention or sweep happened to show it: sparse data resolves on time.
    fn clear_until(&mut self, rule: &ThresholdRule, until: i64, out: &mut Vec<Signal>) {
        let Some(fired_at) = self.fired_at else { return };
        let window_ms = rule.window_seconds as i64 * 1000;
        let below = |end: i64| self.count(end - window_ms, end) < rule.min_count as u64;
        if until <= fired_at || !below(until) {
            return;
        }
        // The first instant the window fell below and stayed below: counts drop when a mention
        // leaves the window and rise when one arrives, so check every arrival after it.
        let from = (fired_at - window_ms, String::new());
        let arrivals: Vec<i64> = self.entries.range(from.clone()..).map(|(t, _)| *t).collect();
        let stays_below = |c: i64| {
            arrivals
                .iter()
                .filter(|a| **a > c && **a <= until)
                .all(|a| below(*a))
        };
        let at_ms = self
            .entries
            .range(from..)
            .map(|(t, _)| t + window_ms + 1)
            .filter(|c| *c > fired_at && *c <= until)
            .find(|c| below(*c) && stays_below(*c))
            .unwrap_or(until);
        self.fired_at = None;
        out.push(Signal::Clear {
            episode: None,
            at_ms,
            note: format!(
                "back below {} mentions per {}",
                rule.min_count,
                crate::detector::human_duration(window_ms / 1000)
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{firings, m, with_observed};

    const RULE: ThresholdRule = ThresholdRule {
        min_count: 3,
        window_seconds: 60,
    };

    fn obs(s: &mut ThresholdState, id: &str, t: i64, negative: bool) -> Option<Firing> {
        let e = if negative { m(id, t).negative() } else { m(id, t) }.build();
        let out = with_observed(&e, |o, out| s.observe(&RULE, o, out));
        firings(&out).first().map(|f| (*f).clone())
    }

    #[test]
    fn fires_when_the_window_fills_and_clears_when_it_empties() {
        let mut s = ThresholdState::default();
        assert!(obs(&mut s, "a", 0, false).is_none());
        assert!(obs(&mut s, "b", 10_000, true).is_none());
        let f = obs(&mut s, "c", 20_000, false).expect("third mention trips");
        assert_eq!(
            (f.evidence.count, f.evidence.sentiments.negative, f.window_end_ms),
            (3, 1, 20_000)
        );
        assert_eq!(f.evidence.samples, ["acme:x:c", "acme:x:b", "acme:x:a"]);
        let mut out = Vec::new();
        s.advance(&RULE, 30_000, &mut out);
        assert!(out.is_empty(), "still three within the minute");
        s.advance(&RULE, 75_000, &mut out);
        assert!(crate::testkit::cleared(&out));
    }

    #[test]
    fn after_a_silence_the_clear_is_dated_when_the_window_emptied() {
        let mut s = ThresholdState::default();
        obs(&mut s, "a", 0, false);
        obs(&mut s, "b", 10_000, false);
        assert!(obs(&mut s, "c", 20_000, false).is_some());
        // Thirty minutes of silence, then one mention: the window fell below three when "a"
        // left it, one minute after it arrived.
        let e = m("d", 1_800_000).build();
        let out = with_observed(&e, |o, out| s.observe(&RULE, o, out));
        let clear = out.iter().find_map(|sig| match sig {
            Signal::Clear { at_ms, .. } => Some(*at_ms),
            _ => None,
        });
        assert_eq!(clear, Some(60_001));
    }

    #[test]
    fn a_momentary_dip_during_a_burst_does_not_resolve() {
        let mut s = ThresholdState::default();
        obs(&mut s, "a", 0, false);
        obs(&mut s, "b", 10_000, false);
        assert!(obs(&mut s, "c", 20_000, false).is_some());
        // "a" leaves at 60 s (two left), "d" arrives at 65 s (three again): still a burst.
        obs(&mut s, "d", 65_000, false);
        let mut out = Vec::new();
        s.advance(&RULE, 66_000, &mut out);
        assert!(out.is_empty(), "{out:?}");
        // Then quiet: below from when "b" leaves (70 s) on, and it stays below.
        s.advance(&RULE, 200_000, &mut out);
        assert!(
            matches!(out[..], [Signal::Clear { at_ms: 70_001, .. }]),
            "{out:?}"
        );
    }

    #[test]
    fn redelivered_mentions_count_once() {
        let mut s = ThresholdState::default();
        for _ in 0..5 {
            assert!(obs(&mut s, "same", 0, false).is_none());
        }
        obs(&mut s, "b", 1, false);
        assert!(obs(&mut s, "b", 2, false).is_none());
    }

    #[test]
    fn sparse_mentions_do_not_fire_and_too_late_data_is_ignored() {
        let mut s = ThresholdState::default();
        for i in 0..10 {
            assert!(obs(&mut s, &i.to_string(), i * 61_000, false).is_none());
        }
        // Late data older than the window and the lateness allowance is ignored.
        assert!(obs(&mut s, "late", 0, false).is_none());
    }

    #[test]
    fn a_late_mention_completes_a_window_that_ends_later() {
        let mut s = ThresholdState::default();
        assert!(obs(&mut s, "b", 100_000, false).is_none());
        assert!(obs(&mut s, "c", 110_000, false).is_none());
        let f = obs(&mut s, "a", 60_000, false).expect("[50 s, 110 s] holds three");
        assert_eq!((f.window_end_ms, f.evidence.count), (110_000, 3));
    }

    #[test]
    fn slightly_late_mentions_still_count() {
        let mut s = ThresholdState::default();
        assert!(obs(&mut s, "new", 300_000, false).is_none());
        assert!(obs(&mut s, "a", 100_000, false).is_none());
        assert!(obs(&mut s, "b", 110_000, false).is_none());
        let f = obs(&mut s, "c", 120_000, false).expect("three within a minute");
        assert_eq!(
            (f.window_start_ms, f.window_end_ms, f.evidence.count),
            (60_000, 120_000, 3)
        );
    }
}
