//! The alerting service loop, independent of transport: consume enriched mentions and operators'
//! commands (one subscription, so the member owning a tenant's mentions also gets its commands),
//! run the engine, publish alert state changes to `vigie.alerts`, insert them into ClickHouse,
//! checkpoint the engine's changed state to `vigie.alerting.state`, and only then commit.
//!
//! State survives restarts and rebalances by checkpoint, not by rebuild from ClickHouse: the
//! checkpoint holds exactly what the detectors need (open windows, baselines, open alerts,
//! pending questions) including the input position each piece has applied, so a redelivered
//! record is never counted twice, and a new owner of a partition resumes exactly where the old
//! one committed. Rebuilding from ClickHouse aggregates could not restore open alerts, episode
//! memories or pending questions, and would depend on ClickHouse being up to start alerting.

use crate::engine::{CheckpointError, Engine, EngineStats, Piece};
use prost::Message;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::{Bus, InRecord, OutRecord, Outgoing, Publisher};
use vigie_core::clickhouse::{AlertRow, ClickHouse, TableWriter};
use vigie_core::config::StageConfig;
use vigie_core::metrics::StageMetrics;
use vigie_core::model::FieldError;
use vigie_core::proto::{Alert, AlertCommand, EnrichedMention};
use vigie_core::retry::Abandoned;
use vigie_core::stage::{run_consumer, Pipeline, Written};
use vigie_core::watches::WatchRegistry;
use vigie_core::{deadletter, topics};

/// Protobuf type name carried in the schema header of alerts.
pub const SCHEMA: &str = "vigie.v1.Alert";
/// Protobuf type name of alert commands.
pub const COMMAND_SCHEMA: &str = "vigie.v1.AlertCommand";
/// Schema header of checkpoint pieces (JSON of the engine's state, versioned with the crate,
/// LZ4-compressed: see `engine::compress_piece`).
pub const CHECKPOINT_SCHEMA: &str = "vigie.alerting.state+json+lz4";
const STAGE: &str = "alerting";
/// How often quiet live tenants are looked for.
const CLOCK_TICK: Duration = Duration::from_secs(15);
/// A live tenant whose event time has not moved for this long gets its clock moved by a
/// command, so a silent tenant's flatlines and unanswered deadlines are still seen.
const QUIET_MS: i64 = 60_000;
/// Tenants whose newest event time is further behind wall time are replaying history: their
/// clock follows their data only.
const LIVE_MS: i64 = 6 * 3_600_000;

/// Every [`CLOCK_TICK`], publishes a clock command for each quiet live tenant (through
/// `vigie.alerts.commands`, so it is applied by the tenant's owner, in order, and checkpointed
/// like everything else).
async fn tick_quiet_tenants(
    engine: Arc<Mutex<Engine>>,
    publisher: Publisher,
    metrics: StageMetrics,
    cancel: CancellationToken,
) {
    use vigie_core::proto::alert_command::Action;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(CLOCK_TICK) => {}
            _ = cancel.cancelled() => return,
        }
        let now = vigie_core::now_ms();
        // Not while a batch holds the engine (the next tick will do): never block a worker.
        let quiet = engine
            .try_lock()
            .map(|e| e.quiet_tenants(now, QUIET_MS, LIVE_MS))
            .unwrap_or_default();
        let records: Vec<OutRecord> = quiet
            .into_iter()
            .map(|(tenant, to)| {
                let cmd = AlertCommand {
                    tenant: tenant.clone(),
                    actor: "alerting-clock".into(),
                    action: Some(Action::ClockMs(to)),
                };
                OutRecord::message(tenant, COMMAND_SCHEMA, cmd.encode_to_vec())
            })
            .collect();
        if let Err(e) = publisher.publish(topics::ALERT_COMMANDS, records).await {
            metrics.error("clock_publish");
            tracing::warn!("alerting: cannot move quiet tenants' clocks: {e}");
        }
    }
}

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

/// What one batch produced.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    /// Alert state changes, in order.
    pub alerts: Vec<Alert>,
    /// Dead letters for unreadable records, records with no mention, and commands that name
    /// nothing.
    pub rejected: Vec<OutRecord>,
}

