//! Mirrors `vigie.watches` into the ClickHouse `watches` table, so BI tools can join watch names
//! and queries to the mention rollups. A consuming stage like any other: batch, insert, commit;
//! the row version is the record's offset (the compacted topic has one partition), so the latest
//! definition — or the deletion — wins under `FINAL`.

use crate::bus::{Bus, InRecord};
use crate::clickhouse::ClickHouse;
use crate::metrics::StageMetrics;
use crate::proto::Watch;
use crate::retry::until_ok;
use crate::stage::{run_consumer, Batching, Pipeline, Written};
use crate::topics;
use prost::Message;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const STAGE: &str = "watch_mirror";

/// A row of the `watches` table.
#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WatchRow {
    pub tenant: String,
    pub id: String,
    /// `<tenant>/<id>`, as in `mentions.matched_watches`.
    pub watch: String,
    pub name: String,
    pub query: String,
    /// `<name>:<type>:<severity>` per rule.
    pub rules: Vec<String>,
    pub deleted: u8,
    pub updated_at: u32,
    pub version: u64,
    /// The dialect `query` is written in (`vigie` when the watch names none).
    pub syntax: String,
}

/// The dialect name a watch's `syntax` stands for: the empty name is `vigie`.
fn syntax_name(syntax: String) -> String {
    if syntax.is_empty() {
        "vigie".to_string()
    } else {
        syntax
    }
}

/// [`row`], counting (and logging) each record it cannot mirror.
fn counted_row(record: &InRecord) -> Option<WatchRow> {
    let mirrored = row(record);
    if mirrored.is_none() {
        crate::metrics::record_skipped(topics::WATCHES, "not_mirrored");
        tracing::warn!(
            "watch mirror: record {:?} at offset {} is unreadable or disagrees with its key; not mirrored",
            record.key_str(),
            record.offset
        );
    }
    mirrored
}

/// The row for one record of `vigie.watches` (`None` when it is neither a watch nor a deletion).
pub fn row(record: &InRecord) -> Option<WatchRow> {
    let key = record.key_str();
    let (tenant, id) = key.split_once('/')?;
    let version = record.offset.max(0) as u64;
    match record.payload.as_deref() {
        None | Some([]) => Some(WatchRow {
            tenant: tenant.into(),
            id: id.into(),
            watch: key.clone(),
            name: String::new(),
            query: String::new(),
            rules: Vec::new(),
            deleted: 1,
            updated_at: (crate::now_ms() / 1000) as u32,
            version,
            syntax: syntax_name(String::new()),
        }),
        Some(bytes) => {
            // A record whose payload does not match its key is ignored here as by the registry.
            let w = Watch::decode(bytes)
                .ok()
                .filter(|w| topics::watch_key(&w.tenant, &w.id) == key)?;
            Some(WatchRow {
                watch: topics::watch_key(&w.tenant, &w.id),
                rules: w
                    .rules
                    .iter()
                    .map(|r| {
                        let kind = r.kind.as_ref().map(crate::rules::type_name).unwrap_or("");
                        format!("{}:{kind}:{}", r.name, r.severity)
                    })
                    .collect(),
                tenant: w.tenant,
                id: w.id,
                name: w.name,
                query: w.query,
                deleted: 0,
                updated_at: (w.updated_at_ms.max(0) / 1000) as u32,
                version,
                syntax: syntax_name(w.syntax),
            })
        }
    }
}

/// Mirrors the topic into ClickHouse until `cancel`, as consumer group `group`.
pub async fn run(
    bus: Bus,
    clickhouse: ClickHouse,
    group: String,
    cancel: CancellationToken,
) -> Result<(), crate::bus::BusError> {
    let metrics = StageMetrics::new(STAGE);
    let subscriber = bus.subscribe(topics::WATCHES, &group, STAGE)?;
    let batching = Batching {
        max: 1_000,
        linger: Duration::from_millis(200),
    };
    let (metrics, clickhouse) = (&metrics, &clickhouse);
    run_consumer(
        subscriber,
        metrics,
        Pipeline::sequential(batching),
        &cancel,
        |batch, drain, _| async move {
            let rows: Vec<WatchRow> = batch.iter().filter_map(counted_row).collect();
            until_ok("mirror watches", metrics, "clickhouse", &drain, || {
                clickhouse.insert("watches", &rows)
            })
            .await?;
            Ok(std::future::ready(Ok(Written::commit(rows.len()))))
        },
    )
    .await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_and_deletions_become_rows() {
        let w = crate::watches::parse_file(
            "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nname = \"Acme\"\nquery = \"acme\"\n\
             [[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nmin_count = 3\n",
            "t",
        )
        .unwrap()
        .remove(0);
        let record = |payload: Option<Vec<u8>>, offset| InRecord {
            topic: topics::WATCHES.into(),
            partition: 0,
            offset,
            key: Some(b"acme/w".to_vec()),
            payload,
        };
        let r = row(&record(Some(w.encode_to_vec()), 7)).unwrap();
        assert_eq!(
            (r.watch.as_str(), r.name.as_str(), r.deleted, r.version),
            ("acme/w", "Acme", 0, 7)
        );
        assert_eq!(r.rules, ["burst:threshold:warning"]);
        let gone = row(&record(None, 9)).unwrap();
        assert_eq!((gone.deleted, gone.version, gone.tenant.as_str()), (1, 9, "acme"));
    }

    #[test]
    fn rows_carry_the_syntax_and_an_empty_one_is_vigie() {
        let file = "[[watch]]\ntenant = \"acme\"\nid = \"m\"\nsyntax = \"meltwater\"\nquery = \"acme\"\n\n\
                    [[watch]]\ntenant = \"acme\"\nid = \"v\"\nquery = \"acme\"\n";
        let watches = crate::watches::parse_file(file, "t").unwrap();
        let syntaxes: Vec<(String, String)> = watches
            .iter()
            .map(|w| {
                let record = InRecord {
                    topic: topics::WATCHES.into(),
                    partition: 0,
                    offset: 1,
                    key: Some(topics::watch_key(&w.tenant, &w.id).into_bytes()),
                    payload: Some(w.encode_to_vec()),
                };
                let r = row(&record).unwrap();
                (r.id, r.syntax)
            })
            .collect();
        assert_eq!(
            syntaxes,
            [("m".into(), "meltwater".into()), ("v".into(), "vigie".into())]
        );
        assert_eq!(watches[1].syntax, "", "the contract leaves the default empty");
        let gone = InRecord {
            topic: topics::WATCHES.into(),
            partition: 0,
            offset: 2,
            key: Some(b"acme/m".to_vec()),
            payload: None,
        };
        assert_eq!(row(&gone).unwrap().syntax, "vigie");
    }
}
