//! `vigie backtest`: replays history through the alerting engine and prints every alert state
//! change as one JSON line (`time` is the event time of the change, RFC 3339).
//!
//! - `--mentions FILE --watches FILE`: mentions as JSONL (the ingest format), scored by the same
//!   scoring stage as the enrich service, in file order (the order they would have arrived in).
//! - `--counts FILE`: a per-interval series as CSV `timestamp,value` (the format of the
//!   development volume series), at any sampling interval, fed bucket by bucket to the
//!   `volume_spike` detector alone. The bucket is the series' own spacing unless `--bucket` says
//!   otherwise.
//!
//! A summary line per watch and rule (alerts raised, per week of replayed history) goes to
//! stderr; stdout carries the JSON lines only.

use anyhow::{bail, Context};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use vigie_alerting::book::{AlertBook, RuleContext};
use vigie_alerting::detector::Signal;
use vigie_alerting::engine::Engine;
use vigie_alerting::rules::volume::VolumeSpikeState;
use vigie_alerting::seasonal::Tuning;
use vigie_core::model::{mention_from_json, parse_rfc3339_ms, Limits};
use vigie_core::proto::{Alert, AlertState, VolumeSpikeRule};
use vigie_core::watches::{self, WatchRegistry};
use vigie_enrich::Scorer;

const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// Options of `vigie backtest`.
#[derive(clap::Args)]
pub struct BacktestArgs {
    /// Mentions to replay, JSONL (one mention per line, as accepted by ingest).
    #[arg(long, conflicts_with = "counts", required_unless_present = "counts")]
    mentions: Option<PathBuf>,
    /// Watches and their rules (TOML) for `--mentions`.
    #[arg(long, requires = "mentions")]
    watches: Option<PathBuf>,
    /// A count series, CSV `timestamp,value` with a header line.
    #[arg(long)]
    counts: Option<PathBuf>,
    /// `--counts`: bucket of the detector (default: the median spacing of the file's timestamps).
    #[arg(long)]
    bucket: Option<String>,
    /// `--counts`: sustained evidence needed to fire, in the series' own spreads (see
    /// `volume_spike`'s `sensitivity`).
    #[arg(long, default_value_t = vigie_core::rules::DEFAULT_SPIKE_SENSITIVITY)]
    sensitivity: f64,
    /// `--counts`: fewest counts in the last hour for a rise to fire (default 0: no floor, as
    /// the series may be any measure).
    #[arg(long, default_value_t = 0)]
    min_count: u32,
    /// `--counts`: quiet time after an alert resolves.
    #[arg(long, default_value = COUNTS_COOLDOWN)]
    cooldown: String,
}

