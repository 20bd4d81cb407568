//! Where the API reads a tenant's mentions from, behind one interface, [`MentionStore`]:
//! ClickHouse's `mentions` table and its rollups for the full stack ([`ClickHouseStore`]), or a
//! bounded in-memory window of recent mentions for `vigie standalone` ([`MentionWindow`]).
//!
//! Both select mentions with the same [`Filter`] (defined once in [`filter`]: rendered to SQL
//! for ClickHouse, evaluated in memory for the window), and fail with a [`StoreError`] that says
//! what went wrong; the gRPC layer alone turns it into a status.

pub mod clickhouse;
pub mod filter;
pub mod window;

pub use self::clickhouse::ClickHouseStore;
pub use filter::{Condition, Field, Filter, Sql, Table};
pub use window::MentionWindow;

use serde::Deserialize;
use vigie_core::clickhouse::MentionRow;

/// The reads the gRPC services make of a tenant's mentions. `deadline` is the caller's
/// deadline in whole seconds (`None`: none): a remote store stops its query once it has passed.
#[async_trait::async_trait]
pub trait MentionStore: Send + Sync {
    /// One page of the mentions `filter` selects, newest first (by time, then id, both
    /// descending): at most `size`, and where the next page starts if there is more.
    async fn search(&self, filter: &Filter, size: usize, deadline: Option<u64>) -> Result<Page, StoreError>;

    /// Counts of the mentions `query` selects, per bucket, oldest bucket first (empty buckets
    /// are left out).
    async fn stats(&self, query: &StatsQuery, deadline: Option<u64>)
        -> Result<Vec<BucketCounts>, StoreError>;

    /// The `n` most recent mentions of `tenant`, newest first (what `TestQuery` tries a query
    /// on).
    async fn recent(&self, tenant: &str, n: u32, deadline: Option<u64>) -> Result<Vec<HitRow>, StoreError>;
}

/// What a store could not do, and why; the gRPC layer maps each kind to the status a client
/// acts on (try again, fix the call, report a bug).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// ClickHouse could not be reached, or did not answer in time: trying again may work.
    #[error("ClickHouse unavailable: {0}")]
    Unavailable(#[source] ::clickhouse::error::Error),
    /// ClickHouse refused the query for want of resources (too many queries, memory): trying
    /// again later may work.
    #[error("ClickHouse overloaded: {0}")]
    Overloaded(#[source] ::clickhouse::error::Error),
    /// ClickHouse stopped the query at the caller's deadline (`max_execution_time`).
    #[error("ClickHouse stopped the query at the call's deadline: {0}")]
    DeadlineExceeded(#[source] ::clickhouse::error::Error),
    /// ClickHouse refused the query itself (a bug in the query, or a schema that differs).
    #[error("ClickHouse refused the query: {0}")]
    Refused(#[source] ::clickhouse::error::Error),
    /// A filter asked for a condition the table it is rendered for cannot answer (a bug in
    /// the caller: such a filter is never built from a request).
    #[error("{table} cannot select mentions by {condition}")]
    Unsupported {
        /// The condition, by name (`text`, `visibility`, …).
        condition: &'static str,
        /// The table it was rendered for.
        table: &'static str,
    },
}

/// The size of a stats bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BucketSize {
    /// One minute.
    Minute,
    /// One hour.
    Hour,
}

impl BucketSize {
    /// Its length in milliseconds.
    pub fn ms(self) -> i64 {
        match self {
            Self::Minute => 60_000,
            Self::Hour => 3_600_000,
        }
    }

    /// Its name, which is also the time column of its ClickHouse rollup (`minute`, `hour`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Minute => "minute",
            Self::Hour => "hour",
        }
    }
}

/// A stats request: the mentions of a tenant (or of one of its watches) in a time range,
/// counted per bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsQuery {
    /// The caller's tenant.
    pub tenant: String,
    /// One watch's matches (counted from its rollup), or the whole tenant when empty.
    pub watch_id: String,
    /// The size of the buckets.
    pub bucket: BucketSize,
    /// From this time (ms, inclusive; 0: unbounded).
    pub from_ms: i64,
    /// Until this time (ms, exclusive; 0: unbounded).
    pub to_ms: i64,
}

/// The sentiment counts of one stats bucket.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BucketCounts {
    /// When the bucket starts (ms).
    pub start_ms: i64,
    /// Mentions in the bucket.
    pub total: u64,
    /// Of which negative.
    pub negative: u64,
    /// Of which neutral.
    pub neutral: u64,
    /// Of which positive.
    pub positive: u64,
}

