//! Notification receivers: generic JSON webhooks and Slack-compatible incoming webhooks.
//!
//! Each receiver is its own consumer of `vigie.alerts` (group `vigie-notify-<name>`), so a slow
//! or failing receiver only lags itself: detection and the other receivers go on. A receiver
//! takes what its filter wants (tenants, lowest severity, not silenced, not older than
//! `max_age_secs`, resolutions if `send_resolved`), drops records it already sent (same id and
//! version, as after a redelivery), groups what arrived within `group_wait_ms` by group key
//! (tenant and watch) into one notification, respects `max_per_minute` (alerts beyond wait and
//! go out together in the next notification), and retries each POST with exponential back-off.
//! After `max_attempts` the notification is dead-lettered with the reason, never dropped.
//!
//! Alerts still firing are sent again every `repeat_interval_secs` as one reminder (like
//! Alertmanager's `repeat_interval`) until acknowledged, resolved or silenced. What is still
//! open is read from `vigie.alerts` itself (from its start when the receiver starts), so
//! reminders go on across a receiver's restarts.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use prost::Message;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, OutRecord};
use vigie_core::clickhouse::parse_severity;
use vigie_core::config::ReceiverConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::model::FieldError;
use vigie_core::proto::{Alert, AlertState};
use vigie_core::stage::{run_consumer, Batching};
use vigie_core::{deadletter, topics};

const STAGE: &str = "notify";
/// (id, version) pairs remembered to drop redelivered records.
const REMEMBERED: usize = 10_000;
/// Most alerts listed in one Slack message.
const SLACK_LINES: usize = 50;
/// Longest wait for one POST.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether `alert` is for `receiver` at all: its tenants, its lowest severity, not silenced.
fn routed(receiver: &ReceiverConfig, alert: &Alert) -> bool {
    let min = parse_severity(&receiver.min_severity)
        .map(|s| s as i32)
        .unwrap_or(0);
    (receiver.tenants.is_empty() || receiver.tenants.contains(&alert.tenant))
        && alert.severity >= min
        && alert.silenced_by.is_empty()
}

/// Whether `receiver` wants `alert`, produced at `raised_at_ms`, at wall time `now_ms`.
pub fn wanted(receiver: &ReceiverConfig, alert: &Alert, now_ms: i64) -> bool {
    routed(receiver, alert)
        && (receiver.send_resolved || alert.state() == AlertState::Firing)
        && now_ms - alert.raised_at_ms <= receiver.max_age_secs as i64 * 1000
}

/// The alerts of a receiver still firing, each with when it was last sent: what reminders are
/// made of.
#[derive(Default)]
pub struct StillFiring {
    alerts: HashMap<String, (Alert, i64)>,
    /// The version at which recently closed alerts closed (the last `REMEMBERED`), so an older
    /// record arriving late does not reopen them.
    closed: HashMap<String, u64>,
    closed_order: VecDeque<String>,
}

impl StillFiring {
    /// Takes in a state change seen at `now_ms`: a firing alert routed to `receiver` is open
    /// (sent now, if new); an acknowledged, resolved or silenced one is not. Older versions
    /// than the one held are ignored.
    pub fn apply(&mut self, receiver: &ReceiverConfig, alert: Alert, now_ms: i64) {
        let held = self.alerts.get(&alert.id);
        let newest = held
            .map(|(a, _)| a.version)
            .or(self.closed.get(&alert.id).copied());
        if newest.is_some_and(|v| v > alert.version) {
            return;
        }
        if alert.state() == AlertState::Firing && routed(receiver, &alert) {
            // First seen: it was sent when produced (or is about to be); read back after a
            // restart, its reminders keep their rhythm instead of starting over.
            let produced = if alert.raised_at_ms > 0 {
                alert.raised_at_ms.min(now_ms)
            } else {
                now_ms
            };
            let sent = held.map(|(_, t)| *t).unwrap_or(produced);
            self.alerts.insert(alert.id.clone(), (alert, sent));
        } else {
            self.alerts.remove(&alert.id);
            if self.closed.insert(alert.id.clone(), alert.version).is_none() {
                self.closed_order.push_back(alert.id);
                if self.closed_order.len() > REMEMBERED {
                    if let Some(old) = self.closed_order.pop_front() {
                        self.closed.remove(&old);
                    }
                }
            }
        }
    }

