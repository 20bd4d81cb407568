//! The dead-letter stage of the receivers, written once: what a receiver cannot use — a record
//! of `vigie.alerts` that is not an alert, or a notification its channel would not take — is
//! kept on `vigie.deadletter` with the receiver and the reason, never dropped.

use super::retry::DeliveryError;
use super::Notification;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{InRecord, OutRecord, Publisher};
use vigie_core::config::ReceiverConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::model::FieldError;
use vigie_core::retry::{until_ok, Abandoned};
use vigie_core::{deadletter, topics};

/// Where one receiver's dead letters go; clones share the publisher.
#[derive(Clone)]
pub struct DeadLetters {
    receiver: String,
    url: String,
    publisher: Publisher,
    metrics: StageMetrics,
}

impl DeadLetters {
    /// The dead letters of `receiver`, published with `publisher` and counted on `metrics`.
    pub fn new(receiver: &ReceiverConfig, publisher: Publisher, metrics: StageMetrics) -> Self {
        Self {
            receiver: receiver.name.clone(),
            url: receiver.url.clone(),
            publisher,
            metrics,
        }
    }

    /// The dead letter of `record`, which does not decode as an alert: its original bytes, its
    /// position as origin.
    pub fn undecodable(&self, record: &InRecord, error: &prost::DecodeError) -> OutRecord {
        let origin = format!("{}[{}]@{}", record.topic, record.partition, record.offset);
        let error = FieldError::new(
            "",
            format!("receiver {}: undecodable vigie.v1.Alert: {error}", self.receiver),
        );
        deadletter::record(
            self.metrics.stage(),
            &origin,
            &record.key_str(),
            &error,
            record.payload.as_deref().unwrap_or_default(),
        )
    }

    /// Keeps `notification`, which could not be delivered for `why`: `payload` is what its
    /// channel would have sent; the receiver's URL is the origin.
    pub async fn undelivered(
        &self,
        notification: &Notification,
        payload: &[u8],
        why: &DeliveryError,
        cancel: &CancellationToken,
    ) -> Result<(), Abandoned> {
        let error = FieldError::new("url", format!("receiver {}: {why}", self.receiver));
        let letter = deadletter::record(
            self.metrics.stage(),
            &self.url,
            notification.tenant(),
            &error,
            payload,
        );
        self.keep(vec![letter], cancel).await
    }

    /// Publishes `letters` to `vigie.deadletter`, retrying until they are durable (or `cancel`),
    /// and counts them.
    pub async fn keep(&self, letters: Vec<OutRecord>, cancel: &CancellationToken) -> Result<(), Abandoned> {
        if letters.is_empty() {
            return Ok(());
        }
        let what = format!("receiver {}: dead-letter", self.receiver);
        until_ok(&what, &self.metrics, "deadletter", cancel, || {
            self.publisher.publish(topics::DEADLETTER, letters.clone())
        })
        .await?;
        self.metrics.deadlettered(letters.len());
        Ok(())
    }
}
