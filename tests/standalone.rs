//! The README's first command, minus the build: `vigie standalone --exit` replays the bundled
//! sample through all three stages in one process and prints what it rejected and the alerts.

use std::process::Command;

#[test]
fn the_bundled_sample_raises_the_documented_alerts() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["standalone", "--exit"])
        // Ports are not opened with --exit; point them away from defaults anyway.
        .env("VIGIE_INGEST__HTTP_LISTEN", "127.0.0.1:0")
        .env("VIGIE_INGEST__GRPC_LISTEN", "127.0.0.1:0")
        .output()
        .expect("vigie runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("replayed 289 mentions (3 rejected and dead-lettered)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("REJECTED")).count(),
        3,
        "{stdout}"
    );
    let alerts: Vec<&str> = stdout.lines().filter(|l| l.starts_with("ALERT")).collect();
    assert_eq!(alerts.len(), 3, "{stdout}");
    assert!(alerts
        .iter()
        .any(|a| a.contains("northwind/lost-luggage") && a.contains("14:30:05")));
    // The food-safety story is caught at 17:55, from private messages and the first public posts,
    // before the press articles (18:30 and later in the sample).
    assert!(alerts
        .iter()
        .any(|a| a.starts_with("ALERT [CRITICAL] verdier/food-safety") && a.contains("17:55:25")));
    assert!(alerts.iter().any(|a| a.contains("verdier/brand rule=volume")));
}
