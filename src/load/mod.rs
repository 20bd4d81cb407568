//! `vigie load`: drives a running stack through its front door (HTTP or gRPC ingest) and
//! measures what users see — how fast mentions are acknowledged, how fast they become
//! ClickHouse rows, how far each stage lags, and how long an alert takes after its mention was
//! acknowledged.
//!
//! A run: operator tokens for its tenants and (unless `--watches 0`) brand watches plus one
//! probe watch per tenant are published; once a first probe alert comes back (the stack is
//! live), `--connections` senders post batches of `--batch` generated mentions, at `--rate` or
//! as fast as they are acknowledged, while a prober posts `--probes` one-star probe reviews per
//! second, each raising an alert of its own. Once sending ends, the run waits until every
//! acknowledged mention is a ClickHouse row (counted by run id), then reports. Progress lines
//! go to stderr each second; the report to stdout (`--json`: one JSON object). `--parts`
//! measures the broker and ClickHouse alone (see `parts`).

mod corpus;
mod parts;
mod replay;
mod sender;

use anyhow::Context;
use sender::{Front, Sent};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vigie_core::clickhouse::ClickHouse;
use vigie_core::config::Config;
use vigie_core::proto::Alert;

/// `vigie load` options.
#[derive(clap::Args)]
pub struct LoadArgs {
    /// Mentions to send (probes not counted).
    #[arg(long, default_value_t = 200_000)]
    mentions: u64,
    /// Mentions per second to aim for; 0 sends each batch as soon as a connection is free.
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Mentions per request.
    #[arg(long, default_value_t = 1_000)]
    batch: usize,
    /// Concurrent keep-alive connections (requests in flight).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// Tenants the mentions and watches are spread over.
    #[arg(long, default_value_t = 4)]
    tenants: usize,
    /// Brand watches in all, spread over the tenants, two rules each (volume spike, risky
    /// mention); 0 publishes no watches (a later run over the same tenants).
    #[arg(long, default_value_t = 1_000)]
    watches: usize,
    /// `http` (NDJSON to `/v1/mentions`) or `grpc` (`IngestService.Publish`).
    #[arg(long, default_value = "http")]
    protocol: String,
    /// Probe mentions per second while sending; each raises an alert, whose delay after the
    /// probe's acknowledgement is reported.
    #[arg(long, default_value_t = 4)]
    probes: u64,
    /// Metrics endpoints (host:port) whose `vigie_consumer_lag` is sampled.
    #[arg(long, value_delimiter = ',', default_value = "127.0.0.1:9101,127.0.0.1:9102")]
    metrics: Vec<String>,
    /// Longest wait, in seconds, for every acknowledged mention to be in ClickHouse once
    /// sending ended.
    #[arg(long, default_value_t = 300)]
    timeout: u64,
    /// Also print the report as one JSON object on stdout.
    #[arg(long)]
    json: bool,
    /// Measure the broker and ClickHouse alone instead, with `--mentions` of Vigie's records
    /// (raw mentions produced and consumed, enriched rows inserted); needs no Vigie service.
    #[arg(long)]
    parts: bool,
    /// A replayable run: tenants of this run only, mentions dated a day back (history) and sent
    /// in order per tenant (one sender each, so `--connections` is the number of tenants), no
    /// probes after the warm-up; the mentions sent and the watches are written to
    /// DIR/mentions.jsonl and DIR/watches.toml, and at the end the alerts on `vigie.alerts` must
    /// equal what `vigie backtest` computes from them.
    #[arg(long, value_name = "DIR")]
    replay: Option<std::path::PathBuf>,
}

