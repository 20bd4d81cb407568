//! The `flatline` rule: a watch (or one of its sources) that normally has traffic goes silent —
//! usually a broken collector or expired credentials, not a crisis, but it blinds every other
//! rule. Fires when a window closes empty while the baseline expected at least `min_expected`
//! (once two days were learned: before, the forecast knows the last hours, not the night);
//! clears at the next mention.

use crate::detector::{DetectorState, EvidenceData, Firing, Observed, Signal};
use crate::seasonal::SeasonalBaseline;
use crate::series::Buckets;
use serde::{Deserialize, Serialize};
use vigie_core::proto::FlatlineRule;

/// State of one `flatline` rule of one watch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FlatlineState {
    buckets: Buckets<u64>,
    #[serde(deserialize_with = "crate::seasonal::relearn_older")]
    baseline: SeasonalBaseline,
    silent: bool,
}

impl DetectorState for FlatlineState {
    type Rule = FlatlineRule;

    /// Fresh state for `rule`.
    fn new(rule: &FlatlineRule) -> Self {
        let size = rule.window_seconds as i64 * 1000;
        Self {
            buckets: Buckets::new(size),
            baseline: SeasonalBaseline::new(size),
            silent: false,
        }
    }

    /// Counts one matching mention (of the rule's source, if any); traffic clears a flatline.
    fn observe(&mut self, rule: &FlatlineRule, o: &Observed, out: &mut Vec<Signal>) {
        if !rule.source.is_empty() && o.source_name() != rule.source {
            return;
        }
        if let Some((_, n)) = self.buckets.slot(o.at()) {
            *n += 1;
        }
        if self.silent {
            self.silent = false;
            out.push(Signal::Clear {
                episode: None,
                at_ms: o.at(),
                note: "traffic is back".into(),
            });
        }
    }

    /// Closes windows the watermark left behind; an empty one that should not be fires.
    fn advance(&mut self, rule: &FlatlineRule, watermark: i64, out: &mut Vec<Signal>) {
        let (baseline, silent) = (&mut self.baseline, &mut self.silent);
        let size = self.buckets.size_ms();
        self.buckets.close_until(watermark, |start, n| {
            // Not before two days: a night is only quiet once nights were seen.
            let expected = baseline.expect(start).filter(|_| baseline.seasoned());
            if let Some(e) = expected {
                if n == 0 && e.expected >= rule.min_expected {
                    *silent = true;
                    let what = if rule.source.is_empty() {
                        "no mention".to_string()
                    } else {
                        format!("no {} mention", rule.source)
                    };
                    out.push(Signal::Fire(Firing {
                        episode: start.to_string(),
                        at_ms: start + size,
                        window_start_ms: start,
                        window_end_ms: start + size,
                        summary: format!(
                            "{what} for {} while {:.0} were expected: check the collectors",
                            crate::detector::human_duration(size / 1000),
                            e.expected
                        ),
                        evidence: EvidenceData {
                            count: 0,
                            baseline: e.expected,
                            score: -e.expected / e.spread,
                            ..Default::default()
                        },
                    }));
                }
            }
            baseline.learn(start, n as f64);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{cleared, firings, m, with_observed, MIN};

    /// Hourly windows, expecting at least five mentions an hour.
    fn hourly() -> FlatlineRule {
        FlatlineRule {
            window_seconds: 3600,
            min_expected: 5.0,
            source: String::new(),
        }
    }

    #[test]
    fn silence_after_steady_traffic_fires_and_traffic_clears_it() {
        let rule = hourly();
        let mut s = FlatlineState::new(&rule);
        let mut out = Vec::new();
        // Three days of 12 mentions an hour.
        let hours = 72;
        for i in 0..hours * 12 {
            let e = m(&format!("a{i}"), i * 5 * MIN).build();
            out.extend(with_observed(&e, |o, out| s.observe(&rule, o, out)));
            s.advance(&rule, i * 5 * MIN, &mut out);
        }
        assert!(out.is_empty(), "{out:?}");
        // Then nothing for three hours: the watermark moves on through other watches' traffic.
        s.advance(&rule, (hours + 3) * 60 * MIN, &mut out);
        let f = firings(&out);
        assert_eq!(f.len(), 2, "two empty hours closed: {out:?}");
        assert_eq!(f[0].window_start_ms, hours * 60 * MIN);
        out.clear();
        let e = m("back", (hours + 3) * 60 * MIN).build();
        out.extend(with_observed(&e, |o, out| s.observe(&rule, o, out)));
        assert!(cleared(&out));
    }

    #[test]
    fn a_new_watch_does_not_flatline_in_its_first_two_days() {
        let rule = hourly();
        let mut s = FlatlineState::new(&rule);
        let mut out = Vec::new();
        // Twelve busy hours, then an empty one: the forecast knows only the busy hours.
        for i in 0..12 * 12 {
            let e = m(&format!("a{i}"), i * 5 * MIN).build();
            out.extend(with_observed(&e, |o, out| s.observe(&rule, o, out)));
        }
        s.advance(&rule, 15 * 60 * MIN, &mut out);
        assert!(firings(&out).is_empty(), "{out:?}");
    }

    #[test]
    fn a_sparse_watch_never_flatlines() {
        let rule = hourly();
        let mut s = FlatlineState::new(&rule);
        let mut out = Vec::new();
        for i in 0..48 {
            let e = m(&format!("a{i}"), i * 60 * MIN).build();
            out.extend(with_observed(&e, |o, out| s.observe(&rule, o, out)));
        }
        s.advance(&rule, 60 * 60 * MIN, &mut out);
        assert!(firings(&out).is_empty(), "one an hour never expects five");
    }
}
