//! `vigie`: one subcommand per service, plus the standalone mode and admin commands.

mod admin;
mod backtest;
mod eval;
mod import;
mod load;
mod nab;
mod rescore;
mod score;
mod services;
mod standalone;
mod surge_eval;
mod volume_eval;

/// mimalloc: see the dependency's note in Cargo.toml.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use vigie_core::clickhouse::ClickHouse;
use vigie_core::config::Config;
use vigie_core::watches;

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
    /// Poll the pull connectors of `[[connectors]]` (RSS and Atom feeds, Google Alerts) and
    /// publish what they find to Kafka, each connector resuming from its saved cursor.
    Collect,
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
    /// Re-enrich a tenant's stored mentions of a time range with the current scorer (from the
    /// raw topic while it holds them, else from ClickHouse), idempotently, rollups rebuilt.
    Rescore(rescore::RescoreArgs),
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
    /// Drive the running stack through ingest (HTTP or gRPC) with generated mentions, watches
    /// and alert probes; report ingest and end-to-end throughput, lag and alert latency.
    Load(load::LoadArgs),
    /// Manage watch definitions.
    Watches {
        #[command(subcommand)]
        action: WatchesAction,
    },
}

#[derive(Subcommand)]
pub(crate) enum TokenAction {
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
pub(crate) enum AlertAction {
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
    /// Turn queries exported from another tool (a CSV with a Name and a Query column, or one
    /// query per line) into a TOML watches file with `syntax = "<tool>"`.
    ///
    /// Each query is checked in the tool's dialect as `vigie watches check` will check it and is
    /// kept as written or refused with the position and the reason (reported per query on
    /// standard error; refused queries are left in the file as comments). Exits non-zero if any
    /// query was refused, after writing the accepted ones.
    Import(import::ImportArgs),
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
        Command::Ingest => services::run_ingest(config).await,
        Command::Enrich => services::run_enrich(config).await,
        Command::Alerting => services::run_alerting(config).await,
        Command::Api => services::run_api(config).await,
        Command::Collect => services::run_collect(config).await,
        Command::Standalone(args) => standalone::run(config, args).await,
        Command::Score(args) => score::run(args),
        Command::Rescore(args) => rescore::run(&config, args).await,
        Command::Backtest(args) => backtest::run(args),
        Command::Alert { action } => admin::send_alert_command(&config, action).await,
        Command::Token { action } => admin::manage_tokens(&config, action).await,
        Command::Load(args) => load::run(&config, args).await,
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
                services::kafka(&config).ensure_topics().await?;
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
            WatchesAction::Import(args) => import::run(args),
            WatchesAction::Publish { file } => {
                let w = watches::load_file(&file)?;
                let bus = services::kafka(&config);
                bus.ensure_topics().await?;
                watches::publish(&bus.publisher()?, &w).await?;
                println!("published {} watches to {}", w.len(), vigie_core::topics::WATCHES);
                Ok(())
            }
        },
    }
}
