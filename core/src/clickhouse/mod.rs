//! ClickHouse: the tables BI tools query, the table writers the stages use ([`TableWriter`]), and the versioned
//! schema migrations applied by `vigie migrate`.
//!
//! Tables are ReplacingMergeTree keyed by (tenant, id): an at-least-once redelivery writes the
//! same row again and `FINAL` (or a background merge) keeps one.

use crate::config::ClickHouseConfig;
use crate::names::{kind_name, sentiment_name, severity_name, source_name, state_name, visibility_name};
use crate::proto::{
    Alert, AlertState, Author, Engagement, EnrichedMention, Kind, Mention, SentimentLabel, Severity, Source,
    Visibility,
};
use serde::{Deserialize, Serialize};

mod writer;

pub use writer::{InsertBounds, TableWriter, Ticket};

/// A ClickHouse failure, naming the table or migration and the operation.
#[derive(Debug, thiserror::Error)]
#[error("clickhouse {what}: {source}")]
pub struct ClickHouseError {
    /// What was being done ("insert into mentions", "migration 0001_...").
    pub what: String,
    /// The client's error.
    #[source]
    pub source: clickhouse::error::Error,
}

/// Migrations, in order: (version, name, SQL). Embedded so the binary carries its schema.
pub const MIGRATIONS: &[(u32, &str, &str)] = &[
    (
        1,
        "0001_mentions_and_alerts",
        include_str!("../../../deploy/clickhouse/0001_mentions_and_alerts.sql"),
    ),
    (
        2,
        "0002_alert_lifecycle",
        include_str!("../../../deploy/clickhouse/0002_alert_lifecycle.sql"),
    ),
    (
        3,
        "0003_bi_rollups_and_watches",
        include_str!("../../../deploy/clickhouse/0003_bi_rollups_and_watches.sql"),
    ),
    (
        4,
        "0004_watch_syntax",
        include_str!("../../../deploy/clickhouse/0004_watch_syntax.sql"),
    ),
    (
        5,
        "0005_places",
        include_str!("../../../deploy/clickhouse/0005_places.sql"),
    ),
];

/// Longest wait for sending one chunk of an insert.
const INSERT_SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Longest wait for the server to confirm an insert.
const INSERT_END_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A client for Vigie's database.
#[derive(Clone)]
pub struct ClickHouse {
    client: clickhouse::Client,
    config: ClickHouseConfig,
}

impl ClickHouse {
    /// A client for `config` (no connection is made until the first request).
    pub fn new(config: &ClickHouseConfig) -> Self {
        Self {
            client: Self::base(config).with_database(&config.database),
            config: config.clone(),
        }
    }

    fn base(config: &ClickHouseConfig) -> clickhouse::Client {
        let client = clickhouse::Client::default()
            .with_url(&config.url)
            .with_user(&config.user)
            .with_password(&config.password)
            .with_validation(config.validation);
        if config.compression {
            client.with_compression(clickhouse::Compression::Lz4)
        } else {
            client.with_compression(clickhouse::Compression::None)
        }
    }

    /// This client as the table writers use it: with the server's `async_insert` when
    /// configured (`wait_for_async_insert` too, so an insert is confirmed once written).
    pub fn for_inserts(&self) -> Self {
        let mut writer = self.clone();
        if self.config.async_insert {
            writer.client = writer
                .client
                .with_setting("async_insert", "1")
                .with_setting("wait_for_async_insert", "1");
        }
        writer
    }

    /// The settings this client was made from.
    pub fn config(&self) -> &ClickHouseConfig {
        &self.config
    }

    /// The underlying client, for queries.
    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }

    /// Inserts rows into `table` as one batch; returns once the server has them.
    pub async fn insert<T>(&self, table: &str, rows: &[T]) -> Result<(), ClickHouseError>
    where
        T: clickhouse::RowWrite + for<'a> clickhouse::Row<Value<'a> = T>,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let wrap = |source| ClickHouseError {
            what: format!("insert of {} rows into {table}", rows.len()),
            source,
        };
        // A stuck server must fail the attempt (to be retried) rather than hang the stage.
        let mut insert = self
            .client
            .insert::<T>(table)
            .await
            .map_err(wrap)?
            .with_timeouts(Some(INSERT_SEND_TIMEOUT), Some(INSERT_END_TIMEOUT));
        for row in rows {
            insert.write(row).await.map_err(wrap)?;
        }
        insert.end().await.map_err(wrap)
    }

    /// Applies pending migrations; safe to run any number of times.
    pub async fn migrate(&self) -> Result<Vec<String>, ClickHouseError> {
        let admin = Self::base(&self.config);
        let db = &self.config.database;
        admin
            .query(&format!("CREATE DATABASE IF NOT EXISTS `{db}`"))
            .execute()
            .await
            .map_err(|source| ClickHouseError {
                what: format!("create database {db}"),
                source,
            })?;
        self.client
            .query(
                "CREATE TABLE IF NOT EXISTS schema_migrations \
                 (version UInt32, name String, applied_at DateTime) \
                 ENGINE = MergeTree ORDER BY version",
            )
            .execute()
            .await
            .map_err(|source| ClickHouseError {
                what: "create schema_migrations".into(),
                source,
            })?;
        let applied: Vec<u32> = self
            .client
            .query("SELECT version FROM schema_migrations")
            .fetch_all()
            .await
            .map_err(|source| ClickHouseError {
                what: "read schema_migrations".into(),
                source,
            })?;
        let mut done = Vec::new();
        for (version, name, sql) in MIGRATIONS {
            if applied.contains(version) {
                continue;
            }
            for statement in split_statements(sql) {
                self.client
                    .query(&statement)
                    .execute()
                    .await
                    .map_err(|source| ClickHouseError {
                        what: format!("migration {name}"),
                        source,
                    })?;
            }
            self.insert(
                "schema_migrations",
                &[MigrationRow {
                    version: *version,
                    name: name.to_string(),
                    applied_at: (crate::now_ms() / 1000) as u32,
                }],
            )
            .await?;
            done.push(name.to_string());
        }
        Ok(done)
    }
}

