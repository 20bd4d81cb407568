//! `vigie watches import` as a user runs it: a tool's export in, a watches file out that
//! `vigie watches check` accepts, and a report naming every refused query with its reason.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vigie(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(args)
        .output()
        .unwrap()
}

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vigie-import-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn check(file: &Path) -> Output {
    vigie(&["watches", "check", file.to_str().unwrap()])
}

#[test]
fn a_brandwatch_csv_becomes_watches_and_refused_queries_are_named_with_their_reason() {
    let dir = dir("csv");
    let export = dir.join("brandwatch.csv");
    // As Brandwatch exports queries: quoted "Name","Query", commas and doubled quotes inside
    // quotes, a query over two lines, a column that is not imported.
    std::fs::write(
        &export,
        "\"Name\",\"Query\",\"Languages\"\r\n\
         \"Christmas gifts, UK\",\"((Christmas OR Xmas) NEAR/2 (Gift OR Present))\",\"en\"\r\n\
         \"Juice\",\"\"\"apple juice\"\"~5\",\"en\"\r\n\
         \"Lower case or\",\"apple or pear\",\"en\"\r\n\
         \"Two lines\",\"verdier\r\nAND malade*\",\"fr\"\r\n",
    )
    .unwrap();
    let out = dir.join("watches.toml");
    let run = vigie(&[
        "watches",
        "import",
        "--from",
        "brandwatch",
        "--tenant",
        "acme",
        export.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let report = text(&run.stderr);
    assert!(!run.status.success(), "a refused query fails the run: {report}");
    // The refused query: its line, its name, the position of the lower-case `or` and the fix.
    let refused: Vec<&str> = report.lines().filter(|l| l.contains("refused:")).collect();
    assert_eq!(refused.len(), 1, "{report}");
    assert!(
        refused[0].starts_with("line 4 (\"Lower case or\"): refused: position 6")
            && refused[0].contains("write OR (upper case)"),
        "{report}"
    );
    assert!(report.contains("columns not imported: Languages"), "{report}");
    assert!(report.contains("4 queries, 3 written"), "{report}");
    // The accepted ones are written anyway, and load as `vigie watches check` reads them.
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.contains("id = \"christmas-gifts-uk\""), "{written}");
    assert!(written.contains("query = \"\\\"apple juice\\\"~5\""), "{written}");
    assert_eq!(
        written
            .lines()
            .filter(|l| *l == "syntax = \"brandwatch\"")
            .count(),
        3,
        "{written}"
    );
    assert!(written.contains("# Refused (line 4)"), "{written}");
    let checked = check(&out);
    assert!(checked.status.success(), "{}", text(&checked.stderr));
    assert!(
        text(&checked.stdout).contains("3 watches OK"),
        "{}",
        text(&checked.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_meltwater_list_is_read_with_meltwaters_lower_case_operators() {
    let dir = dir("list");
    let export = dir.join("meltwater.txt");
    std::fs::write(
        &export,
        "apple AND NOT (IPHONE or \"apple sauce\")\n\nverdier or verdié\n",
    )
    .unwrap();
    let run = vigie(&[
        "watches",
        "import",
        "--from",
        "meltwater",
        "--tenant",
        "acme",
        export.to_str().unwrap(),
    ]);
    assert!(run.status.success(), "{}", text(&run.stderr));
    let report = text(&run.stderr);
    assert!(
        report.contains("line 1: kept as written, watch query-1, syntax meltwater"),
        "{report}"
    );
    assert!(
        report.contains("line 3: kept as written, watch query-3"),
        "{report}"
    );
    let out = dir.join("watches.toml");
    std::fs::write(&out, &run.stdout).unwrap();
    assert!(check(&out).status.success());
    // The watches file keeps the dialect: scored, `or` is the operator, so the apple sauce
    // mention is excluded.
    let mut score = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["score", "--tenant", "acme", "--watches", out.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    score
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"{\"id\":\"a\",\"text\":\"an apple a day\"}\n{\"id\":\"b\",\"text\":\"apple sauce again\"}\n",
        )
        .unwrap();
    let scored = text(&score.wait_with_output().unwrap().stdout);
    let matches: Vec<serde_json::Value> = scored
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["matches"].clone())
        .collect();
    assert_eq!(
        matches,
        vec![serde_json::json!(["acme/query-1"]), serde_json::json!([])],
        "{scored}"
    );
    // An unknown tool is refused by the argument parser, listing the known ones.
    let unknown = vigie(&[
        "watches",
        "import",
        "--from",
        "lucene",
        "--tenant",
        "acme",
        export.to_str().unwrap(),
    ]);
    assert!(!unknown.status.success());
    assert!(
        text(&unknown.stderr).contains("talkwalker"),
        "{}",
        text(&unknown.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
