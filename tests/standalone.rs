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
        stdout.contains("replayed 1249 mentions (3 rejected and dead-lettered)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("REJECTED")).count(),
        3,
        "{stdout}"
    );
    let fired: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT") && l.contains(" firing at "))
        .collect();
    let has = |watch_rule: &str, at: &str| fired.iter().any(|a| a.contains(watch_rule) && a.contains(at));
    assert_eq!(fired.len(), 7, "{stdout}");
    assert!(has("northwind/lost-luggage rule=cluster", "14:30:05"), "{stdout}");
    // The food-safety story is caught at 17:55, from private messages and the first public posts,
    // before the press articles (18:30 and later in the sample); the brand's volume spike nine
    // minutes later, against a baseline learned over the four ordinary days before.
    assert!(
        has("[CRITICAL] verdier/food-safety rule=burst", "17:55:25"),
        "{stdout}"
    );
    assert!(has("verdier/brand rule=spike", "18:04:05"), "{stdout}");
    assert!(has("verdier/brand rule=volume", "18:08:28"), "{stdout}");
    // The first press article is both a risky mention (410k followers) and the third stage of
    // the escalation private → public → press.
    assert!(has("verdier/brand rule=risky", "18:30:32"), "{stdout}");
    assert!(has("verdier/brand rule=risky", "18:35:37"), "{stdout}");
    assert!(has("verdier/food-safety rule=overflow", "18:30:32"), "{stdout}");
    assert!(fired
        .iter()
        .any(|a| a.contains("private:messenger → public:instagram → press:news")));
    // Every alert that fired also resolved once its condition cleared (or it aged out).
    let resolved = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT") && l.contains(" resolved at "))
        .count();
    assert!(resolved >= 5, "{stdout}");
}
