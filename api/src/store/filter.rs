//! Which of a tenant's mentions a read selects, defined once as data: a [`Filter`] is a tenant
//! and a list of [`Condition`]s, rendered to ClickHouse SQL with bound parameters
//! ([`Filter::sql`]) or evaluated on a mention in memory ([`Filter::matches`]).
//!
//! Each condition's SQL and its evaluation sit side by side in one `match` each, so a new
//! condition is one variant here, and ClickHouse and the standalone window cannot drift apart.
//! A filter cannot be built without a tenant: every read selects within the caller's tenant.

use super::{HitRow, StatsQuery, StoreError};
use vigie_core::proto::SearchMentionsRequest;

/// A text column a [`Condition::Is`] compares with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The detected language (`language`).
    Language,
    /// `negative`, `neutral` or `positive` (`sentiment_label`; `sentiment` in the rollups).
    Sentiment,
    /// The source (`source`).
    Source,
    /// `public` or `private` (`visibility`; not in the rollups).
    Visibility,
}

impl Field {
    /// Its name, as a request calls it.
    fn name(self) -> &'static str {
        match self {
            Self::Language => "language",
            Self::Sentiment => "sentiment",
            Self::Source => "source",
            Self::Visibility => "visibility",
        }
    }

    /// Its column in `table`, if the table has it.
    fn column(self, table: Table) -> Option<&'static str> {
        match (self, table) {
            (Self::Language, _) => Some("language"),
            (Self::Source, _) => Some("source"),
            (Self::Sentiment, Table::Rollup(_)) => Some("sentiment"),
            (Self::Sentiment, _) => Some("sentiment_label"),
            (Self::Visibility, Table::Rollup(_)) => None,
            (Self::Visibility, _) => Some("visibility"),
        }
    }

    /// Its value on `m`.
    fn of(self, m: &HitRow) -> &str {
        match self {
            Self::Language => &m.language,
            Self::Sentiment => &m.sentiment_label,
            Self::Source => &m.source,
            Self::Visibility => &m.visibility,
        }
    }
}

/// What a filter's SQL runs against: where each condition's column is, and how precise time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// `mentions`, times to the millisecond (`created_at_ms`): searches.
    Mentions,
    /// `mentions`, times by their second (`created_at`, the partition column): the whole
    /// tenant's stats.
    MentionsBySecond,
    /// A watch rollup, `mentions_per_minute_v` or `mentions_per_hour_v`: one row per watch
    /// (`watch`), bucket (its time column, by the second), source, language and sentiment.
    Rollup(super::BucketSize),
}

impl Table {
    /// Its name, for error messages.
    fn name(self) -> &'static str {
        match self {
            Self::Mentions => "mentions",
            Self::MentionsBySecond => "mentions (by second)",
            Self::Rollup(super::BucketSize::Minute) => "mentions_per_minute_v",
            Self::Rollup(super::BucketSize::Hour) => "mentions_per_hour_v",
        }
    }

    /// The time column compared with `ms`, and `ms` as that column's SQL literal.
    fn time(self, ms: i64) -> (&'static str, String) {
        match self {
            Self::Mentions => ("created_at_ms", ms.to_string()),
            Self::MentionsBySecond => ("created_at", format!("toDateTime({})", ms / 1000)),
            Self::Rollup(bucket) => (bucket.name(), format!("toDateTime({})", ms / 1000)),
        }
    }
}

/// One condition on a mention, beyond its tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Matched by the watch with this key (`"<tenant>/<watch id>"`).
    Watch(String),
    /// The field has exactly this value.
    Is(Field, String),
    /// The text contains this, whatever the case.
    TextContains(String),
    /// Created at or after this time (ms; by its second where the table keeps seconds).
    Since(i64),
    /// Created before this time (ms; by its second where the table keeps seconds).
    Until(i64),
    /// After this position in newest-first order: older than `at_ms`, or as old with a
    /// smaller id. The rest of a search whose previous page ended there.
    OlderThan {
        /// The time of the position (ms).
        at_ms: i64,
        /// The id of the position.
        id: String,
    },
    /// One of these ids.
    IdIn(Vec<String>),
}

