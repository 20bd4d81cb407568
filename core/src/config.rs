//! Configuration: one TOML file plus environment overrides, with defaults that work on localhost.
//!
//! Any key can be overridden by an environment variable `VIGIE_<SECTION>__<KEY>`, for example
//! `VIGIE_KAFKA__BROKERS=kafka:9092` or `VIGIE_CLICKHOUSE__VALIDATION=false`. Values are read as
//! TOML scalars (numbers, booleans) and otherwise as strings.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Errors found while loading the configuration, naming the file or variable at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// Path of the file.
        path: String,
        /// Underlying I/O error.
        source: std::io::Error,
    },
    /// The file or an override is not valid for the configuration schema.
    #[error("invalid configuration{origin}: {message}")]
    Invalid {
        /// " in <file>" or " after environment overrides".
        origin: String,
        /// What was wrong.
        message: String,
    },
}

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

/// The TLS certificate and key files of a section (`tls_cert`, `tls_key`): `None` when both are
/// empty (plaintext), an error naming both settings when only one is set.
pub fn tls_files<'a>(
    section: &str,
    cert: &'a str,
    key: &'a str,
) -> Result<Option<(&'a str, &'a str)>, String> {
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some((cert, key))),
        _ => Err(format!(
            "{section}.tls_cert and {section}.tls_key: set both (TLS) or neither (plaintext)"
        )),
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
    /// Delivery attempts (with exponential back-off) before the notification is dead-lettered.
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

impl Config {
    /// Loads `path` (or only defaults when `None`), then applies `VIGIE_*__*` environment overrides.
    pub fn load(path: Option<&Path>) -> Result<Self, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        let origin = path.map(|p| format!(" in {}", p.display())).unwrap_or_default();
        let mut table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Invalid {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        apply_env_overrides(&mut table, std::env::vars())?;
        let mut config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid {
                origin: format!("{origin} (after environment overrides)"),
                message: e.to_string(),
            })?;
        config.fill_stage_defaults();
        config.check().map_err(|message| ConfigError::Invalid {
            origin: origin.clone(),
            message,
        })?;
        Ok(config)
    }

    /// Values the types allow but Vigie cannot run with.
    fn check(&self) -> Result<(), String> {
        for (name, value) in [
            ("enrich.batch_size", self.enrich.batch_size),
            ("alerting.batch_size", self.alerting.batch_size),
            ("ingest.max_batch_items", self.ingest.max_batch_items),
            ("ingest.max_body_bytes", self.ingest.max_body_bytes),
            ("ingest.max_text_chars", self.ingest.max_text_chars),
        ] {
            if value == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        if self.kafka.partitions < 1 || self.kafka.replication_factor < 1 {
            return Err("kafka.partitions and kafka.replication_factor must be at least 1".into());
        }
        let mut names = std::collections::HashSet::new();
        for (i, r) in self.receivers.iter().enumerate() {
            let at = format!("receivers[{i}]");
            if r.name.is_empty() || !names.insert(r.name.as_str()) {
                return Err(format!(
                    "{at}.name: a receiver needs a name unique among receivers"
                ));
            }
            if !(r.url.starts_with("http://") || r.url.starts_with("https://")) {
                return Err(format!(
                    "{at}.url {:?}: expected an http:// or https:// URL",
                    r.url
                ));
            }
            if r.format != "json" && r.format != "slack" {
                return Err(format!(
                    "{at}.format {:?}: expected \"json\" or \"slack\"",
                    r.format
                ));
            }
            if !["info", "warning", "critical"].contains(&r.min_severity.as_str()) {
                return Err(format!(
                    "{at}.min_severity {:?}: expected info, warning or critical",
                    r.min_severity
                ));
            }
            if r.max_per_minute == 0 || r.max_attempts == 0 {
                return Err(format!(
                    "{at}: max_per_minute and max_attempts must be at least 1"
                ));
            }
        }
        Ok(())
    }

    fn fill_stage_defaults(&mut self) {
        if self.enrich.group_id.is_empty() {
            self.enrich.group_id = "vigie-enrich".into();
        }
        if self.enrich.metrics_listen.is_empty() {
            self.enrich.metrics_listen = "127.0.0.1:9101".into();
        }
        if self.alerting.group_id.is_empty() {
            self.alerting.group_id = "vigie-alerting".into();
        }
        if self.alerting.metrics_listen.is_empty() {
            self.alerting.metrics_listen = "127.0.0.1:9102".into();
        }
    }
}

