//! The learned baseline of every volume rule (`volume_spike`, `negative_surge`, `flatline`, and
//! `vigie backtest --counts`): what a bucket should hold, how far from it is unusual for this
//! series, and how unusual the last few buckets are together.
//!
//! 1. **Three forecasts, the best one used.** The *recent level* is the median of the last 12
//!    buckets; the *daily* (seasonal) forecast is the median, over the previous 7 days, of the
//!    mean per bucket in the same quarter of an hour (UTC), interpolated between neighbouring
//!    quarters; the *weekly* one is that time a week before (the median of its quarter and the
//!    two around it) where that value repeated the week before's, elsewhere the median of it,
//!    the daily forecast and the level (an incident last week did not repeat: it is not this
//!    week's forecast). Each forecast's mean absolute error is tracked (exponentially, over
//!    ~100 buckets); after two days the daily forecast is used if its error is below the
//!    level's, and after eight days (and a day of comparisons) the weekly one replaces either
//!    if it erred less over the last week (a weekly cycle shows over a week, not in the hours
//!    before a weekend): a series with a daily cycle (or a square wave) is forecast by its
//!    cycle, one whose weekends differ (taxi rides on Saturday nights) by its week, one without
//!    either by its level. Medians: one spike does not move a forecast much.
//! 2. **A scale of its own.** The forecast's typical error (exponentially over ~300 buckets,
//!    each error clipped at 5× the current scale, so one burst cannot inflate it; for counts
//!    never below Poisson noise, √forecast) divides the error: `a = max(value − forecast, 0) /
//!    scale` for rises (and the mirror for drops), capped at 100. The same detector reads CPU
//!    percentages, byte counts and tweets per five minutes.
//! 3. **Sustained evidence, judged against the series' own surprises.** The mean of `a` over the
//!    last 12 buckets is compared with the long-run mean and spread of `a` (exponentially over
//!    ~2,000 buckets): `z = (short − mean) / spread`. One odd bucket moves the short mean a
//!    twelfth; a rise that lasts moves it fully. A rule fires at `z ≥ sensitivity` (default
//!    2.5). Beside it, a value beyond everything learned (above the highest or below the lowest
//!    by 5 % of that range) is unusual on its own: a level the series never reached. Either way
//!    the bucket itself must lie two scales beyond the forecast on that side (a count of 0
//!    against 1 expected is noise, not a drop).
//! 4. **Probation.** Nothing fires before 300 buckets and two days were learned (two days at
//!    5-minute buckets, 12.5 days at hourly ones): the scale and the long-run spread need that
//!    many buckets to mean anything, and the seasonal forecast needs a day behind it to be
//!    judged (a new watch's first morning would otherwise be a spike). The seasonal forecast
//!    competes from two days on. `negative_surge` expects after six hours of data (its
//!    `min_negative` is its floor) and `flatline` after two days, neither waiting for the 300
//!    buckets.
//!
//! The numbers of 3 ([`Tuning`]) and the sensitivity were chosen by `vigie eval --volume`.
//! Values are given per bucket in time order; a bucket that is not given is unknown, not zero
//! (the live rules close empty buckets as zero themselves: no mention is a count of 0). State is
//! about 1,400 numbers per series whatever the bucket size (a week of quarter-hour means), and
//! each bucket costs O(1) plus three medians of at most 12, 7 and 3 values.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Buckets in the recent-level median.
const RECENT: usize = 12;
/// Days in the seasonal median.
const DAYS: usize = 7;
/// Length of a seasonal slot.
const SLOT_MS: i64 = 15 * 60_000;
/// Slots in a day.
const SLOTS_PER_DAY: i64 = DAY_MS / SLOT_MS;
/// Slots kept: one week and one slot (the oldest day's neighbour slot is still there).
const SLOTS: usize = DAYS * SLOTS_PER_DAY as usize + 1;
/// Rate of the errors that choose the forecast.
const SELECT_RATE: f64 = 0.01;
/// Rate of the scale.
const SCALE_RATE: f64 = 0.003;
/// Errors are learned clipped at this many scales.
const SCALE_CLIP: f64 = 5.0;
/// Most open buckets counted in an open bucket's evidence (more than the lateness allowance
/// ever keeps open at the smallest bucket).
const MAX_PENDING: usize = 16;
/// Largest `a` of one bucket.
const A_CAP: f64 = 100.0;
/// Buckets learned before anything may fire.
pub const PROBATION: u64 = 300;
/// Hours of data before the baseline expects anything (for `expect`), and at least this many
/// buckets.
const WARM_UP: u64 = 6;

/// The detector's numbers that `vigie eval --volume` chooses leave-one-category-out; rules run
/// with [`Tuning::default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    /// Buckets in the short mean of `a`.
    pub short: usize,
    /// Rate of the long-run mean and variance of `a` (per bucket).
    pub long_rate: f64,
    /// A value beyond everything learned by this share of the learned range is unusual on its
    /// own; `None`: never.
    pub beyond: Option<f64>,
    /// Scales the bucket itself must lie beyond the forecast, on the side that fires, for
    /// sustained evidence or a never-seen level to count.
    pub own: f64,
}

