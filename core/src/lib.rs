//! Vigie's shared core: what every service needs and nothing service-specific.
//!
//! - [`model`]: the domain model around the wire contracts (names, ids, JSON input, validation);
//! - [`config`]: one configuration file plus environment overrides;
//! - [`bus`]: the message bus, over Kafka or in-process, behind one interface;
//! - [`watches`]: the live, materialised set of watch definitions;
//! - [`clickhouse`]: table rows, the batch writer and schema migrations;
//! - [`metrics`]: the metrics vocabulary every stage emits, and the `/metrics` endpoint;
//! - [`http_client`]: the outgoing HTTP(S) client (alerting's receivers, ingest's feeds);
//! - [`query`], [`document`], [`matcher`]: the watch query language, mentions prepared for it, and
//!   the presearcher index that matches every stored query at once;
//! - [`vocabulary`]: what queries and documents share (words to find, where, field filters);
//! - [`text`]: text normalisation shared by queries and documents;
//! - [`hashing`]: the fast unkeyed hasher of maps over fixed data (models, gazetteer);
//! - [`places`]: a mention's country and city, given or inferred (profile, address, text);
//! - [`retry`]: retrying durable writes without losing input;
//! - [`shutdown`]: turning SIGTERM/SIGINT into a cancellation every task observes.
//! - [`stage`]: the consume → handle → commit loop shared by consuming stages.

pub mod bus;
pub mod clickhouse;
pub mod config;
pub mod deadletter;
pub mod document;
pub mod hashing;
pub mod http_client;
pub mod matcher;
pub mod metrics;
pub mod model;
pub mod names;
pub mod places;
pub mod query;
pub mod retry;
pub mod rules;
pub mod shutdown;
pub mod stage;
pub mod text;
pub mod tokens;
pub mod topics;
pub mod vocabulary;
pub mod watch_mirror;
pub mod watches;

pub use vigie_proto as proto;

/// Current wall-clock time as Unix epoch milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
