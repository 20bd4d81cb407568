//! Notification receivers: each `[[receivers]]` entry is a pipeline of small stages fed from
//! `vigie.alerts`, ending in one channel, a [`Notifier`]:
//!
//! ```text
//! vigie.alerts ─ decode ─ filter ─ dedup ─ group ─ ratelimit ─ deliver (retry) ─ channel
//!                  └─ not an alert ─────────────────────────────────┴─ undelivered ─ deadletter
//! vigie.alerts (from its start) ─ remind ─ ratelimit ─ deliver (retry) ─ channel
//! ```
//!
//! - [`filter`]: tenants, lowest severity, not silenced, not older than `max_age_secs`,
//!   resolutions if `send_resolved`;
//! - [`dedup`]: each (alert id, version) once, as after a redelivery;
//! - [`group`]: what arrived within `group_wait_ms`, one notification per tenant and watch;
//! - [`ratelimit`]: `max_per_minute`; beyond, what waits goes out together as one digest;
//! - [`deliver`] and [`retry`]: up to `max_attempts` with exponential back-off, fewer when the
//!   channel says a failure is permanent; then [`deadletter`], never dropped;
//! - [`remind`]: alerts still firing sent again every `repeat_interval_secs`.
//!
//! Channels: [`webhook`] (`format = "json"`) and [`slack`] (`format = "slack"`), both over
//! [`http`]; [`memory`] is the in-memory one the stage tests use. The receiver's `format`
//! selects its channel once, in [`channel`]. **Adding a channel** (email, Telegram, Teams):
//! implement [`Notifier`] in a new file beside [`webhook`], name it in [`channel`], and accept
//! its name in the validation of `ReceiverConfig::format` (`core/src/config.rs`).
//!
//! Each receiver is its own consumer of `vigie.alerts` (group `vigie-notify-<name>`), so a slow
//! or failing receiver only lags itself: detection and the other receivers go on.

pub mod deadletter;
pub mod dedup;
pub mod deliver;
pub mod filter;
pub mod group;
pub mod http;
pub mod memory;
pub mod notifier;
pub mod ratelimit;
pub mod remind;
pub mod retry;
pub mod slack;
pub mod webhook;

#[cfg(test)]
mod fixtures;

pub use notifier::{Notification, Notifier, NotifyError};

use deadletter::DeadLetters;
use deliver::Delivery;
use filter::Filter;
use prost::Message;
use ratelimit::Limiter;
use remind::Reminders;
use retry::Retry;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError, InRecord, OutRecord};
use vigie_core::config::ReceiverConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::proto::Alert;
use vigie_core::stage::{run_consumer, Pipeline, Written};
use vigie_core::topics;

/// The stage name of every receiver in metrics and dead letters.
pub const STAGE: &str = "notify";
/// (id, version) pairs a receiver remembers to drop redelivered records, and closed alerts its
/// reminders remember.
pub const REMEMBERED: usize = 10_000;

/// Why a receiver could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReceiverError {
    /// Its subscription or its publisher could not be set up.
    #[error("receiver {receiver}: {error}")]
    Bus {
        /// Receiver name.
        receiver: String,
        /// What the bus reported.
        error: BusError,
    },
    /// Its `format` names no channel.
    #[error("receiver {receiver}: format {format:?} names no channel (expected \"json\" or \"slack\")")]
    UnknownFormat {
        /// Receiver name.
        receiver: String,
        /// The format asked for.
        format: String,
    },
    /// Its HTTPS client has no root certificate to trust.
    #[error("receiver {receiver}: {error}")]
    Tls {
        /// Receiver name.
        receiver: String,
        /// What is missing.
        error: http::NoRootCertificates,
    },
    /// Its reminders task failed (panicked).
    #[error("receiver {receiver}: reminders failed: {error}")]
    Reminders {
        /// Receiver name.
        receiver: String,
        /// How the task ended.
        error: tokio::task::JoinError,
    },
}

/// The channel `receiver`'s `format` names, built once when the receiver starts.
pub fn channel(receiver: &ReceiverConfig) -> Result<Arc<dyn Notifier>, ReceiverError> {
    let client = || {
        http::client(&receiver.url).map_err(|error| ReceiverError::Tls {
            receiver: receiver.name.clone(),
            error,
        })
    };
    Ok(match receiver.format.as_str() {
        "json" => Arc::new(webhook::Webhook::new(&receiver.name, &receiver.url, client()?)),
        "slack" => Arc::new(slack::Slack::new(&receiver.url, client()?)),
        other => {
            return Err(ReceiverError::UnknownFormat {
                receiver: receiver.name.clone(),
                format: other.to_string(),
            })
        }
    })
}

