//! Scenario `stack_starts`: this run's configuration, migrations (run twice: idempotent), the
//! watches, the three services and one operator token per tenant.

use crate::fixture::*;
use crate::World;
use std::time::Duration;

/// Starts the stack for this run.
pub fn run() -> World {
    let stack = Stack::create("e2e", "");
    let run_id = stack.run_id.clone();
    let (dir, database, http_addr) = (stack.dir.clone(), stack.database.clone(), stack.http.clone());
    let (t1, t2, t3) = (
        format!("e2e-a-{run_id}"),
        format!("e2e-b-{run_id}"),
        format!("e2e-c-{run_id}"),
    );
    let watches = dir.join("watches.toml");
    // Tenant 3: waves of complaints, each one a threshold alert that later resolves.
    let mut file = format!(
        "[[watch]]\ntenant = \"{t3}\"\nid = \"waves\"\nquery = \"vague\"\n\
         [[watch.rule]]\nname = \"wave\"\ntype = \"threshold\"\nseverity = \"warning\"\n\
         min_count = 20\nwindow = \"10m\"\ncooldown = \"5m\"\n\n"
    );
    // Tenant 2's watch is written in Meltwater's syntax (the same query, read the same way), so
    // the `watches` table carries a syntax other than the default.
    for (t, syntax) in [(&t1, ""), (&t2, "syntax = \"meltwater\"\n")] {
        file.push_str(&format!(
            "[[watch]]\ntenant = \"{t}\"\nid = \"outage\"\n{syntax}query = \"acme AND panne\"\n\
             [[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nseverity = \"critical\"\n\
             min_count = 50\nwindow = \"10m\"\ncooldown = \"2h\"\n\n"
        ));
    }
    std::fs::write(&watches, file).unwrap();
    stack.run(&["migrate"]);
    stack.run(&["migrate"]); // idempotent
    stack.run(&["watches", "publish", watches.to_str().unwrap()]);
    assert_eq!(
        clickhouse(&database, "SELECT count() FROM schema_migrations"),
        vigie_core::clickhouse::MIGRATIONS.len().to_string(),
        "each migration applied once"
    );

    let ingest = stack.spawn("ingest");
    let enrich = stack.spawn("enrich");
    let alerting = stack.spawn("alerting");
    wait_until("ingest to listen", Duration::from_secs(30), || {
        http("GET", &http_addr, "/healthz", b"")
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    });

    let (k1, k2, k3) = (stack.token(&t1), stack.token(&t2), stack.token(&t3));
    World {
        stack,
        tenants: [t1, t2, t3],
        tokens: [k1, k2, k3],
        watches,
        ingest: Some(ingest),
        enrich: Some(enrich),
        alerting: Some(alerting),
        api: None,
        accepted: [0, 0],
        api_tokens: Default::default(),
        alert_id: String::new(),
        alert_watch: String::new(),
    }
}

/// Stops what still runs; after a passing run, also drops the run's database and files (a failed
/// run keeps them, logs included, for a look).
pub fn tear_down(world: World, passed: bool) {
    let World {
        stack,
        ingest,
        enrich,
        alerting,
        api,
        ..
    } = world;
    drop((ingest, enrich, alerting, api));
    if passed {
        clickhouse("default", &format!("DROP DATABASE IF EXISTS {}", stack.database));
        let _ = std::fs::remove_dir_all(&stack.dir);
    } else {
        eprintln!("e2e: logs and configuration kept in {}", stack.dir.display());
    }
}
