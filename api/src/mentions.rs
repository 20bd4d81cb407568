//! `vigie.v1.MentionService`: search a tenant's mentions and count them over time, from
//! ClickHouse. Every query filters on the caller's tenant first; every user value is a bound
//! parameter, never pasted into SQL.

use crate::auth::caller;
use crate::request::{keyset, next_keyset, one_of, page_size};
use crate::window::MentionWindow;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use tonic::{Request, Response, Status};
use vigie_core::clickhouse::{ClickHouse, MentionRow};
use vigie_core::proto::mention_service_server::{MentionService, MentionServiceServer};
use vigie_core::proto::{
    MentionHit, Role, SearchMentionsRequest, SearchMentionsResponse, StatsBucket, StatsRequest, StatsResponse,
};
use vigie_core::tokens::TokenStore;

/// The mention service.
pub struct MentionApi {
    store: MentionStore,
    tokens: TokenStore,
}

/// Where the API reads mentions from (one per process: the size of the variants is no matter).
#[derive(Clone)]
#[allow(clippy::large_enum_variant)]
pub enum MentionStore {
    /// The `mentions` table and its rollups (the full stack).
    ClickHouse(ClickHouse),
    /// A bounded window of recent mentions in memory (`vigie standalone`).
    Window(MentionWindow),
}

/// The columns of `mentions` the API reads.
const HIT_COLUMNS: &str = "id, created_at_ms, source, visibility, kind, author_id, author_handle, author_followers, \
     author_verified, text, title, country, language, sentiment_label, sentiment_score, toxicity, matched_watches, url";

/// A mention as the API reads it.
#[derive(Debug, Clone, clickhouse::Row, Deserialize)]
pub(crate) struct HitRow {
    pub(crate) id: String,
    pub(crate) created_at_ms: i64,
    pub(crate) source: String,
    pub(crate) visibility: String,
    pub(crate) kind: String,
    pub(crate) author_id: String,
    pub(crate) author_handle: String,
    pub(crate) author_followers: u64,
    pub(crate) author_verified: u8,
    pub(crate) text: String,
    pub(crate) title: String,
    pub(crate) country: String,
    pub(crate) language: String,
    pub(crate) sentiment_label: String,
    pub(crate) sentiment_score: f32,
    pub(crate) toxicity: f32,
    pub(crate) matched_watches: Vec<String>,
    pub(crate) url: String,
}

impl HitRow {
    /// The columns the API reads of a whole row.
    pub(crate) fn from_row(r: MentionRow) -> Self {
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
        }
    }

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

#[derive(Debug, clickhouse::Row, Deserialize)]
struct BucketRow {
    start: u32,
    total: u64,
    negative: u64,
    neutral: u64,
    positive: u64,
}

/// A checked search: every condition but the tenant and the page.
#[derive(Debug, Default)]
struct SearchFilter {
    /// "<tenant>/<watch>" when searching one watch's matches.
    watch_key: String,
    language: String,
    sentiment: String,
    source: String,
    visibility: String,
    text: String,
    from_ms: i64,
    to_ms: i64,
}

impl SearchFilter {
    fn new(tenant: &str, r: &SearchMentionsRequest) -> Result<Self, Status> {
        one_of("sentiment", &r.sentiment, &["negative", "neutral", "positive"])?;
        one_of("visibility", &r.visibility, &["public", "private"])?;
        if r.from_ms > 0 && r.to_ms > 0 && r.to_ms <= r.from_ms {
            return Err(crate::request::invalid("to_ms", "must be after from_ms"));
        }
        Ok(Self {
            watch_key: if r.watch_id.is_empty() {
                String::new()
            } else {
                vigie_core::topics::watch_key(tenant, &r.watch_id)
            },
            language: r.language.clone(),
            sentiment: r.sentiment.clone(),
            source: r.source.clone(),
            visibility: r.visibility.clone(),
            text: r.text.clone(),
            from_ms: r.from_ms,
            to_ms: r.to_ms,
        })
    }

