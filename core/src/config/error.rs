//! What can be wrong with a configuration: a file that cannot be read or does not fit the
//! schema ([`ConfigError`]), and a setting whose value Vigie cannot run with ([`SettingError`]).
//! Each names the file, environment variable or setting at fault.

/// Errors found while loading the configuration, naming the file, variable or setting at fault.
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
    /// The file is not valid TOML, or the file with its environment overrides does not fit the
    /// configuration schema (an unknown key, a value of the wrong type).
    #[error("invalid configuration{}{}: {source}", in_file(.file), after_overrides(*.after_env))]
    Schema {
        /// Path of the file; `None` when only defaults and overrides were read.
        file: Option<String>,
        /// The error appeared once the `VIGIE_*__*` environment overrides were applied.
        after_env: bool,
        /// What the TOML reader found, with the key's name.
        source: toml::de::Error,
    },
    /// An environment override goes through a key that holds a value, not a section.
    #[error("invalid configuration in environment variable {variable}: `{section}` is not a section")]
    NotASection {
        /// The environment variable, e.g. `VIGIE_KAFKA__BROKERS__X`.
        variable: String,
        /// The key it treats as a section.
        section: String,
    },
    /// A setting has a value its type allows but Vigie cannot run with.
    #[error("invalid configuration{}: {source}", in_file(.file))]
    Setting {
        /// Path of the file; `None` when only defaults and overrides were read.
        file: Option<String>,
        /// Which setting, and what it needs.
        source: SettingError,
    },
}

/// " in <file>" when there is a file, for [`ConfigError`]'s messages.
fn in_file(file: &Option<String>) -> String {
    file.as_ref().map(|f| format!(" in {f}")).unwrap_or_default()
}

/// " (after environment overrides)" when the overrides were applied, for [`ConfigError`].
fn after_overrides(after_env: bool) -> &'static str {
    if after_env {
        " (after environment overrides)"
    } else {
        ""
    }
}

/// A setting whose value its type allows but Vigie cannot run with: which one, and what it needs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    /// A size or count that must be positive is 0.
    #[error("{key} must be at least 1")]
    Zero {
        /// The setting, e.g. `enrich.batch_size`.
        key: &'static str,
    },
    /// `kafka.partitions` or `kafka.replication_factor` is below 1.
    #[error("kafka.partitions and kafka.replication_factor must be at least 1")]
    KafkaTopics,
    /// A connector's name is empty, not `[a-z0-9-]+` (64 at most), or an earlier connector's.
    #[error("connectors[{index}].name {name:?}: a connector needs a name of [a-z0-9-] (64 at most), unique among connectors")]
    ConnectorName {
        /// Position of the connector in `[[connectors]]`, from 0.
        index: usize,
        /// The name as given.
        name: String,
    },
    /// A connector lacks a key every connector needs.
    #[error("connectors[{index}].{field}: every connector needs a {field}")]
    ConnectorField {
        /// Position of the connector in `[[connectors]]`, from 0.
        index: usize,
        /// `type` or `tenant`.
        field: &'static str,
    },
    /// A receiver has no name, or the name of an earlier receiver.
    #[error("receivers[{index}].name: a receiver needs a name unique among receivers")]
    ReceiverName {
        /// Position of the receiver in `[[receivers]]`, from 0.
        index: usize,
    },
    /// A receiver's URL is neither `http://` nor `https://`.
    #[error("receivers[{index}].url {url:?}: expected an http:// or https:// URL")]
    ReceiverUrl {
        /// Position of the receiver in `[[receivers]]`, from 0.
        index: usize,
        /// The URL given.
        url: String,
    },
    /// A receiver's format is neither `json` nor `slack`.
    #[error("receivers[{index}].format {format:?}: expected \"json\" or \"slack\"")]
    ReceiverFormat {
        /// Position of the receiver in `[[receivers]]`, from 0.
        index: usize,
        /// The format given.
        format: String,
    },
    /// A receiver's lowest severity is not a severity name.
    #[error("receivers[{index}].min_severity {severity:?}: expected info, warning or critical")]
    ReceiverSeverity {
        /// Position of the receiver in `[[receivers]]`, from 0.
        index: usize,
        /// The severity given.
        severity: String,
    },
    /// A receiver's `max_per_minute` or `max_attempts` is 0.
    #[error("receivers[{index}]: max_per_minute and max_attempts must be at least 1")]
    ReceiverLimits {
        /// Position of the receiver in `[[receivers]]`, from 0.
        index: usize,
    },
    /// Only one of a section's `tls_cert` and `tls_key` is set.
    #[error("{section}.tls_cert and {section}.tls_key: set both (TLS) or neither (plaintext)")]
    TlsPair {
        /// The section, e.g. `api` or `ingest`.
        section: String,
    },
}