/// Runs one receiver until `cancel`, over the channel its `format` names.
pub async fn run_receiver(
    bus: Bus,
    receiver: ReceiverConfig,
    cancel: CancellationToken,
) -> Result<(), ReceiverError> {
    let notifier = channel(&receiver)?;
    run(bus, receiver, notifier, cancel).await
}

/// Runs one receiver until `cancel`, over `notifier`: assembles its stages and feeds them from
/// `vigie.alerts`, committing a batch once each of its notifications is delivered or
/// dead-lettered.
pub async fn run(
    bus: Bus,
    receiver: ReceiverConfig,
    notifier: Arc<dyn Notifier>,
    cancel: CancellationToken,
) -> Result<(), ReceiverError> {
    let bus_error = |error| ReceiverError::Bus {
        receiver: receiver.name.clone(),
        error,
    };
    let metrics = StageMetrics::new(STAGE);
    let consumer_group = format!("vigie-notify-{}", receiver.name);
    let subscriber = bus
        .subscribe(topics::ALERTS, &consumer_group, STAGE)
        .map_err(bus_error)?;
    let dead = DeadLetters::new(&receiver, bus.publisher().map_err(bus_error)?, metrics.clone());
    // The stages, in the order alerts go through them.
    let filter = Filter::new(&receiver);
    let mut dedup = dedup::Dedup::new(REMEMBERED);
    let limit = Limiter::new(receiver.max_per_minute);
    let retry = Retry::new(receiver.max_attempts);
    let delivery = Delivery::new(&receiver.name, notifier, retry, dead.clone(), metrics.clone());
    let reminders = Reminders::new(
        receiver.repeat_interval_secs,
        filter.clone(),
        limit.clone(),
        delivery.clone(),
    )
    .map(|r| tokio::spawn(r.run(bus.clone(), cancel.clone())));
    tracing::info!(receiver = %receiver.name, url = %receiver.url, "notify: consuming {} as group {consumer_group}", topics::ALERTS);
    run_consumer(
        subscriber,
        &metrics,
        Pipeline::sequential(group::window(&receiver)),
        &cancel,
        |batch, drain, _| {
            let (alerts, undecodable) = decode(&batch, &dead);
            let alerts = dedup.keep_new(filter.keep(alerts, vigie_core::now_ms()));
            let mut pending = group::by_key(alerts);
            let (dead, limit, delivery) = (&dead, &limit, &delivery);
            async move {
                dead.keep(undecodable, &drain).await?;
                let mut delivered = 0;
                while let Some(notification) = limit.next(&mut pending, &drain).await? {
                    delivered += delivery.send(&notification, &drain).await?;
                }
                Ok(std::future::ready(Ok(Written::commit(delivered))))
            }
        },
    )
    .await;
    if let Some(task) = reminders {
        task.await.map_err(|error| ReceiverError::Reminders {
            receiver: receiver.name.clone(),
            error,
        })?;
    }
    Ok(())
}