    /// The same conditions as [`SearchFilter::sql`], on a mention in memory.
    fn matches(&self, h: &HitRow) -> bool {
        let eq = |wanted: &str, value: &str| wanted.is_empty() || wanted == value;
        (self.watch_key.is_empty() || h.matched_watches.contains(&self.watch_key))
            && eq(&self.language, &h.language)
            && eq(&self.sentiment, &h.sentiment_label)
            && eq(&self.source, &h.source)
            && eq(&self.visibility, &h.visibility)
            && (self.from_ms <= 0 || h.created_at_ms >= self.from_ms)
            && (self.to_ms <= 0 || h.created_at_ms < self.to_ms)
            && (self.text.is_empty() || h.text.to_lowercase().contains(&self.text.to_lowercase()))
    }

    /// The conditions as SQL after `WHERE tenant = ?`, and the values to bind, in order.
    fn sql(&self) -> (String, Vec<String>) {
        let mut sql = String::new();
        let mut binds = Vec::new();
        if !self.watch_key.is_empty() {
            sql.push_str(" AND has(matched_watches, ?)");
            binds.push(self.watch_key.clone());
        }
        for (column, value) in [
            ("language", &self.language),
            ("sentiment_label", &self.sentiment),
            ("source", &self.source),
            ("visibility", &self.visibility),
        ] {
            if !value.is_empty() {
                sql.push_str(&format!(" AND {column} = ?"));
                binds.push(value.clone());
            }
        }
        if !self.text.is_empty() {
            sql.push_str(" AND positionCaseInsensitiveUTF8(text, ?) > 0");
            binds.push(self.text.clone());
        }
        if self.from_ms > 0 {
            sql.push_str(&format!(" AND created_at_ms >= {}", self.from_ms));
        }
        if self.to_ms > 0 {
            sql.push_str(&format!(" AND created_at_ms < {}", self.to_ms));
        }
        (sql, binds)
    }
}

/// A ClickHouse failure as a status: UNAVAILABLE when trying again may work (the server is
/// unreachable or overloaded), INTERNAL when the query itself was refused.
pub(crate) fn clickhouse_status(e: clickhouse::error::Error) -> Status {
    use clickhouse::error::Error;
    // ClickHouse 18 names error codes by number only; later versions by name too.
    let says = |m: &str, codes: &[&str]| codes.iter().any(|c| m.contains(c));
    match e {
        Error::Network(_) | Error::TimedOut => Status::unavailable(format!("ClickHouse unavailable: {e}")),
        Error::BadResponse(ref m) if says(m, &["TIMEOUT_EXCEEDED", "Code: 159,"]) => {
            Status::deadline_exceeded(format!(
                "ClickHouse stopped the query at the call's deadline: {e}"
            ))
        }
        Error::BadResponse(ref m)
            if says(
                m,
                &[
                    "TOO_MANY_SIMULTANEOUS_QUERIES",
                    "MEMORY_LIMIT_EXCEEDED",
                    "Code: 202,",
                    "Code: 241,",
                ],
            ) =>
        {
            Status::unavailable(format!("ClickHouse overloaded: {e}"))
        }
        other => Status::internal(format!("ClickHouse refused the query: {other}")),
    }
}

/// `query` stopped by ClickHouse once the caller's deadline has passed.
fn bounded(query: clickhouse::query::Query, deadline: Option<u64>) -> clickhouse::query::Query {
    match deadline {
        Some(secs) => query.with_setting("max_execution_time", secs.to_string()),
        None => query,
    }
}

/// One page of a search.
struct Page {
    rows: Vec<HitRow>,
    /// Where the next page starts; `None` on the last page.
    next: Option<(i64, String)>,
}

/// Sentiment counts of one bucket.
#[derive(Default)]
struct Counts {
    total: u64,
    negative: u64,
    neutral: u64,
    positive: u64,
}