/// Runs `vigie backtest`.
pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let replay = match (&args.mentions, &args.counts) {
        (Some(mentions), _) => replay_mentions(mentions, args.watches.as_deref())?,
        (None, Some(counts)) => replay_counts_file(counts, &args)?,
        (None, None) => bail!("give --mentions FILE (with --watches) or --counts FILE"),
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for a in &replay.alerts {
        serde_json::to_writer(&mut out, &vigie_alerting::render::alert_json(a))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    for line in summarise(&replay.alerts, &replay.rules, replay.span_ms) {
        eprintln!("{line}");
    }
    Ok(())
}

fn replay_counts_file(path: &Path, args: &BacktestArgs) -> anyhow::Result<Replay> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let points = read_points(&text).with_context(|| format!("in {}", path.display()))?;
    let given = args
        .bucket
        .as_deref()
        .map(|b| duration(b, "--bucket"))
        .transpose()?;
    let (spacing, mismatch) = match (infer_spacing(&points), given) {
        (Ok(s), Some(g)) if g != s.bucket_seconds => {
            let spacing = if s.median_ms == s.bucket_seconds as i64 * 1000 {
                format!("its rows are {} apart", human_ms(s.median_ms))
            } else {
                format!(
                    "its rows are {} apart (median), read as {} buckets",
                    human_ms(s.median_ms),
                    human_ms(s.bucket_seconds as i64 * 1000)
                )
            };
            let note = format!(
                "backtest: --bucket {} does not match the spacing of {}: {spacing}; each bucket \
                 gets the mean of its rows scaled to the bucket's length",
                human_ms(g as i64 * 1000),
                path.display(),
            );
            (s, Some(note))
        }
        (Ok(s), _) => (s, None),
        // Too few points or no spacing: the given bucket is the series' own.
        (Err(_), Some(g)) => (
            Spacing {
                median_ms: g as i64 * 1000,
                bucket_seconds: g,
                out_of_order: 0,
                first_out_of_order_line: None,
            },
            None,
        ),
        (Err(e), None) => {
            return Err(e)
                .with_context(|| format!("in {}: cannot infer the bucket (give --bucket)", path.display()))
        }
    };
    let rule = VolumeSpikeRule {
        bucket_seconds: given.unwrap_or(spacing.bucket_seconds),
        sensitivity: args.sensitivity,
        min_count: args.min_count,
        distinct_stories: false,
    };
    let series = CountSeries { points, spacing };
    let alerts = replay_counts(&series, &rule, duration(&args.cooldown, "--cooldown")?)
        .with_context(|| format!("in {}", path.display()))?;
    if let Some(note) = mismatch {
        eprintln!("{note}");
    }
    if let Some(line) = series.spacing.first_out_of_order_line {
        let n = series.spacing.out_of_order;
        eprintln!(
            "backtest: {}:{line}: {n} row{} not later than every row before {} (repeated or earlier \
             timestamps): one in the bucket being filled is averaged into it, an earlier one skipped",
            path.display(),
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" },
        );
    }
    Ok(Replay {
        alerts,
        rules: [COUNTS_CTX, DROP_CTX]
            .iter()
            .map(|c| RuleId {
                watch: c.watch_id.into(),
                rule: c.rule.into(),
                rule_type: c.rule_type.into(),
            })
            .collect(),
        span_ms: series.span_ms(),
    })
}

fn duration(s: &str, flag: &str) -> anyhow::Result<u32> {
    watches::parse_duration_secs(s)
        .with_context(|| format!("{flag} {s:?}: expected a duration like 5m or 1h"))
}

/// "5m", "1h", "1h30m", "290s".
fn human_ms(ms: i64) -> String {
    let s = ms / 1000;
    match (s / 3600, s % 3600 / 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, 0) => format!("{h}h{m}m"),
        (0, m, sec) => format!("{m}m{sec}s"),
        (h, m, sec) => format!("{h}h{m}m{sec}s"),
    }
}

/// What a replay produced: every alert change, the rules it covered, the time it spanned.
pub struct Replay {
    /// Every alert state change, in order.
    pub alerts: Vec<Alert>,
    /// The (watch, rule) pairs replayed, whether they fired or not.
    pub rules: Vec<RuleId>,
    /// Event time from the first to the last input, milliseconds.
    pub span_ms: i64,
}

/// One rule of one watch.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RuleId {
    /// Watch id.
    pub watch: String,
    /// Rule name within the watch.
    pub rule: String,
    /// Rule type, e.g. `volume_spike`.
    pub rule_type: String,
}

/// How often one rule fired over a replay.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSummary {
    /// The rule.
    pub id: RuleId,
    /// Alerts raised (changes into the firing state).
    pub alerts: usize,
    /// Event time replayed, milliseconds.
    pub span_ms: i64,
}

impl RuleSummary {
    /// Alerts per week of replayed time (`None` over an empty span).
    pub fn per_week(&self) -> Option<f64> {
        (self.span_ms > 0).then(|| self.alerts as f64 * WEEK_MS as f64 / self.span_ms as f64)
    }
}

impl fmt::Display for RuleSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let RuleId {
            watch,
            rule,
            rule_type,
        } = &self.id;
        let plural = if self.alerts == 1 { "" } else { "s" };
        write!(
            f,
            "backtest: watch {watch} rule {rule} ({rule_type}): {} alert{plural} over {:.1} days",
            self.alerts,
            self.span_ms as f64 / DAY_MS as f64
        )?;
        match self.per_week() {
            Some(w) => write!(f, " = {w:.2} per week"),
            None => write!(f, " (no time elapsed: no weekly rate)"),
        }
    }
}