impl Condition {
    /// Its name, for error messages.
    fn name(&self) -> &'static str {
        match self {
            Self::Watch(_) => "watch",
            Self::Is(field, _) => field.name(),
            Self::TextContains(_) => "text",
            Self::Since(_) => "from_ms",
            Self::Until(_) => "to_ms",
            Self::OlderThan { .. } => "page position",
            Self::IdIn(_) => "id",
        }
    }

    /// This condition as SQL on `table`, its values pushed on `binds` in the order of its `?`.
    /// Times are integers written into the SQL; every text is bound.
    fn sql(&self, table: Table, binds: &mut Vec<String>) -> Result<String, StoreError> {
        let unsupported = || StoreError::Unsupported {
            condition: self.name(),
            table: table.name(),
        };
        let rollup = matches!(table, Table::Rollup(_));
        Ok(match self {
            Self::Watch(key) => {
                binds.push(key.clone());
                let test = if rollup {
                    "watch = ?"
                } else {
                    "has(matched_watches, ?)"
                };
                test.to_string()
            }
            Self::Is(field, value) => {
                let column = field.column(table).ok_or_else(unsupported)?;
                binds.push(value.clone());
                format!("{column} = ?")
            }
            Self::TextContains(_) | Self::OlderThan { .. } | Self::IdIn(_) if rollup => {
                return Err(unsupported())
            }
            Self::TextContains(text) => {
                binds.push(text.clone());
                "positionCaseInsensitiveUTF8(text, ?) > 0".to_string()
            }
            Self::Since(ms) => {
                let (column, at) = table.time(*ms);
                format!("{column} >= {at}")
            }
            Self::Until(ms) => {
                let (column, at) = table.time(*ms);
                format!("{column} < {at}")
            }
            Self::OlderThan { at_ms, id } => {
                binds.push(id.clone());
                format!("(created_at_ms < {at_ms} OR (created_at_ms = {at_ms} AND id < ?))")
            }
            // No id at all selects nothing.
            Self::IdIn(ids) if ids.is_empty() => "0".to_string(),
            Self::IdIn(ids) => {
                binds.extend(ids.iter().cloned());
                format!("id IN ({})", vec!["?"; ids.len()].join(", "))
            }
        })
    }

    /// Whether `m` meets this condition (times to the millisecond).
    fn holds(&self, m: &HitRow) -> bool {
        match self {
            Self::Watch(key) => m.matched_watches.contains(key),
            Self::Is(field, value) => field.of(m) == value,
            Self::TextContains(text) => m.text.to_lowercase().contains(&text.to_lowercase()),
            Self::Since(ms) => m.created_at_ms >= *ms,
            Self::Until(ms) => m.created_at_ms < *ms,
            Self::OlderThan { at_ms, id } => {
                m.created_at_ms < *at_ms || (m.created_at_ms == *at_ms && m.id.as_str() < id.as_str())
            }
            Self::IdIn(ids) => ids.contains(&m.id),
        }
    }
}

/// A tenant's mentions that meet every condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    tenant: String,
    conditions: Vec<Condition>,
}

/// A `WHERE` clause and the values bound to its `?`, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sql {
    /// The conditions, joined by `AND`.
    pub text: String,
    /// The values of its `?`, in order.
    pub binds: Vec<String>,
}

impl Filter {
    /// Every mention of `tenant`.
    pub fn of_tenant(tenant: impl Into<String>) -> Self {
        Self {
            tenant: tenant.into(),
            conditions: Vec::new(),
        }
    }

