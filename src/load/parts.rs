//! `vigie load --parts`: what the broker and ClickHouse alone do here with Vigie's own records,
//! the yardstick for the pipeline's figures — produce then consume `--mentions` raw-mention
//! records (encoded like ingest's) on a scratch topic, and insert as many enriched mention rows
//! (scored like enrich's) into ClickHouse through the same table writer, in inserts of
//! `insert_max_rows`.

use super::corpus;
use prost::Message;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{OutRecord, Outgoing};
use vigie_core::clickhouse::{ClickHouse, InsertBounds, MentionRow, TableWriter, Ticket};
use vigie_core::config::Config;
use vigie_core::metrics::StageMetrics;

/// Records per produce call and per insert submission: the stages' batch size.
const BATCH: usize = 1_000;

/// Measures the broker, then ClickHouse, with `mentions` records each.
pub async fn run(config: &Config, mentions: u64) -> anyhow::Result<()> {
    let tenants = corpus::tenants(4);
    let run = format!("p{}", vigie_core::now_ms() / 1000 % 100_000_000);
    let now = vigie_core::now_ms();
    let raw: Vec<vigie_core::proto::Mention> = (0..mentions)
        .map(|n| {
            let t = n as usize % tenants.len();
            let mut m = corpus::mention(&run, t, &tenants[t], 250, n, now, None);
            m.id = vigie_core::model::mention_id(&m.tenant, m.source(), &m.native_id);
            m.received_at_ms = now;
            m
        })
        .collect();
    broker(config, &run, &raw).await?;
    clickhouse(config, raw).await
}

async fn broker(config: &Config, run: &str, raw: &[vigie_core::proto::Mention]) -> anyhow::Result<()> {
    let topic: &'static str = Box::leak(format!("vigie.load.{run}").into_boxed_str());
    vigie_core::bus::kafka::KafkaBus::new(config.kafka.clone())
        .create_topics(&[(topic, config.kafka.partitions, false)])
        .await?;
    let bus = crate::services::kafka(config);
    let publisher = bus.publisher()?;
    let metrics = StageMetrics::new("load");
    let cancel = CancellationToken::new();
    let records: Vec<OutRecord> = raw
        .iter()
        .map(|m| OutRecord::message(m.tenant.clone(), "vigie.v1.Mention", m.encode_to_vec()))
        .collect();
    let bytes: usize = records
        .iter()
        .map(|r| r.payload.as_ref().map_or(0, Vec::len))
        .sum();
    let started = Instant::now();
    let mut pending = Vec::new();
    for chunk in records.chunks(BATCH) {
        pending.push(Outgoing::start(&publisher, topic, chunk.to_vec()).await);
        if pending.len() >= 16 {
            pending
                .remove(0)
                .durable("produce", &metrics, "publish", &cancel)
                .await?;
        }
    }
    for p in pending {
        p.durable("produce", &metrics, "publish", &cancel).await?;
    }
    let produce = started.elapsed().as_secs_f64();
    let mut reader = bus.subscribe(topic, &format!("vigie-load-{run}"), "load")?;
    let started = Instant::now();
    let mut read = 0usize;
    while read < records.len() {
        let batch = tokio::time::timeout(
            Duration::from_secs(30),
            reader.next_batch(BATCH, Duration::from_millis(5), &cancel),
        )
        .await
        .map_err(|_| anyhow::anyhow!("the broker returned {read} of {} records", records.len()))??;
        read += batch.len();
    }
    let consume = started.elapsed().as_secs_f64();
    println!(
        "broker      produce {:>8.0} records/s ({} records of {} bytes on average, acks=all, in flight 16 x {BATCH})",
        records.len() as f64 / produce,
        records.len(),
        bytes / records.len().max(1)
    );
    println!("            consume {:>8.0} records/s", read as f64 / consume);
    Ok(())
}

async fn clickhouse(config: &Config, raw: Vec<vigie_core::proto::Mention>) -> anyhow::Result<()> {
    let ch = ClickHouse::new(&config.clickhouse);
    let scorer = vigie_enrich::Scorer;
    let registry = vigie_core::watches::WatchRegistry::default();
    let rows: Vec<MentionRow> = {
        let watches = registry.read();
        raw.into_iter()
            .map(|m| MentionRow::from_enriched(&scorer.score(m, &watches, vigie_core::now_ms())))
            .collect()
    };
    let bounds = InsertBounds::from_config(&config.clickhouse);
    let writer = TableWriter::spawn(
        &ch,
        "mentions",
        bounds,
        StageMetrics::new("load"),
        CancellationToken::new(),
    );
    let total = rows.len();
    let started = Instant::now();
    let mut tickets: Vec<Ticket> = Vec::new();
    let mut rows = rows.into_iter();
    loop {
        let chunk: Vec<MentionRow> = rows.by_ref().take(BATCH).collect();
        if chunk.is_empty() {
            break;
        }
        tickets.push(writer.submit(chunk));
    }
    vigie_core::stage::Flush::flush(&writer);
    for t in tickets {
        t.durable().await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "clickhouse  insert  {:>8.0} rows/s ({total} mention rows, inserts of up to {} rows)",
        total as f64 / secs,
        bounds.max_rows
    );
    Ok(())
}