/// Counts the alerts each rule raised: every rule of `rules` (firing or not), then any other
/// rule found among the alerts, in (watch, rule) order.
pub fn summarise(alerts: &[Alert], rules: &[RuleId], span_ms: i64) -> Vec<RuleSummary> {
    let mut counts: BTreeMap<RuleId, usize> = rules.iter().map(|r| (r.clone(), 0)).collect();
    let mut seen = HashSet::new();
    for a in alerts {
        if a.state() != AlertState::Firing || !seen.insert(a.id.as_str()) {
            continue;
        }
        let id = RuleId {
            watch: a.watch_id.clone(),
            rule: a.rule.clone(),
            rule_type: a.rule_type.clone(),
        };
        *counts.entry(id).or_default() += 1;
    }
    counts
        .into_iter()
        .map(|(id, alerts)| RuleSummary { id, alerts, span_ms })
        .collect()
}

/// Replays JSONL mentions through the scoring stage and the engine: every alert change, every
/// rule of the watches file, and the span from the earliest to the latest mention.
pub fn replay_mentions(path: &Path, watches_file: Option<&Path>) -> anyhow::Result<Replay> {
    let registry = WatchRegistry::default();
    let Some(watches_file) = watches_file else {
        bail!("--mentions needs --watches FILE: rules live with watches");
    };
    let mut rules = Vec::new();
    for w in watches::load_file(watches_file)? {
        for r in &w.rules {
            rules.push(RuleId {
                watch: w.id.clone(),
                rule: r.name.clone(),
                rule_type: r
                    .kind
                    .as_ref()
                    .map(vigie_core::rules::type_name)
                    .unwrap_or_default()
                    .into(),
            });
        }
        registry.upsert(w)?;
    }
    let set = registry.read();
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let limits = Limits::default();
    // History is checked against today (not "received" at its own time): only mentions from the
    // future are refused.
    let now = vigie_core::now_ms();
    let mut engine = Engine::default();
    let mut alerts = Vec::new();
    let mut span: Option<(i64, i64)> = None;
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: cannot read line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let mention = serde_json::from_str(&line)
            .map_err(|e| e.to_string())
            .and_then(|v| mention_from_json(v, &limits, now).map_err(|e| e.to_string()));
        match mention {
            Ok(m) => {
                let at = m.created_at_ms;
                span = Some(span.map_or((at, at), |(lo, hi)| (lo.min(at), hi.max(at))));
                let e = Scorer.score(m, &set, at);
                engine.observe(&e, None, &set, at, &mut alerts)?;
            }
            Err(e) => eprintln!("{}:{}: skipped: {e}", path.display(), i + 1),
        }
    }
    Ok(Replay {
        alerts,
        rules,
        span_ms: span.map_or(0, |(lo, hi)| hi - lo),
    })
}

/// Parses "2015-02-26 21:42:53" (optionally with fractional seconds) or RFC 3339.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    parse_rfc3339_ms(s).or_else(|| {
        let (date, time) = s.split_once(' ')?;
        let time = time.split('.').next()?;
        parse_rfc3339_ms(&format!("{date}T{time}Z"))
    })
}

/// One row of a count series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Timestamp, Unix epoch milliseconds.
    pub at_ms: i64,
    /// The value (a count for the detector).
    pub value: f64,
    /// Line of the file (1-based), for messages.
    pub line: usize,
}

/// Reads a `timestamp,value` CSV (header line optional) into points, in file order.
pub fn read_points(text: &str) -> anyhow::Result<Vec<Point>> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let (t, v) = line
            .split_once(',')
            .with_context(|| format!("line {}: expected timestamp,value", i + 1))?;
        let at_ms =
            parse_timestamp(t).with_context(|| format!("line {}: timestamp {t:?} unreadable", i + 1))?;
        let value: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("line {}: value {v:?} is not a number", i + 1))?;
        if !value.is_finite() {
            bail!("line {}: value {v:?} is not a finite number", i + 1);
        }
        points.push(Point {
            at_ms,
            value,
            line: i + 1,
        });
    }
    Ok(points)
}

/// Why the sampling interval of a series cannot be inferred.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpacingError {
    /// Fewer than two points.
    TooFewPoints {
        /// Points found.
        points: usize,
    },
    /// No timestamp comes after the one before it.
    NeverIncreasing {
        /// Line of the second point.
        line: usize,
    },
}

