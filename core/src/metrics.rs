//! The metrics vocabulary every stage emits, declared once (see Vector's component spec):
//!
//! | metric | type | labels | meaning |
//! |---|---|---|---|
//! | `vigie_stage_received_total` | counter | stage | records or mentions taken in |
//! | `vigie_stage_sent_total` | counter | stage | records handed on durably |
//! | `vigie_stage_errors_total` | counter | stage, error_type | failures, by kind |
//! | `vigie_stage_deadlettered_total` | counter | stage | inputs refused and kept on the dead-letter topic |
//! | `vigie_stage_processing_seconds` | histogram | stage | time to handle one batch or request, end to end |
//! | `vigie_stage_batch_size` | histogram | stage | records per batch |
//! | `vigie_consumer_lag` | gauge | stage, topic, partition | records behind the partition's end |
//! | `vigie_alerts_raised_total` | counter | rule_type, severity | alerts raised |
//! | `vigie_alerting_ignored_total` | counter | reason | mentions alerting did not count: `late` (beyond the lateness allowance), `replayed` (already in the restored state) |
//! | `vigie_records_skipped_total` | counter | topic, reason | records of Vigie's own topics read and not applied (unreadable, or a payload that disagrees with its key); each is also logged |
//! | `vigie_producers_replaced_total` | counter | | Kafka producers replaced after a fatal error (an idempotent producer fenced or out of sequence refuses every later record; the records it failed are published again by the new one) |
//! | `vigie_matching_capped_total` | counter | | mentions longer than matching considers (the first 4,096 words of a title or text are matched; risk and clustering see every word) |
//! | `vigie_notifications_total` | counter | receiver, outcome | notifications `sent`, `reminded` or `deadlettered` |
//! | `vigie_api_requests_total` | counter | method, code | gRPC calls by full method name and status code |
//! | `vigie_api_request_seconds` | histogram | method | time until a call's response starts (whole call when unary) |
//!
//! Every service serves them on `/metrics` in the Prometheus text format.

use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};
use std::sync::LazyLock;

struct Vocabulary {
    registry: Registry,
    received: IntCounterVec,
    sent: IntCounterVec,
    errors: IntCounterVec,
    deadlettered: IntCounterVec,
    processing: HistogramVec,
    batch_size: HistogramVec,
    lag: IntGaugeVec,
    alerts: IntCounterVec,
    ignored: IntCounterVec,
    notifications: IntCounterVec,
    skipped: IntCounterVec,
    capped: IntCounter,
    producers_replaced: IntCounter,
    api_requests: IntCounterVec,
    api_seconds: HistogramVec,
    connector: ConnectorVocabulary,
}

/// The per-connector metrics (see [`ConnectorMetrics`]).
struct ConnectorVocabulary {
    fetched: IntCounterVec,
    published: IntCounterVec,
    duplicates: IntCounterVec,
    deadlettered: IntCounterVec,
    ignored: IntCounterVec,
    errors: IntCounterVec,
    refused: IntCounterVec,
    newest: IntGaugeVec,
    newest_age: IntGaugeVec,
    filtered: IntCounterVec,
    reconnects: IntCounterVec,
    quota_used: IntGaugeVec,
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let g = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(g.clone()))
        .expect("metric registered once");
    g
}

impl ConnectorVocabulary {
    fn new(registry: &Registry) -> Self {
        let c = |name, help, labels: &[&str]| counter(registry, name, help, labels);
        Self {
            fetched: c(
                "vigie_connector_fetched_total",
                "Items a connector received or fetched from its platform (before validation)",
                &["connector"],
            ),
            published: c(
                "vigie_connector_published_total",
                "Mentions of a connector accepted and acknowledged by the broker",
                &["connector"],
            ),
            duplicates: c(
                "vigie_connector_duplicates_total",
                "Mentions of a connector already accepted (same tenant, source and native id)",
                &["connector"],
            ),
            deadlettered: c(
                "vigie_connector_deadlettered_total",
                "Verified items of a connector that could not be mapped or validated, kept on the dead-letter topic",
                &["connector"],
            ),
            ignored: c(
                "vigie_connector_ignored_total",
                "Events a connector ignores by design (delivery and read receipts...), by event type",
                &["connector", "event"],
            ),
            errors: c(
                "vigie_connector_errors_total",
                "Connector failures by kind (fetch, status, parse, broker...)",
                &["connector", "kind"],
            ),
            refused: c(
                "vigie_connector_refused_total",
                "Webhook requests refused (missing or wrong signature, failed handshake), by reason",
                &["connector", "reason"],
            ),
            newest: gauge(
                registry,
                "vigie_connector_newest_item_timestamp_seconds",
                "Creation time of the newest item a connector has seen (Unix seconds)",
                &["connector"],
            ),
            newest_age: gauge(
                registry,
                "vigie_connector_newest_item_age_seconds",
                "Age of the newest item a connector has seen, at the time of the scrape",
                &["connector"],
            ),
            filtered: c(
                "vigie_connector_filtered_total",
                "Items a connector saw and did not keep (its configured prefilter: keywords, hashtags)",
                &["connector"],
            ),
            reconnects: c(
                "vigie_connector_reconnects_total",
                "Times a streaming connector connected again after its stream dropped or stalled",
                &["connector"],
            ),
            quota_used: gauge(
                registry,
                "vigie_connector_quota_used",
                "Units of the platform's quota used in its current period (YouTube: units of the day)",
                &["connector"],
            ),
        }
    }
}