impl Default for Tuning {
    fn default() -> Self {
        // Chosen by `vigie eval --volume` over the 53 development series (README, "Crisis
        // detection"): the grid's best over all of them (interior to the grid but for `own`,
        // whose grid is {1, 2}: 3 was worse, 61.4 against 64.3 on nab_other).
        Self {
            short: 12,
            long_rate: 1.0 / 2000.0,
            beyond: Some(0.05),
            own: 2.0,
        }
    }
}

/// Which side of the forecast is unusual.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Above the forecast (spikes).
    Rise,
    /// Below it (drops, silences).
    Drop,
}

/// What a baseline expects for one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Expectation {
    /// Forecast value.
    pub expected: f64,
    /// Typical absolute error of the forecast (for counts, at least 1 and √expected: Poisson
    /// noise).
    pub spread: f64,
}

impl Expectation {
    /// Count above which a bucket is anomalous at `sensitivity` spreads.
    pub fn upper(&self, sensitivity: f64) -> f64 {
        self.expected + sensitivity * self.spread
    }
}

/// How a bucket compares with what was expected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// The bucket's value.
    pub value: f64,
    /// The forecast.
    pub expected: f64,
    /// Evidence of a sustained rise (see the module documentation), `NaN` in probation.
    pub z_rise: f64,
    /// Evidence of a sustained drop, `NaN` in probation.
    pub z_drop: f64,
    /// The value lies beyond everything learned (above the highest or below the lowest by 5 %
    /// of their range), after probation: a never-seen level is unusual however it came.
    pub beyond: Option<Side>,
    /// The bucket's own departure from the forecast, in scales (negative below it).
    pub excess: f64,
    /// Departure the bucket itself needs, in scales, to be unusual ([`Tuning::own`]).
    pub own_needed: f64,
}

impl Score {
    /// The evidence on `side`.
    pub fn z(&self, side: Side) -> f64 {
        match side {
            Side::Rise => self.z_rise,
            Side::Drop => self.z_drop,
        }
    }

    /// Whether the bucket is unusual on `side` at `sensitivity`: the bucket itself at least
    /// [`Tuning::own`] scales beyond the forecast on that side (two by default: an alert never
    /// says "0.07 against 0.07 expected", nor "0 against 1 expected" on a count that is often
    /// 0), and sustained evidence or a level never seen.
    pub fn unusual(&self, side: Side, sensitivity: f64) -> bool {
        let own = match side {
            Side::Rise => self.excess,
            Side::Drop => -self.excess,
        };
        own >= self.own_needed && (self.z(side) >= sensitivity || self.beyond == Some(side))
    }

    /// Whether the bucket is clearly back to normal on `side`: evidence below half the
    /// sensitivity (hysteresis, so an alert does not flap at the threshold) and within the
    /// learned range.
    pub fn calm(&self, side: Side, sensitivity: f64) -> bool {
        self.z(side) < 0.5 * sensitivity && self.beyond != Some(side)
    }
}

/// Long-run statistics of one side's `a`, and its last values.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Surprise {
    learned: u64,
    recent: VecDeque<f32>,
    mean: f64,
    var: f64,
}

impl Surprise {
    /// Evidence of `a` after `pending` (surprises of buckets not learned yet, oldest first): the
    /// mean of the last `short` surprises against the long-run mean, in long-run spreads.
    fn z(&self, pending: &[f64], a: f64, t: &Tuning) -> f64 {
        let short = t.short.max(1);
        let pending = &pending[pending.len().saturating_sub(short - 1)..];
        let learned = short - 1 - pending.len();
        let sum: f64 = self
            .recent
            .iter()
            .rev()
            .take(learned)
            .map(|&x| x as f64)
            .sum::<f64>()
            + pending.iter().sum::<f64>()
            + a;
        let n = self.recent.len().min(learned) + pending.len() + 1;
        (sum / n as f64 - self.mean) / self.var.max(1e-6).sqrt()
    }

    fn learn(&mut self, a: f64, t: &Tuning) {
        self.learned += 1;
        // A running mean and variance until there are 1/rate values, exponential after: the
        // first values weigh no more than the others.
        let rate = t.long_rate.max(1.0 / self.learned as f64);
        let d = a - self.mean;
        self.mean += rate * d;
        self.var += rate * ((1.0 - rate) * d * d - self.var);
        self.recent.push_back(a as f32);
        if self.recent.len() >= t.short.max(1) {
            self.recent.pop_front();
        }
    }
}

/// One forecast's tracked errors.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Errors {
    /// Mean absolute error for choosing (unclipped).
    select: Option<f64>,
    /// Clipped mean absolute error: the scale.
    scale: Option<f64>,
    /// Errors learned.
    #[serde(default)]
    learned: u64,
}

/// Errors learned unclipped before the scale clips them (a first error of 0 would otherwise
/// hold the scale near 0 for days).
const SCALE_UNCLIPPED: u64 = 20;

impl Errors {
    fn learn(&mut self, e: f64) {
        self.learned += 1;
        // Running means until there are 1/rate errors, exponential after.
        let n = self.learned as f64;
        let select = self.select.get_or_insert(e);
        *select += SELECT_RATE.max(1.0 / n) * (e - *select);
        let scale = self.scale.get_or_insert(e);
        let clipped = if self.learned <= SCALE_UNCLIPPED {
            e
        } else {
            e.min(SCALE_CLIP * *scale + 1e-9)
        };
        *scale += SCALE_RATE.max(1.0 / n) * (clipped - *scale);
    }
}