/// Runs the engine over a batch of enriched mentions and commands.
pub fn process_batch(engine: &mut Engine, registry: &WatchRegistry, batch: &[InRecord]) -> BatchOutcome {
    let watches = registry.read();
    let now = vigie_core::now_ms();
    let mut out = BatchOutcome::default();
    for record in batch {
        let payload = record.payload.as_deref().unwrap_or_default();
        let origin = || format!("{}[{}]@{}", record.topic, record.partition, record.offset);
        let error = if record.topic == topics::ALERT_COMMANDS {
            match AlertCommand::decode(payload) {
                Ok(cmd) => engine
                    .command(&cmd, &watches, now, &mut out.alerts)
                    .err()
                    .map(|e| FieldError::new("action", e.to_string())),
                Err(e) => Some(FieldError::new(
                    "",
                    format!("undecodable vigie.v1.AlertCommand: {e}"),
                )),
            }
        } else {
            match EnrichedMention::decode(payload) {
                Ok(e) => engine
                    .observe(
                        &e,
                        Some((record.partition, record.offset)),
                        &watches,
                        now,
                        &mut out.alerts,
                    )
                    .err()
                    .map(|e| FieldError::new("mention", e.to_string())),
                Err(e) => Some(FieldError::new(
                    "",
                    format!("undecodable vigie.v1.EnrichedMention: {e}"),
                )),
            }
        };
        if let Some(error) = error {
            out.rejected.push(deadletter::record(
                STAGE,
                &origin(),
                &record.key_str(),
                &error,
                payload,
            ));
        }
    }
    out
}

/// Replaces the engine's state with the latest checkpoint on `vigie.alerting.state`; returns
/// the number of pieces restored. An unreadable piece is skipped, counted in `metrics` (by its
/// [`CheckpointError::error_type`]) and logged; a tombstone is a deleted watch, not a skip.
pub async fn restore(
    bus: &Bus,
    engine: &Mutex<Engine>,
    metrics: &StageMetrics,
    cancel: &CancellationToken,
) -> anyhow::Result<usize> {
    let mut reader = bus.read_from_start(topics::ALERTING_STATE)?;
    let mut pieces: std::collections::HashMap<String, Option<Vec<u8>>> = Default::default();
    vigie_core::bus::catch_up(&mut reader, topics::ALERTING_STATE, cancel, |r| {
        pieces.insert(r.key_str(), r.payload.clone());
    })
    .await?;
    // Cancelled before catching up: the pieces read are only some of them, and state built on
    // them would overwrite the others at the next checkpoint.
    anyhow::ensure!(
        !cancel.is_cancelled(),
        "shutdown before the checkpoint was read in full"
    );
    let mut engine = engine.lock().unwrap_or_else(|p| p.into_inner());
    engine.clear();
    let mut restored = 0;
    for (key, bytes) in &pieces {
        let Some(bytes) = bytes else { continue };
        match engine.restore(key, bytes) {
            Ok(()) => restored += 1,
            Err(e) => {
                metrics.error(e.error_type());
                tracing::warn!("alerting: skipping unreadable checkpoint piece: {e}");
            }
        }
    }
    engine.restored();
    Ok(restored)
}

/// Counts and logs the pieces the engine could not serialise: they stay changed and are
/// retried at the next checkpoint, holding back their tenant's piece.
fn report_checkpoint_failures(metrics: &StageMetrics, failed: &[CheckpointError]) {
    for e in failed {
        metrics.error(e.error_type());
        tracing::error!("alerting: cannot checkpoint state, retrying at the next batch: {e}");
    }
}

/// Counts the mentions the engine did not count between two readings of its counters.
fn count_ignored(before: EngineStats, after: EngineStats) {
    vigie_core::metrics::alerting_ignored("late", after.late.saturating_sub(before.late));
    vigie_core::metrics::alerting_ignored("replayed", after.replayed.saturating_sub(before.replayed));
}