impl MentionStore {
    /// The `n` most recent mentions of `tenant`, newest first.
    pub(crate) async fn recent(
        &self,
        tenant: &str,
        n: u32,
        deadline: Option<u64>,
    ) -> Result<Vec<HitRow>, Status> {
        match self {
            Self::ClickHouse(db) => {
                // Without FINAL (which would merge every part of the tenant): `LIMIT 1 BY id`
                // keeps a redelivered mention once.
                let sql = format!(
                    "SELECT {HIT_COLUMNS} FROM mentions WHERE tenant = ? \
                     ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {n}"
                );
                bounded(db.client().query(&sql), deadline)
                    .bind(tenant)
                    .fetch_all()
                    .await
                    .map_err(clickhouse_status)
            }
            Self::Window(w) => {
                let mut held = w.of_tenant(tenant, |_| true);
                held.sort_by_key(|h| std::cmp::Reverse(h.hit.created_at_ms));
                Ok(held.into_iter().take(n as usize).map(|h| h.hit.clone()).collect())
            }
        }
    }

    /// One page of `tenant`'s mentions matching `filter`, newest first, after the keyset
    /// position `after`: at most `size` rows, and where the next page starts if there is one.
    async fn search(
        &self,
        tenant: &str,
        filter: &SearchFilter,
        after: Option<(i64, String)>,
        size: usize,
        deadline: Option<u64>,
    ) -> Result<Page, Status> {
        let before = |h: &HitRow| match &after {
            None => true,
            Some((t, id)) => h.created_at_ms < *t || (h.created_at_ms == *t && h.id.as_str() < id.as_str()),
        };
        match self {
            Self::Window(w) => {
                let mut held = w.of_tenant(tenant, |h| filter.matches(h) && before(h));
                held.sort_by(|a, b| (b.hit.created_at_ms, &b.hit.id).cmp(&(a.hit.created_at_ms, &a.hit.id)));
                let more = held.len() > size;
                let rows: Vec<HitRow> = held.into_iter().take(size).map(|h| h.hit.clone()).collect();
                let next = more
                    .then(|| rows.last().map(|h| (h.created_at_ms, h.id.clone())))
                    .flatten();
                Ok(Page { rows, next })
            }
            Self::ClickHouse(db) => {
                // Two steps: the page's (time, id) from the few columns the conditions read,
                // without FINAL (`LIMIT 1 BY id` keeps a redelivered mention once, its newest
                // version first), then those mentions in full by primary key with FINAL. The
                // page boundaries come from the first step; a mention whose current version no
                // longer matches, or now has another time (a resend), is left out of this page
                // (it shows where its current version belongs).
                let (conditions, binds) = filter.sql();
                let mut sql = format!("SELECT created_at_ms, id FROM mentions WHERE tenant = ?{conditions}");
                if let Some((t, _)) = &after {
                    sql.push_str(&format!(
                        " AND (created_at_ms < {t} OR (created_at_ms = {t} AND id < ?))"
                    ));
                }
                sql.push_str(&format!(
                    " ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {}",
                    size + 1
                ));
                let mut q = bounded(db.client().query(&sql), deadline).bind(tenant);
                for b in &binds {
                    q = q.bind(b.as_str());
                }
                if let Some((_, id)) = &after {
                    q = q.bind(id.as_str());
                }
                let mut page: Vec<(i64, String)> = q.fetch_all().await.map_err(clickhouse_status)?;
                let more = page.len() > size;
                page.truncate(size);
                let next = if more { page.last().cloned() } else { None };
                if page.is_empty() {
                    return Ok(Page {
                        rows: Vec::new(),
                        next,
                    });
                }
                let placeholders = vec!["?"; page.len()].join(", ");
                let sql = format!(
                    "SELECT {HIT_COLUMNS} FROM mentions FINAL WHERE tenant = ? AND id IN ({placeholders})"
                );
                let mut q = bounded(db.client().query(&sql), deadline).bind(tenant);
                for (_, id) in &page {
                    q = q.bind(id.as_str());
                }
                let current: Vec<HitRow> = q.fetch_all().await.map_err(clickhouse_status)?;
                let mut by_id: HashMap<String, HitRow> =
                    current.into_iter().map(|h| (h.id.clone(), h)).collect();
                let rows = page
                    .iter()
                    .filter_map(|(t, id)| {
                        by_id
                            .remove(id)
                            .filter(|h| h.created_at_ms == *t && filter.matches(h))
                    })
                    .collect();
                Ok(Page { rows, next })
            }
        }
    }