/// The learned state of one series.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeasonalBaseline {
    bucket_ms: i64,
    /// Values are counts: the scale is never below Poisson noise, √forecast (at least 1).
    #[serde(default)]
    counts: bool,
    /// Buckets learned.
    seen: u64,
    /// The last buckets' values, oldest first (the recent level, the last hour's total).
    recent: VecDeque<f32>,
    /// Mean per bucket of each 15-minute slot of the last week, by slot number (since the
    /// epoch) modulo [`SLOTS`]; `slot_number` says which slot an entry holds.
    slots: Vec<f32>,
    slot_number: Vec<i32>,
    /// One bit per ring entry: that slot's mean repeated the week before's (closer to it than
    /// half its distance to the median of the previous days' same slot), so the same time next
    /// week may be forecast by last week alone; an incident, which did not repeat, is not.
    #[serde(default)]
    repeated: Vec<u64>,
    /// The slot being summed, its sum and bucket count.
    slot_open: Option<i64>,
    slot_sum: f64,
    slot_buckets: u32,
    /// First bucket learned.
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    level_errors: Errors,
    seasonal_errors: Errors,
    #[serde(default)]
    weekly_errors: Errors,
    /// Mean, over about a week of buckets, of how much less the weekly forecast erred than the
    /// forecast it would replace (a week: a weekly cycle shows over a week, not in the last
    /// hours, which are a weekday's before every weekend), and buckets compared.
    #[serde(default)]
    weekly_edge: f64,
    #[serde(default)]
    weekly_compared: u64,
    /// Range (low, high) of the values learned in probation, for a scale floor relative to the
    /// series.
    range: Option<(f64, f64)>,
    rise: Surprise,
    drop: Surprise,
    /// Lowest and highest value learned.
    #[serde(default)]
    extremes: Option<(f64, f64)>,

    /// Not kept in checkpoints: a restored rule runs with the defaults.
    #[serde(skip)]
    tuning: Tuning,
}

/// Deserialises a baseline for `#[serde(deserialize_with)]`, starting afresh from one written
/// by an earlier version (the spike or Gaussian-style baselines of checkpoints before this one,
/// which keep only their `bucket_ms` in common): the rule relearns, its alerts and the rest of
/// its watch's state are kept.
pub fn relearn_older<'de, D: serde::Deserializer<'de>>(d: D) -> Result<SeasonalBaseline, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Current(Box<SeasonalBaseline>),
        Older { bucket_ms: i64 },
    }
    Ok(match Stored::deserialize(d)? {
        // A ring of another length (a later change of the slots) cannot be read: relearn.
        Stored::Current(b) if b.slots.len() != SLOTS || b.slot_number.len() != SLOTS => {
            SeasonalBaseline::new(b.bucket_ms)
        }
        Stored::Current(b) => *b,
        Stored::Older { bucket_ms } => SeasonalBaseline::new(bucket_ms),
    })
}

/// `x` as an `f32`, saturating (a huge byte count must not become infinite and poison the
/// errors, nor be written to a checkpoint as `null`).
fn narrow(x: f64) -> f32 {
    x.clamp(f64::from(f32::MIN), f64::from(f32::MAX)) as f32
}

/// The median of the values that are there, on the stack.
fn median_of<const N: usize>(values: [Option<f64>; N]) -> Option<f64> {
    let mut v = [0.0; N];
    let mut n = 0;
    for x in values.into_iter().flatten() {
        v[n] = x;
        n += 1;
    }
    median(&mut v[..n])
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(0.5 * (v[(n - 1) / 2] + v[n / 2]))
}

impl SeasonalBaseline {
    /// A fresh baseline for counts (mentions) in buckets of `bucket_ms`: the scale is never
    /// below Poisson noise, so one mention more among three is not a surprise.
    pub fn new(bucket_ms: i64) -> Self {
        Self {
            counts: true,
            ..Self::measures(bucket_ms)
        }
    }

    /// A fresh baseline for any measure (CPU, latency, prices) in buckets of `bucket_ms`: the
    /// scale is the forecast's own typical error only.
    pub fn measures(bucket_ms: i64) -> Self {
        Self {
            counts: false,
            bucket_ms: bucket_ms.max(1),
            seen: 0,
            recent: VecDeque::new(),
            slots: vec![0.0; SLOTS],
            slot_number: vec![i32::MIN; SLOTS],
            repeated: vec![0; SLOTS.div_ceil(64)],
            slot_open: None,
            slot_sum: 0.0,
            slot_buckets: 0,
            first_ms: None,
            last_ms: None,
            level_errors: Errors::default(),
            seasonal_errors: Errors::default(),
            weekly_errors: Errors::default(),
            weekly_edge: 0.0,
            weekly_compared: 0,
            range: None,
            rise: Surprise::default(),
            drop: Surprise::default(),
            extremes: None,
            tuning: Tuning::default(),
        }
    }

    /// Buckets per hour (at least 1).
    fn per_hour(&self) -> usize {
        (HOUR_MS / self.bucket_ms).clamp(1, 60) as usize
    }

