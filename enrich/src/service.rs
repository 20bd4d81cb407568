//! The enrich service loop, independent of transport: consume raw mentions in batches, score
//! them, publish the enriched mentions, insert them into ClickHouse (through one table writer
//! gathering batches into large inserts), and commit a batch only once both writes are durable,
//! with several batches being written at once (see `vigie_core::stage`). Undecodable records
//! are dead-lettered, never dropped.

use crate::Scorer;
use prost::Message;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, BusError, InRecord, OutRecord, Outgoing, Publisher};
use vigie_core::clickhouse::{ClickHouse, MentionRow, TableWriter};
use vigie_core::config::StageConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::model::FieldError;
use vigie_core::proto::{EnrichedMention, Mention};
use vigie_core::retry::Abandoned;
use vigie_core::stage::{run_consumer, Pipeline, Written};
use vigie_core::watches::WatchRegistry;
use vigie_core::{deadletter, topics};

/// Protobuf type name carried in the schema header of enriched mentions.
pub const SCHEMA: &str = "vigie.v1.EnrichedMention";
const STAGE: &str = "enrich";

/// The result of scoring one batch.
#[derive(Debug, Default)]
pub struct BatchOutput {
    /// Enriched mentions, in input order.
    pub enriched: Vec<EnrichedMention>,
    /// Dead letters for records that could not be read.
    pub rejected: Vec<OutRecord>,
}

/// Decodes and scores a batch of raw-mention records.
pub fn process_batch(scorer: &Scorer, registry: &WatchRegistry, batch: &[InRecord]) -> BatchOutput {
    let now = vigie_core::now_ms();
    let mut out = BatchOutput::default();
    // The read lock is taken per chunk, so a watch update never waits for a whole batch.
    for chunk in batch.chunks(WATCH_LOCK_CHUNK) {
        let watches = registry.read();
        for record in chunk {
            let payload = record.payload.as_deref().unwrap_or_default();
            match Mention::decode(payload) {
                Ok(m) if !m.id.is_empty() => out.enriched.push(scorer.score(m, &watches, now)),
                Ok(_) => out
                    .rejected
                    .push(reject(record, "mention has no id (not published by ingest?)")),
                Err(e) => out
                    .rejected
                    .push(reject(record, &format!("undecodable vigie.v1.Mention: {e}"))),
            }
        }
    }
    out
}

/// Mentions scored under one read lock of the watches (~1 ms of work).
const WATCH_LOCK_CHUNK: usize = 64;

fn reject(record: &InRecord, reason: &str) -> OutRecord {
    let origin = format!("{}[{}]@{}", record.topic, record.partition, record.offset);
    let error = FieldError::new("", reason);
    deadletter::record(
        STAGE,
        &origin,
        &record.key_str(),
        &error,
        record.payload.as_deref().unwrap_or_default(),
    )
}

/// What the enrich loop runs over.
pub struct EnrichDeps {
    /// The bus to consume from and publish to.
    pub bus: Bus,
    /// Where enriched mentions are inserted; `None` in standalone mode.
    pub clickhouse: Option<ClickHouse>,
    /// Live watches.
    pub registry: WatchRegistry,
    /// Batching and group settings.
    pub config: StageConfig,
}

/// Runs the enrich loop until `cancel`, then finishes the batches in flight, flushes and returns.
pub async fn run(deps: EnrichDeps, cancel: CancellationToken) -> Result<(), BusError> {
    let metrics = StageMetrics::new(STAGE);
    let subscriber = deps
        .bus
        .subscribe(topics::MENTIONS_RAW, &deps.config.group_id, STAGE)?;
    let publisher = deps.bus.publisher()?;
    let rows = TableWriter::<MentionRow>::for_stage(deps.clickhouse.as_ref(), "mentions", &metrics, &cancel);
    let pipeline = Pipeline::from_config(&deps.config, TableWriter::sinks(rows.as_ref()));
    tracing::info!(
        "enrich: consuming {} as group {}",
        topics::MENTIONS_RAW,
        deps.config.group_id
    );
    let scorer = Scorer;
    run_consumer(
        subscriber,
        &metrics,
        pipeline,
        &cancel,
        |batch, drain, _assignments| {
            // Scoring is CPU work: let the runtime move other tasks (watch updates, metrics,
            // the batches being written) off this worker meanwhile.
            let output = tokio::task::block_in_place(|| process_batch(&scorer, &deps.registry, &batch));
            let (publisher, rows, metrics) = (&publisher, rows.as_ref(), metrics.clone());
            async move { Ok(start_writes(publisher, rows, output, metrics, drain).await) }
        },
    )
    .await;
    publisher.flush().await;
    tracing::info!("enrich: stopped");
    Ok(())
}

