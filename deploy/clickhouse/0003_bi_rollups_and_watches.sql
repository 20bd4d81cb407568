-- Vigie schema v3: what BI tools query directly.
--
-- Per-minute and per-hour mention counts by tenant, watch, source, language and sentiment, kept
-- up to date by materialized views on `mentions`. A redelivered mention is inserted into
-- `mentions` again, and a materialized view sees every insert, so the rollups count distinct
-- mention ids (uniqExact states), never rows: redelivery never double-counts. Read them through
-- the `*_v` views, which finish the aggregation. A mention matched by no watch is counted under
-- watch ''.
CREATE TABLE IF NOT EXISTS mentions_per_minute
(
    tenant String,
    watch String,
    source String,
    language String,
    sentiment String,
    minute DateTime,
    mentions AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant, watch, minute, source, language, sentiment);

CREATE MATERIALIZED VIEW IF NOT EXISTS mentions_per_minute_mv TO mentions_per_minute AS
SELECT
    tenant,
    arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch,
    source,
    language,
    sentiment_label AS sentiment,
    toStartOfMinute(created_at) AS minute,
    uniqExactState(id) AS mentions
FROM mentions
GROUP BY tenant, watch, source, language, sentiment, minute;

CREATE TABLE IF NOT EXISTS mentions_per_hour
(
    tenant String,
    watch String,
    source String,
    language String,
    sentiment String,
    hour DateTime,
    mentions AggregateFunction(uniqExact, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, watch, hour, source, language, sentiment);

CREATE MATERIALIZED VIEW IF NOT EXISTS mentions_per_hour_mv TO mentions_per_hour AS
SELECT
    tenant,
    arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch,
    source,
    language,
    sentiment_label AS sentiment,
    toStartOfHour(created_at) AS hour,
    uniqExactState(id) AS mentions
FROM mentions
GROUP BY tenant, watch, source, language, sentiment, hour;

-- Mentions already stored before this migration.
INSERT INTO mentions_per_minute
SELECT tenant, arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch, source, language,
       sentiment_label AS sentiment, toStartOfMinute(created_at) AS minute, uniqExactState(id) AS mentions
FROM mentions
GROUP BY tenant, watch, source, language, sentiment, minute;

INSERT INTO mentions_per_hour
SELECT tenant, arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch, source, language,
       sentiment_label AS sentiment, toStartOfHour(created_at) AS hour, uniqExactState(id) AS mentions
FROM mentions
GROUP BY tenant, watch, source, language, sentiment, hour;

CREATE VIEW IF NOT EXISTS mentions_per_minute_v AS
SELECT tenant, watch, source, language, sentiment, minute, uniqExactMerge(mentions) AS mentions
FROM mentions_per_minute
GROUP BY tenant, watch, source, language, sentiment, minute;

CREATE VIEW IF NOT EXISTS mentions_per_hour_v AS
SELECT tenant, watch, source, language, sentiment, hour, uniqExactMerge(mentions) AS mentions
FROM mentions_per_hour
GROUP BY tenant, watch, source, language, sentiment, hour;

-- Watch definitions mirrored from `vigie.watches` (by the enrich service), so BI tools can join
-- watch names and queries. `watch` in the other tables is "<tenant>/<id>", as in
-- `mentions.matched_watches`. A deleted watch keeps a row with deleted = 1.
CREATE TABLE IF NOT EXISTS watches
(
    tenant String,
    id String,
    watch String,
    name String,
    query String,
    rules Array(String),
    deleted UInt8,
    updated_at DateTime,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (tenant, id);