impl fmt::Display for SpacingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooFewPoints { points } => write!(
                f,
                "{points} point(s): the spacing of timestamps needs at least two"
            ),
            Self::NeverIncreasing { line } => write!(
                f,
                "line {line}: the timestamps never increase, so they have no spacing"
            ),
        }
    }
}

impl std::error::Error for SpacingError {}

/// The sampling interval of a series, from its timestamps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spacing {
    /// Median of the positive steps between consecutive timestamps, milliseconds.
    pub median_ms: i64,
    /// The detector bucket closest to the median (a whole number of minutes dividing a day).
    pub bucket_seconds: u32,
    /// Rows whose timestamp is not after every earlier row's (repeats, steps back).
    pub out_of_order: usize,
    /// Line of the first such row.
    pub first_out_of_order_line: Option<usize>,
}

/// Infers the sampling interval: the median spacing of consecutive timestamps (gaps and a few
/// shorter steps do not move a median), rounded to the nearest valid detector bucket. Rows
/// that are not later than every row before them are counted, not used.
pub fn infer_spacing(points: &[Point]) -> Result<Spacing, SpacingError> {
    if points.len() < 2 {
        return Err(SpacingError::TooFewPoints { points: points.len() });
    }
    let mut steps = Vec::with_capacity(points.len() - 1);
    let mut out_of_order = 0;
    let mut first_out_of_order_line = None;
    let mut latest = points[0].at_ms;
    for p in &points[1..] {
        if p.at_ms > latest {
            steps.push(p.at_ms - latest);
            latest = p.at_ms;
        } else {
            out_of_order += 1;
            first_out_of_order_line.get_or_insert(p.line);
        }
    }
    if steps.is_empty() {
        return Err(SpacingError::NeverIncreasing { line: points[1].line });
    }
    steps.sort_unstable();
    let median_ms = steps[(steps.len() - 1) / 2];
    Ok(Spacing {
        median_ms,
        bucket_seconds: nearest_bucket(median_ms),
        out_of_order,
        first_out_of_order_line,
    })
}

/// The valid `volume_spike` bucket (whole minutes, dividing a day) nearest to `ms`, by ratio.
pub fn nearest_bucket(ms: i64) -> u32 {
    let target = (ms.max(1) as f64) / 1000.0;
    (1..=1440u32)
        .filter(|m| 1440 % m == 0)
        .map(|m| m * 60)
        .min_by(|a, b| {
            let d = |x: u32| (x as f64 / target).ln().abs();
            d(*a).total_cmp(&d(*b))
        })
        .unwrap_or(300)
}

/// A count series with its inferred spacing.
#[derive(Debug, Clone)]
pub struct CountSeries {
    /// Rows in file order.
    pub points: Vec<Point>,
    /// Its sampling interval.
    pub spacing: Spacing,
}

impl CountSeries {
    /// Reads a `timestamp,value` CSV and infers its spacing.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        let points = read_points(text)?;
        let spacing = infer_spacing(&points)?;
        Ok(Self { points, spacing })
    }

    /// Event time from the earliest to the latest row, milliseconds.
    pub fn span_ms(&self) -> i64 {
        let lo = self.points.iter().map(|p| p.at_ms).min().unwrap_or(0);
        let hi = self.points.iter().map(|p| p.at_ms).max().unwrap_or(0);
        hi - lo
    }
}

/// `--counts`' default quiet time after an alert resolves.
pub const COUNTS_COOLDOWN: &str = "12h";

/// The context of the rise rule `--counts` replays (the drop rule is [`DROP_CTX`]).
const COUNTS_CTX: RuleContext<'static> = RuleContext {
    tenant: "series",
    watch_id: "counts",
    watch_name: "counts",
    rule: "volume",
    rule_type: "volume_spike",
    severity: "warning",
    cooldown_ms: 0,
    episodic: false,
    episode_memory_ms: 0,
    silences: &[],
    now_ms: 0,
};

/// The context of the drop rule `--counts` replays beside [`COUNTS_CTX`].
const DROP_CTX: RuleContext<'static> = RuleContext {
    rule: "drop",
    rule_type: "volume_drop",
    ..COUNTS_CTX
};

