//! `vigie rescore`: re-enriches a tenant's stored mentions of a time range with the current
//! scorer (see `vigie_enrich::rescore`), reading the raw topic from Kafka while it holds them
//! and ClickHouse otherwise, and prints what changed.

use anyhow::Context;
use vigie_core::clickhouse::ClickHouse;
use vigie_core::config::Config;
use vigie_core::model::parse_rfc3339_ms;
use vigie_enrich::rescore::{self, Options, Range};

/// Arguments of `vigie rescore`.
#[derive(clap::Args)]
pub struct RescoreArgs {
    /// The tenant whose mentions are rescored.
    #[arg(long)]
    tenant: String,
    /// Start of the range of creation times (RFC 3339 or epoch ms), inclusive.
    #[arg(long)]
    from: String,
    /// End of the range (RFC 3339 or epoch ms), exclusive; default now.
    #[arg(long)]
    to: Option<String>,
    /// Rescore mentions already at the current scorer version too.
    #[arg(long)]
    force: bool,
    /// Count what would change; write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Rebuild every mention from ClickHouse, without reading the raw topic.
    #[arg(long)]
    no_raw: bool,
}

fn time_ms(flag: &str, value: &str) -> anyhow::Result<i64> {
    value
        .parse::<i64>()
        .ok()
        .or_else(|| parse_rfc3339_ms(value))
        .with_context(|| format!("--{flag}: cannot read {value:?} as a time (RFC 3339, such as 2026-11-01T00:00:00Z, or epoch milliseconds)"))
}

/// Runs `vigie rescore`.
pub(crate) async fn run(config: &Config, args: RescoreArgs) -> anyhow::Result<()> {
    let range = Range {
        tenant: args.tenant,
        from_ms: time_ms("from", &args.from)?,
        to_ms: match &args.to {
            Some(to) => time_ms("to", to)?,
            None => vigie_core::now_ms(),
        },
    };
    let options = Options {
        force: args.force,
        dry_run: args.dry_run,
        ..Options::default()
    };
    let db = ClickHouse::new(&config.clickhouse);
    let bus = (!args.no_raw).then(|| crate::services::kafka(config));
    let cancel = vigie_core::shutdown::on_signal();
    let report = rescore::run(&db, bus.as_ref(), &range, &options, &cancel).await?;
    println!(
        "rescore {} [{}, {}): {} stored, {} {} with scorer {} ({} from the raw topic, {} rebuilt from ClickHouse; {} raw records read); sentiment changed for {}, language for {}, place for {}; rollups {}",
        range.tenant,
        vigie_core::model::format_rfc3339_ms(range.from_ms),
        vigie_core::model::format_rfc3339_ms(range.to_ms),
        report.examined,
        report.rescored,
        if options.dry_run { "would be rescored" } else { "rescored" },
        vigie_enrich::scorer::SCORER_VERSION,
        report.from_raw,
        report.rescored - report.from_raw,
        report.raw_records,
        report.sentiment_changed,
        report.language_changed,
        report.place_changed,
        if report.rollups_rebuilt { "rebuilt" } else { "unchanged" },
    );
    Ok(())
}
