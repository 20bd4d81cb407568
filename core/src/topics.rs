//! Kafka topic names and record keys: the contract between services.
//!
//! Keys decide partitioning. Raw mentions, enriched mentions and alerts are keyed by tenant: one
//! tenant's mentions stay in order from ingest to alerting (enrich publishes in consumption
//! order), the alerting state of every (tenant, watch) depends on one partition only, and the
//! stages scale out by adding consumers (up to the partition count) across tenants. A retried
//! mention lands on the same partition as its first copy and is deduplicated by id. Watches are keyed
//! `<tenant>/<watch id>` on a compacted topic; an empty value deletes the watch.

/// Raw, validated mentions published by ingest.
pub const MENTIONS_RAW: &str = "vigie.mentions.raw";
/// Mentions after the scoring stage, published by enrich.
pub const MENTIONS_ENRICHED: &str = "vigie.mentions.enriched";
/// Alerts raised by alerting.
pub const ALERTS: &str = "vigie.alerts";
/// Operators' acknowledgements, resolutions and silences, keyed by tenant like the mentions so the
/// alerting instance that owns a tenant's mentions also receives its commands.
pub const ALERT_COMMANDS: &str = "vigie.alerts.commands";
/// Alerting state checkpoints (compacted), keyed `<tenant>` and `<tenant>/<watch id>`: what a
/// restarted or rebalanced alerting instance resumes from.
pub const ALERTING_STATE: &str = "vigie.alerting.state";
/// API tokens (compacted), keyed by token id: tenant, role and a hash, never the token itself.
pub const TOKENS: &str = "vigie.tokens";
/// Watch definitions (compacted): the source of truth, materialised by every service.
pub const WATCHES: &str = "vigie.watches";
/// Input refused by any stage, with the reason and the original bytes.
pub const DEADLETTER: &str = "vigie.deadletter";

/// The cursors of the pull connectors (compacted), keyed by connector name: what `vigie
/// collect` resumes from after a restart (ids seen, ETag, Last-Modified…).
pub const CONNECTOR_STATE: &str = "vigie.connectors.state";

/// Every topic with whether it is compacted, in creation order.
pub const ALL: [(&str, bool); 9] = [
    (MENTIONS_RAW, false),
    (MENTIONS_ENRICHED, false),
    (ALERTS, false),
    (ALERT_COMMANDS, false),
    (ALERTING_STATE, true),
    (WATCHES, true),
    (TOKENS, true),
    (DEADLETTER, false),
    (CONNECTOR_STATE, true),
];

/// Record header carrying the protobuf message type of the payload.
pub const SCHEMA_HEADER: &str = "vigie-schema";

/// Key of a watch record on [`WATCHES`].
pub fn watch_key(tenant: &str, watch_id: &str) -> String {
    format!("{tenant}/{watch_id}")
}
