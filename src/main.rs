//! `vigie`: one subcommand per service, plus the standalone mode and admin commands.

mod backtest;
mod eval;
mod nab;
mod score;
mod standalone;
mod volume_eval;

/// mimalloc: see the dependency's note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;
use vigie_core::bus::kafka::KafkaBus;
use vigie_core::bus::Bus;
use vigie_core::clickhouse::ClickHouse;
use vigie_core::config::Config;
use vigie_core::watches::{self, WatchRegistry};

#[derive(Parser)]
#[command(
    name = "vigie",
    version,
    about = "Real-time social listening and crisis alerting"
)]
struct Cli {
    /// Configuration file (TOML); `VIGIE_<SECTION>__<KEY>` variables override it.
    #[arg(long, short, global = true, env = "VIGIE_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Accept mentions over HTTP and gRPC and publish them to Kafka.
    Ingest,
    /// Score raw mentions from Kafka into enriched mentions (Kafka and ClickHouse).
    Enrich,
    /// Run alert rules over enriched mentions (alerts to Kafka and ClickHouse).
    Alerting,
    /// Serve the gRPC API for internal services (watches and alerts so far), tenant-scoped by token.
    Api,
    /// All stages in one process over in-process channels: no Kafka, no ClickHouse. Replays the
    /// bundled sample, prints alerts, and keeps serving HTTP and gRPC ingest.
    Standalone(standalone::Args),
    /// Apply ClickHouse schema migrations (idempotent) and create the Kafka topics.
    Migrate {
        /// Only ClickHouse (skip Kafka topic creation).
        #[arg(long)]
        clickhouse_only: bool,
    },
    /// Score JSONL mentions (language, sentiment, toxicity, risk, cluster, watch matches).
    Score(score::ScoreArgs),
    /// Retrain the embedded language and sentiment models from the development data.
    Train(eval::TrainArgs),
    /// Accuracy and macro-F1 on the development data, next to baselines.
    Eval(eval::EvalArgs),
    /// Replay history through the alerting engine; alerts as JSON lines.
    Backtest(backtest::BacktestArgs),
    /// Acknowledge, resolve or silence alerts (commands to the alerting service).
    Alert {
        #[command(subcommand)]
        action: AlertAction,
    },
    /// Manage API tokens (bearer tokens bound to a tenant and a role, stored hashed).
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Manage watch definitions.
    Watches {
        #[command(subcommand)]
        action: WatchesAction,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Make a token and print it (shown once; only its hash is stored).
    Create {
        /// The tenant every call with this token is scoped to.
        #[arg(long)]
        tenant: String,
        /// reader, operator or admin.
        #[arg(long, default_value = "reader")]
        role: String,
        /// What it is for.
        #[arg(long, default_value = "")]
        name: String,
    },
    /// Revoke a token by id (the part after "vigie_" and before the next "_").
    Revoke {
        /// Token id.
        id: String,
    },
    /// List tokens (ids, tenants, roles; never secrets).
    List,
}

#[derive(Subcommand)]
enum AlertAction {
    /// Acknowledge a firing alert (someone is on it; it still resolves by itself).
    Ack {
        /// Alert id.
        id: String,
        /// Who acknowledges.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Resolve an open alert by hand.
    Resolve {
        /// Alert id.
        id: String,
        /// Who resolves.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
    /// Mute notifications of a tenant's alerts (optionally one watch, one rule) for a while.
    Silence {
        /// Tenant.
        #[arg(long)]
        tenant: String,
        /// Watch id (all watches when absent).
        #[arg(long, default_value = "")]
        watch: String,
        /// Rule name (all rules when absent).
        #[arg(long, default_value = "")]
        rule: String,
        /// How long, e.g. 2h.
        #[arg(long = "for")]
        duration: String,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
        /// Who.
        #[arg(long, default_value = "cli")]
        actor: String,
    },
}

#[derive(Subcommand)]
enum WatchesAction {
    /// Validate a TOML watches file and publish it into `vigie.watches`.
    Publish {
        /// The watches file (see deploy/sample/watches.toml).
        file: PathBuf,
    },
    /// Validate a TOML watches file without publishing.
    Check {
        /// The watches file.
        file: PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber_init(&cli.command);
    let config = Config::load(cli.config.as_deref())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli.command, config))
}

/// Logs go to stderr, filtered by `VIGIE_LOG`, else `RUST_LOG`, else the command's default:
/// `info` for the services and tools, `warn` for `vigie standalone`, whose stdout is its console
/// (rejected input and the alert timeline) and which mutes the alerting stage's own alert log
/// lines (target `vigie::alerts`), already printed there.
fn tracing_subscriber_init(command: &Command) {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let default = match command {
        Command::Standalone(_) => "warn,vigie::alerts=off",
        _ => "info",
    };
    let asked = ["VIGIE_LOG", "RUST_LOG"].iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|v| !v.trim().is_empty())
            .map(|v| (*name, v))
    });
    let filter = match asked {
        None => EnvFilter::new(default),
        Some((name, value)) => EnvFilter::try_new(&value).unwrap_or_else(|e| {
            eprintln!("vigie: {name}={value:?} is not a log filter ({e}); using {default:?}");
            EnvFilter::new(default)
        }),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Ingest => run_ingest(config).await,
        Command::Enrich => run_enrich(config).await,
        Command::Alerting => run_alerting(config).await,
        Command::Api => run_api(config).await,
        Command::Standalone(args) => standalone::run(config, args).await,
        Command::Score(args) => score::run(args),
        Command::Backtest(args) => backtest::run(args),
        Command::Alert { action } => send_alert_command(&config, action).await,
        Command::Token { action } => manage_tokens(&config, action).await,
        Command::Train(args) => eval::run_train(args),
        Command::Eval(args) => eval::run_eval(args),
        Command::Migrate { clickhouse_only } => {
            let applied = ClickHouse::new(&config.clickhouse)
                .migrate()
                .await
                .with_context(|| format!("migrating ClickHouse at {}", config.clickhouse.url))?;
            if applied.is_empty() {
                println!("clickhouse: schema up to date");
            } else {
                println!("clickhouse: applied {}", applied.join(", "));
            }
            if !clickhouse_only {
                kafka(&config).ensure_topics().await?;
                println!("kafka: topics ready on {}", config.kafka.brokers);
            }
            Ok(())
        }
        Command::Watches { action } => match action {
            WatchesAction::Check { file } => {
                let w = watches::load_file(&file)?;
                println!("{}: {} watches OK", file.display(), w.len());
                Ok(())
            }
            WatchesAction::Publish { file } => {
                let w = watches::load_file(&file)?;
                let bus = kafka(&config);
                bus.ensure_topics().await?;
                watches::publish(&bus.publisher()?, &w).await?;
                println!("published {} watches to {}", w.len(), vigie_core::topics::WATCHES);
                Ok(())
            }
        },
    }
}

