//! Scenario `alerting_crash`: alerting is killed (SIGKILL) in the middle of eight waves of
//! complaints for tenant 3; its replacement crashes after publishing a batch's alerts and
//! checkpoint but before committing (failpoint); a third instance finishes. The alerts must be
//! exactly those of an uninterrupted replay of the same mentions (`vigie backtest`): none lost,
//! none repeated, and ClickHouse holds one row per alert in its final state.

use crate::fixture::*;
use crate::World;
use std::time::Duration;
use vigie_core::proto::Alert;

/// Runs the scenario.
pub fn run(w: &mut World) {
    let (stack, database) = (&w.stack, &w.stack.database);
    let [_, _, t3] = &w.tenants;
    let [_, _, k3] = &w.tokens;
    let watches = &w.watches;
    // A day old: history, whose clock follows its data only (never moved by the wall clock), so
    // the live run and the replay see exactly the same event times.
    let base_ms = vigie_core::now_ms() - 30 * 3_600_000;
    let mut lines = Vec::new();
    let mut current = w.alerting.take();
    for wave in 0..8i64 {
        let batch: Vec<String> = (0..25i64)
            .map(|j| {
                let source = ["x", "facebook", "forum"][j as usize % 3];
                serde_json::json!({
                    "tenant": t3,
                    "source": source,
                    "native_id": format!("w{wave}-{j}"),
                    "text": format!("Encore une vague de retards chez Acme, colis {wave}-{j} introuvable"),
                    "created_at": base_ms + wave * 30 * 60_000 + j * 5_000,
                })
                .to_string()
            })
            .collect();
        let (status, resp) = http_as(
            Some(k3),
            "POST",
            &stack.http,
            "/v1/mentions",
            format!("[{}]", batch.join(",")).as_bytes(),
        )
        .unwrap();
        assert_eq!(status, 200, "{resp}");
        lines.extend(batch);
        if wave == 3 {
            let mut first = current.take().expect("alerting running");
            first.0.kill().unwrap();
            first.0.wait().unwrap();
            current =
                Some(stack.spawn_with("alerting", &[(vigie_core::stage::ABORT_BEFORE_COMMIT_ENV, "2")]));
        }
    }
    let mut crashing = current.take().expect("alerting running");
    wait_until("the alerting failpoint", Duration::from_secs(90), || {
        crashing.0.try_wait().unwrap().is_some()
    });
    w.alerting = Some(stack.spawn("alerting"));
    let mentions_file = stack.dir.join("waves.jsonl");
    std::fs::write(&mentions_file, lines.join("\n")).unwrap();
    let out = stack
        .vigie(&[
            "backtest",
            "--mentions",
            mentions_file.to_str().unwrap(),
            "--watches",
            watches.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut expected: Vec<(String, u64, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v["tenant"] == t3.as_str())
        .map(|v| {
            (
                v["id"].as_str().unwrap().to_string(),
                v["version"].as_u64().unwrap(),
                v["state"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    expected.sort();
    assert_eq!(
        expected.len(),
        15,
        "eight waves fire, seven resolve: {expected:?}"
    );
    let state_of = |a: &Alert| vigie_core::names::state_name(a.state()).to_string();
    let mut on_topic: Vec<(String, u64, String)> = Vec::new();
    wait_until(
        "every alert state change after the crashes",
        Duration::from_secs(90),
        || {
            on_topic = alerts_on_topic_for(t3)
                .iter()
                .map(|a| (a.id.clone(), a.version, state_of(a)))
                .collect();
            on_topic.sort();
            on_topic.dedup();
            on_topic.len() >= expected.len()
        },
    );
    assert_eq!(on_topic, expected, "the same alerts as an uninterrupted replay");
    let records = alerts_on_topic_for(t3).len();
    eprintln!(
        "phase 3: {} alert state changes, {records} records on vigie.alerts ({} repeated with the same id and version)",
        expected.len(),
        records - expected.len()
    );
    // Records are at least once: a SIGKILL between publishing a batch's alerts and its checkpoint
    // republishes that batch's state changes (same id and version, collapsed by FINAL and by
    // receivers). A batch of 50 mentions spans at most two waves: at most four such records.
    assert!(
        records - expected.len() <= 4,
        "{records} records for {} state changes",
        expected.len()
    );
    let finals = clickhouse(
        database,
        &format!("SELECT id, state FROM alerts FINAL WHERE tenant = '{t3}' ORDER BY id FORMAT TSV"),
    );
    let mut last: std::collections::BTreeMap<String, (u64, String)> = Default::default();
    for (id, version, state) in &expected {
        let e = last.entry(id.clone()).or_insert((0, String::new()));
        if *version > e.0 {
            *e = (*version, state.clone());
        }
    }
    let want: Vec<String> = last
        .iter()
        .map(|(id, (_, state))| format!("{id}\t{state}"))
        .collect();
    assert_eq!(
        finals.lines().collect::<Vec<_>>(),
        want,
        "one row per alert in ClickHouse, in its final state"
    );
}
