//! The mentions in ClickHouse (the full stack): searches and `TestQuery` samples from the
//! `mentions` table, stats from it or from a watch's rollup. Every `WHERE` clause is a
//! [`Filter`] rendered to SQL (tenant first, every text a bound parameter), in SQL that
//! ClickHouse 18.16 runs; each query is stopped by ClickHouse at the caller's deadline.

use super::{BucketCounts, BucketSize, HitRow, MentionStore, Page, StatsQuery, StoreError, HIT_COLUMNS};
use super::{Condition, Filter, Sql, Table};
use serde::Deserialize;
use std::collections::HashMap;
use vigie_core::clickhouse::ClickHouse;

/// Mentions read from ClickHouse.
#[derive(Clone)]
pub struct ClickHouseStore {
    db: ClickHouse,
}

impl ClickHouseStore {
    /// A store reading through `db`.
    pub fn new(db: ClickHouse) -> Self {
        Self { db }
    }

    /// `sql` with `binds` bound in order, stopped by ClickHouse once `deadline` (seconds) has
    /// passed.
    fn query(&self, sql: &str, binds: &[String], deadline: Option<u64>) -> clickhouse::query::Query {
        let mut query = self.db.client().query(sql);
        if let Some(secs) = deadline {
            query = query.with_setting("max_execution_time", secs.to_string());
        }
        for b in binds {
            query = query.bind(b.as_str());
        }
        query
    }
}

/// A ClickHouse failure as what a caller should do: try again (unreachable or overloaded),
/// give up at its deadline, or report a query ClickHouse refused.
impl From<clickhouse::error::Error> for StoreError {
    fn from(e: clickhouse::error::Error) -> Self {
        use clickhouse::error::Error;
        // ClickHouse 18 names error codes by number only; later versions by name too.
        let says = |m: &str, codes: &[&str]| codes.iter().any(|c| m.contains(c));
        let kind: fn(Error) -> StoreError = match &e {
            Error::Network(_) | Error::TimedOut => StoreError::Unavailable,
            Error::BadResponse(m) if says(m, &["TIMEOUT_EXCEEDED", "Code: 159,"]) => {
                StoreError::DeadlineExceeded
            }
            Error::BadResponse(m)
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
                StoreError::Overloaded
            }
            _ => StoreError::Refused,
        };
        kind(e)
    }
}

/// The first step of a search: the page's (time, id), one more than `size` to tell whether
/// there is more. Without FINAL (which would merge every part of the tenant): `LIMIT 1 BY id`
/// keeps a redelivered mention once, its newest version first.
fn page_sql(filter: &Filter, size: usize) -> Result<Sql, StoreError> {
    let w = filter.sql(Table::Mentions)?;
    Ok(Sql {
        text: format!(
            "SELECT created_at_ms, id FROM mentions WHERE {} \
             ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {}",
            w.text,
            size + 1
        ),
        binds: w.binds,
    })
}

/// The second step of a search: the current version (FINAL) of `tenant`'s mentions `ids`, by
/// primary key.
fn rows_sql(tenant: &str, ids: Vec<String>) -> Result<Sql, StoreError> {
    let w = Filter::of_tenant(tenant)
        .and(Condition::IdIn(ids))
        .sql(Table::Mentions)?;
    Ok(Sql {
        text: format!("SELECT {HIT_COLUMNS} FROM mentions FINAL WHERE {}", w.text),
        binds: w.binds,
    })
}

/// The `n` most recent mentions of `tenant`, each once (as in [`page_sql`]).
fn recent_sql(tenant: &str, n: u32) -> Result<Sql, StoreError> {
    let w = Filter::of_tenant(tenant).sql(Table::Mentions)?;
    Ok(Sql {
        text: format!(
            "SELECT {HIT_COLUMNS} FROM mentions WHERE {} \
             ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {n}",
            w.text
        ),
        binds: w.binds,
    })
}

