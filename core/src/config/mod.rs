//! Configuration: one TOML file plus environment overrides, with defaults that work on localhost.
//!
//! Any key can be overridden by an environment variable `VIGIE_<SECTION>__<KEY>`, for example
//! `VIGIE_KAFKA__BROKERS=kafka:9092` or `VIGIE_CLICKHOUSE__VALIDATION=false`. Values are read as
//! TOML scalars (numbers, booleans) and otherwise as strings.
//!
//! The sections are in `sections` (re-exported here), the errors in `error`; this module loads
//! and checks.

mod error;
mod sections;

pub use error::{ConfigError, SettingError};
pub use sections::{
    ApiConfig, AuthConfig, ClickHouseConfig, CollectConfig, Config, ConnectorConfig, IngestConfig,
    KafkaConfig, ReceiverConfig, StageConfig, WatchesConfig,
};
use std::path::Path;

/// The TLS certificate and key files of a section (`tls_cert`, `tls_key`): `None` when both are
/// empty (plaintext), an error naming both settings when only one is set.
pub fn tls_files<'a>(
    section: &str,
    cert: &'a str,
    key: &'a str,
) -> Result<Option<(&'a str, &'a str)>, SettingError> {
    match (cert.is_empty(), key.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => Ok(Some((cert, key))),
        _ => Err(SettingError::TlsPair {
            section: section.to_string(),
        }),
    }
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
        let file = path.map(|p| p.display().to_string());
        let mut table: toml::Table = toml::from_str(&text).map_err(|source| ConfigError::Schema {
            file: file.clone(),
            after_env: false,
            source,
        })?;
        apply_env_overrides(&mut table, std::env::vars())?;
        let mut config: Config =
            toml::Value::Table(table)
                .try_into()
                .map_err(|source: toml::de::Error| ConfigError::Schema {
                    file: file.clone(),
                    after_env: true,
                    source,
                })?;
        config.fill_stage_defaults();
        config
            .check()
            .map_err(|source| ConfigError::Setting { file, source })?;
        Ok(config)
    }

    /// Values the types allow but Vigie cannot run with.
    fn check(&self) -> Result<(), SettingError> {
        for (key, value) in [
            ("enrich.batch_size", self.enrich.batch_size),
            ("alerting.batch_size", self.alerting.batch_size),
            ("ingest.max_batch_items", self.ingest.max_batch_items),
            ("ingest.max_body_bytes", self.ingest.max_body_bytes),
            ("ingest.max_text_chars", self.ingest.max_text_chars),
            ("collect.max_items", self.collect.max_items),
            ("enrich.max_in_flight", self.enrich.max_in_flight),
            ("alerting.max_in_flight", self.alerting.max_in_flight),
            ("clickhouse.insert_max_rows", self.clickhouse.insert_max_rows),
        ] {
            if value == 0 {
                return Err(SettingError::Zero { key });
            }
        }
        if self.kafka.partitions < 1 || self.kafka.replication_factor < 1 {
            return Err(SettingError::KafkaTopics);
        }
        let mut names = std::collections::HashSet::new();
        for (index, r) in self.receivers.iter().enumerate() {
            if r.name.is_empty() || !names.insert(r.name.as_str()) {
                return Err(SettingError::ReceiverName { index });
            }
            if !(r.url.starts_with("http://") || r.url.starts_with("https://")) {
                return Err(SettingError::ReceiverUrl {
                    index,
                    url: r.url.clone(),
                });
            }
            if r.format != "json" && r.format != "slack" {
                return Err(SettingError::ReceiverFormat {
                    index,
                    format: r.format.clone(),
                });
            }
            if !["info", "warning", "critical"].contains(&r.min_severity.as_str()) {
                return Err(SettingError::ReceiverSeverity {
                    index,
                    severity: r.min_severity.clone(),
                });
            }
            if r.max_per_minute == 0 || r.max_attempts == 0 {
                return Err(SettingError::ReceiverLimits { index });
            }
        }
        let mut names = std::collections::HashSet::new();
        for (index, c) in self.connectors.iter().enumerate() {
            let valid = !c.name.is_empty()
                && c.name.len() <= 64
                && c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid || !names.insert(c.name.as_str()) {
                return Err(SettingError::ConnectorName {
                    index,
                    name: c.name.clone(),
                });
            }
            if c.kind.is_empty() {
                return Err(SettingError::ConnectorField { index, field: "type" });
            }
            if c.tenant.is_empty() {
                return Err(SettingError::ConnectorField {
                    index,
                    field: "tenant",
                });
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
            node = entry.as_table_mut().ok_or_else(|| ConfigError::NotASection {
                variable: name.clone(),
                section: section.clone(),
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
    fn a_lone_tls_file_names_both_settings() {
        assert_eq!(tls_files("api", "", ""), Ok(None));
        assert_eq!(tls_files("api", "c.pem", "k.pem"), Ok(Some(("c.pem", "k.pem"))));
        let err = tls_files("ingest", "c.pem", "").unwrap_err();
        assert_eq!(
            err,
            SettingError::TlsPair {
                section: "ingest".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "ingest.tls_cert and ingest.tls_key: set both (TLS) or neither (plaintext)"
        );
    }

    #[test]
    fn defaults_work_on_localhost() {
        let config = Config::load(None).unwrap();
        assert_eq!(config.kafka.brokers, "127.0.0.1:9092");
        assert_eq!(config.enrich.group_id, "vigie-enrich");
        assert_eq!(config.alerting.metrics_listen, "127.0.0.1:9102");
    }
}