/// Splits a migration file into statements on `;` at line ends, dropping `--` comments.
fn split_statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in sql.lines() {
        let line = line.split("--").next().unwrap_or("").trim_end();
        if line.trim().is_empty() {
            continue;
        }
        current.push_str(line);
        current.push('\n');
        if line.ends_with(';') {
            let stmt = current.trim().trim_end_matches(';').to_string();
            out.push(stmt);
            current.clear();
        }
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

#[derive(Debug, clickhouse::Row, Serialize, Deserialize)]
struct MigrationRow {
    version: u32,
    name: String,
    applied_at: u32,
}

/// A row of the `mentions` table.
#[derive(Debug, Clone, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct MentionRow {
    pub tenant: String,
    pub id: String,
    pub created_at: u32,
    pub created_at_ms: i64,
    pub received_at: u32,
    pub enriched_at: u32,
    pub source: String,
    pub visibility: String,
    pub kind: String,
    pub native_id: String,
    pub author_id: String,
    pub author_handle: String,
    pub author_name: String,
    pub author_followers: u64,
    pub author_verified: u8,
    pub text: String,
    pub title: String,
    pub url: String,
    pub language_hint: String,
    pub country: String,
    pub likes: u64,
    pub shares: u64,
    pub comments: u64,
    pub views: u64,
    pub rating: f32,
    pub parent_id: String,
    pub thread_id: String,
    pub language: String,
    pub language_confidence: f32,
    pub sentiment_score: f32,
    pub sentiment_label: String,
    pub toxicity: f32,
    pub complaint: f32,
    pub crisis: f32,
    pub risk_flags: Vec<String>,
    pub hashtags: Vec<String>,
    pub mentioned_handles: Vec<String>,
    pub urls: Vec<String>,
    pub matched_watches: Vec<String>,
    pub reach: f32,
    pub cluster: u64,
    pub scorer_version: String,
    pub version: u64,
    pub author_location: String,
    pub city: String,
    pub place_country: String,
    pub place_city: String,
    pub place_confidence: f32,
    pub place_source: String,
}

fn secs(ms: i64) -> u32 {
    (ms.max(0) / 1000).min(u32::MAX as i64) as u32
}

impl MentionRow {
    /// Flattens an enriched mention into a row.
    pub fn from_enriched(e: &EnrichedMention) -> Self {
        Self::from(e.clone())
    }
}

impl From<EnrichedMention> for MentionRow {
    /// The row of an enriched mention, taking its strings rather than copying them.
    fn from(e: EnrichedMention) -> Self {
        let m = e.mention.unwrap_or_default();
        let author = m.author.unwrap_or_default();
        let engagement = m.engagement.unwrap_or_default();
        let risk = e.risk.unwrap_or_default();
        let place = e.place.unwrap_or_default();
        Self {
            tenant: m.tenant,
            id: m.id,
            created_at: secs(m.created_at_ms),
            created_at_ms: m.created_at_ms,
            received_at: secs(m.received_at_ms),
            enriched_at: secs(e.enriched_at_ms),
            source: source_name(Source::try_from(m.source).unwrap_or_default()).to_string(),
            visibility: visibility_name(Visibility::try_from(m.visibility).unwrap_or_default()).to_string(),
            kind: kind_name(Kind::try_from(m.kind).unwrap_or_default()).to_string(),
            native_id: m.native_id,
            author_id: author.id,
            author_handle: author.handle,
            author_name: author.display_name,
            author_followers: author.followers,
            author_verified: author.verified as u8,
            author_location: author.location,
            city: m.city,
            place_country: place.country,
            place_city: place.city,
            place_confidence: place.confidence,
            place_source: place.source,
            text: m.text,
            title: m.title,
            url: m.url,
            language_hint: m.language_hint,
            country: m.country,
            likes: engagement.likes,
            shares: engagement.shares,
            comments: engagement.comments,
            views: engagement.views,
            rating: m.rating,
            parent_id: m.parent_id,
            thread_id: m.thread_id,
            language: e.language,
            language_confidence: e.language_confidence,
            sentiment_score: e.sentiment_score,
            sentiment_label: sentiment_name(SentimentLabel::try_from(e.sentiment_label).unwrap_or_default())
                .to_string(),
            toxicity: risk.toxicity,
            complaint: risk.complaint,
            crisis: risk.crisis,
            risk_flags: risk.flags,
            hashtags: e.hashtags,
            mentioned_handles: e.mentioned_handles,
            urls: e.urls,
            matched_watches: e.matched_watches,
            reach: e.reach,
            cluster: e.cluster,
            scorer_version: e.scorer_version,
            version: e.enriched_at_ms.max(0) as u64,
        }
    }
}