/// Hands a batch's alerts and dead letters to the bus and the alerts' table writer, in batch
/// order, and returns the write half, which keeps them safe in this order: dead letters, alerts
/// and ClickHouse rows durable; then, once the previous batch's write half finished (`previous`),
/// the checkpoint (when this batch takes one) that says they were produced; then `done`. A
/// checkpoint is so never durable before the alerts it accounts for, nor before an earlier
/// batch's checkpoint; and a batch's input is committed only with a checkpoint, which covers
/// the batches before it too.
async fn start_writes(
    publisher: &Publisher,
    rows: Option<&TableWriter<AlertRow>>,
    outcome: BatchOutcome,
    checkpoint: Option<(Vec<Piece>, bool)>,
    chain: (Option<oneshot::Receiver<()>>, oneshot::Sender<()>),
    metrics: StageMetrics,
    drain: CancellationToken,
) -> impl std::future::Future<Output = Result<Written, Abandoned>> + Send + 'static {
    let BatchOutcome { alerts, rejected } = outcome;
    let (previous, done) = chain;
    let records: Vec<OutRecord> = alerts
        .iter()
        .map(|a| OutRecord::message(a.tenant.clone(), SCHEMA, a.encode_to_vec()))
        .collect();
    let inserted = rows.map(|w| w.submit(alerts.iter().map(AlertRow::from_alert).collect()));
    let dead = Outgoing::start(publisher, topics::DEADLETTER, rejected).await;
    let published = Outgoing::start(publisher, topics::ALERTS, records).await;
    let publisher = publisher.clone();
    async move {
        let dead = dead
            .durable("publish dead letters", &metrics, "deadletter", &drain)
            .await?;
        metrics.deadlettered(dead);
        published
            .durable("publish alerts", &metrics, "publish", &drain)
            .await?;
        if let Some(inserted) = inserted {
            inserted.durable().await?;
        }
        if let Some(previous) = previous {
            previous
                .await
                .map_err(|_| Abandoned("checkpoint after an abandoned batch".into()))?;
        }
        // A piece that could not be serialised stays changed for the next checkpoint: the input
        // it accounts for must wait for that one to be committed.
        let commit = checkpoint.as_ref().is_some_and(|(_, complete)| *complete);
        if let Some((checkpoint, _)) = checkpoint {
            let pieces: Vec<OutRecord> = checkpoint
                .into_iter()
                .map(|(key, payload)| OutRecord {
                    key,
                    payload,
                    schema: CHECKPOINT_SCHEMA,
                })
                .collect();
            Outgoing::start(&publisher, topics::ALERTING_STATE, pieces)
                .await
                .durable("checkpoint state", &metrics, "checkpoint", &drain)
                .await?;
        }
        let _ = done.send(());
        for a in &alerts {
            let state = vigie_core::names::state_name(a.state());
            tracing::warn!(target: "vigie::alerts", alert = %a.id, tenant = %a.tenant, watch = %a.watch_id, rule = %a.rule, state, "ALERT {}", a.summary);
        }
        Ok(Written {
            sent: alerts.len(),
            commit,
        })
    }
}

