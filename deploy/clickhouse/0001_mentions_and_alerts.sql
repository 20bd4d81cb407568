-- Vigie schema v1: enriched mentions and alerts.
-- Portable across ClickHouse 18.16 and current releases: no DateTime64, Map, TTL, CODEC or
-- LowCardinality here. Times are DateTime (UTC seconds) plus a millisecond column where the
-- order of events matters.

-- One row per mention. Redelivery writes the same id again; ReplacingMergeTree keeps the row
-- with the highest `version` per (tenant, id), so `SELECT ... FINAL` never double-counts.
CREATE TABLE IF NOT EXISTS mentions
(
    tenant String,
    id String,
    created_at DateTime,
    created_at_ms Int64,
    received_at DateTime,
    enriched_at DateTime,
    source String,
    visibility String,
    kind String,
    native_id String,
    author_id String,
    author_handle String,
    author_name String,
    author_followers UInt64,
    author_verified UInt8,
    text String,
    title String,
    url String,
    language_hint String,
    country String,
    likes UInt64,
    shares UInt64,
    comments UInt64,
    views UInt64,
    rating Float32,
    parent_id String,
    thread_id String,
    language String,
    language_confidence Float32,
    sentiment_score Float32,
    sentiment_label String,
    toxicity Float32,
    complaint Float32,
    crisis Float32,
    risk_flags Array(String),
    hashtags Array(String),
    mentioned_handles Array(String),
    urls Array(String),
    matched_watches Array(String),
    reach Float32,
    cluster UInt64,
    scorer_version String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, id);

-- One row per alert state change; the latest `version` per (tenant, id) is the alert's state.
CREATE TABLE IF NOT EXISTS alerts
(
    tenant String,
    id String,
    watch_id String,
    watch_name String,
    rule String,
    rule_type String,
    severity String,
    state String,
    window_start DateTime,
    window_end DateTime,
    count UInt64,
    baseline Float64,
    negative_count UInt64,
    sample_mention_ids Array(String),
    summary String,
    raised_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(window_end)
ORDER BY (tenant, id);
