//! The retry stage: sends a notification through its channel up to `max_attempts` times with
//! exponential back-off (0.5 s doubling to 30 s), stopping early when the channel says a
//! failure is permanent, or when shutdown comes during a back-off.

use super::{Notification, Notifier, NotifyError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Why a notification was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Every attempt failed with a retryable error.
    #[error("{last} after {attempts} attempts")]
    Exhausted {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: NotifyError,
    },
    /// An attempt failed in a way retrying cannot fix.
    #[error("{last} on attempt {attempts}, not retried")]
    Permanent {
        /// Attempts made.
        attempts: u32,
        /// The permanent error.
        last: NotifyError,
    },
    /// Shutdown came while waiting to retry: neither delivered nor given up.
    #[error("{last}; stopped while retrying after {attempts} attempts")]
    Stopped {
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        last: NotifyError,
    },
}

/// How a receiver retries.
#[derive(Debug, Clone, Copy)]
pub struct Retry {
    attempts: u32,
    first_backoff: Duration,
    longest_backoff: Duration,
}

impl Retry {
    /// Up to `attempts` attempts (at least one), backing off from 0.5 s doubling to 30 s.
    pub fn new(attempts: u32) -> Self {
        Self {
            attempts: attempts.max(1),
            first_backoff: Duration::from_millis(500),
            longest_backoff: Duration::from_secs(30),
        }
    }

    /// Sends `notification` through `notifier` until it is accepted, or the attempts are
    /// spent, or a failure is permanent, or `cancel` fires during a back-off. `receiver` names
    /// the receiver in logs.
    pub async fn deliver(
        &self,
        notifier: &dyn Notifier,
        notification: &Notification,
        receiver: &str,
        cancel: &CancellationToken,
    ) -> Result<(), DeliveryError> {
        let mut backoff = self.first_backoff;
        let mut attempts = 1;
        loop {
            let last = match notifier.notify(notification).await {
                Ok(()) => return Ok(()),
                Err(e) => e,
            };
            if !last.retryable() {
                return Err(DeliveryError::Permanent { attempts, last });
            }
            if attempts >= self.attempts {
                return Err(DeliveryError::Exhausted { attempts, last });
            }
            tracing::warn!(
                receiver,
                attempt = attempts,
                "notification failed: {last}; retrying in {backoff:?}"
            );
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = cancel.cancelled() => return Err(DeliveryError::Stopped { attempts, last }),
            }
            backoff = (backoff * 2).min(self.longest_backoff);
            attempts += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::alert;
    use crate::notify::memory::{Answer, MemoryNotifier};
    use vigie_core::proto::{AlertState, Severity};

    fn one() -> Notification {
        Notification::group(
            "acme/w1",
            vec![alert("a1", 1, "w1", Severity::Critical, AlertState::Firing)],
        )
    }

    #[tokio::test(start_paused = true)]
    async fn retryable_failures_are_retried_with_back_off() {
        let channel = MemoryNotifier::answering([Answer::FailRetryably, Answer::FailRetryably]);
        let started = tokio::time::Instant::now();
        let cancel = CancellationToken::new();
        Retry::new(6)
            .deliver(&channel, &one(), "ops", &cancel)
            .await
            .unwrap();
        assert_eq!((channel.attempts(), channel.delivered().len()), (3, 1));
        assert_eq!(started.elapsed(), Duration::from_millis(500 + 1_000));
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_run_out_and_permanent_failures_are_not_retried() {
        let cancel = CancellationToken::new();
        let down = MemoryNotifier::always(Answer::FailRetryably);
        let e = Retry::new(3)
            .deliver(&down, &one(), "ops", &cancel)
            .await
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Exhausted { attempts: 3, .. }), "{e}");
        assert_eq!(down.attempts(), 3);
        let refusing = MemoryNotifier::always(Answer::FailPermanently);
        let e = Retry::new(6)
            .deliver(&refusing, &one(), "ops", &cancel)
            .await
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Permanent { attempts: 1, .. }), "{e}");
        assert_eq!(refusing.attempts(), 1);
        cancel.cancel();
        let e = Retry::new(6)
            .deliver(&down, &one(), "ops", &cancel)
            .await
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Stopped { attempts: 1, .. }), "{e}");
    }
}
