//! Scenario `enrich_crash`: 2,000 mentions for tenant 2 while enrich is killed (SIGKILL) a
//! quarter into the stream; its replacement crashes after writing a batch but before committing
//! it (failpoint), forcing a redelivery; a third instance finishes the job. Nothing is lost,
//! nothing double-counted.

use crate::fixture::*;
use crate::World;
use std::time::{Duration, Instant};

/// Runs the scenario.
pub fn run(w: &mut World) {
    let (stack, database) = (&w.stack, &w.stack.database);
    let [_, t2, _] = &w.tenants;
    let [_, k2, _] = &w.tokens;
    let failpoint = [(vigie_core::stage::ABORT_BEFORE_COMMIT_ENV, "3")];
    let mut current = w.enrich.take();
    let (accepted, rejected, _) = post_all(stack, k2, t2, 2_000, |i| {
        if i == 500 {
            let mut first = current.take().expect("enrich running");
            first.0.kill().unwrap();
            first.0.wait().unwrap();
            current = Some(stack.spawn_with("enrich", &failpoint));
        }
        if i == 1_500 {
            let mut crashing = current.take().expect("enrich running");
            let start = Instant::now();
            let status = loop {
                if let Some(status) = crashing.0.try_wait().unwrap() {
                    break status;
                }
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "failpoint never fired:\n{}",
                    stack.log("enrich")
                );
                std::thread::sleep(Duration::from_millis(100));
            };
            assert!(!status.success(), "the failpoint aborts the process");
            current = Some(stack.spawn("enrich"));
        }
    });
    assert_tenant_complete(database, t2, accepted, rejected, 200);
    // Every accepted mention was enriched and published at least once, and the crash forced a
    // redelivery: some mention was published twice.
    let enriched = enriched_ids_for(t2);
    let distinct = enriched.iter().collect::<std::collections::HashSet<_>>().len();
    eprintln!(
        "phase 2: {accepted} accepted; {} enriched records published for them ({} redelivered after the crash)",
        enriched.len(),
        enriched.len() - distinct
    );
    assert_eq!(
        distinct as u64, accepted,
        "every accepted mention on the enriched topic"
    );
    assert!(
        enriched.len() > distinct,
        "the crash before commit must have caused a redelivery"
    );
    w.accepted[1] = accepted;
    w.enrich = current;
}
