//! `vigie backtest` replays history through the same engine as the services: on the bundled
//! sample it finds the alerts `vigie standalone` raises, and on a count series it fires on the
//! spike and nowhere else.

use std::process::Command;

fn backtest(args: &[&str]) -> Vec<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("backtest")
        .args(args)
        .output()
        .expect("vigie runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[test]
fn the_sample_replays_to_the_standalone_alerts() {
    let root = env!("CARGO_MANIFEST_DIR");
    let alerts = backtest(&[
        "--mentions",
        &format!("{root}/deploy/sample/mentions.jsonl"),
        "--watches",
        &format!("{root}/deploy/sample/watches.toml"),
    ]);
    let fired: Vec<(String, String)> = alerts
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| {
            (
                format!("{}/{}", a["watch"].as_str().unwrap(), a["rule"].as_str().unwrap()),
                a["time"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(fired.len(), 7, "{fired:?}");
    for (rule, time) in [
        ("lost-luggage/cluster", "2026-11-20T14:30:05.000Z"),
        ("food-safety/burst", "2026-11-20T17:55:25.000Z"),
        ("brand/spike", "2026-11-20T17:59:02.000Z"),
        ("food-safety/overflow", "2026-11-20T18:30:32.000Z"),
    ] {
        assert!(
            fired.iter().any(|(r, t)| r == rule && t == time),
            "{rule} at {time}: {fired:?}"
        );
    }
    // Every line carries the contract fields.
    for a in &alerts {
        for field in ["time", "id", "watch", "rule", "severity", "state", "evidence"] {
            assert!(!a[field].is_null(), "{field} missing in {a}");
        }
    }
}

#[test]
fn a_count_series_fires_on_its_spike_only() {
    // Eight days of a steady daily cycle in 5-minute counts, then a two-hour surge.
    let mut csv = String::from("timestamp,value\n");
    let start = 1_700_000_000i64 / 86_400 * 86_400;
    for i in 0..(9 * 288) {
        let t = start + i * 300;
        let hour = (t % 86_400) / 3_600;
        let mut v = if (8..20).contains(&hour) { 60 } else { 15 } + (i % 7);
        if (8 * 288 + 120..8 * 288 + 144).contains(&i) {
            v *= 4;
        }
        let ts = vigie_core::model::format_rfc3339_ms(t * 1000);
        csv.push_str(&format!("{},{v}\n", &ts[..19].replace('T', " ")));
    }
    let path = std::env::temp_dir().join(format!("vigie-counts-{}.csv", std::process::id()));
    std::fs::write(&path, csv).unwrap();
    let alerts = backtest(&["--counts", path.to_str().unwrap()]);
    let _ = std::fs::remove_file(&path);
    let fired: Vec<&str> = alerts
        .iter()
        .filter(|a| a["state"] == "firing")
        .map(|a| a["time"].as_str().unwrap())
        .collect();
    let surge = vigie_core::model::format_rfc3339_ms((start + (8 * 288 + 120) * 300) * 1000);
    assert_eq!(fired.len(), 1, "{fired:?}");
    assert!(
        fired[0] >= surge.as_str() && fired[0] < "9999",
        "{fired:?} vs surge at {surge}"
    );
}