    /// The same baseline with other numbers (for `vigie eval --volume`).
    pub fn tuned(self, tuning: Tuning) -> Self {
        Self { tuning, ..self }
    }

    /// Buckets learned so far.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// Whether rules may fire: probation is over once [`PROBATION`] buckets and two days were
    /// learned (before two days, a daily cycle's first morning would look like a spike).
    pub fn ready(&self) -> bool {
        self.seen >= PROBATION && self.seasoned()
    }

    /// Whether two days were learned: the seasonal forecast can be judged, so an expectation
    /// reflects this time of day and not only the last hours (a rule that fires on
    /// [`Self::expect`] alone, as `flatline` does, waits for it).
    pub fn seasoned(&self) -> bool {
        self.span_ms() >= 2 * DAY_MS
    }

    fn span_ms(&self) -> i64 {
        self.first_ms.zip(self.last_ms).map_or(0, |(f, l)| l - f)
    }

    fn level(&self) -> Option<f64> {
        // On the stack: this runs for every mention a volume rule counts.
        let mut v = [0.0; RECENT];
        let mut n = 0;
        for (slot, &x) in v.iter_mut().zip(self.recent.iter().rev()) {
            *slot = x as f64;
            n += 1;
        }
        median(&mut v[..n])
    }

    fn slot(&self, slot: i64) -> Option<f64> {
        let i = slot.rem_euclid(SLOTS as i64) as usize;
        (i64::from(self.slot_number[i]) == slot).then_some(self.slots[i] as f64)
    }

    /// The slot mean `days` days before `at_ms`, interpolated between that slot's mean (taken at
    /// the slot's middle) and its neighbour's, so a smooth cycle is not forecast as a staircase.
    fn day_before(&self, at_ms: i64, days: i64) -> Option<f64> {
        let slot = at_ms.div_euclid(SLOT_MS) - SLOTS_PER_DAY * days;
        // Position of the bucket's middle in the slot, 0..1.
        let f =
            (at_ms.rem_euclid(SLOT_MS) as f64 + 0.5 * self.bucket_ms.min(SLOT_MS) as f64) / SLOT_MS as f64;
        let (other, w) = if f < 0.5 { (-1, 0.5 - f) } else { (1, f - 0.5) };
        let here = self.slot(slot)?;
        Some(match self.slot(slot + other) {
            Some(next) => (1.0 - w) * here + w * next,
            None => here,
        })
    }

    /// The daily forecast: the median over the previous days of the slot means around `at_ms`.
    fn seasonal(&self, at_ms: i64) -> Option<f64> {
        median_of::<DAYS>(std::array::from_fn(|d| self.day_before(at_ms, d as i64 + 1)))
    }

    /// The slot a week before the one of `at_ms` (the oldest day of the ring).
    fn week_before(at_ms: i64) -> i64 {
        at_ms.div_euclid(SLOT_MS) - SLOTS_PER_DAY * DAYS as i64
    }

    /// The weekly forecast, for series whose weekends differ from their weekdays: last week's
    /// value (see [`Self::last_week`]) where it repeated the week before's (a busy Saturday
    /// night after a busy Saturday night), elsewhere the median of it, the daily forecast and
    /// the recent level, so that an incident last week, which did not repeat, is not this
    /// week's forecast (two of three must agree).
    fn weekly(&self, at_ms: i64, level: Option<f64>, daily: Option<f64>) -> Option<f64> {
        let week = self.last_week(at_ms)?;
        if self.repeats(Self::week_before(at_ms)) {
            return Some(week);
        }
        match (level, daily) {
            (Some(l), Some(d)) => median(&mut [week, l, d]),
            _ => Some(week),
        }
    }

    /// The median of the same time a week before (the oldest day of the ring, interpolated) and
    /// the two quarter hours around it (at buckets of half an hour or more, only the first is
    /// ever filled).
    fn last_week(&self, at_ms: i64) -> Option<f64> {
        let slot = Self::week_before(at_ms);
        let here = self.day_before(at_ms, DAYS as i64);
        // Not without the time itself.
        here.and(median_of([here, self.slot(slot - 1), self.slot(slot + 1)]))
    }

    /// The level and daily forecasts for the bucket at `at_ms`: (level, seasonal).
    fn forecasts(&self, at_ms: i64) -> (Option<f64>, Option<f64>) {
        (self.level(), self.seasonal(at_ms))
    }

    /// Whether the daily forecast is the better of level and daily.
    fn use_seasonal(&self) -> bool {
        match (self.seasonal_errors.select, self.level_errors.select) {
            (Some(s), Some(l)) => self.seasoned() && s < l,
            _ => false,
        }
    }

    /// Whether the weekly forecast is the one used: after eight days, once it was compared for
    /// a day and its scale learned, when it erred less than the forecast it would replace over
    /// the last week (over the comparisons so far, before a week of them).
    fn use_weekly(&self) -> bool {
        let day = (DAY_MS / self.bucket_ms).max(1) as u64;
        self.span_ms() >= (DAYS as i64 + 1) * DAY_MS
            && self.weekly_compared >= day
            && self.weekly_errors.learned > SCALE_UNCLIPPED
            && self.weekly_edge > 0.0
    }