/// A counter without labels, registered.
fn single_counter(registry: &Registry, name: &str, help: &str) -> IntCounter {
    let c = IntCounter::new(name, help).expect("valid metric definition");
    registry
        .register(Box::new(c.clone()))
        .expect("metric registered once");
    c
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    registry
        .register(Box::new(c.clone()))
        .expect("metric registered once");
    c
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: Vec<f64>,
) -> HistogramVec {
    let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
        .expect("valid metric definition");
    registry
        .register(Box::new(h.clone()))
        .expect("metric registered once");
    h
}

/// Buckets for durations: 0.5 ms to about 75 s.
fn seconds() -> Vec<f64> {
    prometheus::exponential_buckets(0.0005, 2.5, 14).expect("valid buckets")
}

static VOCABULARY: LazyLock<Vocabulary> = LazyLock::new(|| {
    let registry = Registry::new();
    let processing = histogram(
        &registry,
        "vigie_stage_processing_seconds",
        "Time to handle one batch or request, including durable writes",
        &["stage"],
        seconds(),
    );
    let batch_size = histogram(
        &registry,
        "vigie_stage_batch_size",
        "Records per batch",
        &["stage"],
        prometheus::exponential_buckets(1.0, 4.0, 8).expect("valid buckets"),
    );
    let lag = IntGaugeVec::new(
        Opts::new("vigie_consumer_lag", "Records behind the end of the partition"),
        &["stage", "topic", "partition"],
    )
    .expect("valid metric definition");
    registry
        .register(Box::new(lag.clone()))
        .expect("metric registered once");
    let api_seconds = histogram(
        &registry,
        "vigie_api_request_seconds",
        "Time until a gRPC call's response starts (the whole call when unary)",
        &["method"],
        seconds(),
    );
    Vocabulary {
        api_requests: counter(
            &registry,
            "vigie_api_requests_total",
            "gRPC calls by method and status code",
            &["method", "code"],
        ),
        api_seconds,
        received: counter(
            &registry,
            "vigie_stage_received_total",
            "Records taken in",
            &["stage"],
        ),
        sent: counter(
            &registry,
            "vigie_stage_sent_total",
            "Records handed on durably",
            &["stage"],
        ),
        errors: counter(
            &registry,
            "vigie_stage_errors_total",
            "Failures by kind",
            &["stage", "error_type"],
        ),
        deadlettered: counter(
            &registry,
            "vigie_stage_deadlettered_total",
            "Inputs refused and kept on the dead-letter topic",
            &["stage"],
        ),
        alerts: counter(
            &registry,
            "vigie_alerts_raised_total",
            "Alerts raised",
            &["rule_type", "severity"],
        ),
        ignored: counter(
            &registry,
            "vigie_alerting_ignored_total",
            "Mentions alerting did not count, by reason",
            &["reason"],
        ),
        notifications: counter(
            &registry,
            "vigie_notifications_total",
            "Notifications by receiver and outcome",
            &["receiver", "outcome"],
        ),
        capped: single_counter(
            &registry,
            "vigie_matching_capped_total",
            "Mentions longer than matching considers (first 4,096 words of a title or text)",
        ),
        producers_replaced: single_counter(
            &registry,
            "vigie_producers_replaced_total",
            "Kafka producers replaced after a fatal error (fenced, out of sequence)",
        ),
        skipped: counter(
            &registry,
            "vigie_records_skipped_total",
            "Records of Vigie's own topics read and not applied, by topic and reason",
            &["topic", "reason"],
        ),
        connector: ConnectorVocabulary::new(&registry),
        processing,
        batch_size,
        lag,
        registry,
    }
});

/// Handles on the metrics of one connector (all labelled `connector=<name>`).
#[derive(Clone)]
pub struct ConnectorMetrics {
    name: String,
}

