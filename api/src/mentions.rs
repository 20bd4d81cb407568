//! `vigie.v1.MentionService`: search a tenant's mentions and count them over time, from
//! ClickHouse. Every query filters on the caller's tenant first; every user value is a bound
//! parameter, never pasted into SQL.

use crate::auth::caller;
use crate::request::{keyset, next_keyset, one_of, page_size};
use serde::Deserialize;
use tonic::{Request, Response, Status};
use vigie_core::clickhouse::ClickHouse;
use vigie_core::proto::mention_service_server::{MentionService, MentionServiceServer};
use vigie_core::proto::{
    MentionHit, Role, SearchMentionsRequest, SearchMentionsResponse, StatsBucket, StatsRequest, StatsResponse,
};
use vigie_core::tokens::TokenStore;

/// The mention service; `None` for ClickHouse (standalone) answers UNAVAILABLE.
pub struct MentionApi {
    clickhouse: Option<ClickHouse>,
    tokens: TokenStore,
}

/// The columns of `mentions` the API reads.
const HIT_COLUMNS: &str = "id, created_at_ms, source, visibility, kind, author_id, author_handle, author_followers, \
     author_verified, text, title, country, language, sentiment_label, sentiment_score, toxicity, matched_watches, url";

/// A mention as the API reads it from ClickHouse.
#[derive(Debug, clickhouse::Row, Deserialize)]
pub(crate) struct HitRow {
    id: String,
    created_at_ms: i64,
    source: String,
    visibility: String,
    kind: String,
    author_id: String,
    author_handle: String,
    author_followers: u64,
    author_verified: u8,
    text: String,
    title: String,
    country: String,
    language: String,
    sentiment_label: String,
    sentiment_score: f32,
    toxicity: f32,
    matched_watches: Vec<String>,
    url: String,
}

impl HitRow {
    /// The mention again, enough to evaluate a query on it.
    pub(crate) fn to_document(&self) -> vigie_core::document::Document {
        use vigie_core::model::{parse_kind, parse_source, parse_visibility};
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
        vigie_core::document::Document::from_mention(&m, &self.language)
    }

    /// The API form.
    pub(crate) fn into_hit(self) -> MentionHit {
        MentionHit {
            id: self.id,
            created_at_ms: self.created_at_ms,
            source: self.source,
            visibility: self.visibility,
            author_handle: self.author_handle,
            text: self.text,
            language: self.language,
            sentiment: self.sentiment_label,
            sentiment_score: self.sentiment_score,
            toxicity: self.toxicity,
            matched_watches: self.matched_watches,
            url: self.url,
        }
    }
}

/// The `n` most recent mentions of `tenant`, newest first.
pub(crate) async fn recent(db: &ClickHouse, tenant: &str, n: u32) -> Result<Vec<HitRow>, Status> {
    let sql = format!(
        "SELECT {HIT_COLUMNS} FROM mentions FINAL WHERE tenant = ? ORDER BY created_at_ms DESC LIMIT {n}"
    );
    db.client()
        .query(&sql)
        .bind(tenant)
        .fetch_all()
        .await
        .map_err(|e| Status::unavailable(format!("ClickHouse: {e}")))
}

#[derive(Debug, clickhouse::Row, Deserialize)]
struct BucketRow {
    start: u32,
    total: u64,
    negative: u64,
    neutral: u64,
    positive: u64,
}

impl MentionApi {
    /// A service over `clickhouse`, checking `tokens`.
    pub fn new(clickhouse: Option<ClickHouse>, tokens: TokenStore) -> Self {
        Self { clickhouse, tokens }
    }

    /// The tonic server.
    pub fn into_server(self) -> MentionServiceServer<Self> {
        MentionServiceServer::new(self)
    }

    fn db(&self) -> Result<&ClickHouse, Status> {
        self.clickhouse.as_ref().ok_or_else(|| {
            Status::unavailable("mention search and stats need ClickHouse (not in standalone yet)")
        })
    }
}

