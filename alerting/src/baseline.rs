//! A learned, seasonal baseline for a count series (mentions per bucket), cheap enough to keep
//! for every rule of 10,000 watches.
//!
//! It combines a recent level (the last hours) with what this hour of the day usually holds
//! and what this hour of the week usually holds, and tracks a robust spread of the residuals.
//! Values are learned clipped to the upper band, so a spike does not teach the baseline that
//! spikes are normal.

use serde::{Deserialize, Serialize};

const HOUR_MS: i64 = 3_600_000;

/// What a baseline expects for one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    /// Expected count.
    pub expected: f64,
    /// Robust spread of counts around the expectation.
    pub spread: f64,
}

impl Expectation {
    /// Count above which a bucket is anomalous at `sensitivity` deviations.
    pub fn upper(&self, sensitivity: f64) -> f64 {
        self.expected + sensitivity * self.spread
    }
}

/// Baseline state of one series.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    bucket_ms: i64,
    /// Buckets learned so far.
    seen: u64,
    /// Recent level (exponentially weighted).
    level: f64,
    /// Exponentially weighted absolute residual.
    deviation: f64,
    /// Per hour of the day: exponentially weighted count per bucket.
    by_hour: Vec<f32>,
    /// Per hour of the week (Monday 00:00 UTC first): exponentially weighted count per bucket.
    by_week_hour: Vec<f32>,
    /// Days with data per hour of day (saturating), to know when the profile is usable.
    hour_days: Vec<u16>,
    /// Weeks with data per hour of week (saturating).
    week_hour_weeks: Vec<u16>,
}

impl Baseline {
    /// A fresh baseline for buckets of `bucket_ms`.
    pub fn new(bucket_ms: i64) -> Self {
        Self {
            bucket_ms: bucket_ms.max(1),
            seen: 0,
            level: 0.0,
            deviation: 0.0,
            by_hour: vec![0.0; 24],
            by_week_hour: vec![0.0; 168],
            hour_days: vec![0; 24],
            week_hour_weeks: vec![0; 168],
        }
    }

    fn buckets_per_hour(&self) -> f64 {
        (HOUR_MS as f64 / self.bucket_ms as f64).max(1.0)
    }

    /// Buckets needed before the baseline expects anything: six hours of data.
    fn warm_up(&self) -> u64 {
        (6.0 * self.buckets_per_hour()).ceil() as u64
    }

    fn hours(start_ms: i64) -> (usize, usize) {
        let hour = start_ms.div_euclid(HOUR_MS);
        // 1970-01-01 was a Thursday: shift so that index 0 is Monday 00:00.
        let week_hour = (hour + 3 * 24).rem_euclid(168) as usize;
        ((hour.rem_euclid(24)) as usize, week_hour)
    }

    /// What the bucket starting at `start_ms` should hold, once enough history was learned.
    pub fn expect(&self, start_ms: i64) -> Option<Expectation> {
        if self.seen < self.warm_up() {
            return None;
        }
        let (h, wh) = Self::hours(start_ms);
        let mut expected = self.level;
        if self.hour_days[h] >= 2 {
            expected = 0.5 * self.level + 0.5 * self.by_hour[h] as f64;
        }
        if self.week_hour_weeks[wh] >= 2 {
            expected = 0.5 * expected + 0.5 * self.by_week_hour[wh] as f64;
        }
        // Counts are at least Poisson-noisy: never trust a spread below √expected.
        let spread = self.deviation.max(expected.sqrt()).max(1.0);
        Some(Expectation { expected, spread })
    }

    /// Learns the closed bucket starting at `start_ms` that held `value`.
    pub fn learn(&mut self, start_ms: i64, value: f64) {
        let clipped = match self.expect(start_ms) {
            Some(e) => {
                let residual = (value - e.expected).abs().min(4.0 * e.spread);
                self.deviation += 0.05 * (residual - self.deviation);
                value.min(e.upper(3.0))
            }
            None => {
                self.deviation += 0.2 * ((value - self.level).abs() - self.deviation);
                value
            }
        };
        let alpha = 1.0 / (2.0 * self.buckets_per_hour());
        self.level = if self.seen == 0 {
            clipped
        } else {
            self.level + alpha * (clipped - self.level)
        };
        let (h, wh) = Self::hours(start_ms);
        let first_of_hour = start_ms.rem_euclid(HOUR_MS) < self.bucket_ms;
        let blend = |old: f32, n: u16, rate: f32| {
            if n == 0 {
                clipped as f32
            } else {
                old + rate * (clipped as f32 - old)
            }
        };
        self.by_hour[h] = blend(self.by_hour[h], self.hour_days[h], 0.3);
        self.by_week_hour[wh] = blend(self.by_week_hour[wh], self.week_hour_weeks[wh], 0.5);
        if first_of_hour {
            self.hour_days[h] = self.hour_days[h].saturating_add(1);
            self.week_hour_weeks[wh] = self.week_hour_weeks[wh].saturating_add(1);
        }
        self.seen += 1;
    }
}
