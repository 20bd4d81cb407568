//! Graceful shutdown: SIGTERM or SIGINT cancels a token that every task watches; tasks then stop
//! taking new work, drain what is in flight, flush their sinks and commit their offsets.

use tokio_util::sync::CancellationToken;

/// Returns a token cancelled on the first SIGTERM or SIGINT.
pub fn on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let child = token.clone();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutdown requested: draining in-flight work");
        child.cancel();
    });
    token
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM ({e}); only Ctrl-C stops the service");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A token cancelled `grace` after `cancel`: in-flight writes get that long to finish after
/// shutdown was requested before they are abandoned (their input then stays uncommitted).
pub fn with_grace(cancel: &CancellationToken, grace: std::time::Duration) -> CancellationToken {
    let late = CancellationToken::new();
    let (cancel, child) = (cancel.clone(), late.clone());
    tokio::spawn(async move {
        cancel.cancelled().await;
        tokio::time::sleep(grace).await;
        child.cancel();
    });
    late
}
