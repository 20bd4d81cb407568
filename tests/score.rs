//! `vigie score` as a user runs it: JSONL in, one JSON line out per input line, errors in place.

use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn scores_every_line_and_reports_bad_lines_in_place() {
    let dir = std::env::temp_dir().join(format!("vigie-score-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let watches = dir.join("watches.toml");
    std::fs::write(
        &watches,
        "[[watch]]\nid = \"crisis\"\nquery = \"verdier AND malade*\"\n",
    )
    .unwrap();
    let input = [
        r#"{"id":"a","text":"Toute la famille malade après le menu Verdier, une honte"}"#,
        r#"{"id":"b","text":"What a lovely flight, thanks to the crew!"}"#,
        "not json",
        r#"{"id":"d","text":"Verdier malade","source":"myspace"}"#,
        r#"{"id":"e","text":"Toute la famille malade après le menu Verdier, une honte !!"}"#,
    ]
    .join("\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["score", "--watches", watches.to_str().unwrap()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["lang"], "fr");
    assert_eq!(lines[0]["sentiment"]["label"], "negative");
    assert_eq!(lines[0]["matches"], serde_json::json!(["default/crisis"]));
    assert!(lines[0]["risk"]["flags"]
        .as_array()
        .unwrap()
        .contains(&serde_json::json!("health")));
    assert_eq!(lines[1]["lang"], "en");
    assert_eq!(lines[1]["sentiment"]["label"], "positive");
    assert_eq!(lines[1]["matches"], serde_json::json!([]));
    assert_eq!(lines[2]["line"], 3);
    assert!(lines[2]["error"].as_str().unwrap().contains("invalid JSON"));
    assert_eq!(lines[3]["line"], 4);
    assert!(lines[3]["error"].as_str().unwrap().starts_with("source:"));
    assert_eq!(lines[0]["cluster"], lines[4]["cluster"], "copies share a cluster");
    assert_ne!(lines[0]["cluster"], lines[1]["cluster"]);
    let _ = std::fs::remove_dir_all(&dir);
}
