//! The `negative_surge` rule: negative mentions per bucket rising against their learned
//! baseline, with the negative share up too — more complaints, not just more traffic.

use crate::detector::{DetectorState, Firing, Observed, Signal};
use crate::rules::volume::BucketStats;
use crate::seasonal::SeasonalBaseline;
use crate::series::Buckets;
use serde::{Deserialize, Serialize};
use vigie_core::proto::NegativeSurgeRule;

/// How much above its usual level the negative share must be to count as rising.
const SHARE_MARGIN: f64 = 0.1;

/// State of one `negative_surge` rule of one watch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NegativeSurgeState {
    buckets: Buckets<BucketStats>,
    #[serde(deserialize_with = "crate::seasonal::relearn_older")]
    baseline: SeasonalBaseline,
    /// Usual negative share (exponentially weighted over buckets with mentions).
    usual_share: Option<f64>,
}

impl DetectorState for NegativeSurgeState {
    type Rule = NegativeSurgeRule;

    /// Fresh state for `rule`.
    fn new(rule: &NegativeSurgeRule) -> Self {
        let size = rule.bucket_seconds as i64 * 1000;
        Self {
            buckets: Buckets::new(size),
            baseline: SeasonalBaseline::new(size),
            usual_share: None,
        }
    }

    /// Counts one matching mention; fires when its bucket already surges.
    fn observe(&mut self, rule: &NegativeSurgeRule, o: &Observed, out: &mut Vec<Signal>) {
        let size = self.buckets.size_ms();
        let Some((start, b)) = self.buckets.slot(o.at()) else {
            return;
        };
        if !b.add(o) || !o.negative() {
            return;
        }
        let Some((share, e)) = Self::surging(&self.baseline, self.usual_share, rule, start, b) else {
            return;
        };
        let negative = b.sentiments.negative as f64;
        let mut evidence = b.evidence(negative, &e);
        evidence.count = b.sentiments.negative;
        out.push(Signal::Fire(Firing {
            episode: start.to_string(),
            at_ms: o.at(),
            window_start_ms: start,
            window_end_ms: start + size,
            summary: format!(
                "{negative:.0} negative mentions in {} against {:.1} expected; {:.0}% negative (usually {:.0}%)",
                crate::detector::human_duration(rule.bucket_seconds as i64),
                e.expected,
                share * 100.0,
                self.usual_share.unwrap_or(0.0) * 100.0
            ),
            evidence,
        }));
    }

    /// Closes buckets the watermark left behind; a calm closed bucket clears the open alert.
    fn advance(&mut self, rule: &NegativeSurgeRule, watermark: i64, out: &mut Vec<Signal>) {
        let mut closed = Vec::new();
        self.buckets
            .close_until(watermark, |start, b| closed.push((start, b)));
        for (start, b) in closed {
            if self.baseline.expect(start).is_some()
                && Self::surging(&self.baseline, self.usual_share, rule, start, &b).is_none()
            {
                out.push(Signal::Clear {
                    episode: None,
                    at_ms: start + self.buckets.size_ms(),
                    note: format!(
                        "{} negative of {} mentions: back to normal",
                        b.sentiments.negative, b.count
                    ),
                });
            }
            self.baseline.learn(start, b.sentiments.negative as f64);
            if b.count > 0 {
                let share = Self::share(&b);
                let usual = self.usual_share.get_or_insert(share);
                // Learn the share slowly and never from a surge.
                *usual += 0.05 * (share.min(*usual + SHARE_MARGIN) - *usual);
            }
        }
    }
}

impl NegativeSurgeState {
    fn share(b: &BucketStats) -> f64 {
        if b.count == 0 {
            0.0
        } else {
            b.sentiments.negative as f64 / b.count as f64
        }
    }

    /// Whether bucket `b` starting at `start` is a surge: its share and expectation if so.
    fn surging(
        baseline: &SeasonalBaseline,
        usual_share: Option<f64>,
        rule: &NegativeSurgeRule,
        start: i64,
        b: &BucketStats,
    ) -> Option<(f64, crate::seasonal::Expectation)> {
        let e = baseline.expect(start)?;
        let negative = b.sentiments.negative as f64;
        let share = Self::share(b);
        let usual = usual_share.unwrap_or(0.0);
        (negative >= rule.min_negative as f64
            && negative > e.upper(rule.sensitivity)
            && share >= rule.min_share
            && share >= usual + SHARE_MARGIN)
            .then_some((share, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{firings, m, with_observed, MIN};

    fn rule() -> NegativeSurgeRule {
        NegativeSurgeRule {
            bucket_seconds: 1800,
            sensitivity: 4.0,
            min_negative: 10,
            min_share: 0.4,
        }
    }

    fn feed(s: &mut NegativeSurgeState, id: &str, at: i64, negative: bool) -> usize {
        let e = if negative { m(id, at).negative() } else { m(id, at) }.build();
        let mut out = with_observed(&e, |o, out| s.observe(&rule(), o, out));
        s.advance(&rule(), at, &mut out);
        firings(&out).len()
    }

    /// Twelve hours of routine: ten mentions per half hour, one of them negative.
    fn routine() -> (NegativeSurgeState, i64) {
        let mut s = NegativeSurgeState::new(&rule());
        for slot in 0..24 {
            for k in 0..10 {
                assert_eq!(
                    feed(&mut s, &format!("r{slot}-{k}"), slot * 30 * MIN + k * MIN, k == 0),
                    0
                );
            }
        }
        (s, 24 * 30 * MIN)
    }

    #[test]
    fn complaints_surging_fire_but_more_traffic_with_the_usual_share_does_not() {
        let (mut s, t) = routine();
        // Three times the traffic, still one in ten negative: not a surge.
        let mut fired = 0;
        for k in 0..30 {
            fired += feed(&mut s, &format!("busy{k}"), t + k * 30_000, k % 10 == 0);
        }
        assert_eq!(fired, 0);
        let (mut s, t) = routine();
        // Twelve negative mentions in a few minutes among a few neutral ones.
        for k in 0..16 {
            fired += feed(&mut s, &format!("angry{k}"), t + k * 20_000, k % 4 != 0);
        }
        assert!(fired > 0);
    }
}
