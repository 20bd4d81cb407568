//! `vigie standalone`: ingest, enrich and alerting in one process over the in-process bus, with
//! no Kafka and no ClickHouse. Replays the bundled sample (or a file) through the same ingest
//! code path as HTTP, prints what it rejected and, once the replay has gone through every stage,
//! the alerts it raised as one timeline (see [`console`]), then keeps serving HTTP ingest and
//! the gRPC API (search and stats over an in-memory window of recent mentions), and polling the
//! pull connectors of `--config` (feeds), until Ctrl-C, printing new alerts as they come (or
//! exits after the timeline with `--exit`).

mod console;

use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::bus::{Bus, Publisher};
use vigie_core::config::Config;
use vigie_core::model::FieldError;
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
    // The console reads from before anything is published, so it misses nothing.
    let console = console::Console::subscribe(&bus)?;
    watches::publish(&publisher, &watch_list).await?;
    let registry = WatchRegistry::default();
    watches::materialise(&bus, registry.clone(), cancel.clone()).await?;
    let registry_for_api = registry.clone();
    println!("vigie standalone: {} watches loaded", watch_list.len());

    // The stages the replay goes through (the console last): one stopping early is reported.
    let mut stages: Vec<Stage> = Vec::new();
    let enrich = vigie_enrich::service::EnrichDeps {
        bus: bus.clone(),
        clickhouse: None,
        registry: registry.clone(),
        config: config.enrich.clone(),
    };
    let enrich_cancel = cancel.clone();
    stages.push((
        "enrich",
        tokio::spawn(async move {
            vigie_enrich::service::run(enrich, enrich_cancel)
                .await
                .map_err(anyhow::Error::from)
        }),
    ));
    let alerting = vigie_alerting::service::AlertingDeps {
        bus: bus.clone(),
        clickhouse: None,
        registry,
        config: config.alerting.clone(),
    };
    stages.push((
        "alerting",
        tokio::spawn(vigie_alerting::service::run(alerting, cancel.clone())),
    ));
    let mut tasks = Vec::new();
    for r in &config.receivers {
        let receiver = vigie_alerting::notify::run_receiver(bus.clone(), r.clone(), cancel.clone());
        tasks.push(tokio::spawn(async move {
            receiver.await.map_err(anyhow::Error::from)
        }));
    }
    let replayed = cancel.child_token();
    let (timeline_printed, printed) = tokio::sync::oneshot::channel();
    let console = console.run(replayed.clone(), timeline_printed, cancel.clone());
    stages.push((
        "console",
        tokio::spawn(async move { console.await.map_err(anyhow::Error::from) }),
    ));

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
    // The connectors of `--config`: webhooks served beside `/v1/mentions`.
    let connectors = vigie_ingest::connectors::build_all(&config.connectors)?;
    let webhooks = Arc::new(vigie_ingest::connectors::webhooks(
        &connectors,
        &ingestor,
        &config.ingest,
    ));
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
    // The replay's rejections are printed before the count, then the timeline once every stage
    // has committed the replay (and with it published every alert it raised).
    let waiting = || any_stopped(&stages);
    wait_until_committed(
        &memory,
        &[(topics::DEADLETTER, console::GROUP)],
        &cancel,
        &waiting,
    )
    .await;
    println!("vigie standalone: replayed {accepted} mentions ({rejected} rejected and dead-lettered)");
    wait_until_committed(
        &memory,
        &[
            (topics::MENTIONS_RAW, config.enrich.group_id.as_str()),
            (topics::MENTIONS_ENRICHED, config.alerting.group_id.as_str()),
        ],
        &cancel,
        &waiting,
    )
    .await;
    replayed.cancel();
    // An error here is the console stopping early; it is reported when it is joined below.
    let _ = printed.await;

    if args.exit || any_stopped(&stages) {
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
        if !webhooks.is_empty() {
            println!(
                "vigie standalone: webhooks at http://{}/v1/webhooks/{{{}}}",
                config.ingest.http_listen,
                webhooks.names().join(",")
            );
        }
        // The pull connectors (feeds) poll beside, over the in-process bus, their cursors on
        // its vigie.connectors.state.
        let collect = vigie_ingest::collect::has_pull(&connectors).then(|| {
            let names: Vec<&str> = connectors
                .iter()
                .filter(|c| matches!(c.built, vigie_ingest::connectors::Built::Pull(_)))
                .map(|c| c.name.as_str())
                .collect();
            println!("vigie standalone: collecting {}", names.join(", "));
            let (bus, ingestor, collect, cancel) = (
                bus.clone(),
                ingestor.clone(),
                config.collect.clone(),
                cancel.clone(),
            );
            tokio::spawn(async move {
                vigie_ingest::collect::run(&bus, ingestor, &connectors, &collect, cancel).await
            })
        });
        vigie_ingest::service::serve(&config.ingest, ingestor, webhooks, cancel.clone()).await?;
        if let Some(task) = collect {
            if let Ok(Err(e)) = task.await {
                tracing::warn!("collect: {e}");
            }
        }
        if let Ok(Err(e)) = api.await {
            tracing::warn!("api: {e}");
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    for (name, stage) in stages {
        stage
            .await
            .with_context(|| format!("the {name} task"))?
            .with_context(|| format!("{name} stopped"))?;
    }
    Ok(())
}

/// A task the replay depends on, by name.
type Stage = (&'static str, tokio::task::JoinHandle<anyhow::Result<()>>);

/// Whether a stage has stopped (before being asked to: they run until cancelled).
fn any_stopped(stages: &[Stage]) -> bool {
    stages.iter().any(|(_, task)| task.is_finished())
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

/// Waits until each (topic, group) has committed everything published on the topic so far, or
/// until `cancel` or `stopped()` (a stage that would commit has stopped).
async fn wait_until_committed(
    memory: &MemoryBus,
    groups: &[(&str, &str)],
    cancel: &CancellationToken,
    stopped: &dyn Fn() -> bool,
) {
    while !cancel.is_cancelled() && !stopped() {
        if groups
            .iter()
            .all(|(topic, group)| memory.pending(topic, group) == 0)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
