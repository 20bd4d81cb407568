//! The services as processes: `vigie ingest`, `enrich`, `alerting`, `api` and `collect`, each
//! assembled from its crate over Kafka and ClickHouse, with its metrics endpoint, until SIGTERM
//! or Ctrl-C.

use anyhow::Context;
use std::sync::Arc;
use vigie_core::bus::kafka::KafkaBus;
use vigie_core::bus::Bus;
use vigie_core::clickhouse::ClickHouse;
use vigie_core::config::Config;
use vigie_core::watches::{self, WatchRegistry};

/// The Kafka bus of `config`.
pub(crate) fn kafka(config: &Config) -> Bus {
    Bus::Kafka(KafkaBus::new(config.kafka.clone()))
}

/// Watches materialised from `vigie.watches` and kept live until `cancel`.
async fn live_watches(
    bus: &Bus,
    cancel: &tokio_util::sync::CancellationToken,
) -> anyhow::Result<WatchRegistry> {
    let registry = WatchRegistry::default();
    watches::materialise(bus, registry.clone(), cancel.clone()).await?;
    Ok(registry)
}

pub(crate) async fn run_ingest(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let publisher = bus.publisher()?;
    let mut ingestor = vigie_ingest::Ingestor::from_config(publisher.clone(), &config.ingest);
    if config.auth.required {
        let tokens = vigie_core::tokens::TokenStore::default();
        vigie_core::tokens::materialise(&bus, tokens.clone(), cancel.clone()).await?;
        ingestor = ingestor.with_tokens(tokens);
    } else {
        tracing::warn!("ingest: auth.required = false: anonymous writes accepted for any tenant");
    }
    // The webhooks only: the polled sources (and their settings) are collect's.
    let connectors =
        vigie_ingest::connectors::build_side(&config.connectors, vigie_ingest::connectors::Side::Push)?;
    let ingestor = Arc::new(ingestor);
    let webhooks = Arc::new(vigie_ingest::connectors::webhooks(
        &connectors,
        &ingestor,
        &config.ingest,
    ));
    vigie_ingest::service::serve(&config.ingest, ingestor, webhooks, cancel).await?;
    publisher.flush().await;
    Ok(())
}

fn clickhouse_sink(enabled: bool, config: &Config) -> Option<ClickHouse> {
    enabled.then(|| ClickHouse::new(&config.clickhouse))
}

pub(crate) async fn run_enrich(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let registry = live_watches(&bus, &cancel).await?;
    let metrics = vigie_core::metrics::spawn(&config.enrich.metrics_listen, cancel.clone()).await?;
    let clickhouse = clickhouse_sink(config.enrich.write_clickhouse, &config);
    // The `watches` table for BI tools follows the topic beside the scoring stage.
    let mirror = clickhouse.clone().map(|ch| {
        let group = format!("{}-watches", config.enrich.group_id);
        tokio::spawn(vigie_core::watch_mirror::run(
            bus.clone(),
            ch,
            group,
            cancel.clone(),
        ))
    });
    let deps = vigie_enrich::service::EnrichDeps {
        bus,
        clickhouse,
        registry,
        config: config.enrich.clone(),
    };
    vigie_enrich::service::run(deps, cancel).await?;
    if let Some(Ok(Err(e))) = match mirror {
        Some(m) => Some(m.await),
        None => None,
    } {
        tracing::warn!("watches mirror: {e}");
    }
    let _ = metrics.await;
    Ok(())
}

