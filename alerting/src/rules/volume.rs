//! The `volume_spike` rule: mentions (or distinct stories) per bucket against the learned
//! baseline of [`crate::seasonal`]. It fires as soon as the open bucket is at least one scale
//! above the forecast with sustained rise evidence `z ≥ sensitivity` (the other open buckets
//! counted in) or at a level never reached, with at least `min_count` mentions in the last hour;
//! it resolves when a bucket closes with the evidence below half the sensitivity, or the last
//! hour below half `min_count`.

use crate::detector::{
    stable_hash, top_n, DetectorState, EvidenceData, Firing, Observed, Sentiments, Signal,
};
use crate::seasonal::{Expectation, Score, SeasonalBaseline, Side, Tuning};
use crate::series::Buckets;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashSet, VecDeque};
use vigie_core::proto::VolumeSpikeRule;

/// Most distinct hashtags tracked per bucket for evidence.
const MAX_TERMS: usize = 64;

/// What one bucket of a watch held.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct BucketStats {
    /// Mentions counted.
    pub count: u64,
    /// Distinct near-duplicate clusters (stories); mentions without a cluster count alone.
    pub stories: BTreeSet<u64>,
    /// Sentiment breakdown.
    pub sentiments: Sentiments,
    /// Newest mention ids, oldest first (at most five).
    pub samples: VecDeque<String>,
    /// Hashtag counts (bounded).
    pub terms: Vec<(String, u64)>,
    /// Hashes of counted mention ids, so a redelivered mention counts once.
    seen: HashSet<u64>,
}

impl BucketStats {
    /// Counts one mention; false when it was already counted.
    pub fn add(&mut self, o: &Observed) -> bool {
        let id = stable_hash(&o.mention.id);
        if !self.seen.insert(id) {
            return false;
        }
        self.count += 1;
        self.stories.insert(if o.enriched.cluster != 0 {
            o.enriched.cluster
        } else {
            id
        });
        self.sentiments.add(o.enriched.sentiment_label);
        if self.samples.len() == 5 {
            self.samples.pop_front();
        }
        self.samples.push_back(o.mention.id.clone());
        for tag in &o.enriched.hashtags {
            if let Some(t) = self.terms.iter_mut().find(|(t, _)| t == tag) {
                t.1 += 1;
            } else if self.terms.len() < MAX_TERMS {
                self.terms.push((tag.clone(), 1));
            }
        }
        true
    }

    /// Evidence for a firing on this bucket.
    pub fn evidence(&self, value: f64, e: &Expectation) -> EvidenceData {
        EvidenceData {
            count: value as u64,
            baseline: e.expected,
            score: (value - e.expected) / e.spread,
            samples: self.samples.iter().rev().cloned().collect(),
            sentiments: self.sentiments,
            top_terms: top_n(self.terms.iter().cloned(), 5),
            path: Vec::new(),
        }
    }
}

/// State of one `volume_spike` rule of one watch.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VolumeSpikeState {
    buckets: Buckets<BucketStats>,
    #[serde(deserialize_with = "crate::seasonal::relearn_older")]
    baseline: SeasonalBaseline,
}

impl DetectorState for VolumeSpikeState {
    type Rule = VolumeSpikeRule;

    /// Fresh state for `rule`.
    fn new(rule: &VolumeSpikeRule) -> Self {
        let size = rule.bucket_seconds as i64 * 1000;
        Self {
            buckets: Buckets::new(size),
            baseline: SeasonalBaseline::new(size),
        }
    }

    /// Counts one matching mention; fires as soon as its bucket, still open, is a rise: counts
    /// only grow, so a partial bucket already above the bar is a spike.
    fn observe(&mut self, rule: &VolumeSpikeRule, o: &Observed, out: &mut Vec<Signal>) {
        let Some((start, b)) = self.buckets.slot(o.at()) else {
            return;
        };
        if !b.add(o) {
            return;
        }
        let value = Self::value(rule, b);
        // The open buckets up to this mention's (not learned yet: the lateness allowance keeps
        // them open); the rest of the hour is learned history.
        let open: Vec<(i64, f64)> = self
            .buckets
            .open()
            .take_while(|(s, _)| *s <= start)
            .map(|(s, b)| (*s, Self::value(rule, b)))
            .collect();
        let counts: Vec<f64> = open.iter().map(|(_, v)| *v).collect();
        let hour = self.baseline.last_hour(&counts);
        let earlier = &open[..open.len().saturating_sub(1)];
        let Some(score) = self.baseline.score_open(earlier, start, value) else {
            return;
        };
        if !Self::anomalous(rule, &score, hour) {
            return;
        }
        let Some((_, b)) = self.buckets.open().find(|(s, _)| *s == start) else {
            return;
        };
        let evidence = b.evidence(
            value,
            &crate::seasonal::Expectation {
                expected: score.expected,
                spread: 1.0,
            },
        );
        out.push(Signal::Fire(Self::firing(rule, o.at(), &score, hour, evidence)));
    }

