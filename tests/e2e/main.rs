//! End to end against a real Kafka-protocol broker and a real ClickHouse server: the services run
//! as separate `vigie` processes, exactly as deployed.
//!
//! Needs the local stack (`deploy/local/install.sh && deploy/local/start.sh`) and `VIGIE_E2E=1`;
//! `.ci/run` does both. Without `VIGIE_E2E` every scenario is listed as ignored, so `cargo test`
//! works on a machine without the stack.
//!
//! The scenarios share one stack and build on each other's data, so they run in this order, one
//! at a time, each reported under its own name; a scenario after a failed one is reported failed
//! without running ("not run: …"):
//!
//! 1. `stack_starts`: migrations (twice: idempotent), watches, the three services, tokens.
//! 2. `ingest_and_dead_letters`: no token is 401, another tenant's is refused; 2,000 mentions
//!    (some invalid) for tenant 1 — every accepted one in ClickHouse once, enriched, the invalid
//!    ones answered 400 and dead-lettered, the burst alert raised once.
//! 3. `enrich_crash`: the same for tenant 2 while enrich is SIGKILLed and its replacement aborts
//!    before committing: nothing lost, nothing double-counted.
//! 4. `alerting_crash`: eight waves of complaints for tenant 3 while alerting is SIGKILLed and its
//!    replacement aborts before committing: the alerts equal an uninterrupted `vigie backtest`.
//! 5. `bi_queries`: every query of `docs/clickhouse.md`, and the rollups count redelivered
//!    mentions once.
//! 6. `rescore`: `vigie rescore` finds tenant 1's mentions current and on the raw topic, and
//!    rewrites a tenant's rows of an older scorer once, rollups rebuilt, a second run a no-op.
//! 7. `api_happy_paths`: every gRPC call on the full stack, a watch made through the API matched
//!    by enrich, StreamAlerts resumed from its cursor.
//! 8. `cross_tenant`: tenant 2's admin tries every read and write on tenants 1 and 3's ids.
//! 9. `connectors`: a signed WhatsApp message, a signed Messenger message and the page's echo,
//!    and a Google Alerts feed served locally, through a webhook-serving ingest and `vigie
//!    collect` into enrich and ClickHouse; the Messenger customer's `unanswered` alert is
//!    resolved by the echo, the WhatsApp one fires at its deadline.
//! 10. `jetstream`: a recorded Jetstream session played over a local WebSocket through `vigie
//!     collect`'s bluesky connector, the collector SIGKILLed half-way and started again from its
//!     saved cursor: every post the keywords keep in ClickHouse and on the raw topic exactly
//!     once, none missing, the malformed frame dead-lettered once.
//! 11. `clickhouse_outage`: ClickHouse SIGKILLed while tenant 2 posts, down for 20 s, started
//!     again: ingest kept accepting, enrich and alerting resumed by themselves, every accepted
//!     mention in ClickHouse exactly once.
//! 12. `shutdown`: the API's metrics, a revoked token, and every service stopping cleanly.

mod alerting_crash;
mod api;
mod bi;
mod clickhouse_outage;
mod connectors;
mod cross_tenant;
mod enrich_crash;
mod fixture;
mod ingest;
mod jetstream;
mod rescore;
mod setup;
mod shutdown;

use fixture::{Service, Stack};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// What the scenarios share: the stack, the tenants and their tokens, the running services, and
/// what earlier scenarios found that later ones check.
pub struct World {
    /// The configuration and addresses.
    pub stack: Stack,
    /// The three tenants of this run: 1 (clean run), 2 (enrich crash), 3 (alerting crash).
    pub tenants: [String; 3],
    /// One operator token per tenant, in the same order.
    pub tokens: [String; 3],
    /// The watches file published at the start.
    pub watches: PathBuf,
    /// `vigie ingest`, `enrich`, `alerting` and `api` while they run.
    pub ingest: Option<Service>,
    /// See [`World::ingest`].
    pub enrich: Option<Service>,
    /// See [`World::ingest`].
    pub alerting: Option<Service>,
    /// See [`World::ingest`].
    pub api: Option<Service>,
    /// Mentions accepted for tenants 1 and 2.
    pub accepted: [u64; 2],
    /// Admin tokens of tenants 1 and 2 and a second operator token of tenant 3 (made by
    /// `api_happy_paths`).
    pub api_tokens: [String; 3],
    /// The alert of tenant 3 acknowledged then resolved through the API, and its watch.
    pub alert_id: String,
    /// See [`World::alert_id`].
    pub alert_watch: String,
}

type Step = fn(&mut World);

/// The scenarios, in the order they run.
const SCENARIOS: [(&str, Step); 11] = [
    ("ingest_and_dead_letters", ingest::run),
    ("enrich_crash", enrich_crash::run),
    ("alerting_crash", alerting_crash::run),
    ("bi_queries", bi::run),
    ("rescore", rescore::run),
    ("api_happy_paths", api::run),
    ("cross_tenant", cross_tenant::run),
    ("connectors", connectors::run),
    ("jetstream", jetstream::run),
    ("clickhouse_outage", clickhouse_outage::run),
    ("shutdown", shutdown::run),
];

/// The shared world, and the first scenario that failed.
#[derive(Default)]
struct Shared {
    world: Option<World>,
    failed: Option<String>,
}

/// Runs one scenario on the shared world, unless an earlier one failed.
fn attempt(shared: &Mutex<Shared>, name: &str, step: impl FnOnce(&mut Shared)) -> Result<(), Failed> {
    let mut guard = shared.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = &guard.failed {
        return Err(format!("not run: scenario {first} failed before it").into());
    }
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(&mut guard)));
    outcome.map_err(|panic| {
        guard.failed = Some(name.to_string());
        Failed::from(fixture::panic_message(panic))
    })
}

fn main() {
    let mut args = Arguments::from_args();
    // The scenarios depend on each other's data: one at a time, in order.
    args.test_threads = Some(1);
    let enabled = std::env::var("VIGIE_E2E").is_ok();
    if !enabled {
        eprintln!(
            "e2e scenarios ignored: set VIGIE_E2E=1 with the local stack running (deploy/local/start.sh)"
        );
    }
    let shared = Arc::new(Mutex::new(Shared::default()));
    let mut trials = Vec::new();
    {
        let shared = shared.clone();
        trials.push(
            Trial::test("stack_starts", move || {
                attempt(&shared, "stack_starts", |s| s.world = Some(setup::run()))
            })
            .with_ignored_flag(!enabled),
        );
    }
    for (name, step) in SCENARIOS {
        let shared = shared.clone();
        trials.push(
            Trial::test(name, move || {
                attempt(&shared, name, |s| match s.world.as_mut() {
                    Some(world) => step(world),
                    None => panic!("no stack: stack_starts did not run"),
                })
            })
            .with_ignored_flag(!enabled),
        );
    }
    let conclusion = libtest_mimic::run(&args, trials);
    // Stop whatever still runs and remove this run's database and files, passed or not.
    let world = shared.lock().unwrap_or_else(|p| p.into_inner()).world.take();
    if let Some(world) = world {
        let passed = !conclusion.has_failed();
        setup::tear_down(world, passed);
    }
    conclusion.exit();
}
