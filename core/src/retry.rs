//! Retrying durable writes: a stage that cannot write its outputs keeps retrying with back-off
//! and does not commit its input, so nothing is lost while a sink is down.

use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The write was abandoned because shutdown was requested; the input stays uncommitted and will
/// be redelivered.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0} abandoned at shutdown; its input will be redelivered")]
pub struct Abandoned(pub String);

/// Runs `op` until it succeeds, backing off from 100 ms to 10 s between attempts and counting
/// each failure on `metrics` as `error_type`. Gives up only when `cancel` fires, even in the
/// middle of an attempt.
pub async fn until_ok<T, E, F, Fut>(
    what: &str,
    metrics: &crate::metrics::StageMetrics,
    error_type: &str,
    cancel: &CancellationToken,
    mut op: F,
) -> Result<T, Abandoned>
where
    E: std::fmt::Display,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut delay = Duration::from_millis(100);
    loop {
        let attempt = tokio::select! {
            r = op() => r,
            _ = cancel.cancelled() => return Err(Abandoned(what.to_string())),
        };
        match attempt {
            Ok(v) => return Ok(v),
            Err(e) => {
                metrics.error(error_type);
                tracing::warn!(
                    stage = metrics.stage(),
                    "{what} failed: {e}; retrying in {delay:?}"
                );
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = cancel.cancelled() => return Err(Abandoned(what.to_string())),
        }
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}
