//! The alerting service loop, independent of transport: consume enriched mentions, run the
//! engine, publish alerts to `vigie.alerts`, insert them into ClickHouse, log them, and commit
//! only once the alerts are durable. Undecodable records are dead-lettered.

use crate::engine::Engine;
use prost::Message;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, InRecord, OutRecord};
use vigie_core::clickhouse::{AlertRow, ClickHouse};
use vigie_core::config::StageConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::model::FieldError;
use vigie_core::proto::{Alert, EnrichedMention};
use vigie_core::retry::until_ok;
use vigie_core::stage::{run_consumer, Batching};
use vigie_core::watches::WatchRegistry;
use vigie_core::{deadletter, topics};

/// Protobuf type name carried in the schema header of alerts.
pub const SCHEMA: &str = "vigie.v1.Alert";
const STAGE: &str = "alerting";

/// What the alerting loop runs over.
pub struct AlertingDeps {
    /// The bus to consume from and publish to.
    pub bus: Bus,
    /// Where alerts are inserted; `None` in standalone mode.
    pub clickhouse: Option<ClickHouse>,
    /// Live watches (names and rules).
    pub registry: WatchRegistry,
    /// Batching and group settings.
    pub config: StageConfig,
}

/// Runs the engine over a batch: alerts raised and dead letters for unreadable records.
pub fn process_batch(
    engine: &mut Engine,
    registry: &WatchRegistry,
    batch: &[InRecord],
) -> (Vec<Alert>, Vec<OutRecord>) {
    let watches = registry.read();
    let now = vigie_core::now_ms();
    let mut alerts = Vec::new();
    let mut rejected = Vec::new();
    for record in batch {
        let payload = record.payload.as_deref().unwrap_or_default();
        match EnrichedMention::decode(payload) {
            Ok(e) => alerts.extend(engine.observe(&e, &watches, now)),
            Err(e) => {
                let origin = format!("{}[{}]@{}", record.topic, record.partition, record.offset);
                let error = FieldError::new("", format!("undecodable vigie.v1.EnrichedMention: {e}"));
                rejected.push(deadletter::record(
                    STAGE,
                    &origin,
                    &record.key_str(),
                    &error,
                    payload,
                ));
            }
        }
    }
    (alerts, rejected)
}

/// Runs the alerting loop until `cancel`.
pub async fn run(deps: AlertingDeps, cancel: CancellationToken) -> anyhow::Result<()> {
    let metrics = StageMetrics::new(STAGE);
    let subscriber = deps
        .bus
        .subscribe(topics::MENTIONS_ENRICHED, &deps.config.group_id, STAGE)?;
    let publisher = deps.bus.publisher()?;
    let batching = Batching {
        max: deps.config.batch_size,
        linger: Duration::from_millis(deps.config.batch_linger_ms),
    };
    tracing::info!(
        "alerting: consuming {} as group {}",
        topics::MENTIONS_ENRICHED,
        deps.config.group_id
    );
    let mut engine = Engine::default();
    let mut batches = 0u64;
    run_consumer(subscriber, &metrics, batching, &cancel, |batch, drain| {
        let (alerts, rejected) = process_batch(&mut engine, &deps.registry, &batch);
        batches += 1;
        if batches % 1_000 == 0 {
            engine.retain_known(&deps.registry.read());
        }
        let (publisher, clickhouse, metrics) = (&publisher, deps.clickhouse.as_ref(), &metrics);
        async move {
            until_ok("publish dead letters", metrics, "deadletter", &drain, || {
                publisher.publish(topics::DEADLETTER, rejected.clone())
            })
            .await?;
            metrics.deadlettered(rejected.len());
            let records: Vec<OutRecord> = alerts
                .iter()
                .map(|a| OutRecord::message(a.tenant.clone(), SCHEMA, a.encode_to_vec()))
                .collect();
            until_ok("publish alerts", metrics, "publish", &drain, || {
                publisher.publish(topics::ALERTS, records.clone())
            })
            .await?;
            if let Some(ch) = clickhouse {
                let rows: Vec<AlertRow> = alerts.iter().map(AlertRow::from_alert).collect();
                until_ok("insert alerts", metrics, "clickhouse", &drain, || ch.insert("alerts", &rows)).await?;
            }
            for a in &alerts {
                tracing::warn!(alert = %a.id, tenant = %a.tenant, watch = %a.watch_id, rule = %a.rule, "ALERT {}", a.summary);
            }
            Ok((batch, alerts.len()))
        }
    })
    .await;
    publisher.flush().await;
    tracing::info!("alerting: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::proto::Mention;
    use vigie_core::watches::parse_file;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_raises_one_alert_even_when_redelivered() {
        let bus = MemoryBus::default();
        let publisher = Publisher::Memory(bus.clone());
        let registry = WatchRegistry::default();
        let file = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n[[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nmin_count = 5\nwindow = \"10m\"\n";
        registry.upsert(parse_file(file, "t").unwrap().remove(0)).unwrap();
        let records: Vec<OutRecord> = (0..8)
            .map(|i| {
                let e = EnrichedMention {
                    mention: Some(Mention {
                        id: format!("acme:x:{i}"),
                        tenant: "acme".into(),
                        created_at_ms: 1_000_000 + i * 1000,
                        ..Default::default()
                    }),
                    matched_watches: vec!["acme/w".into()],
                    ..Default::default()
                };
                OutRecord::message("acme", SCHEMA, e.encode_to_vec())
            })
            .collect();
        // The same eight mentions twice, as after an upstream restart.
        publisher
            .publish(topics::MENTIONS_ENRICHED, records.clone())
            .await
            .unwrap();
        publisher
            .publish(topics::MENTIONS_ENRICHED, records)
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let deps = AlertingDeps {
            bus: Bus::Memory(bus.clone()),
            clickhouse: None,
            registry,
            config: StageConfig {
                group_id: "g".into(),
                batch_linger_ms: 5,
                batch_size: 3,
                ..Default::default()
            },
        };
        let task = tokio::spawn(run(deps, cancel.clone()));
        tokio::time::sleep(Duration::from_millis(300)).await;
        cancel.cancel();
        task.await.unwrap().unwrap();
        let alerts = bus.snapshot(topics::ALERTS);
        assert_eq!(alerts.len(), 1);
        let a = Alert::decode(alerts[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(a.id, "acme:w:burst:1004000");
        assert_eq!(a.evidence.unwrap().count, 5);
    }
}
