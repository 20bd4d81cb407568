//! The configuration's schema: one struct per section of the TOML file, each with the defaults
//! that work on localhost. Unknown keys are refused (`deny_unknown_fields`).

use serde::{Deserialize, Serialize};

/// The whole configuration of every Vigie process.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Kafka connection and topic settings.
    pub kafka: KafkaConfig,
    /// ClickHouse connection settings.
    pub clickhouse: ClickHouseConfig,
    /// The ingest service.
    pub ingest: IngestConfig,
    /// The enrich service.
    pub enrich: StageConfig,
    /// The alerting service.
    pub alerting: StageConfig,
    /// Where watch definitions come from at start.
    pub watches: WatchesConfig,
    /// Where alerts are sent (`[[receivers]]`), each fed from `vigie.alerts` on its own.
    pub receivers: Vec<ReceiverConfig>,
    /// Authentication of API and ingest calls.
    pub auth: AuthConfig,
    /// The gRPC API for internal services.
    pub api: ApiConfig,
    /// Platform connectors (`[[connectors]]`): webhooks served by ingest, feeds and APIs polled
    /// by `vigie collect`.
    pub connectors: Vec<ConnectorConfig>,
    /// The collect service, which runs the pull connectors.
    pub collect: CollectConfig,
}

/// One platform connector (`[[connectors]]`): its unique name, its type, the tenant its
/// mentions belong to, and the keys of its type (checked by the connector itself when it is
/// built: an unknown or missing key is refused there, naming the connector and the key). A
/// secret may be given as `KEY_env = "VAR"`, read from the environment, instead of `KEY`.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct ConnectorConfig {
    /// Unique among connectors, `[a-z0-9-]+`; a webhook's URL is `/v1/webhooks/{name}`.
    pub name: String,
    /// The connector type (`whatsapp`, `meta`, `rss`…).
    #[serde(rename = "type")]
    pub kind: String,
    /// The tenant every mention of this connector belongs to.
    pub tenant: String,
    /// The type's own keys, as written.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// Names, type and tenant, and the keys of the type without their values (which may be secrets).
impl std::fmt::Debug for ConnectorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectorConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("tenant", &self.tenant)
            .field("keys", &self.settings.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The collect service (`vigie collect`, and part of `vigie standalone`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CollectConfig {
    /// Where `/metrics` and `/healthz` are served.
    pub metrics_listen: String,
    /// Most items one poll of one connector hands on at once (a larger feed is handed on in
    /// pieces of this size, each acknowledged before the next).
    pub max_items: usize,
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            metrics_listen: "127.0.0.1:9104".into(),
            max_items: 500,
        }
    }
}

/// The gRPC API for internal services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Listen address of every gRPC service: the API and `IngestService`.
    pub grpc_listen: String,
    /// Listen address of `/metrics` and `/healthz` for `vigie api`.
    pub metrics_listen: String,
    /// PEM certificate chain: when set (with `tls_key`), gRPC is served over TLS only.
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    pub tls_key: String,
    /// Mentions kept in memory for search, stats and `TestQuery` when there is no ClickHouse
    /// (`vigie standalone`); the oldest are forgotten first.
    pub window_mentions: usize,
    /// Days a resolved alert stays listed by the API after its last change (every alert stays
    /// in ClickHouse's `alerts` table); open alerts are always listed.
    pub keep_resolved_days: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            grpc_listen: "127.0.0.1:50051".into(),
            metrics_listen: "127.0.0.1:9103".into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            window_mentions: 100_000,
            keep_resolved_days: 30,
        }
    }
}

/// Authentication of API and ingest calls.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Require a bearer token (see `vigie token`) on every write and read. Turning it off
    /// accepts anonymous calls: for a laptop, never for a shared deployment.
    pub required: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self { required: true }
    }
}