    /// What a reminder at `now_ms` holds: nothing unless an alert was last sent `every_ms` or
    /// more ago; then also every alert sent at least half that long ago, so alerts that fired
    /// at different times settle into one reminder instead of one each. Oldest first.
    pub fn due(&self, every_ms: i64, now_ms: i64) -> Vec<Alert> {
        if !self.alerts.values().any(|(_, sent)| now_ms - *sent >= every_ms) {
            return Vec::new();
        }
        let mut due: Vec<Alert> = self
            .alerts
            .values()
            .filter(|(_, sent)| now_ms - *sent >= every_ms / 2)
            .map(|(a, _)| a.clone())
            .collect();
        due.sort_by(|a, b| (a.fired_at_ms, &a.id).cmp(&(b.fired_at_ms, &b.id)));
        due
    }

    /// Records that `alerts` were sent at `now_ms`.
    pub fn sent(&mut self, alerts: &[Alert], now_ms: i64) {
        for a in alerts {
            if let Some((_, sent)) = self.alerts.get_mut(&a.id) {
                *sent = now_ms;
            }
        }
    }
}

/// The body of one notification: `alerts` of one group (or a digest of several), or a
/// `reminder` of alerts still firing.
pub fn payload(receiver: &ReceiverConfig, group: &str, alerts: &[Alert], reminder: bool) -> Vec<u8> {
    let firing = alerts.iter().filter(|a| a.state() == AlertState::Firing).count();
    let status = if firing > 0 { "firing" } else { "resolved" };
    let body = if receiver.format == "slack" {
        let mut text = if reminder {
            format!("*Vigie* — reminder: {firing} alert(s) still firing, not acknowledged")
        } else {
            format!(
                "*Vigie* — {} alert(s) for {group} ({firing} firing)",
                alerts.len()
            )
        };
        // Chat messages have a size limit: the first alerts, and how many more.
        for a in alerts.iter().take(SLACK_LINES) {
            text.push_str("\n• ");
            text.push_str(&crate::render::alert_text(a));
        }
        if alerts.len() > SLACK_LINES {
            text.push_str(&format!("\n… and {} more", alerts.len() - SLACK_LINES));
        }
        json!({ "text": text })
    } else {
        json!({
            "receiver": receiver.name,
            "group": group,
            "status": status,
            "reminder": reminder,
            "alerts": alerts.iter().map(crate::render::alert_json).collect::<Vec<_>>(),
        })
    };
    body.to_string().into_bytes()
}

/// A token bucket: `per_minute` notifications a minute, refilled continuously.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: f64,
    tokens: f64,
    at: tokio::time::Instant,
}

impl RateLimit {
    /// A full bucket.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1) as f64,
            tokens: per_minute.max(1) as f64,
            at: tokio::time::Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = tokio::time::Instant::now();
        let gained = now.duration_since(self.at).as_secs_f64() * self.per_minute / 60.0;
        self.tokens = (self.tokens + gained).min(self.per_minute);
        self.at = now;
    }

    /// Takes a token if one is available.
    pub fn try_take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until a token is available.
    pub fn wait(&mut self) -> Duration {
        self.refill();
        Duration::from_secs_f64(((1.0 - self.tokens).max(0.0) * 60.0 / self.per_minute).max(0.001))
    }
}

/// The HTTP(S) client of a receiver (connections are kept and reused between notifications).
pub type HttpClient =
    Client<hyper_tls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>;

/// A new HTTP(S) client (TLS through the system's OpenSSL and certificate store).
pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(hyper_tls::HttpsConnector::new())
}