    /// The same, meeting `condition` too (rendered after the conditions already there).
    pub fn and(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// The tenant it selects within.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The conditions of a (checked) search request of `tenant`: a field left empty, or a time
    /// of 0, selects everything. The page position is not among them (see
    /// [`Condition::OlderThan`]).
    pub fn search(tenant: &str, r: &SearchMentionsRequest) -> Self {
        let mut filter = Self::of_tenant(tenant).watch(&r.watch_id);
        for (field, value) in [
            (Field::Language, &r.language),
            (Field::Sentiment, &r.sentiment),
            (Field::Source, &r.source),
            (Field::Visibility, &r.visibility),
        ] {
            if !value.is_empty() {
                filter = filter.and(Condition::Is(field, value.clone()));
            }
        }
        if !r.text.is_empty() {
            filter = filter.and(Condition::TextContains(r.text.clone()));
        }
        filter.within(r.from_ms, r.to_ms)
    }

    /// The conditions of a stats request: its tenant, its watch if any, its time range.
    pub fn stats(q: &StatsQuery) -> Self {
        Self::of_tenant(q.tenant.as_str())
            .watch(&q.watch_id)
            .within(q.from_ms, q.to_ms)
    }

    /// Matched by the tenant's watch `watch_id`, unless empty.
    fn watch(self, watch_id: &str) -> Self {
        if watch_id.is_empty() {
            return self;
        }
        let key = vigie_core::topics::watch_key(&self.tenant, watch_id);
        self.and(Condition::Watch(key))
    }

    /// Within [`from_ms`, `to_ms`), each bound only when positive.
    fn within(mut self, from_ms: i64, to_ms: i64) -> Self {
        if from_ms > 0 {
            self = self.and(Condition::Since(from_ms));
        }
        if to_ms > 0 {
            self = self.and(Condition::Until(to_ms));
        }
        self
    }

    /// The filter as the SQL after `WHERE` on `table`: `tenant = ?` first, then each condition
    /// in order, joined by `AND`; an error if `table` cannot answer one of them.
    pub fn sql(&self, table: Table) -> Result<Sql, StoreError> {
        let mut binds = vec![self.tenant.clone()];
        let mut text = String::from("tenant = ?");
        for condition in &self.conditions {
            text.push_str(" AND ");
            text.push_str(&condition.sql(table, &mut binds)?);
        }
        Ok(Sql { text, binds })
    }

    /// Whether `m`, a mention of `tenant`, meets the filter.
    pub fn matches(&self, tenant: &str, m: &HitRow) -> bool {
        tenant == self.tenant && self.conditions.iter().all(|c| c.holds(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BucketSize;

    fn request() -> SearchMentionsRequest {
        SearchMentionsRequest {
            watch_id: "w".into(),
            language: "fr".into(),
            sentiment: "negative".into(),
            source: "x".into(),
            visibility: "public".into(),
            text: "Panne".into(),
            from_ms: 1_700_000_000_500,
            to_ms: 1_700_000_360_000,
            ..Default::default()
        }
    }

    fn hit(id: &str, at_ms: i64) -> HitRow {
        HitRow {
            id: id.into(),
            created_at_ms: at_ms,
            source: "x".into(),
            visibility: "public".into(),
            kind: "post".into(),
            author_id: String::new(),
            author_handle: String::new(),
            author_followers: 0,
            author_verified: 0,
            text: "Grosse PANNE ce matin".into(),
            title: String::new(),
            country: String::new(),
            language: "fr".into(),
            sentiment_label: "negative".into(),
            sentiment_score: -0.8,
            toxicity: 0.0,
            matched_watches: vec!["acme/w".into()],
            url: String::new(),
            place_country: String::new(),
            place_city: String::new(),
            place_confidence: 0.0,
            place_source: String::new(),
        }
    }

    #[test]
    fn a_search_renders_the_conditions_of_the_previous_sql_with_every_text_bound() {
        let filter = Filter::search("acme", &request()).and(Condition::OlderThan {
            at_ms: 1_700_000_100_000,
            id: "m'7".into(),
        });
        let sql = filter.sql(Table::Mentions).unwrap();
        assert_eq!(
            sql.text,
            "tenant = ? AND has(matched_watches, ?) AND language = ? AND sentiment_label = ? \
             AND source = ? AND visibility = ? AND positionCaseInsensitiveUTF8(text, ?) > 0 \
             AND created_at_ms >= 1700000000500 AND created_at_ms < 1700000360000 \
             AND (created_at_ms < 1700000100000 OR (created_at_ms = 1700000100000 AND id < ?))"
        );
        assert_eq!(
            sql.binds,
            ["acme", "acme/w", "fr", "negative", "x", "public", "Panne", "m'7"]
        );
        // An empty request: the tenant alone.
        let all = Filter::search("acme", &SearchMentionsRequest::default());
        let sql = all.sql(Table::Mentions).unwrap();
        assert_eq!(
            (sql.text.as_str(), sql.binds),
            ("tenant = ?", vec!["acme".to_string()])
        );
    }

    #[test]
    fn ids_and_stats_ranges_render_for_their_table() {
        let by_key = Filter::of_tenant("acme").and(Condition::IdIn(vec!["a".into(), "b".into()]));
        let sql = by_key.sql(Table::Mentions).unwrap();
        assert_eq!(sql.text, "tenant = ? AND id IN (?, ?)");
        assert_eq!(sql.binds, ["acme", "a", "b"]);
        let stats = |watch_id: &str| StatsQuery {
            tenant: "acme".into(),
            watch_id: watch_id.into(),
            bucket: BucketSize::Hour,
            from_ms: 1_700_000_000_999,
            to_ms: 1_700_003_600_000,
        };
        let tenant = Filter::stats(&stats("")).sql(Table::MentionsBySecond).unwrap();
        assert_eq!(
            tenant.text,
            "tenant = ? AND created_at >= toDateTime(1700000000) AND created_at < toDateTime(1700003600)"
        );
        assert_eq!(tenant.binds, ["acme"]);
        let watch = Filter::stats(&stats("w"))
            .sql(Table::Rollup(BucketSize::Hour))
            .unwrap();
        assert_eq!(
            watch.text,
            "tenant = ? AND watch = ? AND hour >= toDateTime(1700000000) AND hour < toDateTime(1700003600)"
        );
        assert_eq!(watch.binds, ["acme", "acme/w"]);
        // A rollup has no text: refused, not rendered wrong.
        let e = Filter::of_tenant("acme")
            .and(Condition::TextContains("x".into()))
            .sql(Table::Rollup(BucketSize::Minute))
            .unwrap_err();
        assert!(
            matches!(
                e,
                StoreError::Unsupported {
                    condition: "text",
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn in_memory_evaluation_agrees_with_the_sql_conditions() {
        let filter = Filter::search("acme", &request());
        let t = 1_700_000_100_000;
        assert!(
            filter.matches("acme", &hit("m1", t)),
            "every condition met (text in another case)"
        );
        assert!(!filter.matches("globex", &hit("m1", t)), "another tenant's");
        type Change = fn(&mut HitRow);
        let differs: [(&str, Change); 9] = [
            ("watch", |h| h.matched_watches = vec!["acme/other".into()]),
            ("language", |h| h.language = "de".into()),
            ("sentiment", |h| h.sentiment_label = "positive".into()),
            ("source", |h| h.source = "reviews".into()),
            ("visibility", |h| h.visibility = "private".into()),
            ("text", |h| h.text = "tout va bien".into()),
            ("before from_ms", |h| h.created_at_ms = 1_700_000_000_499),
            ("at to_ms", |h| h.created_at_ms = 1_700_000_360_000),
            ("the same watch of another tenant", |h| {
                h.matched_watches = vec!["globex/w".into()]
            }),
        ];
        for (what, change) in differs {
            let mut h = hit("m1", t);
            change(&mut h);
            assert!(!filter.matches("acme", &h), "{what}");
        }
        let mut at_from = hit("m1", 1_700_000_000_500);
        at_from.text = "panne".into();
        assert!(filter.matches("acme", &at_from), "from_ms is inclusive");
        // The page position: older, or as old with a smaller id.
        let after = Filter::of_tenant("acme").and(Condition::OlderThan {
            at_ms: t,
            id: "m5".into(),
        });
        let kept: Vec<bool> = [("m9", t - 1), ("m4", t), ("m5", t), ("m6", t), ("m0", t + 1)]
            .iter()
            .map(|(id, at)| after.matches("acme", &hit(id, *at)))
            .collect();
        assert_eq!(kept, [true, true, false, false, false]);
        let ids = Filter::of_tenant("acme").and(Condition::IdIn(vec!["m1".into()]));
        assert!(ids.matches("acme", &hit("m1", t)) && !ids.matches("acme", &hit("m2", t)));
        assert_eq!(
            Filter::of_tenant("acme")
                .and(Condition::IdIn(vec![]))
                .sql(Table::Mentions)
                .unwrap()
                .text,
            "tenant = ? AND 0"
        );
        assert!(!Filter::of_tenant("acme")
            .and(Condition::IdIn(vec![]))
            .matches("acme", &hit("m1", t)));
    }
}
