//! A batch's records for one topic on their way to durability: handed to the transport in the
//! stage's batch order ([`Outgoing::start`], in the compute half), then awaited in the batch's
//! write task ([`Outgoing::durable`]), re-published until acknowledged if the first attempt
//! fails.

use super::{BusError, OutRecord, Publisher, Sending};
use crate::metrics::StageMetrics;
use crate::retry::{until_ok, Abandoned};
use tokio_util::sync::CancellationToken;

/// Records sent to a topic, not yet known durable.
pub struct Outgoing {
    publisher: Publisher,
    topic: &'static str,
    records: Vec<OutRecord>,
    sending: Result<Sending, BusError>,
}

impl Outgoing {
    /// Hands `records` to the transport now (see [`Publisher::send`]).
    pub async fn start(publisher: &Publisher, topic: &'static str, records: Vec<OutRecord>) -> Self {
        let sending = publisher.send(topic, &records).await;
        Self {
            publisher: publisher.clone(),
            topic,
            records,
            sending,
        }
    }

    /// How many records are on their way.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Waits until every record is acknowledged, publishing them again (backing off, counting
    /// each failure as `error_type`) when the first attempt fails; gives up only when `drain`
    /// fires. Returns the number of records.
    pub async fn durable(
        self,
        what: &str,
        metrics: &StageMetrics,
        error_type: &str,
        drain: &CancellationToken,
    ) -> Result<usize, Abandoned> {
        let Outgoing {
            publisher,
            topic,
            records,
            sending,
        } = self;
        let first = match sending {
            Ok(sending) => tokio::select! {
                acked = sending.acknowledged() => acked,
                _ = drain.cancelled() => return Err(Abandoned(what.to_string())),
            },
            Err(e) => Err(e),
        };
        match first {
            Ok(()) => return Ok(records.len()),
            Err(e) => {
                metrics.error(error_type);
                tracing::warn!(stage = metrics.stage(), "{what} failed: {e}; publishing again");
            }
        }
        until_ok(what, metrics, error_type, drain, || {
            publisher.publish(topic, records.clone())
        })
        .await?;
        Ok(records.len())
    }
}
