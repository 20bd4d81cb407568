//! Rescoring: stored mentions of a tenant and a time range re-enriched by the current scorer
//! ([`SCORER_VERSION`]), so that dashboards are not split between two models.
//!
//! Each stored mention is read from the raw topic while it still holds it (the exact input
//! ingest accepted), else rebuilt from its ClickHouse row ([`MentionRow::to_mention`]), scored
//! again, and written as a new version of the same (tenant, id): `ReplacingMergeTree(version)`
//! keeps the latest under `FINAL` and in merges, so a rerun, or a crash half-way and a rerun,
//! never leaves two rows. A mention already at the current scorer version is left alone (unless
//! `force`), which makes a second run a no-op. The watches a mention matched are kept as stored:
//! rescoring applies new models, not today's watches to yesterday's mentions. Alerts are history
//! and are not recomputed; nothing is published to Kafka.
//!
//! The BI rollups (`mentions_per_minute`, `mentions_per_hour`) count distinct ids per sentiment
//! and language, so a mention whose label changed would be counted under both: after the
//! rewrite, the rollup rows of the tenant for the hours of the range are deleted (a mutation,
//! which only touches the data present when it is submitted) and rebuilt from `mentions FINAL`;
//! mentions enriched meanwhile are counted by their own inserts and by the rebuild, once
//! (distinct ids). Until the mutation is done, a changed mention can be counted twice. A run
//! that rewrites nothing still compares the rollups' counts with the rows' and rebuilds them
//! when they differ, so a rerun repairs one cut short.

use crate::scorer::SCORER_VERSION;
use crate::Scorer;
use prost::Message;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError};
use vigie_core::clickhouse::{ClickHouse, ClickHouseError, MentionRow};
use vigie_core::proto::Mention;
use vigie_core::topics;
use vigie_core::watches::WatchSet;

/// What to rescore: one tenant's mentions created in `[from_ms, to_ms)`.
#[derive(Debug, Clone)]
pub struct Range {
    /// The tenant.
    pub tenant: String,
    /// Start of the range (event time, Unix ms, inclusive).
    pub from_ms: i64,
    /// End of the range (exclusive).
    pub to_ms: i64,
}

/// How to rescore.
#[derive(Debug, Clone)]
pub struct Options {
    /// Rescore mentions already at the current scorer version too.
    pub force: bool,
    /// Count what would change, write nothing.
    pub dry_run: bool,
    /// Rows read and written per ClickHouse round trip.
    pub page: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            force: false,
            dry_run: false,
            page: 10_000,
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Stored mentions of the range.
    pub examined: u64,
    /// Mentions written again (or that would be, in a dry run).
    pub rescored: u64,
    /// Of which read from the raw topic; the others were rebuilt from ClickHouse.
    pub from_raw: u64,
    /// Of which the sentiment label changed.
    pub sentiment_changed: u64,
    /// Of which the language changed.
    pub language_changed: u64,
    /// Of which the place (country or city) changed.
    pub place_changed: u64,
    /// Records of the raw topic read.
    pub raw_records: u64,
    /// Whether the rollups of the range were rebuilt.
    pub rollups_rebuilt: bool,
}

