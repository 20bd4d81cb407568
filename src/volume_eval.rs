//! `vigie eval --volume`: the `volume_spike` detector on the labelled tweet-volume series, scored
//! the NAB way (see [`crate::nab`]), per series and overall, with a leave-one-series-out check of
//! the sensitivity so the figure is not a fit to these five series.

use crate::backtest::{read_counts, replay_counts};
use crate::nab::{self, FileScore};
use anyhow::Context;
use std::path::Path;
use vigie_core::proto::{AlertState, VolumeSpikeRule};

/// Sensitivities tried by the leave-one-out check.
const GRID: [f64; 9] = [1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0];
/// Quiet time after an alert resolves, as in `vigie backtest --counts`.
const COOLDOWN_SECONDS: u32 = 24 * 3600;

struct Series {
    name: String,
    text: String,
    times: Vec<i64>,
    windows: Vec<(usize, usize)>,
}

fn rule(sensitivity: f64) -> VolumeSpikeRule {
    VolumeSpikeRule {
        bucket_seconds: 300,
        sensitivity,
        min_count: 40,
        distinct_stories: false,
    }
}

fn row_of(times: &[i64], at: i64) -> Option<usize> {
    times.binary_search(&at).ok()
}

fn score(series: &Series, sensitivity: f64) -> anyhow::Result<FileScore> {
    let alerts = replay_counts(&series.text, &rule(sensitivity), COOLDOWN_SECONDS)?;
    let detections: Vec<usize> = alerts
        .iter()
        .filter(|a| a.state() == AlertState::Firing)
        .filter_map(|a| row_of(&series.times, a.fired_at_ms))
        .collect();
    Ok(nab::score_file(
        series.times.len(),
        &detections,
        &series.windows,
        nab::STANDARD,
    ))
}

fn load(dir: &Path) -> anyhow::Result<Vec<Series>> {
    let labels = dir.join("anomaly_windows.json");
    let text =
        std::fs::read_to_string(&labels).with_context(|| format!("cannot read {}", labels.display()))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("in {}", labels.display()))?;
    let Some(files) = json.as_object() else {
        anyhow::bail!("{}: expected an object of file → windows", labels.display());
    };
    let mut out = Vec::new();
    for (name, windows) in files {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let times: Vec<i64> = read_counts(&text)?.into_iter().map(|(t, _)| t).collect();
        let mut rows = Vec::new();
        for w in windows.as_array().into_iter().flatten() {
            let bound = |i: usize| -> anyhow::Result<usize> {
                let s = w.get(i).and_then(|v| v.as_str()).unwrap_or_default();
                let at = vigie_core::model::parse_rfc3339_ms(&format!("{}Z", s.replace(' ', "T")))
                    .with_context(|| format!("{name}: window bound {s:?} unreadable"))?;
                row_of(&times, at).with_context(|| format!("{name}: window bound {s} is not a row"))
            };
            rows.push((bound(0)?, bound(1)?));
        }
        out.push(Series {
            name: name.clone(),
            text,
            times,
            windows: rows,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Prints the evaluation.
pub fn run(dir: &Path) -> anyhow::Result<()> {
    let series = load(dir)?;
    let default = vigie_core::rules::DEFAULT_SPIKE_SENSITIVITY;
    println!(
        "## Volume spikes: {} labelled series, NAB standard profile",
        series.len()
    );
    println!(
        "Detector: volume_spike, 5-min buckets, sensitivity {default}, min_count 40 per hour, cooldown 24 h."
    );
    println!("| series | windows caught | first detection (min after window start; position 0 = start, 1 = end) | alerts outside windows | raw |");
    println!("|---|---|---|---|---|");
    let mut files = Vec::new();
    for s in &series {
        let f = score(s, default)?;
        let caught = f.windows.iter().filter(|w| w.first_detection.is_some()).count();
        let delays: Vec<String> = f
            .windows
            .iter()
            .map(|w| match w.first_detection {
                Some(d) => format!(
                    "{} ({:.2})",
                    (s.times[d] - s.times[w.rows.0]) / 60_000,
                    d.saturating_sub(w.rows.0) as f64 / w.rows.1.saturating_sub(w.rows.0).max(1) as f64
                ),
                None => "missed".into(),
            })
            .collect();
        println!(
            "| {} | {caught}/{} | {} | {} | {:.3} |",
            s.name.trim_end_matches(".csv"),
            f.windows.len(),
            delays.join(", "),
            f.false_positives,
            f.raw
        );
        files.push(f);
    }
    println!(
        "\nNAB score (standard profile, 0 = never fires, 100 = perfect): **{:.1}**",
        nab::normalised(&files, nab::STANDARD)
    );
    // Leave one series out: choose the sensitivity on four series, score the fifth with it.
    println!("\nLeave-one-series-out (sensitivity chosen on the other four from {GRID:?}):");
    let mut held_out = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let mut best = (f64::MIN, default);
        for &k in &GRID {
            let others: Vec<FileScore> = series
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, o)| score(o, k))
                .collect::<anyhow::Result<_>>()?;
            let v = nab::normalised(&others, nab::STANDARD);
            if v > best.0 {
                best = (v, k);
            }
        }
        let f = score(s, best.1)?;
        println!(
            "- {}: chose {} on the others ({:.1}); held-out raw {:.3}",
            s.name.trim_end_matches(".csv"),
            best.1,
            best.0,
            f.raw
        );
        held_out.push(f);
    }
    println!(
        "Leave-one-series-out NAB score: **{:.1}**",
        nab::normalised(&held_out, nab::STANDARD)
    );
    Ok(())
}