    /// Counts of `tenant`'s mentions (or of one watch's matches) per `bucket` ("minute" or
    /// "hour") in [from_ms, to_ms) (0: unbounded), oldest bucket first.
    #[allow(clippy::too_many_arguments)]
    async fn stats(
        &self,
        tenant: &str,
        watch_id: &str,
        bucket: &str,
        from_ms: i64,
        to_ms: i64,
        deadline: Option<u64>,
    ) -> Result<Vec<StatsBucket>, Status> {
        let bucket_ms: i64 = if bucket == "hour" { 3_600_000 } else { 60_000 };
        let rows = match self {
            Self::Window(w) => {
                // The search's conditions, with only a watch and a time range.
                let filter = SearchFilter {
                    watch_key: if watch_id.is_empty() {
                        String::new()
                    } else {
                        vigie_core::topics::watch_key(tenant, watch_id)
                    },
                    from_ms,
                    to_ms,
                    ..Default::default()
                };
                let held = w.of_tenant(tenant, |h| filter.matches(h));
                let mut buckets: BTreeMap<i64, Counts> = BTreeMap::new();
                for h in held {
                    let c = buckets
                        .entry(h.hit.created_at_ms.div_euclid(bucket_ms) * bucket_ms)
                        .or_default();
                    c.total += 1;
                    match h.hit.sentiment_label.as_str() {
                        "negative" => c.negative += 1,
                        "neutral" => c.neutral += 1,
                        "positive" => c.positive += 1,
                        _ => {}
                    }
                }
                buckets.into_iter().collect::<Vec<_>>()
            }
            Self::ClickHouse(db) => {
                let range = |column: &str| {
                    let mut s = String::new();
                    if from_ms > 0 {
                        s.push_str(&format!(" AND {column} >= toDateTime({})", from_ms / 1000));
                    }
                    if to_ms > 0 {
                        s.push_str(&format!(" AND {column} < toDateTime({})", to_ms / 1000));
                    }
                    s
                };
                // (Aliases never reuse a column name: ClickHouse would substitute them inside sumIf.)
                // A watch: its rollup (distinct mentions). The whole tenant: the mentions
                // themselves, each id once (a mention matched by several watches, or
                // redelivered, counts once).
                let rows: Vec<BucketRow> = if watch_id.is_empty() {
                    let start = if bucket == "hour" { "toStartOfHour(at)" } else { "toStartOfMinute(at)" };
                    // Each mention once, as its current version says (cheaper than FINAL).
                    let sql = format!(
                        "SELECT toUInt32({start}) AS start, count() AS total, \
                         countIf(label = 'negative') AS negative, countIf(label = 'neutral') AS neutral, \
                         countIf(label = 'positive') AS positive FROM (\
                         SELECT id, argMax(created_at, version) AS at, argMax(sentiment_label, version) AS label \
                         FROM mentions WHERE tenant = ?{} GROUP BY id) GROUP BY start ORDER BY start",
                        range("created_at")
                    );
                    bounded(db.client().query(&sql), deadline).bind(tenant).fetch_all().await
                } else {
                    let sql = format!(
                        "SELECT toUInt32({bucket}) AS start, sum(mentions) AS total, \
                         sumIf(mentions, sentiment = 'negative') AS negative, sumIf(mentions, sentiment = 'neutral') AS neutral, \
                         sumIf(mentions, sentiment = 'positive') AS positive FROM mentions_per_{bucket}_v \
                         WHERE tenant = ? AND watch = ?{} GROUP BY start ORDER BY start",
                        range(bucket)
                    );
                    bounded(db.client().query(&sql), deadline)
                        .bind(tenant)
                        .bind(vigie_core::topics::watch_key(tenant, watch_id).as_str())
                        .fetch_all()
                        .await
                }
                .map_err(clickhouse_status)?;
                rows.into_iter()
                    .map(|b| {
                        let counts = Counts {
                            total: b.total,
                            negative: b.negative,
                            neutral: b.neutral,
                            positive: b.positive,
                        };
                        (b.start as i64 * 1000, counts)
                    })
                    .collect()
            }
        };
        Ok(rows
            .into_iter()
            .map(|(start_ms, c)| StatsBucket {
                start_ms,
                mentions: c.total,
                negative: c.negative,
                neutral: c.neutral,
                positive: c.positive,
            })
            .collect())
    }
}

