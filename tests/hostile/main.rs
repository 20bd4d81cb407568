//! Hostile input against the full local stack (real broker, real ClickHouse, the services as
//! processes): each case is a reproduction from a hostile-but-fair probe of Vigie (issue 11), kept
//! so the next probe starts from them. Cases are independent of each other; they share one
//! stack, started once.
//!
//! Needs the local stack and `VIGIE_E2E=1`, like `tests/e2e/`; without it every case is listed as
//! ignored.

#[path = "../e2e/fixture.rs"]
#[allow(dead_code)]
mod fixture;

mod cases;

use fixture::{Service, Stack};
use libtest_mimic::{Arguments, Failed, Trial};
use std::sync::{Arc, Mutex, OnceLock};

/// The stack the cases share.
pub struct Hostile {
    /// Configuration and addresses.
    pub stack: Stack,
    /// Tenants of this run: `a` and `b`.
    pub tenants: [String; 2],
    /// One operator token per tenant.
    pub tokens: [String; 2],
    /// The running services.
    services: Mutex<Vec<Service>>,
}

type Case = fn(&Hostile);

fn main() {
    let args = Arguments::from_args();
    let enabled = std::env::var("VIGIE_E2E").is_ok();
    if !enabled {
        eprintln!(
            "hostile cases ignored: set VIGIE_E2E=1 with the local stack running (deploy/local/start.sh)"
        );
    }
    // Started by the first case that needs it; a failed start fails every case, once each.
    let world: Arc<OnceLock<Result<Hostile, String>>> = Arc::new(OnceLock::new());
    let trials = cases::ALL
        .iter()
        .map(|(name, case)| {
            let (world, case) = (world.clone(), *case);
            Trial::test(*name, move || {
                let hostile = world.get_or_init(|| {
                    std::panic::catch_unwind(cases::start)
                        .map_err(|p| format!("stack did not start: {}", fixture::panic_message(p)))
                });
                let hostile = hostile.as_ref().map_err(|e| Failed::from(e.as_str()))?;
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| case(hostile)))
                    .map_err(|p| Failed::from(fixture::panic_message(p)))
            })
            .with_ignored_flag(!enabled)
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(hostile)) = Arc::try_unwrap(world).ok().and_then(|w| w.into_inner()) {
        drop(hostile.services.into_inner().unwrap_or_else(|p| p.into_inner()));
        if !conclusion.has_failed() {
            fixture::clickhouse(
                "default",
                &format!("DROP DATABASE IF EXISTS {}", hostile.stack.database),
            );
            let _ = std::fs::remove_dir_all(&hostile.stack.dir);
        } else {
            eprintln!("hostile: logs kept in {}", hostile.stack.dir.display());
        }
    }
    conclusion.exit();
}
