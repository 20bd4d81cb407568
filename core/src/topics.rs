//! Kafka topic names and record keys: the contract between services.
//!
//! Keys decide partitioning. Raw mentions are keyed by mention id, so retries of one mention land
//! on one partition in order. Enriched mentions and alerts are keyed by tenant, so everything the
//! alerting state of one (tenant, watch) depends on lives on one partition, and alerting scales
//! out by adding consumers (up to the partition count) across tenants. Watches are keyed
//! "<tenant>/<watch id>" on a compacted topic; an empty value deletes the watch.

/// Raw, validated mentions published by ingest.
pub const MENTIONS_RAW: &str = "vigie.mentions.raw";
/// Mentions after the scoring stage, published by enrich.
pub const MENTIONS_ENRICHED: &str = "vigie.mentions.enriched";
/// Alerts raised by alerting.
pub const ALERTS: &str = "vigie.alerts";
/// Watch definitions (compacted): the source of truth, materialised by every service.
pub const WATCHES: &str = "vigie.watches";
/// Input refused by any stage, with the reason and the original bytes.
pub const DEADLETTER: &str = "vigie.deadletter";

/// Every topic with whether it is compacted, in creation order.
pub const ALL: [(&str, bool); 5] = [
    (MENTIONS_RAW, false),
    (MENTIONS_ENRICHED, false),
    (ALERTS, false),
    (WATCHES, true),
    (DEADLETTER, false),
];

/// Record header carrying the protobuf message type of the payload.
pub const SCHEMA_HEADER: &str = "vigie-schema";

/// Key of a watch record on [`WATCHES`].
pub fn watch_key(tenant: &str, watch_id: &str) -> String {
    format!("{tenant}/{watch_id}")
}
