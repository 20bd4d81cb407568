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

use std::path::{Path, PathBuf};
use std::process::Command;

/// A base for the broker, ClickHouse and S3 (+10..+13) and the script's fixed offsets (+51, +80,
/// +101..+103), below the kernel's ephemeral range (32768 and up on Linux), where the services'
/// own outgoing connections could take one of them before it is bound; every port is free now.
fn port_base() -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let start = 20_000 + (std::process::id() % 100) as u16 * 100;
    (0..120u16)
        .map(|i| 20_000 + (start - 20_000 + i * 100) % 12_000)
        .find(|&b| {
            [10, 11, 12, 13, 51, 80, 101, 102, 103]
                .iter()
                .all(|o| free(b + o))
        })
        .expect("a free port range below 32000")
}

/// Runs the restart script with `mode` on a scratch copy of the local stack's layout.
fn restart(mode: &str) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let local = repo.join(".local");
    let scratch: PathBuf = std::env::temp_dir().join(format!(
        "vigie-broker-restart-{}-{}",
        std::process::id(),
        mode.trim_start_matches('-')
    ));
    std::fs::create_dir_all(&scratch).unwrap();
    for installed in ["bin", "s3rver"] {
        let link = scratch.join(installed);
        if !link.exists() {
            std::os::unix::fs::symlink(local.join(installed), &link).unwrap();
        }
    }
    let base = port_base();
    let ports: Vec<String> = (10..14).map(|o| (base + o).to_string()).collect();
    let base = base.to_string();
    let env = [
        ("VIGIE_LOCAL_DIR", scratch.to_str().unwrap()),
        ("VIGIE_LOCAL_KAFKA_PORT", &ports[0]),
        ("VIGIE_LOCAL_CH_HTTP_PORT", &ports[1]),
        ("VIGIE_LOCAL_CH_TCP_PORT", &ports[2]),
        ("VIGIE_LOCAL_S3_PORT", &ports[3]),
        ("RESTART_TEST_PORT_BASE", &base),
        ("VIGIE_BIN", env!("CARGO_BIN_EXE_vigie")),
        ("VIGIE_REPO", repo.to_str().unwrap()),
    ];
    let mut script = Command::new(repo.join("deploy/local/broker-restart-test.sh"));
    script.arg(mode).envs(env).env_remove("VIGIE_CONFIG");
    let out = script.output().expect("the restart script runs");
    let stop = Command::new(repo.join("deploy/local/stop.sh"))
        .arg("--clean")
        .envs(env)
        .output();
    let log = String::from_utf8_lossy(&out.stdout);
    eprintln!("{log}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "broker restart ({mode}) failed:\n{log}");
    assert!(log.contains("1 passed, 0 failed"), "{log}");
    if stop.is_ok() {
        let _ = std::fs::remove_dir_all(&scratch);
    }
}

fn enabled() -> bool {
    if std::env::var("VIGIE_E2E").is_err() {
        eprintln!("skipped: set VIGIE_E2E=1 with deploy/local/install.sh --persistent done");
        return false;
    }
    let s3 = Path::new(env!("CARGO_MANIFEST_DIR")).join(".local/s3rver/node_modules/s3rver");
    assert!(
        s3.exists(),
        "no local S3 server at {}: run deploy/local/install.sh --persistent",
        s3.display()
    );
    true
}

/// One test, the two restarts one after the other: each starts a broker and a ClickHouse of its
/// own, too much to run side by side on a small machine.
#[test]
fn every_service_rides_out_a_broker_restart() {
    if enabled() {
        restart("--persistent");
        restart("--survive-only");
    }
}
