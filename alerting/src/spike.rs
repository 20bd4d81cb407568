//! The volume-spike score: the last hour of mentions against what this hour should hold,
//! measured in "typical daily peaks".
//!
//! - Expected volume `E`: the median of the previous 12 hourly totals, scaled by a learned
//!   hour-of-day profile, then cross-checked (maximum) against the same hour yesterday and one
//!   week earlier — the "last hour against the previous 12 hours, checked against the same hour
//!   a day and a week earlier" of commercial listening tools.
//! - Excess `r = ln((cur + c) / (E + c))`, with `c` a pseudo-count that damps low volumes.
//! - Scale: the median of the last 7 daily maxima of `r`. `z = r / scale` says how many typical
//!   daily peaks above normal the last hour is; a rule fires at `z ≥ sensitivity`.
//!
//! State is about 220 numbers per rule; each bucket costs O(1) (plus a sort of 12 values an hour
//! and 7 a day). Nothing is scored before 12 hours of history and 4 days of daily peaks.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Hourly totals kept: enough for the previous 12 hours and the same hour a week earlier.
const HOURS_KEPT: usize = 170;
/// Daily peaks kept for the scale.
const DAYS_KEPT: usize = 7;
/// Daily peaks needed before scoring.
pub const WARM_DAYS: usize = 4;
/// Smallest scale (a perfectly flat history would otherwise make every wiggle infinite).
const SCALE_FLOOR: f64 = 0.05;
/// Learning rate of the hour-of-day profile (per day).
const PROFILE_RATE: f64 = 0.1;
/// Pseudo-count per hour.
pub const PSEUDO_COUNT: f64 = 20.0;

/// How the last hour compares with what was expected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeScore {
    /// Mentions in the last hour.
    pub current: f64,
    /// Expected mentions in that hour.
    pub expected: f64,
    /// Typical daily peaks above the expectation.
    pub z: f64,
}

/// The learned state of one series.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SpikeBaseline {
    bucket_ms: i64,
    /// The last hour of closed buckets (oldest first).
    recent: VecDeque<f64>,
    last_bucket: Option<i64>,
    /// Hourly totals by hour number (hour, total), a ring indexed by hour.
    hours: Vec<(i64, f32)>,
    hours_closed: u64,
    current_hour: Option<i64>,
    hour_sum: f64,
    hour_buckets: u32,
    /// Median of the previous 12 hourly totals.
    median_12h: Option<f64>,
    /// Hour-of-day ratio profile.
    profile: Vec<f64>,
    current_day: Option<i64>,
    today_max: Option<f64>,
    day_maxima: VecDeque<f64>,
    scale: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(0.5 * (v[(n - 1) / 2] + v[n / 2]))
}

impl SpikeBaseline {
    /// A fresh baseline for buckets of `bucket_ms` (a divisor of an hour or a day).
    pub fn new(bucket_ms: i64) -> Self {
        Self {
            bucket_ms: bucket_ms.clamp(1, HOUR_MS),
            recent: VecDeque::new(),
            last_bucket: None,
            hours: vec![(i64::MIN, 0.0); HOURS_KEPT],
            hours_closed: 0,
            current_hour: None,
            hour_sum: 0.0,
            hour_buckets: 0,
            median_12h: None,
            profile: vec![1.0; 24],
            current_day: None,
            today_max: None,
            day_maxima: VecDeque::new(),
            scale: None,
        }
    }

    fn per_hour(&self) -> usize {
        (HOUR_MS / self.bucket_ms).max(1) as usize
    }

    fn hour_total(&self, hour: i64) -> Option<f64> {
        let (h, v) = self.hours[hour.rem_euclid(HOURS_KEPT as i64) as usize];
        (h == hour).then_some(v as f64)
    }

    fn close_hour(&mut self, hour: i64) {
        let per_hour = self.per_hour() as f64;
        let total = self.hour_sum * per_hour / (self.hour_buckets.max(1) as f64);
        if let Some(m) = self.median_12h.filter(|_| self.hours_closed >= 12) {
            let ratio = ((total + PSEUDO_COUNT) / (m + PSEUDO_COUNT)).clamp(0.25, 4.0);
            let slot = &mut self.profile[hour.rem_euclid(24) as usize];
            *slot = ((1.0 - PROFILE_RATE) * slot.ln() + PROFILE_RATE * ratio.ln()).exp();
        }
        self.hours[hour.rem_euclid(HOURS_KEPT as i64) as usize] = (hour, total as f32);
        self.hours_closed += 1;
        self.median_12h = median((1..=12).filter_map(|i| self.hour_total(hour + 1 - i)).collect());
    }

    fn close_day(&mut self) {
        let Some(peak) = self.today_max.take() else { return };
        self.day_maxima.push_back(peak);
        if self.day_maxima.len() > DAYS_KEPT {
            self.day_maxima.pop_front();
        }
        self.scale = median(self.day_maxima.iter().copied().collect()).map(|m| m.max(SCALE_FLOOR));
    }

    /// Mentions in the hour ending with `open` (the counts of the buckets not closed yet, oldest
    /// first): the newest closed buckets plus the open ones.
    pub fn last_hour(&self, open: &[f64]) -> f64 {
        let keep = self.per_hour().saturating_sub(open.len());
        let closed: f64 = self.recent.iter().rev().take(keep).sum();
        closed + open.iter().sum::<f64>()
    }

