//! What `vigie standalone` prints on stdout: rejected input as it arrives, and one alert
//! timeline. The alerts of the replay are held until the replay has gone through every stage,
//! then printed once each (a state change is an alert id and a version: a redelivered record is
//! not printed twice) in the order of their event time; after that, new state changes are
//! printed as they arrive. Logs go to stderr (see `main.rs`), never here.

use prost::Message;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError, InRecord, Subscriber};
use vigie_core::proto::{Alert, DeadLetter};
use vigie_core::topics;

/// The consumer group the console reads alerts and dead letters as.
pub const GROUP: &str = "standalone-console";

/// The alert state changes to print: held (until [`Timeline::release`]), then passed through,
/// each id and version once.
#[derive(Default)]
pub struct Timeline {
    /// Highest version printed or held of each alert id.
    seen: HashMap<String, u64>,
    /// Held state changes, until released.
    held: Vec<Alert>,
    released: bool,
}

impl Timeline {
    /// Takes one alert state change; returns it when it is to be printed now (after the
    /// release, and not seen before).
    pub fn push(&mut self, alert: Alert) -> Option<Alert> {
        let seen = self.seen.get(&alert.id).copied();
        if !self.released {
            let highest = seen.map_or(alert.version, |v| v.max(alert.version));
            self.seen.insert(alert.id.clone(), highest);
            self.held.push(alert);
            return None;
        }
        // The bus delivers an alert's versions in order: an older or equal version is a
        // redelivery (and printing it now would put it after a newer state).
        if seen.is_some_and(|v| alert.version <= v) {
            return None;
        }
        self.seen.insert(alert.id.clone(), alert.version);
        Some(alert)
    }

    /// Ends the held part: returns what was held, each (id, version) once, in event-time order
    /// (ties by id, then version, so the timeline does not depend on arrival order).
    pub fn release(&mut self) -> Vec<Alert> {
        self.released = true;
        let mut held = std::mem::take(&mut self.held);
        held.sort_by(|a, b| (&a.id, a.version).cmp(&(&b.id, b.version)));
        held.dedup_by(|a, b| a.id == b.id && a.version == b.version);
        held.sort_by(|a, b| (a.updated_at_ms, &a.id, a.version).cmp(&(b.updated_at_ms, &b.id, b.version)));
        held
    }
}

/// The console: one subscription to alerts and dead letters.
pub struct Console {
    sub: Subscriber,
    timeline: Timeline,
}

impl Console {
    /// Subscribes before anything is published, so nothing is missed.
    pub fn subscribe(bus: &Bus) -> Result<Self, BusError> {
        Ok(Self {
            sub: bus.subscribe_many(&[topics::ALERTS, topics::DEADLETTER], GROUP, "console")?,
            timeline: Timeline::default(),
        })
    }

    /// Prints rejected input as it arrives and holds alerts until `replayed` is cancelled; then
    /// reads what is left, prints the held timeline, says so on `printed`, and prints new alert
    /// state changes as they arrive until `cancel`.
    pub async fn run(
        mut self,
        replayed: CancellationToken,
        printed: oneshot::Sender<()>,
        cancel: CancellationToken,
    ) -> Result<(), BusError> {
        // `replayed` wakes the read below when the replay is done; an empty batch after it means
        // everything published before it has been read.
        loop {
            let batch = self
                .sub
                .next_batch(100, Duration::from_millis(10), &replayed)
                .await?;
            self.take(&batch);
            self.sub.commit(&batch).await?;
            if batch.is_empty() && replayed.is_cancelled() {
                break;
            }
        }
        for alert in self.timeline.release() {
            println!("{}", vigie_alerting::render::alert_text(&alert));
        }
        let _ = printed.send(());
        loop {
            let batch = self
                .sub
                .next_batch(100, Duration::from_millis(10), &cancel)
                .await?;
            if batch.is_empty() && cancel.is_cancelled() {
                return Ok(());
            }
            self.take(&batch);
            self.sub.commit(&batch).await?;
        }
    }

    /// Prints dead letters, and alerts once released; holds alerts before.
    fn take(&mut self, batch: &[InRecord]) {
        for r in batch {
            let payload = r.payload.as_deref().unwrap_or_default();
            if r.topic == topics::DEADLETTER {
                match DeadLetter::decode(payload) {
                    Ok(d) => println!("{}", dead_letter_line(&d)),
                    Err(e) => tracing::warn!("console: undecodable dead letter at offset {}: {e}", r.offset),
                }
            } else {
                match Alert::decode(payload) {
                    Ok(a) => {
                        if let Some(a) = self.timeline.push(a) {
                            println!("{}", vigie_alerting::render::alert_text(&a));
                        }
                    }
                    Err(e) => tracing::warn!("console: undecodable alert at offset {}: {e}", r.offset),
                }
            }
        }
    }
}

/// One line per rejected input: where it came from, the field and the reason.
pub fn dead_letter_line(d: &DeadLetter) -> String {
    format!("REJECTED ({}) {}: {}", d.origin, d.field, d.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(id: &str, version: u64, at: i64) -> Alert {
        Alert {
            id: id.into(),
            version,
            updated_at_ms: at,
            ..Default::default()
        }
    }

    fn ids(alerts: &[Alert]) -> Vec<(&str, u64)> {
        alerts.iter().map(|a| (a.id.as_str(), a.version)).collect()
    }

    #[test]
    fn held_alerts_come_out_once_each_in_event_time_order() {
        let mut t = Timeline::default();
        // As the engine publishes them: a's firing and resolution, then b firing earlier than
        // a resolved, then a redelivery of a's firing (at-least-once).
        for a in [
            alert("a", 1, 100),
            alert("a", 2, 500),
            alert("b", 1, 300),
            alert("a", 1, 100),
            alert("c", 1, 300),
        ] {
            assert!(t.push(a).is_none(), "held until released");
        }
        assert_eq!(ids(&t.release()), [("a", 1), ("b", 1), ("c", 1), ("a", 2)]);
    }

    #[test]
    fn after_the_release_new_changes_pass_and_redeliveries_do_not() {
        let mut t = Timeline::default();
        assert!(t.push(alert("a", 1, 100)).is_none());
        assert_eq!(t.release().len(), 1);
        assert!(t.push(alert("a", 1, 100)).is_none(), "already printed");
        assert_eq!(t.push(alert("a", 2, 200)).map(|a| a.version), Some(2));
        assert!(t.push(alert("a", 2, 200)).is_none(), "redelivered");
        assert_eq!(
            t.push(alert("b", 1, 50)).map(|a| a.version),
            Some(1),
            "live: arrival order"
        );
        assert!(t.release().is_empty());
    }
}
