//! Scenario `rescore`: `vigie rescore` on the real stack. Tenant 1's mentions (enriched by the
//! current scorer, all still on the raw topic) need nothing, and a forced dry run finds every
//! one on the raw topic; a tenant whose rows an older scorer wrote (wrong labels, no place) is
//! rescored from ClickHouse, once, with the rollups rebuilt to count each mention under its new
//! label only; a second run rescores nothing.

use crate::fixture::*;
use crate::World;

/// The number after `label` in `vigie rescore`'s line ("12 stored" → 12 for "stored").
fn figure(out: &str, label: &str) -> u64 {
    let words: Vec<&str> = out.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| w.trim_matches(|c: char| !c.is_alphanumeric()) == label)
        .unwrap_or_else(|| panic!("no {label:?} in {out:?}"));
    words[at - 1]
        .trim_matches(|c: char| !c.is_ascii_digit())
        .parse()
        .unwrap_or_else(|_| panic!("no figure before {label:?} in {out:?}"))
}

/// Runs the scenario.
pub fn run(w: &mut World) {
    let database = w.stack.database.clone();
    let t1 = &w.tenants[0];
    let from = (vigie_core::now_ms() - 7 * 86_400_000).to_string();
    let out = w.stack.run(&["rescore", "--tenant", t1, "--from", &from]);
    assert_eq!(figure(&out, "stored"), w.accepted[0], "{out}");
    assert!(
        out.contains(" 0 rescored") && out.ends_with("rollups unchanged"),
        "already at the current scorer, rollups in agreement: {out}"
    );
    let out = w
        .stack
        .run(&["rescore", "--tenant", t1, "--from", &from, "--force", "--dry-run"]);
    assert!(
        out.contains(&format!(" {} would be rescored", w.accepted[0])),
        "{out}"
    );
    assert_eq!(
        figure(&out, "from"),
        w.accepted[0],
        "every one read from the raw topic: {out}"
    );

    // Rows as an older scorer wrote them: labels the current models disagree with, no place.
    let tenant = format!("e2e-r-{}", w.stack.run_id);
    let at = vigie_core::now_ms() / 1000 - 3600;
    let rows = [
        (
            "1",
            "Honteux, trois heures d'attente et personne au service client, je porte plainte",
            "positive",
            "Lyon, France",
        ),
        (
            "2",
            "Super accueil, merci beaucoup, je recommande vivement",
            "negative",
            "Bruxelles",
        ),
        ("3", "Livraison reçue ce matin", "neutral", ""),
    ];
    let values: Vec<String> = rows
        .iter()
        .map(|(n, text, label, location)| {
            format!(
                "('{tenant}', '{tenant}:x:{n}', toDateTime({at}), {ms}, toDateTime({at}), toDateTime({at}), 'x', 'public', 'post', '{n}', \
                 'author{n}', '{text}', 'fr', '{label}', ['{tenant}/w'], '0.3.0', {version}, '{location}')",
                ms = at * 1000,
                text = text.replace('\'', "\\'"),
                version = at * 1000 + 5_000,
            )
        })
        .collect();
    clickhouse(
        &database,
        &format!(
            "INSERT INTO mentions (tenant, id, created_at, created_at_ms, received_at, enriched_at, source, visibility, kind, \
             native_id, author_handle, text, language, sentiment_label, matched_watches, scorer_version, version, author_location) \
             VALUES {}",
            values.join(", ")
        ),
    );
    let labels = || {
        clickhouse(
            &database,
            &format!("SELECT sentiment_label, scorer_version, place_country FROM mentions FINAL WHERE tenant = '{tenant}' ORDER BY id"),
        )
    };
    let rolled = || {
        clickhouse(
            &database,
            &format!(
                "SELECT sentiment, sum(mentions) FROM mentions_per_hour_v WHERE tenant = '{tenant}' AND watch = '{tenant}/w' \
                 GROUP BY sentiment ORDER BY sentiment"
            ),
        )
    };
    assert_eq!(
        rolled(),
        "negative\t1\nneutral\t1\npositive\t1",
        "the old labels rolled up"
    );
    let out = w.stack.run(&["rescore", "--tenant", &tenant, "--from", &from]);
    assert_eq!(figure(&out, "stored"), 3, "{out}");
    assert!(out.contains(" 3 rescored"), "{out}");
    assert!(
        out.contains("(0 from the raw topic, 3 rebuilt from ClickHouse"),
        "{out}"
    );
    let scorer = vigie_enrich::scorer::SCORER_VERSION;
    let now = labels();
    let lines: Vec<&str> = now.lines().collect();
    assert_eq!(lines.len(), 3, "one row per mention under FINAL: {now}");
    assert_eq!(lines[0], format!("negative\t{scorer}\tFR"), "{now}");
    assert_eq!(lines[1], format!("positive\t{scorer}\tBE"), "{now}");
    // No place: the output's trailing empty column is trimmed away.
    assert!(lines[2].ends_with(&format!("\t{scorer}")), "{now}");
    // Each mention counted once, under its new label, in both rollups.
    let mut expected: std::collections::BTreeMap<&str, u64> = Default::default();
    for l in &lines {
        *expected.entry(l.split('\t').next().unwrap_or("")).or_default() += 1;
    }
    let expected: Vec<String> = expected
        .iter()
        .map(|(label, n)| format!("{label}\t{n}"))
        .collect();
    assert_eq!(
        rolled(),
        expected.join("\n"),
        "per hour, by the labels stored now"
    );
    let per_minute = clickhouse(
        &database,
        &format!(
            "SELECT sentiment, sum(mentions) FROM mentions_per_minute_v WHERE tenant = '{tenant}' AND watch = '{tenant}/w' \
             GROUP BY sentiment ORDER BY sentiment"
        ),
    );
    assert_eq!(per_minute, expected.join("\n"), "per minute too");
    let out = w.stack.run(&["rescore", "--tenant", &tenant, "--from", &from]);
    assert!(
        out.contains(" 0 rescored") && out.ends_with("rollups unchanged"),
        "a second run: {out}"
    );
    assert_eq!(labels(), now, "unchanged");

    // A run cut short after its rewrite: a current row with another label, the rollups counting
    // both. The next run rescores nothing and repairs the rollups.
    let third = lines[2].split('\t').next().unwrap_or("");
    let other = if third == "positive" {
        "negative"
    } else {
        "positive"
    };
    clickhouse(
        &database,
        &format!(
            "INSERT INTO mentions (tenant, id, created_at, created_at_ms, source, visibility, kind, native_id, text, language, \
             sentiment_label, matched_watches, scorer_version, version) VALUES ('{tenant}', '{tenant}:x:3', toDateTime({at}), \
             {ms}, 'x', 'public', 'post', '3', 'Livraison reçue ce matin', 'fr', '{other}', ['{tenant}/w'], '{scorer}', {v})",
            ms = at * 1000,
            v = vigie_core::now_ms() + 86_400_000,
        ),
    );
    let doubled: u64 = rolled()
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(doubled, 4, "the changed mention counted under both labels");
    let out = w.stack.run(&["rescore", "--tenant", &tenant, "--from", &from]);
    assert!(
        out.contains(" 0 rescored") && out.ends_with("rollups rebuilt"),
        "the rollups repaired: {out}"
    );
    let repaired: u64 = rolled()
        .lines()
        .map(|l| l.split('\t').nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0))
        .sum();
    assert_eq!(repaired, 3, "{}", rolled());
    assert!(rolled().contains(&format!("{other}\t")), "{}", rolled());
}