    /// The forecast and its scale for the bucket at `at_ms`.
    fn forecast(&self, at_ms: i64) -> Option<(f64, f64)> {
        let (level, seasonal) = self.forecasts(at_ms);
        let weekly = if self.use_weekly() {
            self.weekly(at_ms, level, seasonal)
        } else {
            None
        };
        let (value, errors) = match (weekly, seasonal, self.use_seasonal()) {
            (Some(w), _, _) => (w, &self.weekly_errors),
            (None, Some(s), true) => (s, &self.seasonal_errors),
            _ => (level?, &self.level_errors),
        };
        let range = self.range.map_or(0.0, |(low, high)| high - low);
        let mut floor = (1e-6 * range.max(value.abs())).max(1e-9);
        if self.counts {
            floor = floor.max(value.max(1.0).sqrt());
        }

        Some((value, errors.scale.unwrap_or(0.0).max(floor)))
    }

    /// What the bucket at `at_ms` should hold, once a few buckets were learned.
    pub fn expect(&self, at_ms: i64) -> Option<Expectation> {
        let hours = (WARM_UP as i64 * HOUR_MS / self.bucket_ms).max(0) as u64;
        if self.seen < WARM_UP.max(hours) {
            return None;
        }
        let (expected, spread) = self.forecast(at_ms)?;
        Some(Expectation { expected, spread })
    }

    /// The last hour's total: the newest learned buckets plus `open` (values of buckets not
    /// learned yet, oldest first).
    pub fn last_hour(&self, open: &[f64]) -> f64 {
        let keep = self.per_hour().saturating_sub(open.len());
        let closed: f64 = self.recent.iter().rev().take(keep).map(|&x| x as f64).sum();
        closed + open.iter().sum::<f64>()
    }

    fn surprise(value: f64, expected: f64, scale: f64) -> (f64, f64) {
        let a = |d: f64| (d.max(0.0) / scale).min(A_CAP);
        (a(value - expected), a(expected - value))
    }

    /// How `value` in the bucket at `at_ms` compares with the forecast, without learning it;
    /// `None` before any forecast.
    pub fn score(&self, at_ms: i64, value: f64) -> Option<Score> {
        self.score_open(&[], at_ms, value)
    }

    /// [`Self::score`] for an open bucket while `earlier` buckets (start, value; oldest first)
    /// are open too, not learned yet: their surprises (against this bucket's forecast) count in
    /// the sustained evidence, so a rise spread over the open buckets is seen as it comes
    /// (mentions wait for the lateness allowance before their buckets are learned).
    pub fn score_open(&self, earlier: &[(i64, f64)], at_ms: i64, value: f64) -> Option<Score> {
        let (expected, scale) = self.forecast(at_ms)?;
        let (up, down) = Self::surprise(value, expected, scale);
        let (z_rise, z_drop) = if self.ready() {
            // Against the same forecast (the level is the same, not learned since; the season
            // moves little in a few buckets), on the stack: this runs for every mention.
            let (mut ups, mut downs) = ([0.0; MAX_PENDING], [0.0; MAX_PENDING]);
            let earlier = &earlier[earlier.len().saturating_sub(MAX_PENDING)..];
            for (i, &(_, v)) in earlier.iter().enumerate() {
                (ups[i], downs[i]) = Self::surprise(v, expected, scale);
            }
            let n = earlier.len();
            (
                self.rise.z(&ups[..n], up, &self.tuning),
                self.drop.z(&downs[..n], down, &self.tuning),
            )
        } else {
            (f64::NAN, f64::NAN)
        };
        let beyond = match (self.extremes.filter(|_| self.ready()), self.tuning.beyond) {
            (Some((low, high)), Some(share)) if high > low => {
                let margin = share * (high - low);
                if value > high + margin {
                    Some(Side::Rise)
                } else if value < low - margin {
                    Some(Side::Drop)
                } else {
                    None
                }
            }
            _ => None,
        };
        Some(Score {
            value,
            expected,
            z_rise,
            z_drop,
            beyond,
            excess: (value - expected) / scale,
            own_needed: self.tuning.own,
        })
    }

    /// Learns the bucket starting at `start_ms` that held `value`; returns its score (before
    /// learning it). Buckets must come in time order: an older one is ignored.
    pub fn learn(&mut self, start_ms: i64, value: f64) -> Option<Score> {
        if self.last_ms.is_some_and(|l| start_ms <= l) || !value.is_finite() {
            return None;
        }
        let score = self.score(start_ms, value);
        let (level, seasonal) = self.forecasts(start_ms);
        let replaced = if self.use_seasonal() { seasonal } else { level };
        let weekly = self.weekly(start_ms, level, seasonal);
        if let (Some(other), Some(w)) = (replaced, weekly) {
            self.weekly_compared += 1;
            let week = (7 * DAY_MS / self.bucket_ms).max(1) as f64;
            let rate = (1.0 / week).max(1.0 / self.weekly_compared as f64);
            let edge = (value - other).abs() - (value - w).abs();
            self.weekly_edge += rate * (edge - self.weekly_edge);
        }
        if let Some(l) = level {
            self.level_errors.learn((value - l).abs());
        }
        if let Some(s) = seasonal {
            self.seasonal_errors.learn((value - s).abs());
        }
        if let Some(w) = weekly {
            self.weekly_errors.learn((value - w).abs());
        }
        if let (Some((expected, scale)), Some(_)) = (self.forecast(start_ms), score) {
            let (up, down) = Self::surprise(value, expected, scale);
            let t = self.tuning;
            self.rise.learn(up, &t);
            self.drop.learn(down, &t);
        }
        if self.seen < PROBATION {
            let (low, high) = self.range.get_or_insert((value, value));
            *low = low.min(value);
            *high = high.max(value);
        }
        let (low, high) = self.extremes.get_or_insert((value, value));
        *low = low.min(value);
        *high = high.max(value);
        self.close_slot_until(start_ms);
        self.slot_sum += value;
        self.slot_buckets += 1;
        self.recent.push_back(narrow(value));
        while self.recent.len() > RECENT.max(self.per_hour()) {
            self.recent.pop_front();
        }
        self.first_ms.get_or_insert(start_ms);
        self.last_ms = Some(start_ms);
        self.seen += 1;
        score
    }