/// Runs the alerting loop until `cancel`.
pub async fn run(deps: AlertingDeps, cancel: CancellationToken) -> anyhow::Result<()> {
    let metrics = StageMetrics::new(STAGE);
    let subscriber = deps.bus.subscribe_many(
        &[topics::MENTIONS_ENRICHED, topics::ALERT_COMMANDS],
        &deps.config.group_id,
        STAGE,
    )?;
    let publisher = deps.bus.publisher()?;
    let rows = TableWriter::<AlertRow>::for_stage(deps.clickhouse.as_ref(), "alerts", &metrics, &cancel);
    let pipeline = Pipeline::from_config(&deps.config, TableWriter::sinks(rows.as_ref()));
    tracing::info!(
        "alerting: consuming {} and {} as group {}",
        topics::MENTIONS_ENRICHED,
        topics::ALERT_COMMANDS,
        deps.config.group_id
    );
    let engine = Arc::new(Mutex::new(Engine::default()));
    let ticker = tokio::spawn(tick_quiet_tenants(
        engine.clone(),
        publisher.clone(),
        metrics.clone(),
        cancel.clone(),
    ));
    // Restore before the first batch and again after every new assignment: partitions (and the
    // tenants on them) may have moved here from another member, whose checkpoints are current.
    // (The loop finishes this member's batches in flight before a batch that follows a
    // rebalance, so its own last checkpoints are among those read back.)
    let mut restored_for: Option<u64> = None;
    // The previous batch's write half signals here once its checkpoint is durable.
    let mut previous: Option<oneshot::Receiver<()>> = None;
    // Checkpoints are taken when the input has caught up (a batch short of full), and under
    // sustained load once per interval: serialising the state of every touched watch is the
    // stage's largest cost, and the input is committed with the checkpoints.
    let interval = Duration::from_millis(deps.config.checkpoint_interval_ms);
    let mut checkpointed = std::time::Instant::now();
    let full = deps.config.batch_size;
    run_consumer(
        subscriber,
        &metrics,
        pipeline,
        &cancel,
        |batch, drain, assignments| {
            let must_restore = restored_for != Some(assignments);
            restored_for = Some(assignments);
            let take_checkpoint =
                batch.len() < full || checkpointed.elapsed() >= interval || cancel.is_cancelled();
            if take_checkpoint {
                checkpointed = std::time::Instant::now();
            }
            let (done, next) = oneshot::channel();
            let chain = (previous.replace(next), done);
            let (engine, bus, registry) = (engine.clone(), deps.bus.clone(), deps.registry.clone());
            let (publisher, rows, metrics, cancel) = (&publisher, rows.as_ref(), &metrics, &cancel);
            async move {
                if must_restore {
                    loop {
                        match restore(&bus, &engine, metrics, cancel).await {
                            Ok(n) => {
                                tracing::info!("alerting: restored {n} checkpoint pieces");
                                break;
                            }
                            Err(e) if !cancel.is_cancelled() => {
                                metrics.error("restore");
                                tracing::warn!("alerting: cannot restore state: {e}; retrying");
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                            Err(e) => return Err(Abandoned(format!("restore state: {e}"))),
                        }
                    }
                }
                let (outcome, checkpoint) = {
                    let mut engine = engine.lock().unwrap_or_else(|p| p.into_inner());
                    let before = engine.stats();
                    // The engine and the checkpoint's serialisation are CPU work: let the runtime
                    // move other tasks (the batches being written) off this worker meanwhile.
                    let (outcome, checkpoint) = tokio::task::block_in_place(|| {
                        let outcome = process_batch(&mut engine, &registry, &batch);
                        let checkpoint = take_checkpoint.then(|| engine.take_checkpoint());
                        (outcome, checkpoint)
                    });
                    count_ignored(before, engine.stats());
                    let checkpoint = checkpoint.map(|c| {
                        report_checkpoint_failures(metrics, &c.failed);
                        (c.pieces, c.failed.is_empty())
                    });
                    (outcome, checkpoint)
                };
                let metrics = metrics.clone();
                Ok(start_writes(publisher, rows, outcome, checkpoint, chain, metrics, drain).await)
            }
        },
    )
    .await;
    ticker.abort();
    publisher.flush().await;
    tracing::info!("alerting: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{m, MIN};
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::proto::{alert_command, AlertState};
    use vigie_core::watches::parse_file;

    const WATCHES: &str = "[[watch]]\ntenant = \"acme\"\nid = \"w\"\nquery = \"acme\"\n\
        [[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nmin_count = 5\nwindow = \"10m\"\n\
        [[watch.rule]]\nname = \"risky\"\ntype = \"risky_mention\"\n";

    fn registry() -> WatchRegistry {
        let registry = WatchRegistry::default();
        for w in parse_file(WATCHES, "t").unwrap() {
            registry.upsert(w).unwrap();
        }
        registry
    }

    /// A burst of eight mentions a minute apart, two of them toxic, then quiet traffic.
    fn stream() -> Vec<OutRecord> {
        let mut out = Vec::new();
        for i in 0..40 {
            let at = if i < 8 {
                i * MIN
            } else {
                (i - 8) * 10 * MIN + 20 * MIN
            };
            let mut e = m(&format!("m{i}"), at);
            if i == 3 || i == 6 {
                e = e.risk(0.95, &[]);
            }
            out.push(OutRecord::message("acme", SCHEMA, e.build().encode_to_vec()));
        }
        out
    }

    async fn run_for(bus: &MemoryBus, registry: WatchRegistry, until: impl Fn(&MemoryBus) -> bool) {
        let cancel = CancellationToken::new();
        let deps = AlertingDeps {
            bus: Bus::Memory(bus.clone()),
            clickhouse: None,
            registry,
            config: StageConfig {
                group_id: "g".into(),
                batch_linger_ms: 2,
                batch_size: 3,
                ..Default::default()
            },
        };
        let task = tokio::spawn(run(deps, cancel.clone()));
        for _ in 0..200 {
            if until(bus) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    fn alerts(bus: &MemoryBus) -> Vec<(String, u64, i32)> {
        bus.snapshot(topics::ALERTS)
            .iter()
            .map(|r| Alert::decode(r.payload.as_deref().unwrap()).unwrap())
            .map(|a| (a.id, a.version, a.state))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_mid_stream_resumes_from_the_checkpoint_without_loss_or_repeat() {
        // Reference: one uninterrupted run, with the whole stream delivered twice (as after an
        // upstream restart): redelivered mentions count once.
        let reference = MemoryBus::default();
        let p = Publisher::Memory(reference.clone());
        p.publish(topics::MENTIONS_ENRICHED, stream()).await.unwrap();
        p.publish(topics::MENTIONS_ENRICHED, stream()).await.unwrap();
        run_for(&reference, registry(), |b| {
            b.pending(topics::MENTIONS_ENRICHED, "g") == 0
        })
        .await;
        let expected = alerts(&reference);
        let firing = expected
            .iter()
            .filter(|a| a.2 == AlertState::Firing as i32)
            .count();
        assert_eq!(firing, 3, "one burst and two risky mentions: {expected:?}");
        assert!(expected.iter().any(|a| a.2 == AlertState::Resolved as i32));

        // Interrupted: the instance stops in the middle of the burst (after six of its eight
        // mentions); a fresh instance (empty memory) takes over the rest.
        let bus = MemoryBus::default();
        let p = Publisher::Memory(bus.clone());
        let all = stream();
        p.publish(topics::MENTIONS_ENRICHED, all[..6].to_vec())
            .await
            .unwrap();
        run_for(&bus, registry(), |b| {
            b.pending(topics::MENTIONS_ENRICHED, "g") == 0
        })
        .await;
        assert_eq!(
            alerts(&bus).len(),
            2,
            "the burst and the first toxic mention so far: {:?}",
            alerts(&bus)
        );
        p.publish(topics::MENTIONS_ENRICHED, all[6..].to_vec())
            .await
            .unwrap();
        p.publish(topics::MENTIONS_ENRICHED, stream()).await.unwrap();
        run_for(&bus, registry(), |b| {
            b.pending(topics::MENTIONS_ENRICHED, "g") == 0
        })
        .await;
        assert_eq!(alerts(&bus), expected);
        assert!(!bus.snapshot(topics::ALERTING_STATE).is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn input_that_pauses_after_full_batches_is_checkpointed_and_committed() {
        // Two full batches of three within the checkpoint interval: neither takes a checkpoint
        // (the input had not caught up), so their commit waits for one — taken when the input
        // pauses, not at the next record, which may never come.
        let bus = MemoryBus::default();
        bus.publish(topics::MENTIONS_ENRICHED, stream()[..6].to_vec())
            .await
            .unwrap();
        let cancel = CancellationToken::new();
        let deps = AlertingDeps {
            bus: Bus::Memory(bus.clone()),
            clickhouse: None,
            registry: registry(),
            config: StageConfig {
                group_id: "g".into(),
                batch_linger_ms: 2,
                batch_size: 3,
                checkpoint_interval_ms: 60_000,
                ..Default::default()
            },
        };
        let task = tokio::spawn(run(deps, cancel.clone()));
        let mut pending = i64::MAX;
        for _ in 0..300 {
            pending = bus.pending(topics::MENTIONS_ENRICHED, "g");
            if pending == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pending, 0, "committed while the service still runs");
        assert!(
            !bus.snapshot(topics::ALERTING_STATE).is_empty(),
            "with a checkpoint"
        );
        cancel.cancel();
        task.await.unwrap().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn operators_acknowledge_and_resolve_and_bad_commands_are_dead_lettered() {
        let bus = MemoryBus::default();
        let p = Publisher::Memory(bus.clone());
        p.publish(topics::MENTIONS_ENRICHED, stream()[..8].to_vec())
            .await
            .unwrap();
        run_for(&bus, registry(), |b| {
            b.pending(topics::MENTIONS_ENRICHED, "g") == 0
        })
        .await;
        let burst = alerts(&bus)
            .into_iter()
            .find(|a| a.0.contains(":burst:"))
            .unwrap()
            .0;
        let cmd = |action| {
            let c = AlertCommand {
                tenant: "acme".into(),
                actor: "ops".into(),
                action: Some(action),
            };
            OutRecord::message("acme", COMMAND_SCHEMA, c.encode_to_vec())
        };
        p.publish(
            topics::ALERT_COMMANDS,
            vec![
                cmd(alert_command::Action::Acknowledge(burst.clone())),
                cmd(alert_command::Action::Acknowledge(burst.clone())),
                cmd(alert_command::Action::Resolve(burst.clone())),
                cmd(alert_command::Action::Resolve("acme:nope".into())),
            ],
        )
        .await
        .unwrap();
        run_for(&bus, registry(), |b| b.pending(topics::ALERT_COMMANDS, "g") == 0).await;
        let states: Vec<(u64, i32)> = alerts(&bus)
            .into_iter()
            .filter(|a| a.0 == burst)
            .map(|a| (a.1, a.2))
            .collect();
        assert_eq!(
            states,
            [
                (1, AlertState::Firing as i32),
                (2, AlertState::Acknowledged as i32),
                (3, AlertState::Resolved as i32)
            ]
        );
        let dead = bus.snapshot(topics::DEADLETTER);
        assert_eq!(dead.len(), 1, "the command naming no alert");
    }

    #[test]
    fn a_record_with_no_mention_is_dead_lettered_not_skipped() {
        let mut engine = Engine::default();
        let record = |offset, payload: Vec<u8>| InRecord {
            topic: topics::MENTIONS_ENRICHED.into(),
            partition: 0,
            offset,
            key: Some(b"acme".to_vec()),
            payload: Some(payload),
        };
        let batch = [
            record(0, EnrichedMention::default().encode_to_vec()),
            record(1, m("a", 0).build().encode_to_vec()),
        ];
        let out = process_batch(&mut engine, &registry(), &batch);
        assert_eq!(out.rejected.len(), 1, "{:?}", out.rejected);
        assert_eq!(engine.watermark("acme"), Some(0), "the next record still counts");
    }

    /// The value of `vigie_alerting_ignored_total{reason}` in this process (0 when absent).
    fn ignored(reason: &str) -> u64 {
        let line = format!("vigie_alerting_ignored_total{{reason=\"{reason}\"}} ");
        vigie_core::metrics::render()
            .lines()
            .find_map(|l| l.strip_prefix(&line).and_then(|v| v.trim().parse().ok()))
            .unwrap_or(0)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_mention_later_than_the_allowance_is_counted_as_ignored() {
        let bus = MemoryBus::default();
        let before = ignored("late");
        let records: Vec<OutRecord> = [(0, 60 * MIN), (1, 0)]
            .into_iter()
            .map(|(i, at)| {
                OutRecord::message("acme", SCHEMA, m(&format!("l{i}"), at).build().encode_to_vec())
            })
            .collect();
        bus.publish(topics::MENTIONS_ENRICHED, records).await.unwrap();
        run_for(&bus, registry(), |b| {
            b.pending(topics::MENTIONS_ENRICHED, "g") == 0
        })
        .await;
        assert!(ignored("late") > before, "the late mention was not counted");
    }
}