/// Kafka connection and topic settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KafkaConfig {
    /// Comma-separated bootstrap servers.
    pub brokers: String,
    /// Client id prefix reported to the broker.
    pub client_id: String,
    /// Partitions of the topics Vigie creates (existing topics are left alone).
    pub partitions: i32,
    /// Replication factor of the topics Vigie creates.
    pub replication_factor: i32,
    /// Compression of produced batches: none, lz4, zstd, gzip or snappy.
    pub compression: String,
    /// How long a producer waits for the broker's acknowledgement, in milliseconds.
    pub delivery_timeout_ms: u64,
    /// Idempotent producers (the default): the broker drops a retried batch it already wrote,
    /// by producer id and sequence number. `false` sends one request at a time per broker
    /// connection instead, which keeps each partition in order through retries (a retried
    /// batch may then be stored twice; every sink deduplicates by mention id), for brokers
    /// whose idempotence cannot be trusted.
    pub idempotence: bool,
}

impl Default for KafkaConfig {
    fn default() -> Self {
        Self {
            brokers: "127.0.0.1:9092".into(),
            client_id: "vigie".into(),
            partitions: 4,
            replication_factor: 1,
            compression: "lz4".into(),
            delivery_timeout_ms: 30_000,
            idempotence: true,
        }
    }
}

/// ClickHouse connection settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClickHouseConfig {
    /// HTTP interface URL.
    pub url: String,
    /// Database holding Vigie's tables (created by `vigie migrate`).
    pub database: String,
    /// User name.
    pub user: String,
    /// Password.
    pub password: String,
    /// Check row types against the server's schema before inserting. Needs a modern server
    /// (`RowBinaryWithNamesAndTypes`); turn off for ClickHouse 18.x.
    pub validation: bool,
    /// Compress inserts with LZ4.
    pub compression: bool,
    /// A stage's table writer sends an insert once it holds this many rows…
    pub insert_max_rows: usize,
    /// …or once its oldest row waited this long (milliseconds), or when the stage's pipeline
    /// is full and waiting on it, whichever comes first.
    pub insert_max_delay_ms: u64,
    /// Insert with the server's `async_insert` (and `wait_for_async_insert`, so an insert is
    /// confirmed only once written): the server merges small inserts into parts itself. Needs
    /// ClickHouse 21.11 or later; off by default.
    pub async_insert: bool,
}

impl Default for ClickHouseConfig {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "vigie".into(),
            user: "default".into(),
            password: String::new(),
            validation: true,
            compression: true,
            insert_max_rows: 50_000,
            insert_max_delay_ms: 1_000,
            async_insert: false,
        }
    }
}

/// The ingest service.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    /// HTTP listen address (webhooks, `/metrics`, `/healthz`).
    pub http_listen: String,
    /// PEM certificate chain: when set (with `tls_key`), HTTP ingest is served over TLS only.
    pub tls_cert: String,
    /// PEM private key of `tls_cert`.
    pub tls_key: String,
    /// A gRPC listen address of this process's own for `IngestService`; empty (the default)
    /// leaves gRPC ingest to the API process (`api.grpc_listen`).
    pub grpc_listen: String,
    /// Largest accepted HTTP body, in bytes.
    pub max_body_bytes: usize,
    /// Most mentions accepted in one request.
    pub max_batch_items: usize,
    /// Longest accepted mention text, in characters.
    pub max_text_chars: usize,
    /// How many recently accepted mention ids are remembered to answer duplicates.
    pub recent_ids: usize,
    /// HTTP connections served at once; further clients wait until one closes.
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers, from the connection's start or
    /// the end of the previous response (so an idle kept-alive connection is closed after it).
    pub header_timeout_ms: u64,
    /// Longest a client may take to send a request's body once its headers arrived (408).
    pub body_timeout_ms: u64,
    /// Where `/metrics` is served: empty (the default) serves it on the HTTP port, next to the
    /// webhooks, readable by anyone who reaches that port; an address serves it there only.
    pub metrics_listen: String,
    /// Longest a webhook delivery waits for the broker's acknowledgement before it is answered
    /// 503, so that the platform delivers again (Meta and X expect an answer within seconds).
    pub webhook_deadline_ms: u64,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            http_listen: "127.0.0.1:8080".into(),
            tls_cert: String::new(),
            tls_key: String::new(),
            grpc_listen: String::new(),
            max_body_bytes: 8 * 1024 * 1024,
            max_batch_items: 5_000,
            max_text_chars: 20_000,
            recent_ids: 200_000,
            max_connections: 1_024,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            metrics_listen: String::new(),
            webhook_deadline_ms: 3_000,
        }
    }
}

