//! Scenario `bi_queries`: what analysts run. Every query of docs/clickhouse.md, on tenant 1;
//! and the rollups count tenant 2's redelivered mentions once.

use crate::fixture::*;
use crate::World;
use std::time::Duration;

/// Runs the scenario.
pub fn run(w: &mut World) {
    let database = &w.stack.database;
    let [t1, t2, _] = &w.tenants;
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/clickhouse.md")).unwrap();
    let queries: Vec<String> = doc
        .split("```sql\n")
        .skip(1)
        .filter_map(|b| b.split("```").next())
        .map(|q| {
            q.replace("'acme/outage'", &format!("'{t1}/outage'"))
                .replace("'acme'", &format!("'{t1}'"))
        })
        .collect();
    assert_eq!(queries.len(), 7, "the documented queries");
    let rows = |q: &str| -> Vec<Vec<String>> {
        clickhouse(database, q)
            .lines()
            .map(|l| l.split('\t').map(str::to_string).collect())
            .collect()
    };
    let total = |rows: &[Vec<String>], col: usize| -> f64 {
        rows.iter().map(|r| r[col].parse::<f64>().unwrap()).sum()
    };
    wait_until("the watches table mirrored", Duration::from_secs(30), || {
        count(
            database,
            &format!("SELECT count() FROM watches FINAL WHERE tenant = '{t1}'"),
        ) == 1
    });
    wait_until("tenant 2's watch mirrored", Duration::from_secs(30), || {
        count(
            database,
            &format!("SELECT count() FROM watches FINAL WHERE tenant = '{t2}'"),
        ) == 1
    });
    let syntax = |t: &str| {
        clickhouse(
            database,
            &format!("SELECT syntax FROM watches FINAL WHERE tenant = '{t}'"),
        )
    };
    assert_eq!(
        syntax(t1),
        "vigie",
        "a watch naming no syntax is mirrored as vigie"
    );
    assert_eq!(syntax(t2), "meltwater", "the watch's own syntax");
    assert_eq!(
        total(&rows(&queries[0]), 1),
        200.0,
        "volume over time: the burst mentions of the watch"
    );
    let by_day = rows(&queries[1]);
    assert_eq!(
        total(&by_day, 1),
        w.accepted[0] as f64,
        "every accepted mention, once"
    );
    assert!(
        by_day
            .iter()
            .all(|r| (0.0..=1.0).contains(&r[2].parse::<f64>().unwrap())),
        "{by_day:?}"
    );
    assert_eq!(
        rows(&queries[2]),
        [vec!["outage".to_string(), "200".to_string()]],
        "watch names joined"
    );
    let authors = rows(&queries[3]);
    assert_eq!(authors.len(), 10, "{authors:?}");
    assert!(rows(&queries[4]).len() <= 10);
    // Places inferred from the profile locations: every accepted mention once, Lyon and
    // Brussels among them.
    let places = rows(&queries[5]);
    assert_eq!(total(&places, 2), w.accepted[0] as f64, "{places:?}");
    for (country, city) in [("FR", "Lyon"), ("BE", "Brussels")] {
        assert!(
            places
                .iter()
                .any(|r| r[0] == country && r[1] == city && r[2] != "0"),
            "{country} {city} in {places:?}"
        );
    }
    // The burst alert: firing, or resolved once the quiet tenant's clock moved past its window.
    assert!(
        rows(&queries[6])
            .iter()
            .any(|r| r[1] == "threshold" && (r[3] == "firing" || r[3] == "resolved")),
        "the burst alert"
    );
    let rolled_up = count(
        database,
        &format!("SELECT sum(mentions) FROM mentions_per_hour_v WHERE tenant = '{t2}'"),
    );
    assert_eq!(
        rolled_up, w.accepted[1],
        "tenant 2's redelivered mentions counted once in the rollups"
    );
}