/// The alerts of `batch`, and the dead letters of its records that are not alerts (each
/// counted as skipped, `undecodable`).
fn decode(batch: &[InRecord], dead: &DeadLetters) -> (Vec<Alert>, Vec<OutRecord>) {
    let (mut alerts, mut undecodable) = (Vec::with_capacity(batch.len()), Vec::new());
    for record in batch {
        match Alert::decode(record.payload.as_deref().unwrap_or_default()) {
            Ok(alert) => alerts.push(alert),
            Err(e) => {
                vigie_core::metrics::record_skipped(topics::ALERTS, "undecodable");
                tracing::warn!(
                    stage = STAGE,
                    "{}[{}]@{}: undecodable alert: {e}",
                    record.topic,
                    record.partition,
                    record.offset
                );
                undecodable.push(dead.undecodable(record, &e));
            }
        }
    }
    (alerts, undecodable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{alert, receiver};
    use memory::{Answer, MemoryNotifier};
    use std::sync::Mutex;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::proto::{AlertState, DeadLetter, Severity};

    async fn publish(bus: &MemoryBus, alerts: &[Alert]) {
        let records = alerts
            .iter()
            .map(|a| OutRecord::message("acme", "vigie.v1.Alert", a.encode_to_vec()))
            .collect();
        Publisher::Memory(bus.clone())
            .publish(topics::ALERTS, records)
            .await
            .unwrap();
    }

    /// Two alerts of watch w1, one of w2, plus a redelivery and one below the lowest severity.
    fn five_records() -> Vec<Alert> {
        vec![
            alert("a1", 1, "w1", Severity::Critical, AlertState::Firing),
            alert("a2", 1, "w1", Severity::Warning, AlertState::Firing),
            alert("a1", 1, "w1", Severity::Critical, AlertState::Firing), // redelivered
            alert("a3", 1, "w2", Severity::Warning, AlertState::Firing),
            alert("a4", 1, "w2", Severity::Info, AlertState::Firing), // below min severity
        ]
    }

    fn ids(n: &Notification) -> Vec<&str> {
        n.alerts.iter().map(|a| a.id.as_str()).collect()
    }

    fn dead_letters(bus: &MemoryBus) -> Vec<DeadLetter> {
        bus.snapshot(topics::DEADLETTER)
            .iter()
            .map(|r| DeadLetter::decode(r.payload.as_deref().unwrap()).unwrap())
            .collect()
    }

    /// Waits (up to 10 s of tokio time) until `done`.
    async fn until(what: &str, done: impl Fn() -> bool) {
        for _ in 0..200 {
            if done() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("timed out waiting for {what}");
    }

    fn start(
        bus: &MemoryBus,
        r: ReceiverConfig,
        channel: &MemoryNotifier,
        cancel: &CancellationToken,
    ) -> tokio::task::JoinHandle<Result<(), ReceiverError>> {
        tokio::spawn(run(
            Bus::Memory(bus.clone()),
            r,
            Arc::new(channel.clone()),
            cancel.clone(),
        ))
    }

    #[tokio::test(start_paused = true)]
    async fn groups_retry_dedupe_and_dead_letter() {
        // The first send fails twice, then everything is accepted.
        let bus = MemoryBus::default();
        publish(&bus, &five_records()).await;
        let channel = MemoryNotifier::answering([Answer::FailRetryably, Answer::FailRetryably]);
        let cancel = CancellationToken::new();
        let task = start(&bus, receiver("http://x"), &channel, &cancel);
        until("two notifications", || channel.delivered().len() >= 2).await;
        let got = channel.delivered();
        assert_eq!(got.len(), 2, "one notification per watch: {got:?}");
        assert_eq!(
            (got[0].group.as_str(), ids(&got[0])),
            ("acme/w1", vec!["a1", "a2"])
        );
        assert_eq!((got[1].group.as_str(), ids(&got[1])), ("acme/w2", vec!["a3"]));
        assert_eq!(channel.attempts(), 4, "the first notification was retried twice");
        // A receiver that never answers well: dead-lettered after its attempts, never dropped.
        let failing = ReceiverConfig {
            name: "down".into(),
            url: "http://127.0.0.1:9/nothing-listens".into(),
            max_attempts: 2,
            ..receiver("http://x")
        };
        let other = MemoryBus::default();
        publish(&other, &five_records()).await;
        let down = MemoryNotifier::always(Answer::FailRetryably);
        let task2 = start(&other, failing, &down, &cancel);
        until("two dead letters", || {
            other.snapshot(topics::DEADLETTER).len() >= 2
        })
        .await;
        let dead = dead_letters(&other);
        assert_eq!(dead.len(), 2, "one dead letter per undelivered notification");
        assert_eq!(down.attempts(), 4, "two attempts each");
        let letter = &dead[0];
        assert_eq!(
            (
                letter.stage.as_str(),
                letter.field.as_str(),
                letter.origin.as_str(),
                letter.tenant.as_str()
            ),
            ("notify", "url", "http://127.0.0.1:9/nothing-listens", "acme")
        );
        assert!(
            letter.reason.starts_with("receiver down: unreachable:")
                && letter.reason.ends_with("after 2 attempts"),
            "{}",
            letter.reason
        );
        let original: serde_json::Value = serde_json::from_slice(&letter.original).unwrap();
        assert_eq!(
            original["group"], "acme/w1",
            "the letter keeps what the channel would have sent"
        );
        cancel.cancel();
        task.await.unwrap().unwrap();
        task2.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_permanent_failure_is_dead_lettered_without_retrying() {
        let bus = MemoryBus::default();
        publish(&bus, &five_records()[..2]).await;
        let refusing = MemoryNotifier::always(Answer::FailPermanently);
        let cancel = CancellationToken::new();
        let task = start(&bus, receiver("http://x"), &refusing, &cancel);
        until("a dead letter", || !bus.snapshot(topics::DEADLETTER).is_empty()).await;
        assert_eq!(refusing.attempts(), 1, "not retried");
        let dead = dead_letters(&bus);
        assert!(
            dead[0].reason.contains("on attempt 1, not retried"),
            "{}",
            dead[0].reason
        );
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn a_record_that_is_not_an_alert_is_counted_and_dead_lettered() {
        let bus = MemoryBus::default();
        let garbage = vec![0xff; 4];
        Publisher::Memory(bus.clone())
            .publish(
                topics::ALERTS,
                vec![OutRecord::message("acme", "vigie.v1.Alert", garbage.clone())],
            )
            .await
            .unwrap();
        publish(&bus, &five_records()[..1]).await;
        let channel = MemoryNotifier::new();
        let cancel = CancellationToken::new();
        let task = start(&bus, receiver("http://x"), &channel, &cancel);
        until("the valid alert sent", || channel.delivered().len() == 1).await;
        let dead = dead_letters(&bus);
        assert_eq!(dead.len(), 1);
        assert_eq!(
            (
                dead[0].stage.as_str(),
                dead[0].origin.as_str(),
                dead[0].tenant.as_str()
            ),
            ("notify", "vigie.alerts[0]@0", "acme")
        );
        assert!(
            dead[0]
                .reason
                .starts_with("receiver ops: undecodable vigie.v1.Alert"),
            "{}",
            dead[0].reason
        );
        assert_eq!(dead[0].original, garbage);
        let metrics = vigie_core::metrics::render();
        assert!(
            metrics.contains("vigie_records_skipped_total{reason=\"undecodable\",topic=\"vigie.alerts\"}")
        );
        assert!(metrics.contains("vigie_stage_deadlettered_total{stage=\"notify\"}"));
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    // Reminders are due by wall-clock time (alerts carry wall-clock times), so this test runs
    // in real time: about two seconds.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn alerts_still_firing_are_reminded_until_acknowledged() {
        let bus = MemoryBus::default();
        publish(
            &bus,
            &[
                alert("a1", 1, "w1", Severity::Critical, AlertState::Firing),
                alert("a2", 1, "w2", Severity::Warning, AlertState::Firing),
            ],
        )
        .await;
        let channel = MemoryNotifier::new();
        let cancel = CancellationToken::new();
        let r = ReceiverConfig {
            repeat_interval_secs: 1,
            ..receiver("http://x")
        };
        let task = start(&bus, r, &channel, &cancel);
        let reminders = || -> Vec<Vec<String>> {
            channel
                .delivered()
                .iter()
                .filter(|n| n.reminder)
                .map(|n| n.alerts.iter().map(|a| a.id.clone()).collect())
                .collect()
        };
        until("a first reminder", || !reminders().is_empty()).await;
        assert_eq!(reminders()[0], ["a1", "a2"], "both still firing, in one reminder");
        // a1 is acknowledged: reminders go on for a2 only.
        publish(
            &bus,
            &[alert("a1", 2, "w1", Severity::Critical, AlertState::Acknowledged)],
        )
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = reminders().len();
        until("a later reminder", || reminders().len() > before).await;
        assert_eq!(reminders().last().unwrap(), &["a2"]);
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    /// A webhook that answers `statuses` in turn (then 200) and records the bodies it accepted.
    async fn webhook_server(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let bodies = Arc::new(Mutex::new(Vec::new()));
        let seen = bodies.clone();
        tokio::spawn(async move {
            let mut statuses = statuses.into_iter();
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Read headers and the body announced by content-length.
                loop {
                    let n = socket.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length: usize = text
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                let text = String::from_utf8_lossy(&buf).to_string();
                let body = text
                    .split_once("\r\n\r\n")
                    .map(|(_, b)| b.to_string())
                    .unwrap_or_default();
                let status = statuses.next().unwrap_or(200);
                if status == 200 {
                    seen.lock().unwrap().push(body);
                }
                let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = socket.write_all(reply.as_bytes()).await;
            }
        });
        (url, bodies)
    }

    /// The one test over a real HTTP server: the `json` channel's answers are classified, and a
    /// receiver assembled from its configuration retries and POSTs one body per group.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_json_receiver_posts_to_a_real_webhook() {
        let (url, bodies) = webhook_server(vec![503, 404, 429, 500, 503]).await;
        let r = receiver(&url);
        let hook = channel(&r).unwrap();
        let once = Notification::group(
            "acme/w0",
            vec![alert("a0", 1, "w0", Severity::Critical, AlertState::Firing)],
        );
        let mut retryable = Vec::new();
        for _ in 0..3 {
            retryable.push(hook.notify(&once).await.unwrap_err().retryable());
        }
        assert_eq!(retryable, [true, false, true], "503 and 429 retryable, 404 not");
        let unreachable = channel(&receiver("http://127.0.0.1:9/nothing-listens")).unwrap();
        let e = unreachable.notify(&once).await.unwrap_err();
        assert!(
            matches!(e, NotifyError::Unreachable { .. }) && e.retryable(),
            "{e}"
        );
        // The first POST of the pipeline fails twice (500, 503), then succeeds.
        let bus = MemoryBus::default();
        publish(&bus, &five_records()).await;
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_receiver(Bus::Memory(bus.clone()), r, cancel.clone()));
        for _ in 0..100 {
            if bodies.lock().unwrap().len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = bodies.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "one notification per watch: {got:?}");
        let first: serde_json::Value = serde_json::from_str(&got[0]).unwrap();
        let ids: Vec<&str> = first["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            (first["receiver"].as_str(), first["group"].as_str(), ids),
            (Some("ops"), Some("acme/w1"), vec!["a1", "a2"])
        );
        cancel.cancel();
        task.await.unwrap().unwrap();
    }
}