fn kafka(config: &Config) -> Bus {
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

async fn run_ingest(config: Config) -> anyhow::Result<()> {
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
    vigie_ingest::service::serve(&config.ingest, Arc::new(ingestor), cancel).await?;
    publisher.flush().await;
    Ok(())
}

fn clickhouse_sink(enabled: bool, config: &Config) -> Option<ClickHouse> {
    enabled.then(|| ClickHouse::new(&config.clickhouse))
}

async fn run_enrich(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let registry = live_watches(&bus, &cancel).await?;
    let metrics = tokio::spawn(vigie_core::metrics::serve_owned(
        config.enrich.metrics_listen.clone(),
        cancel.clone(),
    ));
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

async fn run_alerting(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let registry = live_watches(&bus, &cancel).await?;
    let metrics = tokio::spawn(vigie_core::metrics::serve_owned(
        config.alerting.metrics_listen.clone(),
        cancel.clone(),
    ));
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

async fn run_api(config: Config) -> anyhow::Result<()> {
    let cancel = vigie_core::shutdown::on_signal();
    let bus = kafka(&config);
    bus.ensure_topics().await?;
    let registry = live_watches(&bus, &cancel).await?;
    let tokens = vigie_core::tokens::TokenStore::default();
    vigie_core::tokens::materialise(&bus, tokens.clone(), cancel.clone()).await?;
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
    let log = vigie_api::alerts::AlertLog::new(i64::from(config.api.keep_resolved_days) * 86_400_000);
    log.follow(&bus, cancel.clone()).await?;
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
    let metrics = tokio::spawn(vigie_core::metrics::serve_owned(
        config.api.metrics_listen.clone(),
        cancel.clone(),
    ));
    vigie_api::serve(addr, tls, services, cancel).await?;
    let _ = metrics.await;
    publisher.flush().await;
    Ok(())
}

/// The tenant of an alert id (`<tenant>:<watch>:<rule>:<episode>`).
fn tenant_of(id: &str) -> anyhow::Result<String> {
    match id.split_once(':') {
        Some((tenant, rest)) if !tenant.is_empty() && !rest.is_empty() => Ok(tenant.to_string()),
        _ => anyhow::bail!("alert id {id:?}: expected <tenant>:<watch>:<rule>:<episode>"),
    }
}

async fn send_alert_command(config: &Config, action: AlertAction) -> anyhow::Result<()> {
    use vigie_core::proto::{alert_command::Action, AlertCommand, Silence};
    let cmd = match action {
        AlertAction::Ack { id, actor } => AlertCommand {
            tenant: tenant_of(&id)?,
            actor,
            action: Some(Action::Acknowledge(id)),
        },
        AlertAction::Resolve { id, actor } => AlertCommand {
            tenant: tenant_of(&id)?,
            actor,
            action: Some(Action::Resolve(id)),
        },
        AlertAction::Silence {
            tenant,
            watch,
            rule,
            duration,
            comment,
            actor,
        } => {
            let secs = watches::parse_duration_secs(&duration)
                .with_context(|| format!("--for {duration:?}: expected a duration like 30m or 2h"))?;
            let max = vigie_core::rules::MAX_SILENCE_SECS;
            anyhow::ensure!(
                secs <= max,
                "--for {duration:?}: longer than the longest silence, {}d",
                max / 86_400
            );
            let now = vigie_core::now_ms();
            AlertCommand {
                tenant: tenant.clone(),
                actor: actor.clone(),
                action: Some(Action::Silence(Silence {
                    id: format!("{tenant}:{watch}:{rule}:{now}"),
                    tenant,
                    watch_id: watch,
                    rule,
                    starts_at_ms: now,
                    ends_at_ms: now + secs as i64 * 1000,
                    comment,
                    created_by: actor,
                })),
            }
        }
    };
    use prost::Message;
    let record = vigie_core::bus::OutRecord::message(
        cmd.tenant.clone(),
        vigie_alerting::service::COMMAND_SCHEMA,
        cmd.encode_to_vec(),
    );
    kafka(config)
        .publisher()?
        .publish(vigie_core::topics::ALERT_COMMANDS, vec![record])
        .await?;
    println!("sent to {}", vigie_core::topics::ALERT_COMMANDS);
    Ok(())
}

async fn manage_tokens(config: &Config, action: TokenAction) -> anyhow::Result<()> {
    use vigie_core::tokens;
    let bus = kafka(config);
    bus.ensure_topics().await?;
    let publisher = bus.publisher()?;
    match action {
        TokenAction::Create { tenant, role, name } => {
            vigie_core::model::check_name("--tenant", &tenant)
                .map_err(|e| anyhow::anyhow!("{}: {}", e.field, e.reason))?;
            let role = tokens::parse_role(&role)
                .with_context(|| format!("--role {role:?}: expected reader, operator or admin"))?;
            let (token, record) = tokens::make(&tenant, role, &name).context("cannot draw a random token")?;
            tokens::publish(&publisher, std::slice::from_ref(&record)).await?;
            println!("{token}");
            eprintln!(
                "token {} for tenant {tenant} ({}): shown once, store it now",
                record.id,
                tokens::role_name(role)
            );
        }
        TokenAction::Revoke { id } => {
            let store = known_tokens(&bus).await?;
            let mut record = store
                .all()
                .into_iter()
                .find(|t| t.id == id)
                .with_context(|| format!("no token with id {id:?}"))?;
            record.revoked_at_ms = vigie_core::now_ms();
            tokens::publish(&publisher, &[record]).await?;
            println!("revoked {id}");
        }
        TokenAction::List => {
            let mut all = known_tokens(&bus).await?.all();
            all.sort_by(|a, b| (&a.tenant, a.created_at_ms).cmp(&(&b.tenant, b.created_at_ms)));
            for t in all {
                let role = tokens::role_name(t.role());
                let state = if t.revoked_at_ms != 0 { "revoked" } else { "active" };
                println!(
                    "{}\t{}\t{role}\t{state}\t{}\t{}",
                    t.id,
                    t.tenant,
                    vigie_core::model::format_rfc3339_ms(t.created_at_ms),
                    t.name
                );
            }
        }
    }
    publisher.flush().await;
    Ok(())
}

async fn known_tokens(bus: &Bus) -> anyhow::Result<vigie_core::tokens::TokenStore> {
    let store = vigie_core::tokens::TokenStore::default();
    let cancel = tokio_util::sync::CancellationToken::new();
    let follower = vigie_core::tokens::materialise(bus, store.clone(), cancel.clone()).await?;
    cancel.cancel();
    let _ = follower.await;
    Ok(store)
}
