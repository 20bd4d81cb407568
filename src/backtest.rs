//! `vigie backtest`: replays history through the alerting engine and prints every alert state
//! change as one JSON line (`time` is the event time of the change, RFC 3339).
//!
//! - `--mentions FILE --watches FILE`: mentions as JSONL (the ingest format), scored by the same
//!   scoring stage as the enrich service, in file order (the order they would have arrived in).
//! - `--counts FILE`: a per-interval count series as CSV `timestamp,value` (the format of the
//!   development volume series), fed bucket by bucket to the `volume_spike` detector alone.

use anyhow::{bail, Context};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use vigie_alerting::book::{AlertBook, RuleContext};
use vigie_alerting::detector::DetectorState;
use vigie_alerting::engine::Engine;
use vigie_alerting::rules::volume::VolumeSpikeState;
use vigie_core::model::{mention_from_json, parse_rfc3339_ms, Limits};
use vigie_core::proto::{Alert, VolumeSpikeRule};
use vigie_core::watches::{self, WatchRegistry};
use vigie_enrich::Scorer;

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
    /// `--counts`: interval of the series (it must match the file's spacing).
    #[arg(long, default_value = "5m")]
    bucket: String,
    /// `--counts`: typical daily peaks above the expected volume to fire.
    #[arg(long, default_value_t = vigie_core::rules::DEFAULT_SPIKE_SENSITIVITY)]
    sensitivity: f64,
    /// `--counts`: fewest counts in the last hour to fire.
    #[arg(long, default_value_t = 40)]
    min_count: u32,
    /// `--counts`: quiet time after an alert resolves.
    #[arg(long, default_value = "24h")]
    cooldown: String,
}

/// Runs `vigie backtest`.
pub fn run(args: BacktestArgs) -> anyhow::Result<()> {
    let mut out = BufWriter::new(std::io::stdout().lock());
    let alerts = match (&args.mentions, &args.counts) {
        (Some(mentions), _) => replay_mentions(mentions, args.watches.as_deref())?,
        (None, Some(counts)) => {
            let text = std::fs::read_to_string(counts)
                .with_context(|| format!("cannot read {}", counts.display()))?;
            let rule = VolumeSpikeRule {
                bucket_seconds: duration(&args.bucket, "--bucket")?,
                sensitivity: args.sensitivity,
                min_count: args.min_count,
                distinct_stories: false,
            };
            replay_counts(&text, &rule, duration(&args.cooldown, "--cooldown")?)
                .with_context(|| format!("in {}", counts.display()))?
        }
        (None, None) => bail!("give --mentions FILE (with --watches) or --counts FILE"),
    };
    for a in &alerts {
        serde_json::to_writer(&mut out, &vigie_alerting::render::alert_json(a))?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    Ok(())
}

fn duration(s: &str, flag: &str) -> anyhow::Result<u32> {
    watches::parse_duration_secs(s)
        .with_context(|| format!("{flag} {s:?}: expected a duration like 5m or 1h"))
}

/// Replays JSONL mentions through the scoring stage and the engine; returns every alert change.
pub fn replay_mentions(
    path: &std::path::Path,
    watches_file: Option<&std::path::Path>,
) -> anyhow::Result<Vec<Alert>> {
    let registry = WatchRegistry::default();
    let Some(watches_file) = watches_file else {
        bail!("--mentions needs --watches FILE: rules live with watches");
    };
    for w in watches::load_file(watches_file)? {
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
    for (i, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {}", i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let mention = serde_json::from_str(&line)
            .map_err(|e| e.to_string())
            .and_then(|v| mention_from_json(v, &limits, now).map_err(|e| e.to_string()));
        match mention {
            Ok(m) => {
                let at = m.created_at_ms;
                let e = Scorer.score(m, &set, at);
                engine.observe(&e, None, &set, at, &mut alerts)?;
            }
            Err(e) => eprintln!("{}:{}: skipped: {e}", path.display(), i + 1),
        }
    }
    Ok(alerts)
}

/// Parses "2015-02-26 21:42:53" or RFC 3339.
fn parse_timestamp(s: &str) -> Option<i64> {
    let s = s.trim();
    parse_rfc3339_ms(s).or_else(|| {
        let (date, time) = s.split_once(' ')?;
        let time = time.split('.').next()?;
        parse_rfc3339_ms(&format!("{date}T{time}Z"))
    })
}

/// Reads a `timestamp,value` CSV into (ms, value) points.
pub fn read_counts(text: &str) -> anyhow::Result<Vec<(i64, f64)>> {
    let mut points = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("timestamp")) {
            continue;
        }
        let (t, v) = line
            .split_once(',')
            .with_context(|| format!("line {}: expected timestamp,value", i + 1))?;
        let at = parse_timestamp(t).with_context(|| format!("line {}: timestamp {t:?} unreadable", i + 1))?;
        let value: f64 = v
            .trim()
            .parse()
            .with_context(|| format!("line {}: value {v:?} is not a number", i + 1))?;
        points.push((at, value));
    }
    Ok(points)
}

/// Feeds a count series to one `volume_spike` rule; returns every alert change. Each point is
/// a whole bucket starting at its timestamp.
pub fn replay_counts(
    text: &str,
    rule: &VolumeSpikeRule,
    cooldown_seconds: u32,
) -> anyhow::Result<Vec<Alert>> {
    vigie_core::rules::validate(&vigie_core::proto::Rule {
        name: "volume".into(),
        severity: "warning".into(),
        cooldown_seconds,
        kind: Some(vigie_core::proto::rule::Kind::VolumeSpike(*rule)),
    })
    .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
    let points = read_counts(text)?;
    let mut state = VolumeSpikeState::new(rule);
    let mut book = AlertBook::default();
    let ctx = RuleContext {
        tenant: "series",
        watch_id: "counts",
        watch_name: "counts",
        rule: "volume",
        rule_type: "volume_spike",
        severity: "warning",
        cooldown_ms: cooldown_seconds as i64 * 1000,
        episodic: false,
        episode_memory_ms: 0,
        silences: &[],
        now_ms: 0,
    };
    let mut alerts = Vec::new();
    let mut signals = Vec::new();
    for (at, value) in points {
        state.observe_count(rule, at, value, &mut signals);
        for s in signals.drain(..) {
            book.apply(&ctx, s, &mut alerts);
        }
    }
    Ok(alerts)
}