#[tonic::async_trait]
impl MentionService for MentionApi {
    async fn search(
        &self,
        request: Request<SearchMentionsRequest>,
    ) -> Result<Response<SearchMentionsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let r = request.into_inner();
        one_of("sentiment", &r.sentiment, &["negative", "neutral", "positive"])?;
        one_of("visibility", &r.visibility, &["public", "private"])?;
        let size = page_size(r.page_size, 50, 500);
        let after = keyset(&r.page_token)?;
        let mut sql = format!("SELECT {HIT_COLUMNS} FROM mentions FINAL WHERE tenant = ?");
        let mut binds: Vec<String> = vec![p.tenant.clone()];
        let mut add = |clause: &str, value: String| {
            sql.push_str(clause);
            binds.push(value);
        };
        if !r.watch_id.is_empty() {
            add(
                " AND has(matched_watches, ?)",
                vigie_core::topics::watch_key(&p.tenant, &r.watch_id),
            );
        }
        for (column, value) in [
            ("language", &r.language),
            ("sentiment_label", &r.sentiment),
            ("source", &r.source),
            ("visibility", &r.visibility),
        ] {
            if !value.is_empty() {
                add(&format!(" AND {column} = ?"), value.clone());
            }
        }
        if !r.text.is_empty() {
            add(" AND positionCaseInsensitiveUTF8(text, ?) > 0", r.text.clone());
        }
        let mut query_sql = sql;
        if r.from_ms > 0 {
            query_sql.push_str(&format!(" AND created_at_ms >= {}", r.from_ms));
        }
        if r.to_ms > 0 {
            query_sql.push_str(&format!(" AND created_at_ms < {}", r.to_ms));
        }
        if let Some((t, _)) = &after {
            query_sql.push_str(&format!(
                " AND (created_at_ms < {t} OR (created_at_ms = {t} AND id < ?))"
            ));
        }
        query_sql.push_str(&format!(
            " ORDER BY created_at_ms DESC, id DESC LIMIT {}",
            size + 1
        ));
        let db = self.db()?;
        let mut q = db.client().query(&query_sql);
        for b in &binds {
            q = q.bind(b.as_str());
        }
        if let Some((_, id)) = &after {
            q = q.bind(id.as_str());
        }
        let mut rows: Vec<HitRow> = q
            .fetch_all()
            .await
            .map_err(|e| Status::unavailable(format!("ClickHouse: {e}")))?;
        let more = rows.len() > size;
        rows.truncate(size);
        let next_page_token = next_keyset(more, rows.last().map(|h| (h.created_at_ms, h.id.as_str())));
        let mentions = rows.into_iter().map(HitRow::into_hit).collect();
        Ok(Response::new(SearchMentionsResponse {
            mentions,
            next_page_token,
        }))
    }

    async fn stats(&self, request: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let r = request.into_inner();
        let bucket = match r.bucket.as_str() {
            "" | "hour" => "hour",
            "minute" if r.from_ms > 0 => "minute",
            "minute" => return Err(Status::invalid_argument("from_ms: required with minute buckets")),
            other => {
                return Err(Status::invalid_argument(format!(
                    "bucket: {other:?}: expected minute or hour"
                )))
            }
        };
        let range = |column: &str| {
            let mut s = String::new();
            if r.from_ms > 0 {
                s.push_str(&format!(" AND {column} >= toDateTime({})", r.from_ms / 1000));
            }
            if r.to_ms > 0 {
                s.push_str(&format!(" AND {column} < toDateTime({})", r.to_ms / 1000));
            }
            s
        };
        let db = self.db()?;
        // (Aliases never reuse a column name: ClickHouse would substitute them inside sumIf.)
        // A watch: its rollup (distinct mentions). The whole tenant: the mentions themselves
        // (a mention matched by several watches counts once).
        let rows: Vec<BucketRow> = if r.watch_id.is_empty() {
            let start = if bucket == "hour" { "toStartOfHour(created_at)" } else { "toStartOfMinute(created_at)" };
            let sql = format!(
                "SELECT toUInt32({start}) AS start, count() AS total, \
                 countIf(sentiment_label = 'negative') AS negative, countIf(sentiment_label = 'neutral') AS neutral, \
                 countIf(sentiment_label = 'positive') AS positive FROM mentions FINAL \
                 WHERE tenant = ?{} GROUP BY start ORDER BY start",
                range("created_at")
            );
            db.client().query(&sql).bind(p.tenant.as_str()).fetch_all().await
        } else {
            let sql = format!(
                "SELECT toUInt32({bucket}) AS start, sum(mentions) AS total, \
                 sumIf(mentions, sentiment = 'negative') AS negative, sumIf(mentions, sentiment = 'neutral') AS neutral, \
                 sumIf(mentions, sentiment = 'positive') AS positive FROM mentions_per_{bucket}_v \
                 WHERE tenant = ? AND watch = ?{} GROUP BY start ORDER BY start",
                range(bucket)
            );
            db.client()
                .query(&sql)
                .bind(p.tenant.as_str())
                .bind(vigie_core::topics::watch_key(&p.tenant, &r.watch_id).as_str())
                .fetch_all()
                .await
        }
        .map_err(|e| Status::unavailable(format!("ClickHouse: {e}")))?;
        Ok(Response::new(StatsResponse {
            buckets: rows
                .into_iter()
                .map(|b| StatsBucket {
                    start_ms: b.start as i64 * 1000,
                    mentions: b.total,
                    negative: b.negative,
                    neutral: b.neutral,
                    positive: b.positive,
                })
                .collect(),
        }))
    }
}
