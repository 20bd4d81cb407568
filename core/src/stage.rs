//! The consuming-stage skeleton shared by enrich and alerting: take a batch, let the stage
//! handle it (compute, then write outputs durably), and commit the batch only afterwards.
//!
//! At shutdown the batch in hand is finished; a write that keeps failing past the grace period
//! is abandoned and its batch, left uncommitted, is redelivered after restart.

use crate::bus::{InRecord, Subscriber};
use crate::metrics::StageMetrics;
use crate::retry::Abandoned;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Failpoint for crash tests: when this environment variable holds N, the process aborts after
/// writing the outputs of its N-th batch and before committing it — the worst moment to crash,
/// which forces a redelivery. Never set in production.
pub const ABORT_BEFORE_COMMIT_ENV: &str = "VIGIE_FAILPOINT_ABORT_BEFORE_COMMIT";

/// How long in-flight writes may keep retrying after shutdown was requested.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// Batching settings of a consuming loop.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most records per batch.
    pub max: usize,
    /// How long a batch waits to fill.
    pub linger: Duration,
}

/// Runs `handle` on batches from `subscriber` until `cancel`. `handle` gets the batch, a token
/// to give up retries on, and the subscription's assignment count (see
/// [`Subscriber::assignments`]: a change means partitions, and the state that follows them,
/// may have moved); it returns the number of records it handed on, or
/// [`Abandoned`] when its writes were given up (the loop then stops without committing).
pub async fn run_consumer<F, Fut>(
    mut subscriber: Subscriber,
    metrics: &StageMetrics,
    batching: Batching,
    cancel: &CancellationToken,
    mut handle: F,
) where
    F: FnMut(Vec<InRecord>, CancellationToken, u64) -> Fut,
    Fut: Future<Output = Result<(Vec<InRecord>, usize), Abandoned>>,
{
    let drain = crate::shutdown::with_grace(cancel, SHUTDOWN_GRACE);
    let abort_at: Option<u64> = std::env::var(ABORT_BEFORE_COMMIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    let mut handled = 0u64;
    while !cancel.is_cancelled() {
        let batch = match subscriber.next_batch(batching.max, batching.linger, cancel).await {
            Ok(b) => b,
            Err(e) => {
                metrics.error("consume");
                tracing::warn!(stage = metrics.stage(), "{e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        if batch.is_empty() {
            continue;
        }
        let started = Instant::now();
        metrics.received(batch.len());
        metrics.batch(batch.len());
        let assignments = subscriber.assignments();
        let batch = match handle(batch, drain.clone(), assignments).await {
            Ok((batch, sent)) => {
                metrics.sent(sent);
                batch
            }
            Err(e) => {
                tracing::warn!(stage = metrics.stage(), "{e}");
                break;
            }
        };
        handled += 1;
        if abort_at == Some(handled) {
            tracing::error!(
                stage = metrics.stage(),
                "failpoint {ABORT_BEFORE_COMMIT_ENV}: aborting before commit"
            );
            std::process::abort();
        }
        // A failed commit only means redelivery; every sink is idempotent by record id.
        if let Err(e) = subscriber.commit(&batch).await {
            metrics.error("commit");
            tracing::warn!(stage = metrics.stage(), "{e}; the batch will be redelivered");
        }
        metrics.processing(started.elapsed());
    }
}