/// Why a rescore stopped. Nothing is half-written that a rerun does not finish: every
/// rewritten row is a complete new version.
#[derive(Debug, thiserror::Error)]
pub enum RescoreError {
    /// The range is empty or reversed.
    #[error("rescore: the range is empty ({from_ms} ≥ {to_ms}): --to must be after --from")]
    EmptyRange {
        /// Start.
        from_ms: i64,
        /// End.
        to_ms: i64,
    },
    /// Reading or writing ClickHouse failed.
    #[error(transparent)]
    ClickHouse(#[from] ClickHouseError),
    /// Reading the raw topic failed.
    #[error("rescore: reading the raw topic: {0}")]
    Bus(#[from] BusError),
    /// The rollups' deletion did not finish in time.
    #[error("rescore: the rollup mutation on {table} was not done after {waited:?}; the rollups of the range may count changed mentions twice until it is")]
    MutationPending {
        /// The rollup table.
        table: &'static str,
        /// How long it was waited for.
        waited: Duration,
    },
}

/// Whether a stored mention needs rescoring: an older scorer wrote it (a newer one's rows are
/// left alone, so an older binary never undoes an upgrade), or `force`.
pub fn needs_rescore(row: &MentionRow, force: bool) -> bool {
    force || version_of(&row.scorer_version) < version_of(SCORER_VERSION)
}

/// `"0.3.0"` → (0, 3, 0); what does not read as one is oldest.
fn version_of(v: &str) -> (u32, u32, u32) {
    let mut parts = v.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
        parts.next().unwrap_or(0),
    )
}

/// A stored mention re-enriched: `raw` (the raw topic's record) when given, else the row's own
/// columns, scored by the current scorer, keeping the stored watch matches; its version is
/// above the stored one whatever the clocks say.
pub fn rescore_row(
    row: &MentionRow,
    raw: Option<&Mention>,
    no_watches: &WatchSet,
    now_ms: i64,
) -> MentionRow {
    let mention = raw.cloned().unwrap_or_else(|| row.to_mention());
    let enriched_at = now_ms.max(row.version as i64 + 1);
    let mut e = Scorer.score(mention, no_watches, enriched_at);
    e.matched_watches = row.matched_watches.clone();
    MentionRow::from_enriched(&e)
}

fn ch(what: String) -> impl FnOnce(clickhouse::error::Error) -> ClickHouseError {
    move |source| ClickHouseError { what, source }
}

fn secs(ms: i64) -> u32 {
    (ms.max(0) / 1000).min(u32::MAX as i64) as u32
}

/// Rescores `range` (see the module documentation), reading the raw topic through `bus` when
/// given.
pub async fn run(
    db: &ClickHouse,
    bus: Option<&Bus>,
    range: &Range,
    options: &Options,
    cancel: &CancellationToken,
) -> Result<Report, RescoreError> {
    // Nothing is created more than a day ahead (ingest refuses it): a later end is now + 2 days,
    // which keeps the hour arithmetic inside ClickHouse's DateTime.
    let range = &Range {
        to_ms: range.to_ms.min(vigie_core::now_ms() + 2 * 86_400_000),
        ..range.clone()
    };
    if range.from_ms >= range.to_ms {
        return Err(RescoreError::EmptyRange {
            from_ms: range.from_ms,
            to_ms: range.to_ms,
        });
    }
    let mut report = Report::default();
    let raw = match bus {
        Some(bus) => read_raw(bus, range, &mut report, cancel).await?,
        None => HashMap::new(),
    };
    let no_watches = WatchSet::default();
    let (from, to) = (secs(range.from_ms), secs(range.to_ms.saturating_add(999)));
    let mut last = String::new();
    loop {
        if cancel.is_cancelled() {
            break;
        }
        let rows: Vec<MentionRow> = db
            .client()
            .query(
                "SELECT ?fields FROM mentions FINAL WHERE tenant = ? AND created_at >= toDateTime(?) \
                 AND created_at < toDateTime(?) AND created_at_ms >= ? AND created_at_ms < ? AND id > ? \
                 ORDER BY id LIMIT ?",
            )
            .bind(&range.tenant)
            .bind(from)
            .bind(to)
            .bind(range.from_ms)
            .bind(range.to_ms)
            .bind(&last)
            .bind(options.page as u64)
            .fetch_all()
            .await
            .map_err(ch(format!(
                "read of tenant {}'s mentions after id {last:?}",
                range.tenant
            )))?;
        let Some(tail) = rows.last() else { break };
        last = tail.id.clone();
        report.examined += rows.len() as u64;
        let now = vigie_core::now_ms();
        let mut out = Vec::new();
        for row in rows.iter().filter(|r| needs_rescore(r, options.force)) {
            let original = raw.get(&row.id);
            let new = rescore_row(row, original, &no_watches, now);
            report.from_raw += u64::from(original.is_some());
            report.sentiment_changed += u64::from(new.sentiment_label != row.sentiment_label);
            report.language_changed += u64::from(new.language != row.language);
            report.place_changed +=
                u64::from(new.place_country != row.place_country || new.place_city != row.place_city);
            out.push(new);
        }
        report.rescored += out.len() as u64;
        if !options.dry_run {
            db.insert("mentions", &out).await?;
        }
        if rows.len() < options.page {
            break;
        }
    }
    // Also when nothing needed rescoring but the rollups disagree with the rows: a run cut
    // short after its rewrite, or whose rebuild failed, left rollups only a rebuild repairs. A
    // mutation rewrites whole parts, so a run with nothing to repair submits none.
    let check = !options.dry_run && report.examined > 0 && !cancel.is_cancelled();
    if check && (report.rescored > 0 || !rollups_agree(db, range).await?) {
        rebuild_rollups(db, range).await?;
        report.rollups_rebuilt = true;
    }
    Ok(report)
}

/// The tenant's mentions of the range on the raw topic (the latest record of each id), read
/// from the start to the end each partition had when called; a broker that stops answering
/// for 10 s ends the read (the rest is rebuilt from ClickHouse).
async fn read_raw(
    bus: &Bus,
    range: &Range,
    report: &mut Report,
    cancel: &CancellationToken,
) -> Result<HashMap<String, Mention>, RescoreError> {
    let mut reader = bus.read_from_start(topics::MENTIONS_RAW)?;
    let ends = reader.end_offsets().await?;
    let mut positions: HashMap<i32, i64> = HashMap::new();
    let done = |positions: &HashMap<i32, i64>| {
        ends.iter()
            .all(|(p, end)| *end == 0 || positions.get(p).is_some_and(|pos| pos + 1 >= *end))
    };
    let mut found = HashMap::new();
    let mut last_progress = Instant::now();
    while !done(&positions) && !cancel.is_cancelled() {
        let next = reader.next_batch(5_000, Duration::from_millis(50), cancel);
        let batch = match tokio::time::timeout(Duration::from_secs(1), next).await {
            Ok(batch) => batch?,
            Err(_) => Vec::new(),
        };
        if batch.is_empty() {
            if last_progress.elapsed() > Duration::from_secs(10) {
                tracing::warn!(
                    "rescore: {} stopped short of its end; the rest is rebuilt from ClickHouse",
                    topics::MENTIONS_RAW
                );
                break;
            }
            continue;
        }
        last_progress = Instant::now();
        report.raw_records += batch.len() as u64;
        for r in &batch {
            positions.insert(r.partition, r.offset);
            let Ok(m) = Mention::decode(r.payload.as_deref().unwrap_or_default()) else {
                continue; // dead-lettered by enrich when it read it
            };
            if m.tenant == range.tenant && (range.from_ms..range.to_ms).contains(&m.created_at_ms) {
                found.insert(m.id.clone(), m);
            }
        }
    }
    Ok(found)
}

/// The rollup tables, with the expression of their time bucket.
const ROLLUPS: [(&str, &str, &str); 2] = [
    ("mentions_per_minute", "minute", "toStartOfMinute(created_at)"),
    ("mentions_per_hour", "hour", "toStartOfHour(created_at)"),
];

/// `column` within the range's whole hours, in the server's time zone (it may be half an hour
/// off UTC): every rollup statement bounds its hours the same way, in SQL.
fn in_hours(column: &str) -> String {
    format!("{column} >= toStartOfHour(toDateTime(?)) AND {column} < toStartOfHour(toDateTime(?)) + 3600")
}

/// `sql` (whose placeholders are the tenant, then an [`in_hours`]'s two) bound for `range`.
fn for_tenant_hours(db: &ClickHouse, sql: &str, range: &Range) -> clickhouse::query::Query {
    let (from, to) = (secs(range.from_ms), secs(range.to_ms.saturating_add(999)));
    db.client().query(sql).bind(&range.tenant).bind(from).bind(to)
}

/// Whether both rollups count, for the tenant and the range's whole hours, as many (mention,
/// watch) pairs as `mentions FINAL` holds: a mention counted under two labels makes them more.
async fn rollups_agree(db: &ClickHouse, range: &Range) -> Result<bool, RescoreError> {
    let sql = format!(
        "SELECT count() FROM (SELECT arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch \
         FROM mentions FINAL WHERE tenant = ? AND {})",
        in_hours("created_at")
    );
    let rows: u64 = for_tenant_hours(db, &sql, range)
        .fetch_one()
        .await
        .map_err(ch(format!("count of {}'s mentions", range.tenant)))?;
    for (table, bucket, _) in ROLLUPS {
        let sql = format!(
            "SELECT toUInt64(sum(mentions)) FROM {table}_v WHERE tenant = ? AND {}",
            in_hours(bucket)
        );
        let rolled: u64 = for_tenant_hours(db, &sql, range)
            .fetch_one()
            .await
            .map_err(ch(format!("sum of {}'s rows of {table}", range.tenant)))?;
        if rolled != rows {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Deletes the tenant's rollup rows of the range's whole hours, rebuilds them from `mentions
/// FINAL`, and waits for the deletion to be done.
async fn rebuild_rollups(db: &ClickHouse, range: &Range) -> Result<(), RescoreError> {
    for (table, bucket, expression) in ROLLUPS {
        let delete = format!(
            "ALTER TABLE {table} DELETE WHERE tenant = ? AND {}",
            in_hours(bucket)
        );
        for_tenant_hours(db, &delete, range)
            .execute()
            .await
            .map_err(ch(format!("deletion of {}'s rows of {table}", range.tenant)))?;
        // Submitted after the mutation: not touched by it.
        let rebuild = format!(
            "INSERT INTO {table} SELECT tenant, arrayJoin(if(empty(matched_watches), [''], matched_watches)) AS watch, \
             source, language, sentiment_label AS sentiment, {expression} AS {bucket}, uniqExactState(id) AS mentions \
             FROM mentions FINAL WHERE tenant = ? AND {} GROUP BY tenant, watch, source, language, sentiment, {bucket}",
            in_hours("created_at")
        );
        for_tenant_hours(db, &rebuild, range)
            .execute()
            .await
            .map_err(ch(format!("rebuild of {}'s rows of {table}", range.tenant)))?;
    }
    let started = Instant::now();
    let limit = Duration::from_secs(300);
    for (table, ..) in ROLLUPS {
        loop {
            let pending: u64 = db
                .client()
                .query("SELECT count() FROM system.mutations WHERE database = currentDatabase() AND table = ? AND is_done = 0")
                .bind(table)
                .fetch_one()
                .await
                .map_err(ch(format!("read of {table}'s pending mutations")))?;
            if pending == 0 {
                break;
            }
            if started.elapsed() > limit {
                return Err(RescoreError::MutationPending { table, waited: limit });
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::proto::{Author, EnrichedMention, Source};

    fn stored(text: &str, label: &str, version: &str) -> MentionRow {
        let m = Mention {
            id: "acme:x:1".into(),
            tenant: "acme".into(),
            source: Source::X as i32,
            native_id: "1".into(),
            text: text.into(),
            created_at_ms: 1_764_000_000_000,
            author: Some(Author {
                handle: "camille".into(),
                location: "Lyon, France".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut row = MentionRow::from_enriched(&EnrichedMention {
            mention: Some(m),
            language: "fr".into(),
            sentiment_label: 3,
            matched_watches: vec!["acme/outage".into()],
            enriched_at_ms: 1_764_000_100_000,
            scorer_version: version.into(),
            ..Default::default()
        });
        row.sentiment_label = label.into();
        row
    }

    #[test]
    fn a_row_is_rescored_from_its_columns_with_a_higher_version_and_its_matches_kept() {
        let row = stored(
            "Honteux, trois heures d'attente et personne au service client",
            "positive",
            "0.3.0",
        );
        assert!(needs_rescore(&row, false));
        let new = rescore_row(&row, None, &WatchSet::default(), 1_000);
        assert_eq!(new.sentiment_label, "negative", "the current model's label");
        assert_eq!(new.scorer_version, SCORER_VERSION);
        assert!(new.version > row.version, "{} > {}", new.version, row.version);
        assert_eq!(new.matched_watches, row.matched_watches, "the stored matches");
        assert_eq!(
            (new.id.as_str(), new.tenant.as_str(), new.created_at_ms),
            ("acme:x:1", "acme", row.created_at_ms)
        );
        assert_eq!(
            (new.place_country.as_str(), new.place_city.as_str()),
            ("FR", "Lyon"),
            "the place from the stored profile"
        );
        assert_eq!(new.author_location, "Lyon, France");
        assert!(!needs_rescore(&new, false), "a second run leaves it");
        assert!(needs_rescore(&new, true));
        assert!(
            !needs_rescore(&stored("x", "neutral", "9.0.0"), false),
            "a newer scorer's row"
        );
        assert!(
            needs_rescore(&stored("x", "neutral", "check"), false),
            "no version: oldest"
        );
    }

    #[test]
    fn the_raw_record_is_preferred_to_the_columns() {
        let row = stored("texte tronqué", "neutral", "0.3.0");
        let raw = Mention {
            text: "Super accueil, merci beaucoup, je recommande".into(),
            ..row.to_mention()
        };
        let new = rescore_row(&row, Some(&raw), &WatchSet::default(), 2_000_000_000_000);
        assert_eq!(new.text, raw.text);
        assert_eq!(new.sentiment_label, "positive");
        assert_eq!(new.version, 2_000_000_000_000);
    }

    #[test]
    fn a_stored_row_gives_back_the_mention_ingest_accepted() {
        let row = stored("Panne chez Acme", "negative", "0.3.0");
        let m = row.to_mention();
        let again = MentionRow::from_enriched(&EnrichedMention {
            mention: Some(m),
            ..Default::default()
        });
        for (a, b) in [
            (&row.text, &again.text),
            (&row.author_handle, &again.author_handle),
            (&row.author_location, &again.author_location),
            (&row.source, &again.source),
            (&row.native_id, &again.native_id),
        ] {
            assert_eq!(a, b);
        }
        assert_eq!(row.created_at_ms, again.created_at_ms);
    }
}