impl MentionApi {
    /// A service reading `store`, checking `tokens`.
    pub fn new(store: MentionStore, tokens: TokenStore) -> Self {
        Self { store, tokens }
    }

    /// The tonic server.
    pub fn into_server(self) -> MentionServiceServer<Self> {
        MentionServiceServer::new(self)
    }
}

#[tonic::async_trait]
impl MentionService for MentionApi {
    async fn search(
        &self,
        request: Request<SearchMentionsRequest>,
    ) -> Result<Response<SearchMentionsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let deadline = crate::request::deadline_secs(&request);
        let r = request.into_inner();
        let filter = SearchFilter::new(&p.tenant, &r)?;
        let size = page_size(r.page_size, 50, 500);
        let after = keyset(&r.page_token)?;
        let page = self
            .store
            .search(&p.tenant, &filter, after, size, deadline)
            .await?;
        let next_page_token = next_keyset(
            page.next.is_some(),
            page.next.as_ref().map(|(t, id)| (*t, id.as_str())),
        );
        let mentions = page.rows.into_iter().map(HitRow::into_hit).collect();
        Ok(Response::new(SearchMentionsResponse {
            mentions,
            next_page_token,
        }))
    }

    async fn stats(&self, request: Request<StatsRequest>) -> Result<Response<StatsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let deadline = crate::request::deadline_secs(&request);
        let r = request.into_inner();
        let bucket = match r.bucket.as_str() {
            "" | "hour" => "hour",
            "minute" if r.from_ms > 0 => "minute",
            "minute" => return Err(crate::request::invalid("from_ms", "required with minute buckets")),
            other => {
                return Err(crate::request::invalid(
                    "bucket",
                    &format!("{other:?}: expected minute or hour"),
                ))
            }
        };
        if r.from_ms > 0 && r.to_ms > 0 && r.to_ms <= r.from_ms {
            return Err(crate::request::invalid("to_ms", "must be after from_ms"));
        }
        let buckets = self
            .store
            .stats(&p.tenant, &r.watch_id, bucket, r.from_ms, r.to_ms, deadline)
            .await?;
        Ok(Response::new(StatsResponse { buckets }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{tokens_for, with};
    use vigie_core::proto::{EnrichedMention, Mention, SentimentLabel};

    fn enriched(
        tenant: &str,
        id: &str,
        at_ms: i64,
        text: &str,
        negative: bool,
        watch: &str,
    ) -> EnrichedMention {
        EnrichedMention {
            mention: Some(Mention {
                tenant: tenant.into(),
                id: id.into(),
                created_at_ms: at_ms,
                text: text.into(),
                ..Default::default()
            }),
            language: "fr".into(),
            sentiment_label: if negative {
                SentimentLabel::Negative
            } else {
                SentimentLabel::Positive
            } as i32,
            matched_watches: if watch.is_empty() {
                vec![]
            } else {
                vec![vigie_core::topics::watch_key(tenant, watch)]
            },
            ..Default::default()
        }
    }

    /// Tenant "a" has 25 mentions a minute apart (every third negative, every other one
    /// matched by watch "w"); tenant "b" has one, with the same text and watch name.
    fn window_api() -> (MentionApi, Vec<String>) {
        let window = MentionWindow::new(1_000);
        let t0 = 1_700_000_000_000 - 1_700_000_000_000 % 3_600_000;
        for i in 0..25 {
            window.push(&enriched(
                "a",
                &format!("m{i:02}"),
                t0 + i * 60_000,
                &format!("Panne n°{i}"),
                i % 3 == 0,
                if i % 2 == 0 { "w" } else { "" },
            ));
        }
        window.push(&enriched("b", "secret", t0, "panne chez b", true, "w"));
        let (tokens, keys) = tokens_for(&[("a", Role::Reader), ("b", Role::Reader)]);
        (MentionApi::new(MentionStore::Window(window), tokens), keys)
    }

    #[tokio::test]
    async fn window_search_pages_newest_first_and_filters_like_sql() {
        let (api, keys) = window_api();
        let mut ids = Vec::new();
        let mut token = String::new();
        loop {
            let page = api
                .search(with(
                    &keys[0],
                    SearchMentionsRequest {
                        text: "PANNE".into(),
                        page_size: 10,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            ids.extend(page.mentions.into_iter().map(|m| m.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let expected: Vec<String> = (0..25).rev().map(|i| format!("m{i:02}")).collect();
        assert_eq!(ids, expected, "every mention once, newest first, across pages");
        let negative_of_w = api
            .search(with(
                &keys[0],
                SearchMentionsRequest {
                    watch_id: "w".into(),
                    sentiment: "negative".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let got: Vec<String> = negative_of_w.mentions.into_iter().map(|m| m.id).collect();
        assert_eq!(got, ["m24", "m18", "m12", "m06", "m00"]);
        // Tenant b sees its own one mention only.
        let b = api
            .search(with(&keys[1], SearchMentionsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(b.mentions.len(), 1);
        assert_eq!(b.mentions[0].id, "secret");
        let bad = api
            .search(with(
                &keys[0],
                SearchMentionsRequest {
                    sentiment: "angry".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
    }

    #[test]
    fn clickhouse_failures_map_to_what_a_client_should_do() {
        use clickhouse::error::Error;
        let code = |e: Error| clickhouse_status(e).code();
        assert_eq!(code(Error::TimedOut), tonic::Code::Unavailable);
        let timeout = "Code: 159, e.displayText() = DB::Exception: Timeout exceeded: elapsed 1.0 seconds";
        assert_eq!(
            code(Error::BadResponse(timeout.into())),
            tonic::Code::DeadlineExceeded
        );
        let busy = "Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries";
        assert_eq!(code(Error::BadResponse(busy.into())), tonic::Code::Unavailable);
        let wrong = "Code: 47, e.displayText() = DB::Exception: Unknown identifier: nope";
        assert_eq!(code(Error::BadResponse(wrong.into())), tonic::Code::Internal);
    }

    #[tokio::test]
    async fn window_stats_count_per_bucket_and_sentiment() {
        let (api, keys) = window_api();
        let hours = api
            .stats(with(&keys[0], StatsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(hours.buckets.len(), 1, "25 minutes from the start of an hour");
        assert_eq!(
            (
                hours.buckets[0].mentions,
                hours.buckets[0].negative,
                hours.buckets[0].positive
            ),
            (25, 9, 16)
        );
        let t0 = hours.buckets[0].start_ms;
        let minutes = api
            .stats(with(
                &keys[0],
                StatsRequest {
                    bucket: "minute".into(),
                    from_ms: t0 + 60_000,
                    to_ms: t0 + 4 * 60_000,
                    watch_id: "w".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let starts: Vec<i64> = minutes
            .buckets
            .iter()
            .map(|b| (b.start_ms - t0) / 60_000)
            .collect();
        assert_eq!(starts, [2], "of minutes 1..4, only minute 2 is matched by w");
        let refused = api
            .stats(with(
                &keys[0],
                StatsRequest {
                    bucket: "minute".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().contains("from_ms"), "{}", refused.message());
    }
}