/// A consuming stage (enrich or alerting).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageConfig {
    /// Kafka consumer group.
    pub group_id: String,
    /// Most records handled per batch.
    pub batch_size: usize,
    /// How long a batch waits to fill, in milliseconds.
    pub batch_linger_ms: u64,
    /// Most batches whose outputs are being written at once (taken, not yet committed); a
    /// crash redelivers at most these. A full pipeline sends ClickHouse what its writer holds,
    /// so `max_in_flight × batch_size` below `clickhouse.insert_max_rows` cuts inserts short
    /// (at 16 × 1,000, ClickHouse spent 1.4–2 times the CPU per row it spends at 64 × 1,000).
    pub max_in_flight: usize,
    /// Alerting: under sustained load, the engine's state is checkpointed (and the input
    /// committed) at most this often, in milliseconds; whenever the input has caught up
    /// otherwise. A crash redelivers at most this much input, whose alerts come again.
    pub checkpoint_interval_ms: u64,
    /// Listen address of `/metrics` and `/healthz`.
    pub metrics_listen: String,
    /// Write results to ClickHouse (turned off only for Kafka-only setups).
    pub write_clickhouse: bool,
}

impl Default for StageConfig {
    fn default() -> Self {
        Self {
            group_id: String::new(),
            batch_size: 1_000,
            batch_linger_ms: 50,
            max_in_flight: 64,
            checkpoint_interval_ms: 1_000,
            metrics_listen: String::new(),
            write_clickhouse: true,
        }
    }
}

/// One notification receiver: a generic JSON webhook or a Slack-compatible incoming webhook.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Name, unique; also names the receiver's consumer group (`vigie-notify-<name>`).
    pub name: String,
    /// `http://` or `https://` URL to POST to.
    pub url: String,
    /// "json" (Vigie's alert JSON) or "slack" (a `text` payload Slack and compatibles accept).
    pub format: String,
    /// Only these tenants (all when empty).
    pub tenants: Vec<String>,
    /// Lowest severity sent: info, warning or critical.
    pub min_severity: String,
    /// Also send resolutions and acknowledgements.
    pub send_resolved: bool,
    /// Alerts of one group (tenant and watch) arriving within this many milliseconds go out as
    /// one notification.
    pub group_wait_ms: u64,
    /// Most notifications per minute; beyond, alerts wait and go out together in the next one.
    pub max_per_minute: u32,
    /// Delivery attempts (with exponential back-off) before the notification is dead-lettered;
    /// a permanent refusal (an HTTP 4xx other than 429) is dead-lettered at once.
    pub max_attempts: u32,
    /// Alerts produced longer ago than this many seconds are not sent (a new receiver does not
    /// replay history).
    pub max_age_secs: u64,
    /// An alert still firing (not acknowledged, resolved or silenced) is sent again as a
    /// reminder this often, in seconds; 0 never.
    pub repeat_interval_secs: u64,
}

impl Default for ReceiverConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            url: String::new(),
            format: "json".into(),
            tenants: Vec::new(),
            min_severity: "info".into(),
            send_resolved: true,
            group_wait_ms: 2_000,
            max_per_minute: 20,
            max_attempts: 6,
            max_age_secs: 3_600,
            repeat_interval_secs: 4 * 3_600,
        }
    }
}

/// Where watch definitions come from at start.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchesConfig {
    /// A TOML file of watches published into `vigie.watches` by `vigie watches publish` and by
    /// `vigie standalone`. Empty means none.
    pub file: String,
}