/// The counts of a stats request. A watch: from its rollup (distinct mentions). The whole
/// tenant: from the mentions themselves, each id once as its current version says (cheaper
/// than FINAL; a mention matched by several watches, or redelivered, counts once). Aliases
/// never reuse a column name: ClickHouse would substitute them inside `sumIf`.
fn stats_sql(q: &StatsQuery) -> Result<Sql, StoreError> {
    let filter = Filter::stats(q);
    if q.watch_id.is_empty() {
        let start = match q.bucket {
            BucketSize::Hour => "toStartOfHour(at)",
            BucketSize::Minute => "toStartOfMinute(at)",
        };
        let w = filter.sql(Table::MentionsBySecond)?;
        let text = format!(
            "SELECT toUInt32({start}) AS start, count() AS total, \
             countIf(label = 'negative') AS negative, countIf(label = 'neutral') AS neutral, \
             countIf(label = 'positive') AS positive FROM (\
             SELECT id, argMax(created_at, version) AS at, argMax(sentiment_label, version) AS label \
             FROM mentions WHERE {} GROUP BY id) GROUP BY start ORDER BY start",
            w.text
        );
        Ok(Sql { text, binds: w.binds })
    } else {
        let bucket = q.bucket.name();
        let w = filter.sql(Table::Rollup(q.bucket))?;
        let text = format!(
            "SELECT toUInt32({bucket}) AS start, sum(mentions) AS total, \
             sumIf(mentions, sentiment = 'negative') AS negative, sumIf(mentions, sentiment = 'neutral') AS neutral, \
             sumIf(mentions, sentiment = 'positive') AS positive FROM mentions_per_{bucket}_v \
             WHERE {} GROUP BY start ORDER BY start",
            w.text
        );
        Ok(Sql { text, binds: w.binds })
    }
}

/// One bucket as the stats queries answer it.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct BucketRow {
    start: u32,
    total: u64,
    negative: u64,
    neutral: u64,
    positive: u64,
}

#[async_trait::async_trait]
impl MentionStore for ClickHouseStore {
    /// Two steps: the page's (time, id) from the few columns the conditions read, then those
    /// mentions in full by primary key with FINAL. The page boundaries come from the first
    /// step; a mention whose current version no longer matches, or now has another time (a
    /// resend), is left out of this page (it shows where its current version belongs).
    async fn search(&self, filter: &Filter, size: usize, deadline: Option<u64>) -> Result<Page, StoreError> {
        let sql = page_sql(filter, size)?;
        let mut page: Vec<(i64, String)> = self.query(&sql.text, &sql.binds, deadline).fetch_all().await?;
        let more = page.len() > size;
        page.truncate(size);
        let next = if more { page.last().cloned() } else { None };
        if page.is_empty() {
            return Ok(Page {
                rows: Vec::new(),
                next,
            });
        }
        let ids = page.iter().map(|(_, id)| id.clone()).collect();
        let sql = rows_sql(filter.tenant(), ids)?;
        let current: Vec<HitRow> = self.query(&sql.text, &sql.binds, deadline).fetch_all().await?;
        let mut by_id: HashMap<String, HitRow> = current.into_iter().map(|h| (h.id.clone(), h)).collect();
        let rows = page
            .iter()
            .filter_map(|(t, id)| {
                by_id
                    .remove(id)
                    .filter(|h| h.created_at_ms == *t && filter.matches(filter.tenant(), h))
            })
            .collect();
        Ok(Page { rows, next })
    }

    async fn stats(&self, q: &StatsQuery, deadline: Option<u64>) -> Result<Vec<BucketCounts>, StoreError> {
        let sql = stats_sql(q)?;
        let rows: Vec<BucketRow> = self.query(&sql.text, &sql.binds, deadline).fetch_all().await?;
        Ok(rows
            .into_iter()
            .map(|b| BucketCounts {
                start_ms: b.start as i64 * 1000,
                total: b.total,
                negative: b.negative,
                neutral: b.neutral,
                positive: b.positive,
            })
            .collect())
    }

    async fn recent(&self, tenant: &str, n: u32, deadline: Option<u64>) -> Result<Vec<HitRow>, StoreError> {
        let sql = recent_sql(tenant, n)?;
        Ok(self.query(&sql.text, &sql.binds, deadline).fetch_all().await?)
    }
}

#[cfg(test)]
mod tests {
    //! Each statement against the one the previous version built (its code, copied here).
    use super::*;
    use vigie_core::proto::SearchMentionsRequest;