/// POSTs `body` to `url`, retrying with back-off (0.5 s doubling to 30 s) up to `attempts`
/// times; the last error when all failed.
pub async fn deliver(
    client: &HttpClient,
    url: &str,
    body: Vec<u8>,
    attempts: u32,
    cancel: &CancellationToken,
) -> Result<(), String> {
    let mut backoff = Duration::from_millis(500);
    let mut last = String::new();
    for attempt in 1..=attempts.max(1) {
        let request = hyper::Request::post(url)
            .header("content-type", "application/json")
            .header("user-agent", "vigie-alerting")
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| format!("invalid request to {url}: {e}"))?;
        last = match tokio::time::timeout(REQUEST_TIMEOUT, client.request(request)).await {
            Ok(Ok(response)) if response.status().is_success() => {
                // Drain the body so the connection can be reused.
                let _ = response.into_body().collect().await;
                return Ok(());
            }
            Ok(Ok(response)) => format!("HTTP {}", response.status()),
            Ok(Err(e)) => format!("{e}"),
            Err(_) => format!("no answer within {REQUEST_TIMEOUT:?}"),
        };
        if attempt < attempts {
            tracing::warn!(
                url,
                attempt,
                "notification failed: {last}; retrying in {backoff:?}"
            );
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = cancel.cancelled() => return Err(format!("{last} (stopped while retrying)")),
            }
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }
    Err(format!("{last} after {attempts} attempts"))
}

/// Runs one receiver until `cancel`.
pub async fn run_receiver(
    bus: Bus,
    receiver: ReceiverConfig,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let metrics = StageMetrics::new(STAGE);
    let group = format!("vigie-notify-{}", receiver.name);
    let subscriber = bus.subscribe(topics::ALERTS, &group, STAGE)?;
    let publisher = bus.publisher()?;
    let batching = Batching {
        max: 1_000,
        linger: Duration::from_millis(receiver.group_wait_ms),
    };
    tracing::info!(receiver = %receiver.name, url = %receiver.url, "notify: consuming {} as group {group}", topics::ALERTS);
    let mut sent: HashSet<(String, u64)> = HashSet::new();
    let mut sent_order: VecDeque<(String, u64)> = VecDeque::new();
    let limit = std::sync::Arc::new(std::sync::Mutex::new(RateLimit::new(receiver.max_per_minute)));
    let reminders = if receiver.repeat_interval_secs > 0 {
        Some(tokio::spawn(send_reminders(
            bus.clone(),
            receiver.clone(),
            limit.clone(),
            cancel.clone(),
        )))
    } else {
        None
    };
    let receiver = &receiver;
    let client = http_client();
    let client = &client;
    run_consumer(subscriber, &metrics, batching, &cancel, |batch, drain, _| {
        let now = vigie_core::now_ms();
        // Group what this receiver wants, in arrival order, once per (id, version).
        let mut groups: BTreeMap<String, Vec<Alert>> = BTreeMap::new();
        for r in &batch {
            let Ok(a) = Alert::decode(r.payload.as_deref().unwrap_or_default()) else { continue };
            let key = (a.id.clone(), a.version);
            if !wanted(receiver, &a, now) || sent.contains(&key) {
                continue;
            }
            sent.insert(key.clone());
            sent_order.push_back(key);
            if sent_order.len() > REMEMBERED {
                if let Some(old) = sent_order.pop_front() {
                    sent.remove(&old);
                }
            }
            groups.entry(a.group_key.clone()).or_default().push(a);
        }
        let (publisher, metrics, limit) = (&publisher, &metrics, limit.clone());
        let take = move || limit.lock().map(|mut l| if l.try_take() { None } else { Some(l.wait()) }).unwrap_or(None);
        async move {
            let mut pending: Vec<(String, Vec<Alert>)> = groups.into_iter().collect();
            let mut notified = 0;
            while !pending.is_empty() {
                // Out of tokens: everything still pending goes out as one digest when one frees.
                let (group, alerts) = if let Some(wait) = take() {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = drain.cancelled() => return Err(vigie_core::retry::Abandoned("notify: stopped while rate-limited".into())),
                    }
                    if take().is_some() {
                        continue;
                    }
                    let alerts: Vec<Alert> = pending.drain(..).flat_map(|(_, a)| a).collect();
                    ("several groups (rate-limited digest)".to_string(), alerts)
                } else {
                    pending.remove(0)
                };
                let body = payload(receiver, &group, &alerts, false);
                match deliver(client, &receiver.url, body.clone(), receiver.max_attempts, &drain).await {
                    Ok(()) => {
                        vigie_core::metrics::notification(&receiver.name, "sent");
                        notified += alerts.len();
                        tracing::info!(receiver = %receiver.name, group, alerts = alerts.len(), "notified");
                    }
                    Err(reason) => {
                        metrics.error("deliver");
                        vigie_core::metrics::notification(&receiver.name, "deadlettered");
                        tracing::warn!(receiver = %receiver.name, group, "notification dead-lettered: {reason}");
                        let error = FieldError::new("url", format!("receiver {}: {reason}", receiver.name));
                        let tenant = alerts.first().map(|a| a.tenant.clone()).unwrap_or_default();
                        let letter = deadletter::record(STAGE, &receiver.url, &tenant, &error, &body);
                        let records: Vec<OutRecord> = vec![letter];
                        vigie_core::retry::until_ok("dead-letter a notification", metrics, "deadletter", &drain, || {
                            publisher.publish(topics::DEADLETTER, records.clone())
                        })
                        .await?;
                        metrics.deadlettered(1);
                    }
                }
            }
            Ok((batch, notified))
        }
    })
    .await;
    if let Some(task) = reminders {
        task.await??;
    }
    Ok(())
}