    /// Closes buckets the watermark left behind: they teach the baseline, and a bucket back
    /// to normal clears the open alert.
    fn advance(&mut self, rule: &VolumeSpikeRule, watermark: i64, out: &mut Vec<Signal>) {
        let baseline = &mut self.baseline;
        self.buckets.close_until(watermark, |start, b| {
            let value = Self::value(rule, &b);
            let hour = baseline.last_hour(&[value]);
            if let Some(s) = baseline.learn(start, value) {
                clear_unless_anomalous(rule, start, &s, hour, out);
            }
        });
    }
}

impl VolumeSpikeState {
    /// Fresh state for a plain series (`vigie backtest --counts`): `counts` says whether its
    /// values are counts (whole, non-negative: Poisson noise is the least spread) or any
    /// measure (CPU, latency, prices: the forecast's own errors only).
    pub fn for_series(rule: &VolumeSpikeRule, counts: bool, tuning: Tuning) -> Self {
        let size = rule.bucket_seconds as i64 * 1000;
        let baseline = if counts {
            SeasonalBaseline::new(size)
        } else {
            SeasonalBaseline::measures(size)
        };
        Self {
            buckets: Buckets::new(size),
            baseline: baseline.tuned(tuning),
        }
    }

    fn value(rule: &VolumeSpikeRule, b: &BucketStats) -> f64 {
        if rule.distinct_stories {
            b.stories.len() as f64
        } else {
            b.count as f64
        }
    }

    fn anomalous(rule: &VolumeSpikeRule, s: &Score, hour: f64) -> bool {
        // `min_count` 0 (plain series only): no floor, whatever the sign of the values.
        (rule.min_count == 0 || hour >= rule.min_count as f64) && s.unusual(Side::Rise, rule.sensitivity)
    }

    fn firing(rule: &VolumeSpikeRule, at: i64, s: &Score, hour: f64, mut evidence: EvidenceData) -> Firing {
        let unit = if rule.distinct_stories {
            "stories"
        } else {
            "mentions"
        };
        let bucket_ms = rule.bucket_seconds as i64 * 1000;
        let bucket_start = at.div_euclid(bucket_ms) * bucket_ms;
        evidence.count = s.value as u64;
        evidence.baseline = s.expected;
        evidence.score = s.z_rise;
        Firing {
            // The bucket in which the spike was first seen.
            episode: bucket_start.to_string(),
            at_ms: at,
            window_start_ms: bucket_start,
            window_end_ms: bucket_start + bucket_ms,
            summary: format!(
                "{:.0} {unit} in {} against {:.0} expected at this time ({:.0} in the last hour; rise evidence {:.1}{})",
                s.value,
                crate::detector::human_duration(rule.bucket_seconds as i64),
                s.expected,
                hour,
                s.z_rise,
                if s.beyond == Some(Side::Rise) { "; the highest level yet" } else { "" }
            ),
            evidence,
        }
    }

    /// The summary of a plain series' alert: values to three significant digits, the side's
    /// evidence, and whether the level was never seen.
    fn series_summary(s: &Score, side: Side) -> String {
        let (word, z) = match side {
            Side::Rise => ("rise", s.z_rise),
            Side::Drop => ("drop", s.z_drop),
        };
        format!(
            "{} against {} expected at this time ({word} evidence {z:.1}{})",
            significant(s.value),
            significant(s.expected),
            if s.beyond == Some(side) {
                "; a level never seen"
            } else {
                ""
            }
        )
    }

    /// Feeds one whole bucket of a plain series (`vigie backtest --counts`): `rise` gets the
    /// rule's signals for a rise, `drop` those of the same test on the other side (a drop as
    /// unusual as a spike would be), both at the bucket's own time.
    pub fn observe_count_sides(
        &mut self,
        rule: &VolumeSpikeRule,
        start: i64,
        value: f64,
        rise: &mut Vec<Signal>,
        drop: &mut Vec<Signal>,
    ) {
        let hour = self.baseline.last_hour(&[value]);
        let Some(s) = self.baseline.learn(start, value) else {
            return;
        };
        if Self::anomalous(rule, &s, hour) {
            let mut f = Self::firing(rule, start, &s, hour, EvidenceData::default());
            // A plain series: any measure, not mentions.
            f.summary = Self::series_summary(&s, Side::Rise);
            rise.push(Signal::Fire(f));
        } else {
            clear_unless_anomalous(rule, start, &s, hour, rise);
        }
        if s.unusual(Side::Drop, rule.sensitivity) {
            drop.push(Signal::Fire(Firing {
                episode: start.to_string(),
                at_ms: start,
                window_start_ms: start,
                window_end_ms: start + rule.bucket_seconds as i64 * 1000,
                summary: Self::series_summary(&s, Side::Drop),
                evidence: EvidenceData {
                    count: s.value.max(0.0) as u64,
                    baseline: s.expected,
                    score: s.z_drop,
                    ..Default::default()
                },
            }));
        } else if s.z_drop.is_finite() && s.calm(Side::Drop, rule.sensitivity) {
            drop.push(Signal::Clear {
                episode: None,
                at_ms: start + rule.bucket_seconds as i64 * 1000,
                note: format!("{:.2} against {:.2} expected", s.value, s.expected),
            });
        }
    }
}

