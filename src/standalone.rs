//! `vigie standalone`: ingest, enrich and alerting in one process over the in-process bus, with
//! no Kafka and no ClickHouse. Replays the bundled sample (or a file) through the same ingest
//! code path as HTTP, prints the alerts as they are raised, then keeps serving HTTP ingest and
//! the gRPC API (search and stats over an in-memory window of recent mentions) until Ctrl-C (or
//! exits once the replay is fully processed with `--exit`).

use anyhow::Context;
use prost::Message;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::bus::{Bus, Publisher};
use vigie_core::config::Config;
use vigie_core::model::FieldError;
use vigie_core::proto::DeadLetter;
use vigie_core::topics;
use vigie_core::watches::{self, WatchRegistry};
use vigie_ingest::ingestor::{Item, Submitted};

const SAMPLE_MENTIONS: &str = include_str!("../deploy/sample/mentions.jsonl");
const SAMPLE_WATCHES: &str = include_str!("../deploy/sample/watches.toml");

/// Options of `vigie standalone`.
#[derive(clap::Args)]
pub struct Args {
    /// Mentions to replay (JSONL); defaults to the bundled sample.
    #[arg(long)]
    mentions: Option<PathBuf>,
    /// Watches (TOML); defaults to `watches.file` from the configuration, else the bundled sample.
    #[arg(long)]
    watches: Option<PathBuf>,
    /// Exit once the replay has gone through every stage instead of serving.
    #[arg(long)]
    exit: bool,
}

/// The tenant `vigie standalone` makes a token for.
pub const DEV_TENANT: &str = "dev";