/// Feeds a series to a `volume_spike` rule (rule `volume`, rises) and, on the same baseline, to
/// its mirror for drops (rule `drop`), bucket by bucket; returns every alert change of both: a
/// series of any measure can fail either way (CPU stuck at 100 %, traffic falling to nothing),
/// and for a watch's mentions a drop is what `flatline` reports. A bucket starts at its first row's timestamp and holds the mean of its rows times
/// `rule.bucket_seconds` ÷ the series' own bucket: the rows as they are when the rule's bucket is
/// the series' spacing (repeated and jittered rows averaged), their sum when it is coarser.
/// Rows earlier than the bucket being filled are skipped. `min_count` 0 (no floor) is accepted
/// here, though a watch's rule needs at least 1.
pub fn replay_counts(
    series: &CountSeries,
    rule: &VolumeSpikeRule,
    cooldown_seconds: u32,
) -> anyhow::Result<Vec<Alert>> {
    replay_counts_tuned(series, rule, cooldown_seconds, Tuning::default(), true)
}

/// [`replay_counts`] with other detector numbers, and the drop rule on or off (for `vigie eval
/// --volume`).
pub fn replay_counts_tuned(
    series: &CountSeries,
    rule: &VolumeSpikeRule,
    cooldown_seconds: u32,
    tuning: Tuning,
    drops_too: bool,
) -> anyhow::Result<Vec<Alert>> {
    let mut checked = *rule;
    checked.min_count = checked.min_count.max(1);
    vigie_core::rules::validate(&vigie_core::proto::Rule {
        name: "volume".into(),
        severity: "warning".into(),
        cooldown_seconds,
        kind: Some(vigie_core::proto::rule::Kind::VolumeSpike(checked)),
    })
    .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
    // Whole non-negative values are counts (Poisson noise is their least spread); anything else
    // is a measure.
    let counts = series
        .points
        .iter()
        .all(|p| p.value >= 0.0 && p.value.fract() == 0.0);
    let mut state = VolumeSpikeState::for_series(rule, counts, tuning);
    let (mut rises, mut drops) = (AlertBook::default(), AlertBook::default());
    let cooldown_ms = cooldown_seconds as i64 * 1000;
    let rise_ctx = RuleContext {
        cooldown_ms,
        ..COUNTS_CTX
    };
    let drop_ctx = RuleContext {
        cooldown_ms,
        ..DROP_CTX
    };
    let mut alerts = Vec::new();
    let (mut up, mut down) = (Vec::new(), Vec::new());
    // One incident, one alert: a side does not fire within the cooldown of the other side's
    // firing (the fall back after a surge is not a drop, nor the recovery after an outage a
    // spike).
    let mut last_fired: [Option<i64>; 2] = [None, None];
    for (start, value) in buckets(series, rule.bucket_seconds) {
        state.observe_count_sides(rule, start, value, &mut up, &mut down);
        if !drops_too {
            down.clear();
        }
        for (side, signals, book, ctx) in [
            (0, &mut up, &mut rises, &rise_ctx),
            (1, &mut down, &mut drops, &drop_ctx),
        ] {
            for s in signals.drain(..) {
                if let Signal::Fire(f) = &s {
                    let other = last_fired[1 - side];
                    if other.is_some_and(|t| f.at_ms - t < cooldown_ms.max(1)) {
                        continue;
                    }
                }
                // Every firing signal, not only the one that opened an alert: an incident that
                // lasts keeps the other side quiet until a cooldown after its end.
                if let Signal::Fire(f) = &s {
                    last_fired[side] = Some(f.at_ms);
                }
                book.apply(ctx, s, &mut alerts);
            }
        }
    }
    Ok(alerts)
}