    #[test]
    fn search_statements_are_the_previous_ones() {
        let r = SearchMentionsRequest {
            watch_id: "w".into(),
            language: "fr".into(),
            sentiment: "negative".into(),
            source: "x".into(),
            visibility: "public".into(),
            text: "panne".into(),
            from_ms: 1_000,
            to_ms: 9_000,
            ..Default::default()
        };
        let (t, after_id) = (5_000_i64, "m7");
        let filter = Filter::search("acme", &r).and(Condition::OlderThan {
            at_ms: t,
            id: after_id.into(),
        });
        let sql = page_sql(&filter, 50).unwrap();
        // The previous version: `SearchFilter::sql`, then the keyset and the order.
        let conditions = " AND has(matched_watches, ?) AND language = ? AND sentiment_label = ? \
             AND source = ? AND visibility = ? AND positionCaseInsensitiveUTF8(text, ?) > 0 \
             AND created_at_ms >= 1000 AND created_at_ms < 9000";
        let mut old = format!("SELECT created_at_ms, id FROM mentions WHERE tenant = ?{conditions}");
        old.push_str(&format!(
            " AND (created_at_ms < {t} OR (created_at_ms = {t} AND id < ?))"
        ));
        old.push_str(&format!(
            " ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {}",
            50 + 1
        ));
        assert_eq!(sql.text, old);
        assert_eq!(
            sql.binds,
            ["acme", "acme/w", "fr", "negative", "x", "public", "panne", "m7"]
        );
        let sql = rows_sql("acme", vec!["a".into(), "b".into(), "c".into()]).unwrap();
        let placeholders = ["?"; 3].join(", ");
        let old =
            format!("SELECT {HIT_COLUMNS} FROM mentions FINAL WHERE tenant = ? AND id IN ({placeholders})");
        assert_eq!(
            (sql.text, sql.binds),
            (old, vec!["acme".into(), "a".into(), "b".into(), "c".into()])
        );
        let sql = recent_sql("acme", 1_000).unwrap();
        let n = 1_000;
        let old = format!(
            "SELECT {HIT_COLUMNS} FROM mentions WHERE tenant = ? \
                     ORDER BY created_at_ms DESC, id DESC, version DESC LIMIT 1 BY id LIMIT {n}"
        );
        assert_eq!((sql.text, sql.binds), (old, vec!["acme".to_string()]));
    }

    #[test]
    fn stats_statements_are_the_previous_ones() {
        let (from_ms, to_ms) = (1_700_000_000_123_i64, 1_700_003_600_000_i64);
        // The previous version's time range, on `column`.
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
        for (bucket, size) in [("hour", BucketSize::Hour), ("minute", BucketSize::Minute)] {
            let q = |watch_id: &str| StatsQuery {
                tenant: "acme".into(),
                watch_id: watch_id.into(),
                bucket: size,
                from_ms,
                to_ms,
            };
            let start = if bucket == "hour" {
                "toStartOfHour(at)"
            } else {
                "toStartOfMinute(at)"
            };
            let old = format!(
                "SELECT toUInt32({start}) AS start, count() AS total, \
                 countIf(label = 'negative') AS negative, countIf(label = 'neutral') AS neutral, \
                 countIf(label = 'positive') AS positive FROM (\
                 SELECT id, argMax(created_at, version) AS at, argMax(sentiment_label, version) AS label \
                 FROM mentions WHERE tenant = ?{} GROUP BY id) GROUP BY start ORDER BY start",
                range("created_at")
            );
            let sql = stats_sql(&q("")).unwrap();
            assert_eq!((sql.text, sql.binds), (old, vec!["acme".to_string()]), "{bucket}");
            let old = format!(
                "SELECT toUInt32({bucket}) AS start, sum(mentions) AS total, \
                 sumIf(mentions, sentiment = 'negative') AS negative, sumIf(mentions, sentiment = 'neutral') AS neutral, \
                 sumIf(mentions, sentiment = 'positive') AS positive FROM mentions_per_{bucket}_v \
                 WHERE tenant = ? AND watch = ?{} GROUP BY start ORDER BY start",
                range(bucket)
            );
            let sql = stats_sql(&q("w")).unwrap();
            assert_eq!(
                (sql.text, sql.binds),
                (old, vec!["acme".to_string(), "acme/w".to_string()]),
                "{bucket}"
            );
        }
        // Unbounded: the tenant alone.
        let all = StatsQuery {
            tenant: "acme".into(),
            watch_id: String::new(),
            bucket: BucketSize::Hour,
            from_ms: 0,
            to_ms: 0,
        };
        assert!(stats_sql(&all)
            .unwrap()
            .text
            .contains("FROM mentions WHERE tenant = ? GROUP BY id"));
    }
}