pub(crate) async fn run_alerting(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let registry = live_watches(&bus, &cancel).await?;
    let metrics = vigie_core::metrics::spawn(&config.alerting.metrics_listen, cancel.clone()).await?;
    // Receivers run beside detection, each on its own consumer group: a failing one lags alone.
    let receivers: Vec<_> = config
        .receivers
        .iter()
        .map(|r| {
            tokio::spawn(vigie_alerting::notify::run_receiver(
                bus.clone(),
                r.clone(),
                cancel.clone(),
            ))
        })
        .collect();
    let deps = vigie_alerting::service::AlertingDeps {
        bus,
        clickhouse: clickhouse_sink(config.alerting.write_clickhouse, &config),
        registry,
        config: config.alerting.clone(),
    };
    vigie_alerting::service::run(deps, cancel).await?;
    for r in receivers {
        if let Ok(Err(e)) = r.await {
            tracing::warn!("notify: {e}");
        }
    }
    let _ = metrics.await;
    Ok(())
}

pub(crate) async fn run_api(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    // Metrics first: a start-up slowed by the broker is visible (and scrapable) while it lasts.
    let metrics = vigie_core::metrics::spawn(&config.api.metrics_listen, cancel.clone()).await?;
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    // The three topics the API answers from are read side by side, each in a task of its own
    // (reading the partitions' ends blocks its thread).
    let started = std::time::Instant::now();
    let registry = WatchRegistry::default();
    let tokens = vigie_core::tokens::TokenStore::default();
    let log = vigie_api::alerts::AlertLog::new(i64::from(config.api.keep_resolved_days) * 86_400_000);
    let (w, t, a) = tokio::join!(
        tokio::spawn({
            let (registry, bus, cancel) = (registry.clone(), bus.clone(), cancel.clone());
            async move { watches::materialise(&bus, registry, cancel).await }
        }),
        tokio::spawn({
            let (tokens, bus, cancel) = (tokens.clone(), bus.clone(), cancel.clone());
            async move { vigie_core::tokens::materialise(&bus, tokens, cancel).await }
        }),
        tokio::spawn({
            let (log, bus, cancel) = (log.clone(), bus.clone(), cancel.clone());
            async move { log.follow(&bus, cancel).await }
        }),
    );
    w.context("reading vigie.watches")??;
    t.context("reading vigie.tokens")??;
    a.context("reading vigie.alerts")??;
    tracing::info!(
        "api: watches, tokens and alerts read in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let addr = config
        .api
        .grpc_listen
        .parse()
        .with_context(|| format!("api.grpc_listen {:?} is not host:port", config.api.grpc_listen))?;
    let tls = vigie_api::tls_identity(&config.api)?;
    let publisher = bus.publisher()?;
    let store = Arc::new(vigie_api::store::ClickHouseStore::new(ClickHouse::new(
        &config.clickhouse,
    )));
    let mut ingestor = vigie_ingest::Ingestor::from_config(publisher.clone(), &config.ingest);
    if config.auth.required {
        ingestor = ingestor.with_tokens(tokens.clone());
    }
    let services = vigie_api::Services::new(
        registry,
        publisher.clone(),
        tokens,
        store,
        log,
        Arc::new(ingestor),
    );
    vigie_api::serve(addr, tls, services, cancel).await?;
    let _ = metrics.await;
    publisher.flush().await;
    Ok(())
}

pub(crate) async fn run_collect(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    // A configuration that cannot run is refused before anything connects; the webhooks (and
    // their secrets) are ingest's.
    let connectors =
        vigie_ingest::connectors::build_side(&config.connectors, vigie_ingest::connectors::Side::Pull)?;
    let metrics = vigie_core::metrics::spawn(&config.collect.metrics_listen, cancel.clone()).await?;
    let bus = kafka(&config);
    // A broker that does not answer must not keep SIGTERM waiting.
    tokio::select! {
        ready = bus.ensure_topics() => ready?,
        _ = cancel.cancelled() => {
            let _ = metrics.await;
            return Ok(());
        }
    }
    let publisher = bus.publisher()?;
    let ingestor = Arc::new(vigie_ingest::Ingestor::from_config(
        publisher.clone(),
        &config.ingest,
    ));
    vigie_ingest::collect::run(&bus, ingestor, &connectors, &config.collect, cancel).await?;
    publisher.flush().await;
    let _ = metrics.await;
    tracing::info!("collect: stopped");
    Ok(())
}