/// Runs a load against the stack `config` points at.
pub async fn run(config: &Config, args: LoadArgs) -> anyhow::Result<()> {
    if args.parts {
        parts::run(config, args.mentions).await?;
        println!("measured {} mentions", args.mentions);
        return Ok(());
    }
    anyhow::ensure!(
        args.batch > 0 && args.connections > 0 && args.tenants > 0,
        "--batch, --connections and --tenants must be positive"
    );
    let run = format!("r{}", vigie_core::now_ms() / 1000 % 100_000_000);
    let mut tenants = corpus::tenants(args.tenants);
    let per_tenant = args.watches.div_ceil(args.tenants);
    let replay = match &args.replay {
        Some(dir) => {
            anyhow::ensure!(args.watches > 0, "--replay needs watches (--watches 0 given)");
            // Tenants of their own: an earlier run's clock cannot make this run's history late.
            tenants = tenants.iter().map(|t| format!("{run}-{t}")).collect();
            Some(Arc::new(replay::Replay::create(
                dir, &tenants, per_tenant, args.rate, args.batch,
            )?))
        }
        None => None,
    };
    let probes_per_second = if replay.is_some() { 0 } else { args.probes };
    let bus = crate::services::kafka(config);
    bus.ensure_topics().await?;
    let publisher = bus.publisher()?;
    let mut tokens = HashMap::new();
    for tenant in &tenants {
        let (token, record) =
            vigie_core::tokens::make(tenant, vigie_core::proto::Role::Operator, "vigie load")
                .context("cannot draw a random token")?;
        vigie_core::tokens::publish(&publisher, std::slice::from_ref(&record)).await?;
        tokens.insert(tenant.clone(), token);
    }
    if args.watches > 0 {
        let extra = replay.as_ref().map(|r| r.extra_rules()).unwrap_or_default();
        let watches = corpus::watches(&tenants, per_tenant, &extra)?;
        vigie_core::watches::publish(&publisher, &watches).await?;
        eprintln!(
            "[load] published {} watches for {} tenants",
            watches.len(),
            tenants.len()
        );
    }
    publisher.flush().await;
    let front = Front::new(config, &args.protocol, tokens).await?;
    let cancel = CancellationToken::new();
    let alerts = Arc::new(Mutex::new(HashMap::<u64, Instant>::new()));
    // Runs until aborted at the end (its own token: `cancel` ends the sending).
    let listener = tokio::spawn(listen_for_probes(
        bus.clone(),
        run.clone(),
        alerts.clone(),
        CancellationToken::new(),
    ));

    // Warm-up: a probe every second until its alert comes back (tokens, watches, every stage
    // live); these probes are not counted.
    let started = Instant::now();
    let mut warm = 0u64;
    loop {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "no probe alert within 120 s: is the whole stack (ingest, enrich, alerting) running?"
        );
        let n = 1_000_000 + warm;
        warm += 1;
        let at = replay
            .as_ref()
            .map_or_else(vigie_core::now_ms, |r| r.warm_up_at());
        let probe = corpus::probe(&run, &tenants[0], n, at);
        let _ = tokio::time::timeout(Duration::from_secs(30), front.send(&tenants[0], vec![probe])).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        // Any warm-up probe's alert will do: the stack may take longer than a second.
        if alerts
            .lock()
            .map(|a| a.keys().any(|k| *k >= 1_000_000))
            .unwrap_or(false)
        {
            break;
        }
    }
    eprintln!(
        "[load] stack live after {:.1} s; run {run}: sending {} mentions over {} {} connections",
        started.elapsed().as_secs_f64(),
        args.mentions,
        if replay.is_some() {
            tenants.len()
        } else {
            args.connections
        },
        args.protocol
    );

    let clickhouse = ClickHouse::new(&config.clickhouse);
    let sent = Arc::new(Sent::default());
    let next_batch = Arc::new(AtomicU64::new(0));
    let batches = args.mentions.div_ceil(args.batch as u64);
    let t0 = Instant::now();
    // When the last sender had its last answer.
    let sent_by = Arc::new(Mutex::new(t0));
    let mut senders = Vec::new();
    // A replayable run sends each tenant's batches in order, one sender per tenant.
    let connections = if replay.is_some() {
        tenants.len()
    } else {
        args.connections
    };
    for i in 0..connections {
        let (front, sent, next_batch, tenants, run, sent_by, replay) = (
            front.clone(),
            sent.clone(),
            next_batch.clone(),
            tenants.clone(),
            run.clone(),
            sent_by.clone(),
            replay.clone(),
        );
        let (batch, rate, total) = (args.batch as u64, args.rate, args.mentions);
        senders.push(tokio::spawn(async move {
            let mut own = (i..).step_by(tenants.len()).map(|k| k as u64);
            loop {
                let k = if replay.is_some() {
                    own.next().unwrap_or(u64::MAX)
                } else {
                    next_batch.fetch_add(1, Ordering::SeqCst)
                };
                if k >= batches {
                    if let Ok(mut by) = sent_by.lock() {
                        *by = (*by).max(Instant::now());
                    }
                    return;
                }
                if rate > 0 {
                    tokio::time::sleep_until(
                        (t0 + Duration::from_secs_f64((k * batch) as f64 / rate as f64)).into(),
                    )
                    .await;
                }
                let t = (k as usize) % tenants.len();
                let now = vigie_core::now_ms();
                let mentions: Vec<_> = (k * batch..((k + 1) * batch).min(total))
                    .map(|n| match &replay {
                        Some(r) => r.mention(&run, t, &tenants[t], per_tenant, n),
                        None => corpus::mention(&run, t, &tenants[t], per_tenant, n, now, None),
                    })
                    .collect();
                if let Some(replay) = &replay {
                    if let Err(e) = replay.record(&mentions) {
                        eprintln!("[load] {e:#}: the replay will not match");
                    }
                }
                front.send_until_answered(&tenants[t], mentions, &sent).await;
            }
        }));
    }
    let probes = Arc::new(Mutex::new(HashMap::<u64, Instant>::new()));
    let prober = (probes_per_second > 0).then(|| {
        let (front, probes, tenants, run, cancel) = (
            front.clone(),
            probes.clone(),
            tenants.clone(),
            run.clone(),
            cancel.clone(),
        );
        let every = Duration::from_secs_f64(1.0 / probes_per_second as f64);
        tokio::spawn(async move {
            let mut n = 0u64;
            let mut tick = tokio::time::interval(every);
            while !cancel.is_cancelled() {
                tick.tick().await;
                let tenant = &tenants[n as usize % tenants.len()];
                let probe = corpus::probe(&run, tenant, n, vigie_core::now_ms());
                let answer =
                    tokio::time::timeout(Duration::from_secs(30), front.send(tenant, vec![probe])).await;
                if answer.is_ok_and(|a| a.is_ok_and(|(accepted, _)| accepted == 1)) {
                    if let Ok(mut p) = probes.lock() {
                        p.insert(n, Instant::now());
                    }
                }
                n += 1;
            }
        })
    });
    let sampler = Sampler {
        clickhouse: clickhouse.clone(),
        tenants: tenants.clone(),
        run: run.clone(),
        metrics: args.metrics.clone(),
        http: vigie_core::http_client::client("http://localhost")?,
    };
    let mut timeline = Vec::new();
    let mut ingest_secs = None;
    let mut rows: u64;
    let mut complete_at = None;
    let deadline_after_send = Duration::from_secs(args.timeout);
    let mut next_sample = Instant::now();
    loop {
        // A sample a second while sending; then four a second, to see the end to within 250 ms.
        next_sample += Duration::from_millis(if ingest_secs.is_some() { 250 } else { 1_000 });
        tokio::time::sleep_until(next_sample.into()).await;
        let done_sending = senders.iter().all(|s| s.is_finished());
        if done_sending && ingest_secs.is_none() {
            let by = sent_by.lock().map(|by| *by).unwrap_or_else(|_| Instant::now());
            ingest_secs = Some(by.duration_since(t0).as_secs_f64());
            cancel.cancel();
        }
        let point = sampler.sample(t0, &sent).await;
        rows = point.rows;
        eprintln!(
            "[load] {:>6.1} s  acknowledged {:>9}  rows {:>9}  behind {:>8}  lag {}",
            point.at,
            point.acknowledged,
            point.rows,
            point.acknowledged.saturating_sub(point.rows),
            point.lag_text()
        );
        timeline.push(point);
        let acknowledged = sent.accepted.load(Ordering::SeqCst);
        // Redelivered rows count twice until merged: done when the distinct ones are all in.
        if done_sending && rows >= acknowledged {
            let asked = Instant::now();
            if sampler.distinct().await.is_some_and(|d| d >= acknowledged) {
                complete_at = Some(asked);
                break;
            }
        }
        if let Some(ended) = ingest_secs {
            if t0.elapsed().as_secs_f64() - ended > deadline_after_send.as_secs_f64() {
                eprintln!("[load] gave up waiting for ClickHouse after {} s", args.timeout);
                break;
            }
        }
    }
    let end_to_end_secs = complete_at
        .unwrap_or_else(Instant::now)
        .duration_since(t0)
        .as_secs_f64();
    // Exactly once: distinct mentions (FINAL collapses a redelivered row) against every row.
    let distinct = sampler
        .distinct()
        .await
        .context("ClickHouse did not answer the final count")?;
    if let Some(p) = prober {
        let _ = p.await;
    }
    // Probe alerts still on their way.
    let expected: Vec<(u64, Instant)> = probes
        .lock()
        .map(|p| p.iter().map(|(k, v)| (*k, *v)).collect())
        .unwrap_or_default();
    let wait = Instant::now();
    while wait.elapsed() < Duration::from_secs(30) {
        let seen = alerts
            .lock()
            .map(|a| expected.iter().filter(|(n, _)| a.contains_key(n)).count())
            .unwrap_or(0);
        if seen == expected.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    listener.abort();
    let latencies: Vec<f64> = {
        let alerts = alerts
            .lock()
            .map_err(|_| anyhow::anyhow!("alert listener panicked"))?;
        let mut l: Vec<f64> = expected
            .iter()
            .filter_map(|(n, acked)| {
                alerts
                    .get(n)
                    .map(|seen| seen.saturating_duration_since(*acked).as_secs_f64())
            })
            .collect();
        l.sort_by(f64::total_cmp);
        l
    };
    // A replayable run: the alerts raised equal those of a replay of the mentions sent.
    let alert_check = match &replay {
        Some(r) => {
            // The stages done with their input first: every alert raised.
            let waited = Instant::now();
            let mut idle = 0;
            while idle < 2 && waited.elapsed() < Duration::from_secs(args.timeout) {
                let lags = sampler.lags().await;
                idle = if lags.iter().all(|l| *l == Some(0)) {
                    idle + 1
                } else {
                    0
                };
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Some(
                r.check_alerts(&bus, &tenants, Duration::from_secs(args.timeout))
                    .await?,
            )
        }
        None => None,
    };
    let report = Report {
        run,
        protocol: args.protocol.clone(),
        mentions: args.mentions,
        batch: args.batch,
        connections,
        tenants: args.tenants,
        watches: per_tenant * args.tenants,
        rate: args.rate,
        acknowledged: sent.accepted.load(Ordering::SeqCst),
        rejected: sent.rejected.load(Ordering::SeqCst),
        unanswered: sent.unanswered.load(Ordering::SeqCst),
        retried: sent.retried.load(Ordering::SeqCst),
        rows,
        distinct,
        ingest_secs: ingest_secs.unwrap_or(end_to_end_secs),
        end_to_end_secs,
        probes: expected.len(),
        probe_alerts: latencies.len(),
        alert_p50: percentile(&latencies, 0.50),
        alert_p99: percentile(&latencies, 0.99),
        alert_max: latencies.last().copied().unwrap_or(f64::NAN),
        max_behind: timeline
            .iter()
            .map(|p| p.acknowledged.saturating_sub(p.rows))
            .max()
            .unwrap_or(0),
        alerts: alert_check,
    };
    report.print(args.json);
    println!("measured {} mentions", report.acknowledged);
    anyhow::ensure!(
        complete_at.is_some() && report.distinct == report.acknowledged,
        "{} distinct mentions in ClickHouse for {} acknowledged",
        report.distinct,
        report.acknowledged
    );
    anyhow::ensure!(
        report.unanswered == 0,
        "{} mentions never answered",
        report.unanswered
    );
    if let Some(check) = report.alerts {
        anyhow::ensure!(
            check.equal,
            "{} alert state changes on vigie.alerts, {} in the replay of the mentions sent",
            check.seen,
            check.expected
        );
    }
    Ok(())
}

/// Follows `vigie.alerts` and notes when each probe alert of `run` first arrives.
async fn listen_for_probes(
    bus: vigie_core::bus::Bus,
    run: String,
    alerts: Arc<Mutex<HashMap<u64, Instant>>>,
    cancel: CancellationToken,
) {
    use prost::Message;
    let mut reader = match bus.read_from_start(vigie_core::topics::ALERTS) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("[load] cannot follow alerts: {e}");
            return;
        }
    };
    loop {
        match reader.next_batch(1_000, Duration::from_millis(5), &cancel).await {
            Ok(batch) => {
                let now = Instant::now();
                for r in batch {
                    let Ok(alert) = Alert::decode(r.payload.as_deref().unwrap_or_default()) else {
                        continue;
                    };
                    if let Some(n) = corpus::probe_of_alert(&run, &alert.id) {
                        if let Ok(mut a) = alerts.lock() {
                            a.entry(n).or_insert(now);
                        }
                    }
                }
            }
            Err(e) => {
                eprintln!("[load] following alerts: {e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

/// One progress sample.
struct Point {
    at: f64,
    acknowledged: u64,
    rows: u64,
    /// Summed consumer lag per metrics endpoint (`None` when unreachable).
    lag: Vec<Option<i64>>,
}

impl Point {
    fn lag_text(&self) -> String {
        self.lag
            .iter()
            .map(|l| l.map(|v| v.to_string()).unwrap_or_else(|| "-".into()))
            .collect::<Vec<_>>()
            .join("/")
    }
}

struct Sampler {
    clickhouse: ClickHouse,
    tenants: Vec<String>,
    run: String,
    metrics: Vec<String>,
    http: vigie_core::http_client::HttpClient,
}

impl Sampler {
    async fn sample(&self, t0: Instant, sent: &Sent) -> Point {
        let rows = self
            .clickhouse
            .client()
            .query("SELECT count() FROM mentions WHERE has(?, tenant) AND native_id LIKE ? AND native_id NOT LIKE ?")
            .bind(&self.tenants)
            .bind(format!("{}-%", self.run))
            .bind(format!("{}-probe-%", self.run))
            .fetch_one::<u64>();
        let rows = match tokio::time::timeout(Duration::from_secs(5), rows).await {
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                eprintln!("[load] counting rows: {e}");
                0
            }
            Err(_) => {
                eprintln!("[load] counting rows: no answer within 5 s");
                0
            }
        };
        let lag = self.lags().await;
        Point {
            at: t0.elapsed().as_secs_f64(),
            acknowledged: sent.accepted.load(Ordering::SeqCst),
            rows,
            lag,
        }
    }

    /// The run's mentions in ClickHouse counted once each (`FINAL`); `None` when ClickHouse
    /// did not answer within 10 s (reported).
    async fn distinct(&self) -> Option<u64> {
        let query = self
            .clickhouse
            .client()
            .query(
                "SELECT count() FROM mentions FINAL \
                 WHERE has(?, tenant) AND native_id LIKE ? AND native_id NOT LIKE ?",
            )
            .bind(&self.tenants)
            .bind(format!("{}-%", self.run))
            .bind(format!("{}-probe-%", self.run))
            .fetch_one::<u64>();
        match tokio::time::timeout(Duration::from_secs(10), query).await {
            Ok(Ok(n)) => Some(n),
            Ok(Err(e)) => {
                eprintln!("[load] counting distinct rows: {e}");
                None
            }
            Err(_) => {
                eprintln!("[load] counting distinct rows: no answer within 10 s");
                None
            }
        }
    }

    /// The summed consumer lag at each metrics endpoint (`None` when unreachable).
    async fn lags(&self) -> Vec<Option<i64>> {
        let mut lags = Vec::with_capacity(self.metrics.len());
        for endpoint in &self.metrics {
            lags.push(self.lag(endpoint).await);
        }
        lags
    }

    /// The sum of `vigie_consumer_lag` at `endpoint`.
    async fn lag(&self, endpoint: &str) -> Option<i64> {
        use http_body_util::BodyExt;
        let uri: hyper::Uri = format!("http://{endpoint}/metrics").parse().ok()?;
        let body = tokio::time::timeout(Duration::from_secs(2), async {
            let response = self.http.get(uri).await.ok()?;
            response.into_body().collect().await.ok().map(|b| b.to_bytes())
        })
        .await
        .ok()??;
        let text = String::from_utf8_lossy(&body);
        Some(
            text.lines()
                .filter(|l| l.starts_with("vigie_consumer_lag{"))
                .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .sum::<f64>() as i64,
        )
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[derive(serde::Serialize)]
struct Report {
    run: String,
    protocol: String,
    mentions: u64,
    batch: usize,
    connections: usize,
    tenants: usize,
    watches: usize,
    rate: u64,
    acknowledged: u64,
    rejected: u64,
    unanswered: u64,
    retried: u64,
    rows: u64,
    distinct: u64,
    ingest_secs: f64,
    end_to_end_secs: f64,
    probes: usize,
    probe_alerts: usize,
    alert_p50: f64,
    alert_p99: f64,
    alert_max: f64,
    max_behind: u64,
    /// A replayable run's comparison of the alerts with the replay.
    alerts: Option<replay::AlertCheck>,
}

impl Report {
    fn print(&self, json: bool) {
        println!(
            "run {}: {} mentions ({} watches, {} tenants, {} over {} connections, batches of {}, {})",
            self.run,
            self.mentions,
            self.watches,
            self.tenants,
            self.protocol,
            self.connections,
            self.batch,
            if self.rate > 0 {
                format!("{}/s asked", self.rate)
            } else {
                "flat out".into()
            }
        );
        println!(
            "ingest      {:>9.0} mentions/s acknowledged ({} in {:.1} s; {} rejected, {} never answered, {} requests retried)",
            self.acknowledged as f64 / self.ingest_secs,
            self.acknowledged,
            self.ingest_secs,
            self.rejected,
            self.unanswered,
            self.retried
        );
        println!(
            "end to end  {:>9.0} mentions/s as ClickHouse rows ({} distinct in {:.1} s; at most {} behind)",
            self.distinct as f64 / self.end_to_end_secs,
            self.distinct,
            self.end_to_end_secs,
            self.max_behind
        );
        println!(
            "exactly once: {} distinct mentions under FINAL for {} acknowledged ({} rows before merging)",
            self.distinct, self.acknowledged, self.rows
        );
        println!(
            "alerts      p50 {:.3} s  p99 {:.3} s  max {:.3} s after acknowledgement ({} of {} probes alerted)",
            self.alert_p50, self.alert_p99, self.alert_max, self.probe_alerts, self.probes
        );
        if let Some(check) = &self.alerts {
            println!(
                "replay      {} alert state changes on vigie.alerts, {} computed by `vigie backtest` from the mentions sent: {} ({} records, {} repeated)",
                check.seen,
                check.expected,
                if check.equal { "equal" } else { "DIFFERENT" },
                check.records,
                check.records.saturating_sub(check.seen)
            );
        }
        if json {
            if let Ok(line) = serde_json::to_string(self) {
                println!("{line}");
            }
        }
    }
}