/// `x` to three significant digits (whole above 100): 0.0664, 2.35, 41.2, 13479.
fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || x.abs() >= 100.0 {
        return format!("{x:.0}");
    }
    let decimals = (2 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.decimals$}")
}

/// Clears the open alert once a bucket is clearly back to normal: rise evidence below half the
/// sensitivity, or the last hour below half the minimum volume (hysteresis, so an alert does not
/// flap at the threshold).
fn clear_unless_anomalous(rule: &VolumeSpikeRule, start: i64, s: &Score, hour: f64, out: &mut Vec<Signal>) {
    let calm =
        s.calm(Side::Rise, rule.sensitivity) || (rule.min_count > 0 && hour < 0.5 * rule.min_count as f64);
    if s.z_rise.is_finite() && calm {
        out.push(Signal::Clear {
            episode: None,
            at_ms: start + rule.bucket_seconds as i64 * 1000,
            note: format!(
                "{:.0} in the last bucket against {:.0} expected",
                s.value, s.expected
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{cleared, firings, m, with_observed, MIN};

    fn rule() -> VolumeSpikeRule {
        VolumeSpikeRule {
            bucket_seconds: 300,
            sensitivity: vigie_core::rules::DEFAULT_SPIKE_SENSITIVITY,
            min_count: 40,
            distinct_stories: false,
        }
    }

    fn feed(s: &mut VolumeSpikeState, id: &str, at: i64) -> Vec<Signal> {
        let e = m(id, at).build();
        let mut out = with_observed(&e, |o, out| s.observe(&rule(), o, out));
        s.advance(&rule(), at, &mut out);
        out
    }

    #[test]
    fn plain_series_values_read_to_three_significant_digits() {
        assert_eq!(significant(0.066417), "0.0664");
        assert_eq!(significant(2.3456), "2.35");
        assert_eq!(significant(41.24), "41.2");
        assert_eq!(significant(13479.2), "13479");
        assert_eq!(significant(0.0), "0");
    }

    #[test]
    fn a_burst_after_days_of_routine_fires_early_once_and_clears_when_calm() {
        let mut s = VolumeSpikeState::new(&rule());
        let mut n = 0;
        // Five days of routine: three mentions every five minutes, a few more in the evening.
        for bucket in 0..(5 * 288) {
            let extra = if bucket % 288 > 216 { 1 } else { 0 };
            for k in 0..(3 + extra) {
                n += 1;
                let out = feed(&mut s, &format!("r{n}"), bucket * 5 * MIN + k * MIN);
                assert!(firings(&out).is_empty(), "routine fired at bucket {bucket}");
            }
        }
        // A burst: 60 mentions in ten minutes. It fires before the bucket closes, once.
        let t0 = 5 * 288 * 5 * MIN;
        let mut fired = Vec::new();
        for k in 0..60 {
            let out = feed(&mut s, &format!("b{k}"), t0 + k * 10_000);
            // A redelivered copy never counts twice.
            let again = feed(&mut s, &format!("b{k}"), t0 + k * 10_000);
            assert!(firings(&again).is_empty() || !firings(&out).is_empty());
            fired.extend(firings(&out).into_iter().map(|f| (k, f.evidence.count)));
        }
        let (first, count) = fired[0];
        assert!(
            first < 30,
            "fired after {first} burst mentions, within the burst's first bucket"
        );
        assert_eq!(
            count,
            first as u64 + 1,
            "the evidence counts the open bucket's mentions"
        );
        // Back to routine: within two hours the hour is calm again and the alert clears.
        let mut calm = false;
        for bucket in 0..24 {
            for k in 0..3 {
                n += 1;
                let out = feed(
                    &mut s,
                    &format!("r{n}"),
                    t0 + 10 * MIN + bucket * 5 * MIN + k * MIN,
                );
                calm |= cleared(&out);
            }
        }
        assert!(calm);
        // Too late for a closed bucket: ignored.
        assert!(s.buckets.slot(t0 - 60 * MIN).is_none());
    }
}
