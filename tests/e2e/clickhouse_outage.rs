//! Scenario `clickhouse_outage`: ClickHouse is killed (SIGKILL) while tenant 2 posts mentions,
//! stays down for 20 s while posting goes on, and is started again. Ingest keeps accepting
//! (it needs only the broker), enrich and alerting pause with their batches uncommitted and
//! resume by themselves, and every accepted mention ends up in ClickHouse exactly once.

use crate::fixture::*;
use crate::World;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PER_PHASE: usize = 200;

/// Runs the scenario.
pub fn run(w: &mut World) {
    let (stack, database) = (&w.stack, &w.stack.database);
    let [_, t2, _] = &w.tenants;
    let [_, k2, _] = &w.tokens;
    let base_ms = vigie_core::now_ms() - 60_000;
    let prefix = format!("outage-{}", stack.run_id);
    let post = |phase: usize| {
        let mut accepted = 0;
        for chunk in 0..PER_PHASE / 50 {
            let body: Vec<String> = (0..50)
                .map(|j| {
                    let i = phase * PER_PHASE + chunk * 50 + j;
                    serde_json::json!({
                        "tenant": t2,
                        "source": "forum",
                        "native_id": format!("{prefix}-{i}"),
                        "text": format!("Message {i} pendant la panne de la base"),
                        "created_at": base_ms + i as i64 * 10,
                    })
                    .to_string()
                })
                .collect();
            let (status, answer) = http_as(
                Some(k2),
                "POST",
                &stack.http,
                "/v1/mentions",
                body.join("\n").as_bytes(),
            )
            .unwrap();
            assert_eq!(status, 200, "ingest answers without ClickHouse: {answer}");
            let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
            accepted += v["accepted"].as_u64().unwrap();
        }
        accepted
    };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let local = std::env::var("VIGIE_LOCAL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| repo.join(".local"));
    let pid = std::fs::read_to_string(local.join("run/clickhouse.pid"))
        .expect("ClickHouse started by deploy/local/start.sh");
    let mut accepted = post(0);
    let killed = Command::new("kill").args(["-9", pid.trim()]).status().unwrap();
    assert!(killed.success(), "kill -9 {pid}");
    wait_until("ClickHouse down", Duration::from_secs(10), || {
        !Command::new("curl")
            .args(["-sf", "--max-time", "1", &format!("http://{CLICKHOUSE}/ping")])
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    });
    let down = Instant::now();
    accepted += post(1);
    std::thread::sleep(Duration::from_secs(20).saturating_sub(down.elapsed()));
    let started = Command::new(repo.join("deploy/local/start.sh"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(started.success(), "ClickHouse started again");
    let back = Instant::now();
    accepted += post(2);
    let q = |sql: &str| count(database, &sql.replace("$T", t2).replace("$P", &prefix));
    wait_until(
        &format!("{accepted} mentions posted around the outage in ClickHouse"),
        Duration::from_secs(120),
        || q("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND native_id LIKE '$P-%'") >= accepted,
    );
    let recovered = back.elapsed();
    assert_eq!(accepted, 3 * PER_PHASE as u64, "every mention accepted");
    assert_eq!(
        q("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND native_id LIKE '$P-%'"),
        accepted,
        "exactly once (FINAL)"
    );
    for (name, service) in [
        ("ingest", &mut w.ingest),
        ("enrich", &mut w.enrich),
        ("alerting", &mut w.alerting),
        ("api", &mut w.api),
    ] {
        let running = service.as_mut().map(|s| s.0.try_wait().ok().flatten().is_none());
        assert_eq!(
            running,
            Some(true),
            "{name} rode out the outage:\n{}",
            stack.log(name)
        );
    }
    assert!(
        stack.log("enrich").contains("insert into mentions failed"),
        "enrich saw the outage and retried:\n{}",
        stack.log("enrich")
    );
    eprintln!(
        "ClickHouse down {:.0} s; {accepted} mentions accepted around it, all in ClickHouse once {:.1} s after it was back",
        (back - down).as_secs_f64(),
        recovered.as_secs_f64()
    );
}