/// The series cut into buckets of `bucket_seconds`, as (time of the bucket's first row, value):
/// the mean of the bucket's rows times `bucket_seconds` ÷ the series' own bucket. Rows earlier
/// than the bucket being filled are skipped.
pub fn buckets(series: &CountSeries, bucket_seconds: u32) -> Vec<(i64, f64)> {
    let bucket_ms = (bucket_seconds as i64 * 1000).max(1);
    let scale = bucket_ms as f64 / (series.spacing.bucket_seconds as i64 * 1000).max(1) as f64;
    let mut out = Vec::new();
    // The bucket being filled: (index, first row's time, sum, rows).
    let mut open: Option<(i64, i64, f64, u32)> = None;
    for p in &series.points {
        let index = p.at_ms.div_euclid(bucket_ms);
        match &mut open {
            Some((i, _, sum, n)) if *i == index => {
                *sum += p.value;
                *n += 1;
            }
            Some((i, _, _, _)) if *i > index => {}
            _ => {
                if let Some((_, start, sum, n)) = open.take() {
                    out.push((start, sum / n as f64 * scale));
                }
                open = Some((index, p.at_ms, p.value, 1));
            }
        }
    }
    if let Some((_, start, sum, n)) = open {
        out.push((start, sum / n as f64 * scale));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE_MS: i64 = 60_000;

    fn points(times_min: &[i64]) -> Vec<Point> {
        times_min
            .iter()
            .enumerate()
            .map(|(i, t)| Point {
                at_ms: t * MINUTE_MS,
                value: 1.0,
                line: i + 2,
            })
            .collect()
    }

    #[test]
    fn the_bucket_is_the_median_spacing() {
        // Regular 5-minute rows.
        let regular: Vec<i64> = (0..100).map(|i| i * 5).collect();
        let s = infer_spacing(&points(&regular)).unwrap();
        assert_eq!((s.median_ms, s.bucket_seconds, s.out_of_order), (300_000, 300, 0));
        // Hourly with a few long gaps.
        let mut gaps: Vec<i64> = (0..50).map(|i| i * 60).collect();
        gaps.extend((0..50).map(|i| 6000 + i * 60));
        gaps.push(20_000);
        assert_eq!(infer_spacing(&points(&gaps)).unwrap().bucket_seconds, 3600);
        // Ten minutes, a few five-minute steps, jitter of a minute.
        let mut t = 0;
        let mut irregular = Vec::new();
        for i in 0..60 {
            irregular.push(t);
            t += match i % 10 {
                0 => 5,
                3 => 9,
                6 => 11,
                _ => 10,
            };
        }
        assert_eq!(infer_spacing(&points(&irregular)).unwrap().bucket_seconds, 600);
        // 30-minute rows.
        let half: Vec<i64> = (0..10).map(|i| i * 30).collect();
        assert_eq!(infer_spacing(&points(&half)).unwrap().bucket_seconds, 1800);
        // A median of 4m50s reads as 5 minutes; under a minute, as the shortest bucket.
        assert_eq!(nearest_bucket(290_000), 300);
        assert_eq!(nearest_bucket(1_000), 60);
    }

    #[test]
    fn repeats_are_counted_and_too_little_is_an_error() {
        let s = infer_spacing(&points(&[0, 5, 5, 10, 7, 15])).unwrap();
        assert_eq!(s.bucket_seconds, 300);
        assert_eq!((s.out_of_order, s.first_out_of_order_line), (2, Some(4)));
        // An hour repeated: every row of the second pass is out of order.
        let s = infer_spacing(&points(&[0, 5, 10, 15, 0, 5, 10, 15, 20, 25])).unwrap();
        assert_eq!((s.bucket_seconds, s.out_of_order), (300, 4));
        assert_eq!(
            infer_spacing(&points(&[3])),
            Err(SpacingError::TooFewPoints { points: 1 })
        );
        assert_eq!(
            infer_spacing(&points(&[3, 3, 3])),
            Err(SpacingError::NeverIncreasing { line: 3 })
        );
        let err = CountSeries::parse("timestamp,value\n2015-03-01 00:00:00,4\n").unwrap_err();
        assert!(err.to_string().contains("at least two"), "{err}");
        let err = read_points("timestamp,value\n2015-03-01 00:00:00,4\n2015-03-01 00:05:00,x\n").unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
    }

    fn alert(id: &str, watch: &str, rule: &str, state: AlertState) -> Alert {
        let mut a = Alert {
            id: id.into(),
            watch_id: watch.into(),
            rule: rule.into(),
            rule_type: "volume_spike".into(),
            ..Default::default()
        };
        a.set_state(state);
        a
    }

    #[test]
    fn the_summary_counts_firings_per_rule_and_week() {
        let rules = vec![
            RuleId {
                watch: "brand".into(),
                rule: "spike".into(),
                rule_type: "volume_spike".into(),
            },
            RuleId {
                watch: "brand".into(),
                rule: "quiet".into(),
                rule_type: "volume_spike".into(),
            },
        ];
        let alerts = [
            alert("a", "brand", "spike", AlertState::Firing),
            alert("a", "brand", "spike", AlertState::Resolved),
            alert("b", "brand", "spike", AlertState::Firing),
            alert("c", "brand", "spike", AlertState::Firing),
            alert("d", "other", "burst", AlertState::Firing),
        ];
        let s = summarise(&alerts, &rules, 14 * DAY_MS);
        let counts: Vec<(&str, &str, usize)> = s
            .iter()
            .map(|r| (r.id.watch.as_str(), r.id.rule.as_str(), r.alerts))
            .collect();
        assert_eq!(
            counts,
            [
                ("brand", "quiet", 0),
                ("brand", "spike", 3),
                ("other", "burst", 1)
            ]
        );
        assert_eq!(
            s[1].to_string(),
            "backtest: watch brand rule spike (volume_spike): 3 alerts over 14.0 days = 1.50 per week"
        );
        assert_eq!(s[0].per_week(), Some(0.0));
        assert_eq!(summarise(&alerts[..1], &[], 0)[0].per_week(), None);
    }

    #[test]
    fn rows_sharing_a_bucket_are_averaged_and_a_coarser_bucket_sums() {
        let series = |rows: &[(i64, f64)]| {
            let points: Vec<Point> = rows
                .iter()
                .enumerate()
                .map(|(i, (t, v))| Point {
                    at_ms: t * MINUTE_MS,
                    value: *v,
                    line: i + 2,
                })
                .collect();
            let spacing = infer_spacing(&points).unwrap();
            CountSeries { points, spacing }
        };
        // Ten-minute rows, one jittered into the bucket of the row before, one repeated, one
        // from the past.
        let s = series(&[
            (0, 4.0),
            (10, 6.0),
            (18, 2.0),
            (30, 8.0),
            (30, 10.0),
            (5, 99.0),
            (40, 1.0),
        ]);
        assert_eq!(s.spacing.bucket_seconds, 600);
        assert_eq!(
            buckets(&s, 600),
            [
                (0, 4.0),
                (10 * MINUTE_MS, 4.0),
                (30 * MINUTE_MS, 9.0),
                (40 * MINUTE_MS, 1.0)
            ]
        );
        // Hourly buckets over five-minute rows hold their sum; five-minute buckets over hourly
        // rows a twelfth of each.
        let five: Vec<(i64, f64)> = (0..24).map(|i| (i * 5, 1.0 + (i / 12) as f64)).collect();
        assert_eq!(buckets(&series(&five), 3600), [(0, 12.0), (60 * MINUTE_MS, 24.0)]);
        let hourly = series(&[(0, 12.0), (60, 24.0)]);
        assert_eq!(buckets(&hourly, 300), [(0, 1.0), (60 * MINUTE_MS, 2.0)]);
    }

    #[test]
    fn a_repeated_series_replays_to_the_same_alerts() {
        let rule = VolumeSpikeRule {
            bucket_seconds: 300,
            sensitivity: 1.4,
            min_count: 40,
            distinct_stories: false,
        };
        let mut once = String::from("timestamp,value\n");
        let mut twice = once.clone();
        for i in 0..(10 * 288) {
            let t = vigie_core::model::format_rfc3339_ms(1_700_006_400_000 + i * 300_000);
            let v = if (9 * 288..9 * 288 + 24).contains(&i) {
                300
            } else {
                20 + i % 7
            };
            let row = format!("{},{v}\n", &t[..19].replace('T', " "));
            once.push_str(&row);
            twice.push_str(&row);
            twice.push_str(&row);
        }
        let a = replay_counts(&CountSeries::parse(&once).unwrap(), &rule, 86_400).unwrap();
        let b = replay_counts(&CountSeries::parse(&twice).unwrap(), &rule, 86_400).unwrap();
        assert_eq!(a, b);
    }
}
