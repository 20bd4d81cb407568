//! The `volume_spike` rule: mentions (or distinct stories) per bucket against a learned seasonal
//! baseline. It fires as soon as the open bucket is anomalous — counts only grow, so a partial
//! bucket above the band is already a spike — and resolves when a bucket closes within the band.

use crate::baseline::Expectation;
use crate::detector::{
    stable_hash, top_n, DetectorState, EvidenceData, Firing, Observed, Sentiments, Signal,
};
use crate::series::Buckets;
use crate::spike::{SpikeBaseline, SpikeScore};
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
    baseline: SpikeBaseline,
}

impl DetectorState for VolumeSpikeState {
    type Rule = VolumeSpikeRule;

    /// Fresh state for `rule`.
    fn new(rule: &VolumeSpikeRule) -> Self {
        let size = rule.bucket_seconds as i64 * 1000;
        Self {
            buckets: Buckets::new(size),
            baseline: SpikeBaseline::new(size),
        }
    }

    /// Counts one matching mention; fires when the hour ending with its bucket is a spike.
    fn observe(&mut self, rule: &VolumeSpikeRule, o: &Observed, out: &mut Vec<Signal>) {
        let Some((start, b)) = self.buckets.slot(o.at()) else {
            return;
        };
        if !b.add(o) {
            return;
        }
        // The open buckets up to this mention's: the rest of the hour is closed history.
        let open: Vec<f64> = self
            .buckets
            .open()
            .take_while(|(s, _)| *s <= start)
            .map(|(_, b)| Self::value(rule, b))
            .collect();
        let current = self.baseline.last_hour(&open);
        let Some(score) = self.baseline.score(o.at(), current) else {
            return;
        };
        if !Self::anomalous(rule, &score) {
            return;
        }
        let Some((_, b)) = self.buckets.open().find(|(s, _)| *s == start) else {
            return;
        };
        let evidence = b.evidence(
            current,
            &crate::baseline::Expectation {
                expected: score.expected,
                spread: 1.0,
            },
        );
        out.push(Signal::Fire(Self::firing(rule, o.at(), &score, evidence)));
    }

    /// Closes buckets the watermark left behind: they teach the baseline, and an hour back
    /// below the threshold clears the open alert.
    fn advance(&mut self, rule: &VolumeSpikeRule, watermark: i64, out: &mut Vec<Signal>) {
        let baseline = &mut self.baseline;
        self.buckets.close_until(watermark, |start, b| {
            let value = Self::value(rule, &b);
            if let Some(s) = baseline.close_bucket(start, value) {
                clear_unless_anomalous(rule, start, &s, out);
            }
        });
    }
}

impl VolumeSpikeState {
    fn value(rule: &VolumeSpikeRule, b: &BucketStats) -> f64 {
        if rule.distinct_stories {
            b.stories.len() as f64
        } else {
            b.count as f64
        }
    }

    fn anomalous(rule: &VolumeSpikeRule, s: &SpikeScore) -> bool {
        s.current >= rule.min_count as f64 && s.z >= rule.sensitivity
    }

    fn firing(rule: &VolumeSpikeRule, at: i64, s: &SpikeScore, mut evidence: EvidenceData) -> Firing {
        let unit = if rule.distinct_stories {
            "stories"
        } else {
            "mentions"
        };
        let bucket_ms = rule.bucket_seconds as i64 * 1000;
        let bucket_start = at.div_euclid(bucket_ms) * bucket_ms;
        evidence.count = s.current as u64;
        evidence.baseline = s.expected;
        evidence.score = s.z;
        Firing {
            // The bucket in which the spike was first seen.
            episode: bucket_start.to_string(),
            at_ms: at,
            window_start_ms: bucket_start + bucket_ms - 3_600_000,
            window_end_ms: bucket_start + bucket_ms,
            summary: format!(
                "{:.0} {unit} in the last hour against {:.0} expected at this time ({:.1}× a typical daily peak)",
                s.current, s.expected, s.z
            ),
            evidence,
        }
    }

    /// Feeds one whole bucket of a plain count series (`vigie backtest --counts`): fires or
    /// clears at the bucket's own time.
    pub fn observe_count(&mut self, rule: &VolumeSpikeRule, start: i64, value: f64, out: &mut Vec<Signal>) {
        let Some(s) = self.baseline.close_bucket(start, value) else {
            return;
        };
        if Self::anomalous(rule, &s) {
            out.push(Signal::Fire(Self::firing(
                rule,
                start,
                &s,
                EvidenceData::default(),
            )));
        } else {
            clear_unless_anomalous(rule, start, &s, out);
        }
    }
}

/// Clears the open alert once the hour is clearly back to normal: below half the sensitivity or
/// half the minimum volume (hysteresis, so an alert does not flap at the threshold).
fn clear_unless_anomalous(rule: &VolumeSpikeRule, start: i64, s: &SpikeScore, out: &mut Vec<Signal>) {
    let calm = s.z < 0.5 * rule.sensitivity || s.current < 0.5 * rule.min_count as f64;
    if s.z.is_finite() && calm {
        out.push(Signal::Clear {
            episode: None,
            at_ms: start + rule.bucket_seconds as i64 * 1000,
            note: format!(
                "{:.0} in the last hour against {:.0} expected",
                s.current, s.expected
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
            sensitivity: 1.4,
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
        assert!(first < 40, "fired after {first} burst mentions");
        assert!(count >= 40, "{count}");
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
