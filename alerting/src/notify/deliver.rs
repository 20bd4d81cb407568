//! The deliver stage: a notification goes through the [`retry`](super::retry) stage to the
//! receiver's channel; it is counted as sent (or reminded), or, when it cannot be delivered,
//! dead-lettered — the one path both notifications and reminders take.

use super::deadletter::DeadLetters;
use super::retry::{DeliveryError, Retry};
use super::{Notification, Notifier};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vigie_core::metrics::StageMetrics;
use vigie_core::retry::Abandoned;

/// One receiver's way out: channel, retries and dead letters; clones share the channel.
#[derive(Clone)]
pub struct Delivery {
    receiver: String,
    notifier: Arc<dyn Notifier>,
    retry: Retry,
    dead: DeadLetters,
    metrics: StageMetrics,
}

impl Delivery {
    /// Delivery for the receiver named `receiver` through `notifier`.
    pub fn new(
        receiver: &str,
        notifier: Arc<dyn Notifier>,
        retry: Retry,
        dead: DeadLetters,
        metrics: StageMetrics,
    ) -> Self {
        Self {
            receiver: receiver.to_string(),
            notifier,
            retry,
            dead,
            metrics,
        }
    }

    /// Delivers `notification` or dead-letters it; returns how many alerts were delivered.
    /// [`Abandoned`] when `cancel` fires first: the notification is neither sent nor
    /// dead-lettered (its input stays uncommitted).
    pub async fn send(
        &self,
        notification: &Notification,
        cancel: &CancellationToken,
    ) -> Result<usize, Abandoned> {
        let name = self.receiver.as_str();
        let outcome = self
            .retry
            .deliver(&*self.notifier, notification, name, cancel)
            .await;
        let (group, alerts) = (&notification.group, notification.alerts.len());
        match outcome {
            Ok(()) => {
                let outcome = if notification.reminder { "reminded" } else { "sent" };
                vigie_core::metrics::notification(name, outcome);
                tracing::info!(receiver = name, group, alerts, "{outcome}");
                Ok(alerts)
            }
            Err(stopped @ DeliveryError::Stopped { .. }) => {
                Err(Abandoned(format!("receiver {name}: {stopped}")))
            }
            Err(why) => {
                self.metrics.error("deliver");
                vigie_core::metrics::notification(name, "deadlettered");
                tracing::warn!(receiver = name, group, "notification dead-lettered: {why}");
                let payload = self.notifier.payload(notification);
                self.dead
                    .undelivered(notification, &payload, &why, cancel)
                    .await?;
                Ok(0)
            }
        }
    }
}