/// One page of a search.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// The mentions of the page, newest first.
    pub rows: Vec<HitRow>,
    /// Where the next page starts (the last mention's time and id); `None` on the last page.
    pub next: Option<(i64, String)>,
}

/// The columns of `mentions` the API reads, in `HitRow`'s order.
pub(crate) const HIT_COLUMNS: &str = "id, created_at_ms, source, visibility, kind, author_id, author_handle, author_followers, \
     author_verified, text, title, country, language, sentiment_label, sentiment_score, toxicity, matched_watches, url, \
     place_country, place_city, place_confidence, place_source";

/// A mention as the API reads it: the columns of `mentions` a search answers with.
#[derive(Debug, Clone, PartialEq, ::clickhouse::Row, Deserialize)]
#[clickhouse(crate = "::clickhouse")]
pub struct HitRow {
    /// The mention's id.
    pub id: String,
    /// When it was created (ms).
    pub created_at_ms: i64,
    /// Its source (`x`, `reviews`, …).
    pub source: String,
    /// `public` or `private`.
    pub visibility: String,
    /// `post`, `reply`, …
    pub kind: String,
    /// The author's id at the source.
    pub author_id: String,
    /// The author's handle.
    pub author_handle: String,
    /// The author's followers.
    pub author_followers: u64,
    /// Whether the author is verified (0 or 1).
    pub author_verified: u8,
    /// The text.
    pub text: String,
    /// The title (reviews, articles).
    pub title: String,
    /// The country, when known.
    pub country: String,
    /// The detected language.
    pub language: String,
    /// `negative`, `neutral` or `positive`.
    pub sentiment_label: String,
    /// The sentiment score.
    pub sentiment_score: f32,
    /// The toxicity score.
    pub toxicity: f32,
    /// The watches that matched it (`"<tenant>/<watch>"`).
    pub matched_watches: Vec<String>,
    /// Its address at the source.
    pub url: String,
    /// The place enrich settled on: country (empty when unknown), city, confidence, source.
    pub place_country: String,
    /// The place's city.
    pub place_city: String,
    /// How sure the place is.
    pub place_confidence: f32,
    /// Where the place was read (`platform`, `profile`, `url`, `text`).
    pub place_source: String,
}

impl HitRow {
    /// The columns the API reads of a whole row.
    pub fn from_row(r: MentionRow) -> Self {
        Self {
            id: r.id,
            created_at_ms: r.created_at_ms,
            source: r.source,
            visibility: r.visibility,
            kind: r.kind,
            author_id: r.author_id,
            author_handle: r.author_handle,
            author_followers: r.author_followers,
            author_verified: r.author_verified,
            text: r.text,
            title: r.title,
            country: r.country,
            language: r.language,
            sentiment_label: r.sentiment_label,
            sentiment_score: r.sentiment_score,
            toxicity: r.toxicity,
            matched_watches: r.matched_watches,
            url: r.url,
            place_country: r.place_country,
            place_city: r.place_city,
            place_confidence: r.place_confidence,
            place_source: r.place_source,
        }
    }

    /// The place, as filters read it; for a row stored before places were, the platform's
    /// country.
    pub fn place(&self) -> vigie_core::places::Place {
        if self.place_source.is_empty() && self.country.len() == 2 {
            return vigie_core::places::Place {
                country: self.country.to_ascii_uppercase(),
                confidence: 1.0,
                source: vigie_core::places::PlaceSource::Platform,
                ..Default::default()
            };
        }
        vigie_core::places::Place {
            country: self.place_country.clone(),
            city: self.place_city.clone(),
            confidence: self.place_confidence,
            source: vigie_core::places::PlaceSource::from_name(&self.place_source),
        }
    }

    /// The mention again, enough to evaluate a query on it.
    pub fn to_document(&self) -> vigie_core::document::Document {
        use vigie_core::names::{parse_kind, parse_source, parse_visibility};
        let m = vigie_core::proto::Mention {
            id: self.id.clone(),
            source: parse_source(&self.source).unwrap_or_default() as i32,
            visibility: parse_visibility(&self.visibility).unwrap_or_default() as i32,
            kind: parse_kind(&self.kind).unwrap_or_default() as i32,
            author: Some(vigie_core::proto::Author {
                id: self.author_id.clone(),
                handle: self.author_handle.clone(),
                followers: self.author_followers,
                verified: self.author_verified != 0,
                ..Default::default()
            }),
            text: self.text.clone(),
            title: self.title.clone(),
            url: self.url.clone(),
            country: self.country.clone(),
            ..Default::default()
        };
        vigie_core::document::Document::from_mention_at(&m, &self.language, &self.place())
    }
}
