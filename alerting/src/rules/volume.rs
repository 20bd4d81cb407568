//! The `volume_spike` rule: mentions (or distinct stories) per bucket against a learned seasonal
//! baseline. It fires as soon as the open bucket is anomalous — counts only grow, so a partial
//! bucket above the band is already a spike — and resolves when a bucket closes within the band.

use crate::baseline::{Baseline, Expectation};
use crate::detector::{top_n, EvidenceData, Firing, Observed, Sentiments, Signal};
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

/// FNV-1a, stable across processes (checkpoints hold these hashes).
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
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
    baseline: Baseline,
}

impl VolumeSpikeState {
    /// Fresh state for `rule`.
    pub fn new(rule: &VolumeSpikeRule) -> Self {
        let size = rule.bucket_seconds as i64 * 1000;
        Self {
            buckets: Buckets::new(size),
            baseline: Baseline::new(size),
        }
    }

    fn value(rule: &VolumeSpikeRule, b: &BucketStats) -> f64 {
        if rule.distinct_stories {
            b.stories.len() as f64
        } else {
            b.count as f64
        }
    }

    fn firing(
        rule: &VolumeSpikeRule,
        start: i64,
        at: i64,
        value: f64,
        e: &Expectation,
        evidence: EvidenceData,
    ) -> Firing {
        let unit = if rule.distinct_stories {
            "stories"
        } else {
            "mentions"
        };
        Firing {
            episode: start.to_string(),
            at_ms: at,
            window_start_ms: start,
            window_end_ms: start + rule.bucket_seconds as i64 * 1000,
            summary: format!(
                "{value:.0} {unit} in {} against {:.1} expected at this time ({:+.1} deviations)",
                crate::detector::human_duration(rule.bucket_seconds as i64),
                e.expected,
                evidence.score
            ),
            evidence,
        }
    }

    fn anomalous(rule: &VolumeSpikeRule, value: f64, e: &Expectation) -> bool {
        value >= rule.min_count as f64 && value > e.upper(rule.sensitivity)
    }

    /// Counts one matching mention; fires when its bucket is already anomalous.
    pub fn observe(&mut self, rule: &VolumeSpikeRule, o: &Observed, out: &mut Vec<Signal>) {
        let Some((start, b)) = self.buckets.slot(o.at()) else {
            return;
        };
        if !b.add(o) {
            return;
        }
        let value = Self::value(rule, b);
        if let Some(e) = self.baseline.expect(start) {
            if Self::anomalous(rule, value, &e) {
                let evidence = b.evidence(value, &e);
                out.push(Signal::Fire(Self::firing(
                    rule,
                    start,
                    o.at(),
                    value,
                    &e,
                    evidence,
                )));
            }
        }
    }

    /// Closes buckets the watermark left behind: they teach the baseline, and a closed bucket
    /// back within the band clears the open alert.
    pub fn advance(&mut self, rule: &VolumeSpikeRule, watermark: i64, out: &mut Vec<Signal>) {
        let baseline = &mut self.baseline;
        self.buckets.close_until(watermark, |start, b| {
            let value = Self::value(rule, &b);
            close(baseline, rule, start, value, out);
        });
    }

    /// Feeds one whole bucket of a plain count series (`vigie backtest --counts`): fires or
    /// clears at the bucket's own time, then learns it.
    pub fn observe_count(&mut self, rule: &VolumeSpikeRule, start: i64, value: f64, out: &mut Vec<Signal>) {
        if let Some(e) = self.baseline.expect(start) {
            if Self::anomalous(rule, value, &e) {
                let evidence = EvidenceData {
                    count: value as u64,
                    baseline: e.expected,
                    score: (value - e.expected) / e.spread,
                    ..Default::default()
                };
                out.push(Signal::Fire(Self::firing(
                    rule, start, start, value, &e, evidence,
                )));
            }
        }
        close(&mut self.baseline, rule, start, value, out);
    }
}

fn close(baseline: &mut Baseline, rule: &VolumeSpikeRule, start: i64, value: f64, out: &mut Vec<Signal>) {
    if let Some(e) = baseline.expect(start) {
        if !VolumeSpikeState::anomalous(rule, value, &e) {
            out.push(Signal::Clear {
                episode: None,
                at_ms: start + rule.bucket_seconds as i64 * 1000,
                note: format!("back to {value:.0} against {:.1} expected", e.expected),
            });
        }
    }
    baseline.learn(start, value);
}