/// Hands a batch's outputs to the bus and the mentions' table writer, in batch order, and
/// returns the write half that waits until all are durable: dead letters, enriched mentions,
/// ClickHouse rows.
async fn start_writes(
    publisher: &Publisher,
    rows: Option<&TableWriter<MentionRow>>,
    output: BatchOutput,
    metrics: StageMetrics,
    drain: CancellationToken,
) -> impl std::future::Future<Output = Result<Written, Abandoned>> + Send + 'static {
    let enriched: Vec<OutRecord> = output
        .enriched
        .iter()
        .map(|e| {
            let tenant = e.mention.as_ref().map(|m| m.tenant.as_str()).unwrap_or("");
            OutRecord::message(tenant, SCHEMA, e.encode_to_vec())
        })
        .collect();
    let inserted = rows.map(|w| w.submit(output.enriched.into_iter().map(MentionRow::from).collect()));
    let dead = Outgoing::start(publisher, topics::DEADLETTER, output.rejected).await;
    let enriched = Outgoing::start(publisher, topics::MENTIONS_ENRICHED, enriched).await;
    async move {
        let dead = dead
            .durable("publish dead letters", &metrics, "deadletter", &drain)
            .await?;
        metrics.deadlettered(dead);
        let sent = enriched
            .durable("publish enriched", &metrics, "publish", &drain)
            .await?;
        if let Some(inserted) = inserted {
            inserted.durable().await?;
        }
        Ok(Written::commit(sent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use vigie_core::bus::memory::MemoryBus;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn enriches_over_the_in_process_bus_and_dead_letters_garbage() {
        let bus = MemoryBus::default();
        let publisher = Publisher::Memory(bus.clone());
        let good = Mention {
            id: "acme:x:1".into(),
            tenant: "acme".into(),
            source: 1,
            text: "I love the new app from Acme".into(),
            ..Default::default()
        };
        publisher
            .publish(
                topics::MENTIONS_RAW,
                vec![
                    OutRecord::message("acme:x:1", "vigie.v1.Mention", good.encode_to_vec()),
                    OutRecord::message("junk", "vigie.v1.Mention", vec![0xff, 0xff, 0xff]),
                ],
            )
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let deps = EnrichDeps {
            bus: Bus::Memory(bus.clone()),
            clickhouse: None,
            registry: WatchRegistry::default(),
            config: StageConfig {
                group_id: "g".into(),
                batch_linger_ms: 5,
                ..Default::default()
            },
        };
        let task = tokio::spawn(run(deps, cancel.clone()));
        for _ in 0..100 {
            if !bus.snapshot(topics::DEADLETTER).is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        cancel.cancel();
        task.await.unwrap().unwrap();
        let enriched = bus.snapshot(topics::MENTIONS_ENRICHED);
        assert_eq!(enriched.len(), 1);
        let e = EnrichedMention::decode(enriched[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(e.mention.unwrap().id, "acme:x:1");
        assert_eq!(e.language, "en");
        let dead = bus.snapshot(topics::DEADLETTER);
        assert_eq!(dead.len(), 1);
        let letter = vigie_core::proto::DeadLetter::decode(dead[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(letter.stage, "enrich");
        assert_eq!(letter.original, vec![0xff, 0xff, 0xff]);
        assert!(letter.reason.contains("undecodable"), "{}", letter.reason);
    }
}