impl MentionRow {
    /// The mention again, as ingest accepted it, from the stored columns (for rescoring once
    /// the raw topic no longer holds it). What the table does not keep is left out: the
    /// platform's `matched_rules`, and `received_at` below the second.
    pub fn to_mention(&self) -> Mention {
        use crate::names::{parse_kind, parse_source, parse_visibility};
        let author = Author {
            id: self.author_id.clone(),
            handle: self.author_handle.clone(),
            display_name: self.author_name.clone(),
            followers: self.author_followers,
            verified: self.author_verified != 0,
            location: self.author_location.clone(),
        };
        Mention {
            id: self.id.clone(),
            tenant: self.tenant.clone(),
            source: parse_source(&self.source).unwrap_or_default() as i32,
            visibility: parse_visibility(&self.visibility).unwrap_or_default() as i32,
            kind: parse_kind(&self.kind).unwrap_or_default() as i32,
            native_id: self.native_id.clone(),
            author: Some(author),
            text: self.text.clone(),
            title: self.title.clone(),
            url: self.url.clone(),
            language_hint: self.language_hint.clone(),
            country: self.country.clone(),
            created_at_ms: self.created_at_ms,
            engagement: Some(Engagement {
                likes: self.likes,
                shares: self.shares,
                comments: self.comments,
                views: self.views,
            }),
            rating: self.rating,
            parent_id: self.parent_id.clone(),
            thread_id: self.thread_id.clone(),
            received_at_ms: i64::from(self.received_at) * 1000,
            matched_rules: Vec::new(),
            city: self.city.clone(),
        }
    }
}

/// A row of the `alerts` table.
#[derive(Debug, Clone, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct AlertRow {
    pub tenant: String,
    pub id: String,
    pub watch_id: String,
    pub watch_name: String,
    pub rule: String,
    pub rule_type: String,
    pub severity: String,
    pub state: String,
    pub window_start: u32,
    pub window_end: u32,
    pub count: u64,
    pub baseline: f64,
    pub negative_count: u64,
    pub sample_mention_ids: Vec<String>,
    pub summary: String,
    pub raised_at: u32,
    pub version: u64,
    pub fired_at_ms: i64,
    pub updated_at_ms: i64,
    pub group_key: String,
    pub silenced_by: String,
    pub actor: String,
    pub score: f64,
    pub neutral_count: u64,
    pub positive_count: u64,
    /// "term:count" pairs.
    pub top_terms: Vec<String>,
    pub path: Vec<String>,
}

impl AlertRow {
    /// Flattens an alert into a row.
    pub fn from_alert(a: &Alert) -> Self {
        let ev = a.evidence.clone().unwrap_or_default();
        Self {
            tenant: a.tenant.clone(),
            id: a.id.clone(),
            watch_id: a.watch_id.clone(),
            watch_name: a.watch_name.clone(),
            rule: a.rule.clone(),
            rule_type: a.rule_type.clone(),
            severity: severity_name(Severity::try_from(a.severity).unwrap_or_default()).to_string(),
            state: state_name(AlertState::try_from(a.state).unwrap_or_default()).to_string(),
            window_start: secs(a.window_start_ms),
            window_end: secs(a.window_end_ms),
            count: ev.count,
            baseline: ev.baseline,
            negative_count: ev.negative_count,
            sample_mention_ids: ev.sample_mention_ids,
            summary: a.summary.clone(),
            raised_at: secs(a.raised_at_ms),
            version: a.version,
            fired_at_ms: a.fired_at_ms,
            updated_at_ms: a.updated_at_ms,
            group_key: a.group_key.clone(),
            silenced_by: a.silenced_by.clone(),
            actor: a.actor.clone(),
            score: ev.score,
            neutral_count: ev.neutral_count,
            positive_count: ev.positive_count,
            top_terms: ev
                .top_terms
                .iter()
                .map(|t| format!("{}:{}", t.term, t.count))
                .collect(),
            path: ev.path,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_files_split_into_statements() {
        for (_, name, sql) in MIGRATIONS {
            let statements = split_statements(sql);
            assert!(!statements.is_empty(), "{name}");
            for s in &statements {
                assert!(
                    ["CREATE", "ALTER", "INSERT"].iter().any(|k| s.starts_with(k)),
                    "{name}: {s}"
                );
                assert!(!s.contains(';'), "{name}: {s}");
            }
        }
    }
}