/// Sends `receiver` a reminder of its alerts still firing every `repeat_interval_secs`, until
/// `cancel`. Follows `vigie.alerts` from its start to know what is still open.
async fn send_reminders(
    bus: Bus,
    receiver: ReceiverConfig,
    limit: std::sync::Arc<std::sync::Mutex<RateLimit>>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let every_ms = receiver.repeat_interval_secs.saturating_mul(1000) as i64;
    let open = std::sync::Arc::new(std::sync::Mutex::new(StillFiring::default()));
    // What is still open, from vigie.alerts (retried until it can be read: reminders must not
    // silently stay off).
    let follow = loop {
        let (open, receiver) = (open.clone(), receiver.clone());
        let apply = move |r: &vigie_core::bus::InRecord| {
            if let (Ok(alert), Ok(mut open)) = (
                Alert::decode(r.payload.as_deref().unwrap_or_default()),
                open.lock(),
            ) {
                open.apply(&receiver, alert, vigie_core::now_ms());
            }
        };
        match vigie_core::bus::materialise(&bus, topics::ALERTS, cancel.clone(), apply).await {
            Ok(task) => break task,
            Err(e) => {
                tracing::warn!("notify: reminders cannot read {}: {e}; retrying", topics::ALERTS);
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    _ = cancel.cancelled() => return Ok(()),
                }
            }
        }
    };
    let publisher = bus.publisher()?;
    let client = http_client();
    let tick = Duration::from_millis((every_ms / 4).clamp(100, 60_000) as u64);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(tick) => {}
            _ = cancel.cancelled() => break,
        }
        let due = match open.lock() {
            Ok(open) => open.due(every_ms, vigie_core::now_ms()),
            Err(_) => break,
        };
        // A reminder waits for a free notification under the rate limit (tried again next tick).
        if due.is_empty() || !limit.lock().map(|mut l| l.try_take()).unwrap_or(false) {
            continue;
        }
        let body = payload(&receiver, "reminder", &due, true);
        if let Ok(mut open) = open.lock() {
            open.sent(&due, vigie_core::now_ms());
        }
        match deliver(
            &client,
            &receiver.url,
            body.clone(),
            receiver.max_attempts,
            &cancel,
        )
        .await
        {
            Ok(()) => {
                vigie_core::metrics::notification(&receiver.name, "reminded");
                tracing::info!(receiver = %receiver.name, alerts = due.len(), "reminded of alerts still firing");
            }
            Err(_) if cancel.is_cancelled() => break,
            Err(reason) => {
                vigie_core::metrics::notification(&receiver.name, "deadlettered");
                tracing::warn!(receiver = %receiver.name, "reminder dead-lettered: {reason}");
                let error = FieldError::new("url", format!("receiver {}: {reason}", receiver.name));
                let tenant = due.first().map(|a| a.tenant.clone()).unwrap_or_default();
                let letter = deadletter::record(STAGE, &receiver.url, &tenant, &error, &body);
                if let Err(e) = publisher.publish(topics::DEADLETTER, vec![letter]).await {
                    tracing::warn!(receiver = %receiver.name, "cannot dead-letter a reminder: {e}");
                }
            }
        }
    }
    follow.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::proto::Severity;

    fn alert(id: &str, version: u64, watch: &str, severity: Severity, state: AlertState) -> Alert {
        Alert {
            id: id.into(),
            tenant: "acme".into(),
            watch_id: watch.into(),
            rule: "r".into(),
            severity: severity as i32,
            state: state as i32,
            version,
            group_key: format!("acme/{watch}"),
            raised_at_ms: vigie_core::now_ms(),
            summary: format!("alert {id}"),
            ..Default::default()
        }
    }

    /// A webhook that answers `statuses` in turn (then 200) and records the bodies it accepted.
    async fn webhook(statuses: Vec<u16>) -> (String, Arc<Mutex<Vec<String>>>) {
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

    fn receiver(url: &str) -> ReceiverConfig {
        ReceiverConfig {
            name: "ops".into(),
            url: url.into(),
            min_severity: "warning".into(),
            group_wait_ms: 50,
            ..Default::default()
        }
    }

    #[test]
    fn the_filter_keeps_what_the_receiver_asked_for() {
        let r = receiver("http://x");
        let now = vigie_core::now_ms();
        assert!(wanted(
            &r,
            &alert("a", 1, "w", Severity::Warning, AlertState::Firing),
            now
        ));
        assert!(!wanted(
            &r,
            &alert("a", 1, "w", Severity::Info, AlertState::Firing),
            now
        ));
        let mut silenced = alert("a", 1, "w", Severity::Critical, AlertState::Firing);
        silenced.silenced_by = "s1".into();
        assert!(!wanted(&r, &silenced, now));
        assert!(!wanted(
            &r,
            &alert("a", 1, "w", Severity::Critical, AlertState::Firing),
            now + 7_200_000
        ));
        let other = ReceiverConfig {
            tenants: vec!["globex".into()],
            ..r.clone()
        };
        assert!(!wanted(
            &other,
            &alert("a", 1, "w", Severity::Critical, AlertState::Firing),
            now
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn groups_retry_dedupe_and_dead_letter() {
        // First POST fails twice, then succeeds.
        let (url, bodies) = webhook(vec![500, 503]).await;
        let bus = MemoryBus::default();
        let p = Publisher::Memory(bus.clone());
        let records: Vec<OutRecord> = [
            alert("a1", 1, "w1", Severity::Critical, AlertState::Firing),
            alert("a2", 1, "w1", Severity::Warning, AlertState::Firing),
            alert("a1", 1, "w1", Severity::Critical, AlertState::Firing), // redelivered
            alert("a3", 1, "w2", Severity::Warning, AlertState::Firing),
            alert("a4", 1, "w2", Severity::Info, AlertState::Firing), // below min severity
        ]
        .iter()
        .map(|a| OutRecord::message("acme", "vigie.v1.Alert", a.encode_to_vec()))
        .collect();
        p.publish(topics::ALERTS, records.clone()).await.unwrap();
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_receiver(
            Bus::Memory(bus.clone()),
            receiver(&url),
            cancel.clone(),
        ));
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
            (first["group"].as_str(), ids),
            (Some("acme/w1"), vec!["a1", "a2"])
        );
        // A receiver that never answers well: dead-lettered after its attempts, never dropped.
        let failing = ReceiverConfig {
            name: "down".into(),
            url: "http://127.0.0.1:9/nothing-listens".into(),
            max_attempts: 2,
            ..receiver(&url)
        };
        let other = MemoryBus::default();
        Publisher::Memory(other.clone())
            .publish(topics::ALERTS, records.clone())
            .await
            .unwrap();
        let task2 = tokio::spawn(run_receiver(Bus::Memory(other.clone()), failing, cancel.clone()));
        for _ in 0..100 {
            if other.snapshot(topics::DEADLETTER).len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let dead = other.snapshot(topics::DEADLETTER);
        assert_eq!(dead.len(), 2, "one dead letter per undelivered notification");
        cancel.cancel();
        task.await.unwrap().unwrap();
        task2.await.unwrap().unwrap();
    }

    #[test]
    fn still_firing_follows_versions_and_routing() {
        let r = receiver("http://x");
        let mut open = StillFiring::default();
        open.apply(&r, alert("a1", 1, "w", Severity::Critical, AlertState::Firing), 0);
        open.apply(&r, alert("a2", 1, "w", Severity::Info, AlertState::Firing), 0); // below min
        open.apply(&r, alert("a3", 2, "w", Severity::Warning, AlertState::Firing), 0);
        open.apply(
            &r,
            alert("a3", 3, "w", Severity::Warning, AlertState::Acknowledged),
            10,
        );
        open.apply(&r, alert("a3", 2, "w", Severity::Warning, AlertState::Firing), 20); // stale
        assert!(open.due(100, 99).is_empty(), "nothing due before the interval");
        let due = open.due(100, 100);
        assert_eq!(due.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["a1"]);
        open.sent(&due, 100);
        assert!(open.due(100, 150).is_empty());
        assert_eq!(open.due(100, 200).len(), 1);
        open.apply(
            &r,
            alert("a1", 2, "w", Severity::Critical, AlertState::Resolved),
            210,
        );
        assert!(open.due(100, 1_000).is_empty());
        // Alerts that fired at different times share a reminder once one of them is due.
        let firing = |id: &str| alert(id, 1, "w", Severity::Critical, AlertState::Firing);
        open.apply(&r, firing("b1"), 1_000);
        open.apply(&r, firing("b2"), 1_060);
        assert_eq!(open.due(100, 1_100).len(), 1, "b2 not half due yet");
        assert_eq!(open.due(100, 1_110).len(), 2, "b2 half due: both in one reminder");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn alerts_still_firing_are_reminded_until_acknowledged() {
        let (url, bodies) = webhook(vec![]).await;
        let bus = MemoryBus::default();
        let p = Publisher::Memory(bus.clone());
        let publish = |alerts: Vec<Alert>| {
            let p = p.clone();
            async move {
                let records = alerts
                    .iter()
                    .map(|a| OutRecord::message("acme", "vigie.v1.Alert", a.encode_to_vec()))
                    .collect();
                p.publish(topics::ALERTS, records).await.unwrap();
            }
        };
        publish(vec![
            alert("a1", 1, "w1", Severity::Critical, AlertState::Firing),
            alert("a2", 1, "w2", Severity::Warning, AlertState::Firing),
        ])
        .await;
        let cancel = CancellationToken::new();
        let r = ReceiverConfig {
            repeat_interval_secs: 1,
            ..receiver(&url)
        };
        let task = tokio::spawn(run_receiver(Bus::Memory(bus.clone()), r, cancel.clone()));
        let reminders = |bodies: &Arc<Mutex<Vec<String>>>| -> Vec<Vec<String>> {
            bodies
                .lock()
                .unwrap()
                .iter()
                .map(|b| serde_json::from_str::<serde_json::Value>(b).unwrap())
                .filter(|v| v["reminder"] == true)
                .map(|v| {
                    v["alerts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a["id"].as_str().unwrap().to_string())
                        .collect()
                })
                .collect()
        };
        let wait_for = |n: usize| {
            let bodies = bodies.clone();
            async move {
                for _ in 0..100 {
                    if reminders(&bodies).len() >= n {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                panic!("fewer than {n} reminders: {:?}", bodies.lock().unwrap());
            }
        };
        wait_for(1).await;
        assert_eq!(
            reminders(&bodies)[0],
            ["a1", "a2"],
            "both still firing, in one reminder"
        );
        // a1 is acknowledged: reminders go on for a2 only.
        publish(vec![alert(
            "a1",
            2,
            "w1",
            Severity::Critical,
            AlertState::Acknowledged,
        )])
        .await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = reminders(&bodies).len();
        wait_for(before + 1).await;
        assert_eq!(reminders(&bodies).last().unwrap(), &["a2"]);
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    #[test]
    fn slack_payloads_carry_text() {
        let r = ReceiverConfig {
            format: "slack".into(),
            ..receiver("http://x")
        };
        let body = payload(
            &r,
            "acme/w1",
            &[alert("a1", 1, "w1", Severity::Critical, AlertState::Firing)],
            false,
        );
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert!(v["text"].as_str().unwrap().contains("ALERT [CRITICAL] acme/w1"));
    }

    #[tokio::test]
    async fn the_rate_limit_spaces_notifications() {
        let mut limit = RateLimit::new(2);
        assert!(limit.try_take() && limit.try_take());
        assert!(!limit.try_take());
        let wait = limit.wait();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    }
}
