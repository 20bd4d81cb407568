//! What the tests that start a stack of their own share: free ports, and a scratch copy of the
//! local stack's layout for `deploy/local/start.sh` (the installed broker and S3 server linked,
//! data and logs of its own), so the local stack the other tests use is left alone.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The checkout.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A base port such that `base + offset` is free for every offset (all below 200), below the
/// kernel's ephemeral range (32768 and up on Linux), where the services' own outgoing
/// connections could take one before it is bound.
pub fn port_base(offsets: &[u16]) -> u16 {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let start = 20_000 + (std::process::id() % 50) as u16 * 200;
    (0..60u16)
        .map(|i| 20_000 + (start - 20_000 + i * 200) % 12_000)
        .find(|&b| offsets.iter().all(|o| free(b + o)))
        .expect("a free port range below 32000")
}

/// Whether the end-to-end tests are on (`VIGIE_E2E`) with the persistent broker's S3 server
/// installed (`deploy/local/install.sh --persistent`); says why not when they are off.
pub fn persistent_enabled() -> bool {
    if std::env::var("VIGIE_E2E").is_err() {
        eprintln!("skipped: set VIGIE_E2E=1 with deploy/local/install.sh --persistent done");
        return false;
    }
    let s3 = repo().join(".local/s3rver/node_modules/s3rver");
    assert!(
        s3.exists(),
        "no local S3 server at {}: run deploy/local/install.sh --persistent",
        s3.display()
    );
    true
}

/// A scratch directory for `deploy/local/start.sh` (its `VIGIE_LOCAL_DIR`), with the installed
/// broker and S3 server linked in.
pub fn scratch_layout(name: &str) -> PathBuf {
    let local = repo().join(".local");
    let scratch = std::env::temp_dir().join(format!("vigie-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    for installed in ["bin", "s3rver"] {
        let link = scratch.join(installed);
        if !link.exists() {
            std::os::unix::fs::symlink(local.join(installed), &link).expect("a link to .local");
        }
    }
    scratch
}

/// The environment of `deploy/local/start.sh` and `stop.sh` for a stack in `scratch` with the
/// broker, ClickHouse HTTP and native, and S3 on the four given ports.
pub fn stack_env(scratch: &Path, ports: [u16; 4]) -> Vec<(String, String)> {
    let [kafka, http, tcp, s3] = ports;
    vec![
        ("VIGIE_LOCAL_DIR".into(), scratch.display().to_string()),
        ("VIGIE_LOCAL_KAFKA_PORT".into(), kafka.to_string()),
        ("VIGIE_LOCAL_CH_HTTP_PORT".into(), http.to_string()),
        ("VIGIE_LOCAL_CH_TCP_PORT".into(), tcp.to_string()),
        ("VIGIE_LOCAL_S3_PORT".into(), s3.to_string()),
    ]
}