    /// Whether `slot`'s mean (still in the ring) repeated the week before's.
    fn repeats(&self, slot: i64) -> bool {
        let i = slot.rem_euclid(SLOTS as i64) as usize;
        self.slot(slot).is_some() && self.repeated.get(i / 64).is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    /// Notes whether `mean`, about to be stored for `slot`, repeats the same slot a week before:
    /// closer to it than half its distance to the median of the previous days' same slot.
    fn note_repeat(&mut self, slot: i64, mean: f64) {
        let days = median_of::<DAYS>(std::array::from_fn(|d| {
            self.slot(slot - SLOTS_PER_DAY * (d as i64 + 1))
        }));
        let week = self.slot(slot - SLOTS_PER_DAY * DAYS as i64);
        let repeats = week
            .zip(days)
            .is_some_and(|(w, d)| (mean - w).abs() < 0.5 * (mean - d).abs());
        let i = slot.rem_euclid(SLOTS as i64) as usize;
        if self.repeated.len() < SLOTS.div_ceil(64) {
            self.repeated.resize(SLOTS.div_ceil(64), 0);
        }
        let bit = 1u64 << (i % 64);
        if repeats {
            self.repeated[i / 64] |= bit;
        } else {
            self.repeated[i / 64] &= !bit;
        }
    }

    /// Stores the mean of the slot being summed once `start_ms` is in a later one.
    fn close_slot_until(&mut self, start_ms: i64) {
        let slot = start_ms.div_euclid(SLOT_MS);
        match self.slot_open {
            Some(open) if open != slot => {
                if self.slot_buckets > 0 {
                    let i = open.rem_euclid(SLOTS as i64) as usize;
                    let mean = self.slot_sum / f64::from(self.slot_buckets);
                    self.note_repeat(open, mean);
                    self.slots[i] = narrow(mean);
                    self.slot_number[i] = i32::try_from(open).unwrap_or(i32::MIN);
                }
                self.slot_open = Some(slot);
                self.slot_sum = 0.0;
                self.slot_buckets = 0;
            }
            Some(_) => {}
            None => self.slot_open = Some(slot),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIVE_MIN: i64 = 300_000;
    /// The rules' default sensitivity: what "fires" means below.
    const FIRES: f64 = vigie_core::rules::DEFAULT_SPIKE_SENSITIVITY;

    /// A daily cycle: quiet nights, busy days, with small deterministic wiggles.
    fn usual(t: i64) -> f64 {
        let hour = t.rem_euclid(DAY_MS) / HOUR_MS;
        let base = if (8..20).contains(&hour) { 60.0 } else { 15.0 };
        base + ((t / FIVE_MIN) % 7) as f64
    }

    fn max_z(b: &mut SeasonalBaseline, from: i64, buckets: i64, f: impl Fn(i64) -> f64) -> f64 {
        let mut max = f64::MIN;
        for i in 0..buckets {
            let t = from + i * FIVE_MIN;
            if let Some(s) = b.learn(t, f(t)) {
                if s.z_rise.is_finite() {
                    max = max.max(s.z_rise);
                }
            }
        }
        max
    }

    /// Whether any of `buckets` from `from` is an unusual rise at the default sensitivity.
    fn fires(b: &mut SeasonalBaseline, from: i64, buckets: i64, f: impl Fn(i64) -> f64) -> bool {
        // Every bucket is learned (no short-circuit).
        (0..buckets).fold(false, |fired, i| {
            let t = from + i * FIVE_MIN;
            b.learn(t, f(t)).is_some_and(|s| s.unusual(Side::Rise, FIRES)) || fired
        })
    }

    #[test]
    fn the_daily_cycle_is_not_a_spike_and_a_night_burst_is() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        let usual_max = max_z(&mut b, 0, 8 * 288 + 36, usual);
        assert!(usual_max.is_finite(), "scored after probation");
        assert!(
            usual_max < 3.0,
            "the daily cycle itself is not a spike: {usual_max}"
        );
        assert!(b.use_seasonal(), "a daily cycle is forecast by the cycle");
        // A burst at 3 a.m.: three times the usual night volume for half an hour.
        let t = 8 * DAY_MS + 3 * HOUR_MS;
        let burst = max_z(&mut b, t, 6, |t| 3.0 * usual(t) + 40.0);
        assert!(burst > 6.0, "{burst}");
    }

    #[test]
    fn nothing_fires_in_probation_and_a_new_series_forecasts_by_its_level() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        for i in 0..PROBATION as i64 {
            let s = b.learn(i * FIVE_MIN, 50.0 + (i % 3) as f64);
            assert!(s.is_none_or(|s| s.z_rise.is_nan()), "bucket {i}");
        }
        assert!(!b.use_seasonal());
        let e = b.expect(PROBATION as i64 * FIVE_MIN).unwrap();
        assert!((e.expected - 51.0).abs() <= 1.0, "{e:?}");
    }

    /// A daily cycle with pseudo-random noise (no period that divides a day or a week), and
    /// Saturday and Sunday nights (0–4 h UTC) four times as busy.
    fn weekly_usual(t: i64) -> f64 {
        // 1970-01-01 was a Thursday; 0 = Sunday.
        let weekday = (t.div_euclid(DAY_MS) + 4).rem_euclid(7);
        let hour = t.rem_euclid(DAY_MS) / HOUR_MS;
        let base = if (8..20).contains(&hour) { 60.0 } else { 15.0 };
        let x = base + ((t / FIVE_MIN).wrapping_mul(7919) % 11) as f64;
        if (weekday == 0 || weekday == 6) && hour < 4 {
            4.0 * x + 60.0
        } else {
            x
        }
    }

    /// Whether any of `buckets` from `from` is an unusual drop at the default sensitivity.
    fn drops(b: &mut SeasonalBaseline, from: i64, buckets: i64, f: impl Fn(i64) -> f64) -> bool {
        (0..buckets).fold(false, |fired, i| {
            let t = from + i * FIVE_MIN;
            b.learn(t, f(t)).is_some_and(|s| s.unusual(Side::Drop, FIRES)) || fired
        })
    }

    const WEEK: i64 = 7 * 288;

    #[test]
    fn busy_weekend_nights_are_learned_from_the_week_and_a_weekday_night_burst_still_fires() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        // The first weekend, before a week was seen, looks like two night bursts.
        assert!(fires(&mut b, 0, WEEK, weekly_usual));
        fires(&mut b, WEEK * FIVE_MIN, WEEK, weekly_usual);
        assert!(b.use_weekly(), "the week forecasts a weekly cycle best");
        // The third week's weekend is its usual self.
        assert!(!fires(&mut b, 2 * WEEK * FIVE_MIN, WEEK, weekly_usual));
        // A Tuesday 2 a.m. burst (day 26), three times the usual night plus 40, still fires.
        let t = 26 * DAY_MS + 2 * HOUR_MS;
        assert_eq!((t.div_euclid(DAY_MS) + 4).rem_euclid(7), 2, "a Tuesday");
        let from = 3 * WEEK * FIVE_MIN;
        assert!(!fires(&mut b, from, (t - from) / FIVE_MIN, weekly_usual));
        assert!(fires(&mut b, t, 6, |t| 3.0 * weekly_usual(t) + 40.0));
    }