/// Applies `VIGIE_<SECTION>__<KEY>=value` variables onto a TOML table.
fn apply_env_overrides(
    table: &mut toml::Table,
    vars: impl Iterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("VIGIE_") else {
            continue;
        };
        if !rest.contains("__") {
            continue;
        }
        let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
        let mut node = &mut *table;
        for section in &path[..path.len() - 1] {
            let entry = node
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = entry.as_table_mut().ok_or_else(|| ConfigError::Invalid {
                origin: format!(" in environment variable {name}"),
                message: format!("`{section}` is not a section"),
            })?;
        }
        let leaf = path[path.len() - 1].clone();
        node.insert(leaf, parse_scalar(&value));
    }
    Ok(())
}

fn parse_scalar(value: &str) -> toml::Value {
    if let Ok(b) = value.parse::<bool>() {
        return toml::Value::Boolean(b);
    }
    if let Ok(i) = value.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = value.parse::<f64>() {
        if value.contains('.') {
            return toml::Value::Float(f);
        }
    }
    toml::Value::String(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_set_nested_keys_with_types() {
        let mut table: toml::Table = toml::from_str("[kafka]\nbrokers = \"a:1\"\n").unwrap();
        let vars = vec![
            ("VIGIE_KAFKA__BROKERS".to_string(), "b:2".to_string()),
            ("VIGIE_CLICKHOUSE__VALIDATION".to_string(), "false".to_string()),
            ("VIGIE_ENRICH__BATCH_SIZE".to_string(), "42".to_string()),
            ("VIGIE_LOG".to_string(), "debug".to_string()),
        ];
        apply_env_overrides(&mut table, vars.into_iter()).unwrap();
        let config: Config = toml::Value::Table(table).try_into().unwrap();
        assert_eq!(config.kafka.brokers, "b:2");
        assert!(!config.clickhouse.validation);
        assert_eq!(config.enrich.batch_size, 42);
    }

    #[test]
    fn unknown_keys_are_reported_with_their_name() {
        let dir = std::env::temp_dir().join(format!("vigie-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(&path, "[kafka]\nbrokerz = \"x\"\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("brokerz"), "{err}");
        assert!(err.contains("bad.toml"), "{err}");
    }

    #[test]
    fn zero_batch_sizes_are_refused() {
        let dir = std::env::temp_dir().join(format!("vigie-config-zero-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("zero.toml");
        std::fs::write(&path, "[enrich]\nbatch_size = 0\n").unwrap();
        let err = Config::load(Some(&path)).unwrap_err().to_string();
        assert!(err.contains("enrich.batch_size"), "{err}");
    }

    #[test]
    fn receivers_are_checked_field_by_field() {
        let dir = std::env::temp_dir().join(format!("vigie-config-recv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("receivers.toml");
        let ok = "[[receivers]]\nname = \"ops\"\nurl = \"https://hooks.example.com/x\"\nformat = \"slack\"\n";
        std::fs::write(&path, ok).unwrap();
        assert_eq!(Config::load(Some(&path)).unwrap().receivers[0].max_attempts, 6);
        for (bad, field) in [
            (ok.replace("https://hooks", "ftp://hooks"), "receivers[0].url"),
            (ok.replace("slack", "teams"), "receivers[0].format"),
            (format!("{ok}{ok}"), "receivers[1].name"),
        ] {
            std::fs::write(&path, bad).unwrap();
            let err = Config::load(Some(&path)).unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
    }

    #[test]
    fn defaults_work_on_localhost() {
        let config = Config::load(None).unwrap();
        assert_eq!(config.kafka.brokers, "127.0.0.1:9092");
        assert_eq!(config.enrich.group_id, "vigie-enrich");
        assert_eq!(config.alerting.metrics_listen, "127.0.0.1:9102");
    }
}