/// Runs the standalone pipeline.
pub async fn run(config: Config, args: Args) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let memory = MemoryBus::default();
    let bus = Bus::Memory(memory.clone());
    let publisher = Publisher::Memory(memory.clone());

    let watches_file = args
        .watches
        .clone()
        .or_else(|| (!config.watches.file.is_empty()).then(|| PathBuf::from(&config.watches.file)));
    let watch_list = match &watches_file {
        Some(path) => watches::load_file(path)?,
        None => watches::parse_file(SAMPLE_WATCHES, "bundled sample watches")?,
    };
    watches::publish(&publisher, &watch_list).await?;
    let registry = WatchRegistry::default();
    watches::materialise(&bus, registry.clone(), cancel.clone()).await?;
    let registry_for_api = registry.clone();
    println!("vigie standalone: {} watches loaded", watch_list.len());

    let mut tasks = Vec::new();
    let enrich = vigie_enrich::service::EnrichDeps {
        bus: bus.clone(),
        clickhouse: None,
        registry: registry.clone(),
        config: config.enrich.clone(),
    };
    let enrich_cancel = cancel.clone();
    tasks.push(tokio::spawn(async move {
        vigie_enrich::service::run(enrich, enrich_cancel)
            .await
            .map_err(anyhow::Error::from)
    }));
    let alerting = vigie_alerting::service::AlertingDeps {
        bus: bus.clone(),
        clickhouse: None,
        registry,
        config: config.alerting.clone(),
    };
    tasks.push(tokio::spawn(vigie_alerting::service::run(
        alerting,
        cancel.clone(),
    )));
    for r in &config.receivers {
        let receiver = vigie_alerting::notify::run_receiver(bus.clone(), r.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            receiver.await.map_err(anyhow::Error::from)
        }));
    }
    tasks.push(tokio::spawn(print_topic(
        bus.clone(),
        topics::ALERTS,
        vigie_alerting::render::alert_text,
        cancel.clone(),
    )));
    tasks.push(tokio::spawn(print_topic(
        bus.clone(),
        topics::DEADLETTER,
        dead_letter_line,
        cancel.clone(),
    )));

    // The API's view of mentions and alerts follows from before the replay, so it holds the
    // sample: search, stats and TestQuery read a window of the most recent enriched mentions.
    let api_follows = if args.exit {
        None
    } else {
        let window = vigie_api::store::MentionWindow::new(config.api.window_mentions);
        window.follow(&bus, cancel.clone()).await?;
        let log = vigie_api::alerts::AlertLog::new(i64::from(config.api.keep_resolved_days) * 86_400_000);
        log.follow(&bus, cancel.clone()).await?;
        Some((window, log))
    };
    let mut ingestor = vigie_ingest::Ingestor::from_config(publisher, &config.ingest);
    // A development tenant and its token, so a newcomer can post and call the API at once.
    let store_of_tokens = vigie_core::tokens::TokenStore::default();
    let dev_token = if config.auth.required {
        let (token, record) =
            vigie_core::tokens::make(DEV_TENANT, vigie_core::proto::Role::Admin, "standalone")
                .context("cannot draw a random token")?;
        store_of_tokens.upsert(record);
        ingestor = ingestor.with_tokens(store_of_tokens.clone());
        Some(token)
    } else {
        None
    };
    let ingestor = Arc::new(ingestor);
    // And one operator token per tenant of the watches, to read the sample's alerts and
    // mentions through the API at once.
    let mut tenant_tokens = Vec::new();
    if config.auth.required && !args.exit {
        let tenants: std::collections::BTreeSet<&str> = watch_list
            .iter()
            .map(|w| w.tenant.as_str())
            .filter(|t| *t != DEV_TENANT)
            .collect();
        for tenant in tenants {
            let (token, record) =
                vigie_core::tokens::make(tenant, vigie_core::proto::Role::Operator, "standalone")
                    .context("cannot draw a random token")?;
            store_of_tokens.upsert(record);
            tenant_tokens.push(format!("{tenant}: {token}"));
        }
    }

    let text = match &args.mentions {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        None => SAMPLE_MENTIONS.to_string(),
    };
    let (accepted, rejected) = replay(&ingestor, &text).await?;
    println!("vigie standalone: replayed {accepted} mentions ({rejected} rejected and dead-lettered)");

    if args.exit {
        wait_until_processed(&memory, &config, &cancel).await;
        // Give the printers a moment to print the last alerts, then stop everything.
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    } else {
        let api_addr = config
            .api
            .grpc_listen
            .parse()
            .with_context(|| format!("api.grpc_listen {:?} is not host:port", config.api.grpc_listen))?;
        let tls = vigie_api::tls_identity(&config.api)?;
        let scheme = if tls.is_some() { "TLS" } else { "plaintext" };
        let (window, log) = api_follows.context("the API's followers")?;
        let services = vigie_api::Services::new(
            registry_for_api,
            bus.publisher()?,
            store_of_tokens,
            Arc::new(window),
            log,
            ingestor.clone(),
        );
        let api = tokio::spawn(vigie_api::serve(api_addr, tls, services, cancel.clone()));
        println!(
            "vigie standalone: gRPC on {api_addr} ({scheme}): WatchService, AlertService, MentionService (over the last {} mentions), IngestService, health, reflection",
            config.api.window_mentions
        );
        println!(
            "vigie standalone: post your own mentions to http://{}/v1/mentions or gRPC IngestService (Ctrl-C to stop)",
            config.ingest.http_listen
        );
        if !tenant_tokens.is_empty() {
            println!(
                "vigie standalone: tokens (operator) of the watches' tenants, to read their alerts and mentions: {}",
                tenant_tokens.join(", ")
            );
        }
        match &dev_token {
            None => println!("vigie standalone: auth.required = false: ingest is open; the gRPC API answers UNAUTHENTICATED"),
            Some(token) => println!(
                "vigie standalone: development tenant {DEV_TENANT:?} (yours to fill; the sample's are verdier and northwind), token (admin): {token}\n\
                 e.g. curl -H 'Authorization: Bearer {token}' -d '{{\"source\":\"x\",\"native_id\":\"1\",\"text\":\"hello\"}}' http://{}/v1/mentions",
                config.ingest.http_listen
            ),
        }
        vigie_ingest::service::serve(&config.ingest, ingestor, cancel.clone()).await?;
        if let Ok(Err(e)) = api.await {
            tracing::warn!("api: {e}");
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// Submits JSONL mentions through the ingest path in batches; returns (accepted, rejected).
async fn replay(ingestor: &vigie_ingest::Ingestor, text: &str) -> anyhow::Result<(u32, u32)> {
    let limits = *ingestor.limits();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let (mut accepted, mut rejected) = (0, 0);
    let chunk_size = ingestor.max_batch().clamp(1, 200);
    for (i, chunk) in lines.chunks(chunk_size).enumerate() {
        let now = vigie_core::now_ms();
        let items = chunk
            .iter()
            .map(|line| {
                let value = serde_json::from_str::<serde_json::Value>(line)
                    .map_err(|e| FieldError::new("", format!("invalid JSON line: {e}")));
                Submitted {
                    item: Item::from_json(value, &limits, now),
                    original: line.as_bytes().to_vec(),
                }
            })
            .collect();
        let r = ingestor
            .submit_from(
                &vigie_ingest::Caller::trusted(),
                items,
                "replay",
                (i * chunk_size) as u32,
            )
            .await?;
        accepted += r.accepted;
        rejected += r.rejected;
    }
    Ok((accepted, rejected))
}

/// Waits until enrich and alerting have committed everything published so far.
async fn wait_until_processed(memory: &MemoryBus, config: &Config, cancel: &CancellationToken) {
    while !cancel.is_cancelled() {
        let raw = memory.pending(topics::MENTIONS_RAW, &config.enrich.group_id);
        let enriched = memory.pending(topics::MENTIONS_ENRICHED, &config.alerting.group_id);
        if raw == 0 && enriched == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Prints every record of `topic` as it arrives, one line each, until `cancel`.
async fn print_topic<T: Message + Default>(
    bus: Bus,
    topic: &'static str,
    format: fn(&T) -> String,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut sub = bus.subscribe(topic, "standalone-printer", "printer")?;
    loop {
        let batch = sub.next_batch(100, Duration::from_millis(10), &cancel).await?;
        if batch.is_empty() && cancel.is_cancelled() {
            return Ok(());
        }
        for r in &batch {
            if let Ok(message) = T::decode(r.payload.as_deref().unwrap_or_default()) {
                println!("{}", format(&message));
            }
        }
        sub.commit(&batch).await?;
    }
}

fn dead_letter_line(d: &DeadLetter) -> String {
    format!("REJECTED ({}) {}: {}", d.origin, d.field, d.reason)
}