    #[test]
    fn an_incident_last_week_is_not_this_weeks_forecast() {
        // Two hours at three times the usual on Tuesday of week two (day 12, 14–16 h).
        let incident = 12 * DAY_MS + 14 * HOUR_MS..12 * DAY_MS + 16 * HOUR_MS;
        let with_incident = |t: i64| {
            if incident.contains(&t) {
                3.0 * weekly_usual(t)
            } else {
                weekly_usual(t)
            }
        };
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        fires(&mut b, 0, 19 * 288 + 13 * 12, with_incident);
        assert!(b.use_weekly());
        // The same two hours a week later, as usual: no drop...
        let t = 19 * DAY_MS + 13 * HOUR_MS;
        let mut quiet = b.clone();
        assert!(!drops(&mut quiet, t, 36, weekly_usual));
        // ...and the same incident again is a spike.
        assert!(fires(&mut b, t, 36, |t| if t >= 19 * DAY_MS + 14 * HOUR_MS {
            3.0 * weekly_usual(t)
        } else {
            weekly_usual(t)
        }));
    }

    #[test]
    fn a_level_shift_fires_then_becomes_the_new_normal() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        let noise = |t: i64| ((t / FIVE_MIN * 7919) % 11) as f64;
        max_z(&mut b, 0, 3 * 288, |t| 100.0 + noise(t));
        // Up to 130 and staying there: within the hour it is a rise (and a level never seen).
        assert!(fires(&mut b, 3 * DAY_MS, 12, |t| 130.0 + noise(t)));
        // A day later the level is the forecast again: no alarm.
        fires(&mut b, 3 * DAY_MS + 12 * FIVE_MIN, 288, |t| 130.0 + noise(t));
        assert!(!fires(&mut b, 4 * DAY_MS + 12 * FIVE_MIN, 288, |t| 130.0 + noise(t)));
    }

    #[test]
    fn sparse_counts_do_not_make_every_mention_a_spike() {
        // One mention in one bucket of twenty, deterministic.
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        let sparse = |t: i64| if (t / FIVE_MIN) % 20 == 7 { 1.0 } else { 0.0 };
        let z = max_z(&mut b, 0, 10 * 288, sparse);
        assert!(z < FIRES, "{z}");
        // Thirty in half an hour is.
        let burst = max_z(&mut b, 10 * DAY_MS, 6, |_| 5.0);
        assert!(burst > FIRES, "{burst}");
    }

    #[test]
    fn a_silence_is_a_drop_for_a_busy_series() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        max_z(&mut b, 0, 3 * 288, |t| 40.0 + ((t / FIVE_MIN) % 5) as f64);
        let mut drop = f64::MIN;
        for i in 0..6 {
            if let Some(s) = b.learn(3 * DAY_MS + i * FIVE_MIN, 0.0) {
                drop = drop.max(s.z_drop);
            }
        }
        assert!(drop > FIRES, "{drop}");
    }

    #[test]
    fn daylight_saving_days_do_not_alarm() {
        // A smooth daily cycle that follows local time (UTC+1 in winter, UTC+2 in summer), as
        // mentions do: on the switch day it comes an hour earlier in UTC.
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        let local = |t: i64| {
            let offset = if t >= 10 * DAY_MS { 2 * HOUR_MS } else { HOUR_MS };
            let phase = (t + offset).rem_euclid(DAY_MS) as f64 / DAY_MS as f64;
            let cycle = 37.5 - 22.5 * (2.0 * std::f64::consts::PI * phase).cos();
            // Counts are Poisson-noisy: about √cycle either way (a deterministic hash).
            let u = |k: i64| ((t / FIVE_MIN * 7919 + k * 104_729) % 1000) as f64 / 1000.0;
            (cycle + cycle.sqrt() * 2.0 * (u(1) + u(2) + u(3) - 1.5))
                .round()
                .max(0.0)
        };
        max_z(&mut b, 0, 10 * 288, local);
        assert!(
            !fires(&mut b, 10 * DAY_MS, 3 * 288, local),
            "an hour's shift of the cycle is not a crisis"
        );
    }

    #[test]
    fn a_baseline_from_an_older_checkpoint_is_relearned() {
        #[derive(Deserialize)]
        struct Holder {
            #[serde(deserialize_with = "relearn_older")]
            baseline: SeasonalBaseline,
        }
        let old = r#"{"baseline":{"bucket_ms":300000,"recent":[1.0],"last_bucket":5,"scale":null}}"#;
        let h: Holder = serde_json::from_str(old).unwrap();
        assert_eq!((h.baseline.bucket_ms, h.baseline.seen()), (300_000, 0));
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        b.learn(0, 3.0);
        let json = format!("{{\"baseline\":{}}}", serde_json::to_string(&b).unwrap());
        let h: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!(h.baseline.seen(), 1, "the current form restores as it was");
        // One written before the weekly forecast (no weekly fields) restores as it was too.
        let mut before: serde_json::Value = serde_json::to_value(&b).unwrap();
        for field in ["weekly_errors", "weekly_edge", "weekly_compared", "repeated"] {
            assert!(before.as_object_mut().unwrap().remove(field).is_some(), "{field}");
        }
        let h: Holder = serde_json::from_value(serde_json::json!({ "baseline": before })).unwrap();
        assert_eq!((h.baseline.seen(), h.baseline.weekly_compared), (1, 0));
        // Nine days of a weekly cycle learned before the weekly forecast existed: restored, the
        // weekly forecast waits for a day of comparisons, and the next days stay quiet.
        let mut nine = SeasonalBaseline::new(FIVE_MIN);
        fires(&mut nine, 0, 9 * 288, weekly_usual);
        let mut before: serde_json::Value = serde_json::to_value(&nine).unwrap();
        for field in ["weekly_errors", "weekly_edge", "weekly_compared", "repeated"] {
            before.as_object_mut().unwrap().remove(field);
        }
        let h: Holder = serde_json::from_value(serde_json::json!({ "baseline": before })).unwrap();
        let mut b = h.baseline;
        // Days 9 and 10 are a Saturday and a Sunday (busy nights were seen on days 2 and 3): the
        // first hour of Saturday night favours last week, and is not enough.
        fires(&mut b, 9 * DAY_MS, 12, weekly_usual);
        assert!(!b.use_weekly(), "not before a day of comparisons");
        fires(&mut b, 9 * DAY_MS + 12 * FIVE_MIN, 2 * 288 - 12, weekly_usual);
        assert!(b.use_weekly(), "after a day of comparisons");
        assert!(
            !fires(&mut b, 11 * DAY_MS, 288, weekly_usual),
            "a Monday as usual is quiet"
        );
        // A ring of another length (slots changed since it was written) relearns, never panics.
        let mut short = b.clone();
        short.slots.truncate(10);
        let json = format!("{{\"baseline\":{}}}", serde_json::to_string(&short).unwrap());
        let h: Holder = serde_json::from_str(&json).unwrap();
        assert_eq!((h.baseline.seen(), h.baseline.slots.len()), (0, SLOTS));
    }

    #[test]
    fn buckets_out_of_order_are_ignored() {
        let mut b = SeasonalBaseline::new(FIVE_MIN);
        assert!(b.learn(10 * FIVE_MIN, 1.0).is_none());
        assert!(b.learn(5 * FIVE_MIN, 1.0).is_none());
        assert_eq!(b.seen(), 1);
        assert!(b.learn(11 * FIVE_MIN, f64::NAN).is_none());
        assert_eq!(b.seen(), 1);
    }
}
