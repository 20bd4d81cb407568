//! A small gRPC load generator for the API (ghz-style): N concurrent clients call one RPC for a
//! fixed time; prints requests/s and latency percentiles. Used by `deploy/load/run.sh`.
//!
//! `cargo run --release --example api_load -- <addr> <token> <list_alerts|search|stats> <concurrency> <seconds>`
//! `cargo run --release --example api_load -- seed_alerts <brokers>` publishes 10,000 alerts of
//! tenant `load` to `vigie.alerts`.

use std::time::{Duration, Instant};
use vigie_core::proto::alert_service_client::AlertServiceClient;
use vigie_core::proto::mention_service_client::MentionServiceClient;
use vigie_core::proto::{ListAlertsRequest, SearchMentionsRequest, StatsRequest};

fn auth<T>(token: &str, m: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(m);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    r
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("seed_alerts") {
        return seed_alerts(
            args.get(2).map(String::as_str).unwrap_or("127.0.0.1:9092"),
            10_000,
        )
        .await;
    }
    let [_, addr, token, rpc, concurrency, seconds] = &args[..] else {
        anyhow::bail!("usage: api_load <addr> <token> <list_alerts|search|stats> <concurrency> <seconds>");
    };
    let concurrency: usize = concurrency.parse()?;
    let until = Instant::now() + Duration::from_secs(seconds.parse()?);
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect()
        .await?;
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (channel, token, rpc) = (channel.clone(), token.clone(), rpc.clone());
        tasks.push(tokio::spawn(async move {
            let mut alerts = AlertServiceClient::new(channel.clone());
            let mut mentions = MentionServiceClient::new(channel);
            let (mut latencies, mut errors) = (Vec::new(), 0u64);
            let mut i = worker as u64;
            while Instant::now() < until {
                i += concurrency as u64;
                let started = Instant::now();
                let ok = match rpc.as_str() {
                    "list_alerts" => alerts
                        .list_alerts(auth(
                            &token,
                            ListAlertsRequest {
                                page_size: 50,
                                ..Default::default()
                            },
                        ))
                        .await
                        .is_ok(),
                    "search" => {
                        // A day's window that moves with each call, one watch, 50 per page.
                        let from = 1_764_000_000_000 + (i % 6) as i64 * 86_400_000;
                        let r = SearchMentionsRequest {
                            watch_id: if i.is_multiple_of(2) { "brand" } else { "outage" }.into(),
                            from_ms: from,
                            to_ms: from + 86_400_000,
                            page_size: 50,
                            ..Default::default()
                        };
                        mentions.search(auth(&token, r)).await.is_ok()
                    }
                    "stats" => {
                        let r = StatsRequest {
                            watch_id: if i.is_multiple_of(2) { "brand" } else { "outage" }.into(),
                            bucket: "hour".into(),
                            ..Default::default()
                        };
                        mentions.stats(auth(&token, r)).await.is_ok()
                    }
                    other => panic!("unknown rpc {other}"),
                };
                if ok {
                    latencies.push(started.elapsed());
                } else {
                    errors += 1;
                }
            }
            (latencies, errors)
        }));
    }
    let started = Instant::now();
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
    };
    let ms = |d: Option<Duration>| d.map(|d| d.as_secs_f64() * 1000.0).unwrap_or(f64::NAN);
    println!(
        "{rpc}: {} ok, {errors} errors in {elapsed:.1} s with {concurrency} clients: {:.0} req/s, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        all.len() as f64 / elapsed,
        ms(pct(0.5)),
        ms(pct(0.99)),
        ms(all.last().copied())
    );
    Ok(())
}

/// Publishes `n` alert state changes of tenant `load`.
async fn seed_alerts(brokers: &str, n: u64) -> anyhow::Result<()> {
    use prost::Message;
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()?;
    let mut pending = Vec::new();
    for i in 0..n {
        let alert = vigie_core::proto::Alert {
            id: format!("load:brand:spike:{i}"),
            tenant: "load".into(),
            watch_id: "brand".into(),
            rule: "spike".into(),
            rule_type: "volume_spike".into(),
            severity: (1 + i % 3) as i32,
            state: (1 + i % 3) as i32,
            version: 1,
            fired_at_ms: 1_764_000_000_000 + i as i64 * 60_000,
            summary: format!("seeded alert {i}"),
            ..Default::default()
        };
        let payload = alert.encode_to_vec();
        pending.push(
            producer
                .send_result(FutureRecord::to("vigie.alerts").key("load").payload(&payload))
                .ok(),
        );
        if pending.len() >= 1_000 {
            for p in pending.drain(..).flatten() {
                let _ = p.await;
            }
        }
    }
    for p in pending.into_iter().flatten() {
        let _ = p.await;
    }
    println!("seeded {n} alerts");
    Ok(())
}
