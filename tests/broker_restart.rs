//! Every service rides out a broker restart (issue 11, item 1): `vigie ingest`, `enrich`,
//! `alerting` and `api` run as processes against a broker of their own, which is stopped and
//! started again under them (`deploy/local/broker-restart-test.sh`).
//!
//! - With a persistent broker (Tansu's `s3://` storage on a local S3 server: topics, topic ids,
//!   records and offsets survive, as with Apache Kafka), all four stay up and a mention posted
//!   after the restart flows through ingest, enrich and alerting.
//! - With an in-memory broker, which loses every topic, they stay up too (librdkafka used to crash
//!   them all at once with SIGSEGV: see `vendor/README.md`) and ingest answers 503 instead of
//!   dying; nothing can flow until the topics exist again.
//!
//! Needs `VIGIE_E2E=1` and `deploy/local/install.sh --persistent` (the S3 server); a second broker
//! and ClickHouse are started on free ports under a scratch directory, so the local stack is left
//! alone.

mod common;

use std::process::Command;

/// Runs the restart script with `mode` on a scratch copy of the local stack's layout.
fn restart(mode: &str) {
    let repo = common::repo();
    let scratch = common::scratch_layout(&format!("broker-restart-{}", mode.trim_start_matches('-')));
    // The broker, ClickHouse and S3 (+10..+13) and the script's fixed offsets (+51, +80,
    // +101..+103).
    let base = common::port_base(&[10, 11, 12, 13, 51, 80, 101, 102, 103]);
    let env = common::stack_env(&scratch, [base + 10, base + 11, base + 12, base + 13]);
    let mut script = Command::new(repo.join("deploy/local/broker-restart-test.sh"));
    script
        .arg(mode)
        .envs(env.iter().cloned())
        .env("RESTART_TEST_PORT_BASE", base.to_string())
        .env("VIGIE_BIN", env!("CARGO_BIN_EXE_vigie"))
        .env("VIGIE_REPO", repo)
        .env_remove("VIGIE_CONFIG");
    let out = script.output().expect("the restart script runs");
    let stop = Command::new(repo.join("deploy/local/stop.sh"))
        .arg("--clean")
        .envs(env.iter().cloned())
        .output();
    let log = String::from_utf8_lossy(&out.stdout);
    eprintln!("{log}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "broker restart ({mode}) failed:\n{log}");
    assert!(log.contains("1 passed, 0 failed"), "{log}");
    if stop.is_ok() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

/// One test, the two restarts one after the other: each starts a broker and a ClickHouse of its
/// own, too much to run side by side on a small machine.
#[test]
fn every_service_rides_out_a_broker_restart() {
    if common::persistent_enabled() {
        restart("--persistent");
        restart("--survive-only");
    }
}