impl ConnectorMetrics {
    /// The metrics of connector `name`; its counters start at zero so they appear at once.
    pub fn new(name: &str) -> Self {
        let v = &VOCABULARY.connector;
        for c in [&v.fetched, &v.published, &v.duplicates, &v.deadlettered] {
            c.with_label_values(&[name]).inc_by(0);
        }
        Self {
            name: name.to_string(),
        }
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counts `n` items received or fetched.
    pub fn fetched(&self, n: usize) {
        VOCABULARY
            .connector
            .fetched
            .with_label_values(&[&self.name])
            .inc_by(n as u64);
    }

    /// Counts the outcome of one hand-over to ingest: accepted, duplicates, dead-lettered.
    pub fn handed_on(&self, published: u32, duplicates: u32, deadlettered: u32) {
        let v = &VOCABULARY.connector;
        v.published
            .with_label_values(&[&self.name])
            .inc_by(published.into());
        v.duplicates
            .with_label_values(&[&self.name])
            .inc_by(duplicates.into());
        v.deadlettered
            .with_label_values(&[&self.name])
            .inc_by(deadlettered.into());
    }

    /// Counts one event ignored by design, of type `event`.
    pub fn ignored(&self, event: &str) {
        VOCABULARY
            .connector
            .ignored
            .with_label_values(&[&self.name, event])
            .inc();
    }

    /// Counts one failure of `kind`.
    pub fn error(&self, kind: &str) {
        VOCABULARY
            .connector
            .errors
            .with_label_values(&[&self.name, kind])
            .inc();
    }

    /// Counts one refused webhook request, for `reason`.
    pub fn refused(&self, reason: &str) {
        VOCABULARY
            .connector
            .refused
            .with_label_values(&[&self.name, reason])
            .inc();
    }

    /// Counts `n` items seen and left out by the connector's prefilter.
    pub fn filtered(&self, n: usize) {
        VOCABULARY
            .connector
            .filtered
            .with_label_values(&[&self.name])
            .inc_by(n as u64);
    }

    /// Counts one reconnection of a stream.
    pub fn reconnected(&self) {
        VOCABULARY
            .connector
            .reconnects
            .with_label_values(&[&self.name])
            .inc();
    }

    /// Sets the quota units used in the platform's current period.
    pub fn quota_used(&self, units: i64) {
        VOCABULARY
            .connector
            .quota_used
            .with_label_values(&[&self.name])
            .set(units);
    }

    /// Notes an item created at `created_at_ms`: the newest seen moves forward only.
    pub fn seen(&self, created_at_ms: i64) {
        let g = VOCABULARY.connector.newest.with_label_values(&[&self.name]);
        let secs = created_at_ms.div_euclid(1000);
        if secs > g.get() {
            g.set(secs);
        }
    }
}

/// Sets each connector's newest-item age from its newest item's time, as of now.
fn refresh_connector_ages() {
    let v = &VOCABULARY.connector;
    let now = crate::now_ms().div_euclid(1000);
    for family in v.newest.collect() {
        for m in family.get_metric() {
            let Some(label) = m.get_label().iter().find(|l| l.name() == "connector") else {
                continue;
            };
            let newest = m.get_gauge().get_value() as i64;
            v.newest_age
                .with_label_values(&[label.value()])
                .set((now - newest).max(0));
        }
    }
}

/// Handles on the shared metrics for one stage ("ingest", "enrich", "alerting", ...).
#[derive(Clone)]
pub struct StageMetrics {
    stage: &'static str,
    received: IntCounter,
    sent: IntCounter,
    deadlettered: IntCounter,
    processing: prometheus::Histogram,
    batch_size: prometheus::Histogram,
}

impl StageMetrics {
    /// Metrics for `stage`; cheap to clone.
    pub fn new(stage: &'static str) -> Self {
        let v = &*VOCABULARY;
        Self {
            stage,
            received: v.received.with_label_values(&[stage]),
            sent: v.sent.with_label_values(&[stage]),
            deadlettered: v.deadlettered.with_label_values(&[stage]),
            processing: v.processing.with_label_values(&[stage]),
            batch_size: v.batch_size.with_label_values(&[stage]),
        }
    }

    /// The stage name used as label.
    pub fn stage(&self) -> &'static str {
        self.stage
    }

    /// Counts records taken in.
    pub fn received(&self, n: usize) {
        self.received.inc_by(n as u64);
    }

    /// Counts records handed on durably.
    pub fn sent(&self, n: usize) {
        self.sent.inc_by(n as u64);
    }

    /// Counts one failure of kind `error_type` (a short snake_case name).
    pub fn error(&self, error_type: &str) {
        VOCABULARY
            .errors
            .with_label_values(&[self.stage, error_type])
            .inc();
    }

    /// Counts inputs kept on the dead-letter topic.
    pub fn deadlettered(&self, n: usize) {
        self.deadlettered.inc_by(n as u64);
    }

    /// Records the size of a batch.
    pub fn batch(&self, n: usize) {
        self.batch_size.observe(n as f64);
    }