    /// The score of `current` mentions in the hour ending in the bucket that holds `at_ms`, or
    /// `None` while the baseline is still learning.
    pub fn score(&self, at_ms: i64, current: f64) -> Option<SpikeScore> {
        let median = self.median_12h?;
        if self.hours_closed < 12 || self.recent.len() + 1 < self.per_hour() {
            return None;
        }
        let hour = at_ms.div_euclid(HOUR_MS);
        // Share of the rolling hour that falls in the current calendar hour.
        let f = ((at_ms.rem_euclid(HOUR_MS) / self.bucket_ms + 1) as f64 / self.per_hour() as f64).min(1.0);
        let slot = |h: i64| self.profile[h.rem_euclid(24) as usize].ln();
        let factor = (f * slot(hour) + (1.0 - f) * slot(hour - 1)).exp();
        let mut expected = ((median + PSEUDO_COUNT) * factor - PSEUDO_COUNT).max(0.0);
        for lag in [24, 168] {
            if let (Some(a), Some(b)) = (self.hour_total(hour - lag), self.hour_total(hour - lag - 1)) {
                expected = expected.max(f * a + (1.0 - f) * b);
            }
        }
        let r = ((current + PSEUDO_COUNT) / (expected + PSEUDO_COUNT)).ln();
        let z = match self.scale {
            Some(s) if self.day_maxima.len() >= WARM_DAYS => r / s,
            _ => f64::NAN,
        };
        Some(SpikeScore { current, expected, z })
    }

    /// Learns the closed bucket starting at `start_ms` with `value` mentions; returns the score
    /// of the hour it completes (before learning from it), `z` NaN while warming up.
    pub fn close_bucket(&mut self, start_ms: i64, value: f64) -> Option<SpikeScore> {
        let bucket = start_ms.div_euclid(self.bucket_ms);
        if let Some(last) = self.last_bucket {
            if bucket <= last {
                return None;
            }
            // Missing buckets held no mention.
            for _ in 0..(bucket - last - 1).min(self.per_hour() as i64) {
                self.push(0.0);
            }
        }
        self.last_bucket = Some(bucket);
        let hour = start_ms.div_euclid(HOUR_MS);
        let day = start_ms.div_euclid(DAY_MS);
        let current_hour = *self.current_hour.get_or_insert(hour);
        if hour != current_hour {
            self.close_hour(current_hour);
            self.current_hour = Some(hour);
            self.hour_sum = 0.0;
            self.hour_buckets = 0;
        }
        if *self.current_day.get_or_insert(day) != day {
            self.close_day();
            self.current_day = Some(day);
        }
        self.hour_sum += value;
        self.hour_buckets += 1;
        self.push(value);
        let score = self.score(start_ms, self.last_hour(&[]))?;
        let r = ((score.current + PSEUDO_COUNT) / (score.expected + PSEUDO_COUNT)).ln();
        self.today_max = Some(self.today_max.map_or(r, |m| m.max(r)));
        Some(score)
    }

    fn push(&mut self, value: f64) {
        self.recent.push_back(value);
        while self.recent.len() > self.per_hour() {
            self.recent.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MIN: i64 = 300_000;

    /// A daily cycle: quiet nights, busy days, with small deterministic wiggles.
    fn usual(t: i64) -> f64 {
        let hour = t.rem_euclid(DAY_MS) / HOUR_MS;
        let base = if (8..20).contains(&hour) { 60.0 } else { 15.0 };
        base + ((t / FIVE_MIN) % 7) as f64
    }

    #[test]
    fn a_burst_scores_far_above_a_usual_busy_morning() {
        let mut b = SpikeBaseline::new(FIVE_MIN);
        let mut max_usual_z = f64::MIN;
        let start = 10 * DAY_MS;
        // Eight days and three hours of usual traffic.
        for i in 0..(8 * 288 + 36) {
            let t = start + i * FIVE_MIN;
            if let Some(s) = b.close_bucket(t, usual(t)) {
                if s.z.is_finite() {
                    max_usual_z = max_usual_z.max(s.z);
                }
            }
        }
        assert!(max_usual_z.is_finite(), "scored after the warm-up");
        assert!(
            max_usual_z < 1.4,
            "the daily cycle itself is not a spike: {max_usual_z}"
        );
        // A burst at 3 a.m.: three times the usual night volume for half an hour.
        let t = start + 8 * DAY_MS + 3 * HOUR_MS;
        let mut z = 0.0;
        for k in 0..6 {
            z = b.close_bucket(t + k * FIVE_MIN, 3.0 * usual(t) + 40.0).unwrap().z;
        }
        assert!(z > 3.0, "{z}");
    }

    #[test]
    fn nothing_is_scored_while_learning() {
        let mut b = SpikeBaseline::new(FIVE_MIN);
        for i in 0..(3 * 288) {
            let s = b.close_bucket(i * FIVE_MIN, 50.0);
            assert!(s.is_none_or(|s| s.z.is_nan()), "day {}", i / 288);
        }
    }
}