    /// Records how long one batch or request took.
    pub fn processing(&self, elapsed: std::time::Duration) {
        self.processing.observe(elapsed.as_secs_f64());
    }

    /// Sets the consumer lag of one partition.
    pub fn lag(&self, topic: &str, partition: i32, lag: i64) {
        VOCABULARY
            .lag
            .with_label_values(&[self.stage, topic, &partition.to_string()])
            .set(lag);
    }
}

/// Counts one alert raised.
pub fn alert_raised(rule_type: &str, severity: &str) {
    VOCABULARY.alerts.with_label_values(&[rule_type, severity]).inc();
}

/// Counts `n` mentions alerting did not count, for `reason` ("late", "replayed").
pub fn alerting_ignored(reason: &str, n: u64) {
    if n > 0 {
        VOCABULARY.ignored.with_label_values(&[reason]).inc_by(n);
    }
}

/// Counts one record of Vigie's own `topic` (watches, tokens, ...) read and not applied, for
/// `reason` ("undecodable", "key_mismatch", "invalid"). Callers log the record's key as well.
pub fn record_skipped(topic: &str, reason: &str) {
    VOCABULARY.skipped.with_label_values(&[topic, reason]).inc();
}

/// Counts one Kafka producer replaced after a fatal error.
pub fn producer_replaced() {
    VOCABULARY.producers_replaced.inc();
}

/// Counts one mention whose words beyond the matching cap were not matched.
pub fn matching_capped() {
    VOCABULARY.capped.inc();
}

/// Counts one notification of `receiver` with its `outcome` ("sent", "deadlettered").
pub fn notification(receiver: &str, outcome: &str) {
    VOCABULARY
        .notifications
        .with_label_values(&[receiver, outcome])
        .inc();
}

/// Counts one gRPC call of `method` ending with `code`, whose response started after `elapsed`.
pub fn api_request(method: &str, code: &str, elapsed: std::time::Duration) {
    VOCABULARY.api_requests.with_label_values(&[method, code]).inc();
    VOCABULARY
        .api_seconds
        .with_label_values(&[method])
        .observe(elapsed.as_secs_f64());
}

/// Renders every metric in the Prometheus text exposition format.
pub fn render() -> String {
    refresh_connector_ages();
    let mut buf = Vec::new();
    let families = VOCABULARY.registry.gather();
    if let Err(e) = TextEncoder::new().encode(&families, &mut buf) {
        tracing::warn!("cannot encode metrics: {e}");
    }
    String::from_utf8(buf).unwrap_or_default()
}

/// An HTTP router serving `GET /metrics` and `GET /healthz`, for merging into a service's server.
pub fn router() -> axum::Router {
    metrics_router().route("/healthz", axum::routing::get(|| async { "ok\n" }))
}

/// An HTTP router serving `GET /metrics` only.
pub fn metrics_router() -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(|| async {
            (
                [(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                render(),
            )
        }),
    )
}

/// Serves [`router`] on `addr` until `shutdown` is cancelled.
pub async fn serve(addr: &str, shutdown: tokio_util::sync::CancellationToken) -> std::io::Result<()> {
    let listener = bind(addr).await?;
    serve_on(listener, addr, shutdown).await
}

async fn bind(addr: &str) -> std::io::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen for /metrics on {addr}: {e}")))
}

async fn serve_on(
    listener: tokio::net::TcpListener,
    addr: &str,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    tracing::info!("metrics on http://{addr}/metrics");
    axum::serve(listener, router())
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

/// Binds `addr` now (a service whose metrics address is taken fails at start, naming it,
/// instead of running unobserved) and serves [`router`] on it in a task until `shutdown`.
pub async fn spawn(
    addr: &str,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = bind(addr).await?;
    let addr = addr.to_owned();
    Ok(tokio::spawn(async move {
        if let Err(e) = serve_on(listener, &addr, shutdown).await {
            tracing::error!("metrics on {addr}: {e}");
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_uses_the_same_names() {
        let a = StageMetrics::new("test_a");
        let b = StageMetrics::new("test_b");
        a.received(3);
        b.received(2);
        a.error("decode");
        b.deadlettered(1);
        a.lag("t", 0, 7);
        let text = render();
        assert!(
            text.contains("vigie_stage_received_total{stage=\"test_a\"} 3"),
            "{text}"
        );
        assert!(text.contains("vigie_stage_received_total{stage=\"test_b\"} 2"));
        assert!(text.contains("vigie_stage_errors_total{error_type=\"decode\",stage=\"test_a\"} 1"));
        assert!(text.contains("vigie_stage_deadlettered_total{stage=\"test_b\"} 1"));
        assert!(text.contains("vigie_consumer_lag{partition=\"0\",stage=\"test_a\",topic=\"t\"} 7"));
    }
}
