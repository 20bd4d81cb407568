//! The alerting engine per enriched mention: 10,000 watches each carrying two rules
//! (`volume_spike` and `risky_mention`), mentions spread over 100 tenants, each matched by two
//! watches, event times advancing 2 ms per mention (sweeps every simulated minute included).
//! Baseline in the same run: decoding the records alone, the floor any consumer pays. Then
//! the cost of restoring the whole resulting state (every watch's checkpoint piece), which every
//! alerting member pays at start and after each rebalance.
//!
//! Run: `cargo bench --bench alerting` (criterion reports mentions/s).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use prost::Message;
use std::hint::black_box;
use vigie_alerting::engine::Engine;
use vigie_core::proto::{
    rule, Author, EnrichedMention, Mention, RiskyMentionRule, Rule, SentimentLabel, Source, VolumeSpikeRule,
    Watch,
};
use vigie_core::watches::WatchRegistry;

const TENANTS: usize = 100;
const WATCHES: usize = 10_000;
const BATCH: usize = 20_000;

fn registry() -> WatchRegistry {
    let registry = WatchRegistry::default();
    for i in 0..WATCHES {
        let tenant = format!("t{}", i % TENANTS);
        registry
            .upsert(Watch {
                tenant,
                id: format!("w{i}"),
                name: format!("watch {i}"),
                query: format!("brand{i}"),
                rules: vec![
                    Rule {
                        name: "spike".into(),
                        severity: "warning".into(),
                        cooldown_seconds: 3600,
                        kind: Some(rule::Kind::VolumeSpike(VolumeSpikeRule {
                            bucket_seconds: 300,
                            sensitivity: 4.0,
                            min_count: 20,
                            distinct_stories: false,
                        })),
                    },
                    Rule {
                        name: "risky".into(),
                        severity: "critical".into(),
                        cooldown_seconds: 3600,
                        kind: Some(rule::Kind::RiskyMention(RiskyMentionRule {
                            min_toxicity: 0.8,
                            min_followers: 100_000,
                            verified_negative: true,
                            press_and_reviews: true,
                            flags: vec!["threat".into()],
                        })),
                    },
                ],
                ..Default::default()
            })
            .expect("valid watch");
    }
    registry
}

/// Encoded enriched mentions as read from `vigie.mentions.enriched`.
fn records(start_ms: i64) -> Vec<Vec<u8>> {
    (0..BATCH)
        .map(|n| {
            let t = n % TENANTS;
            // Two watches of tenant t (watch i belongs to tenant i % TENANTS).
            let a = t + TENANTS * (n * 7 % (WATCHES / TENANTS));
            let b = t + TENANTS * (n * 13 % (WATCHES / TENANTS));
            EnrichedMention {
                mention: Some(Mention {
                    id: format!("t{t}:x:{start_ms}-{n}"),
                    tenant: format!("t{t}"),
                    source: Source::X as i32,
                    native_id: format!("{start_ms}-{n}"),
                    author: Some(Author {
                        id: format!("u{}", n % 5000),
                        handle: format!("user{}", n % 5000),
                        followers: (n % 3000) as u64,
                        ..Default::default()
                    }),
                    text: format!(
                        "brand{a} brand{b} customer service is a joke, still waiting for my refund"
                    ),
                    created_at_ms: start_ms + 2 * n as i64,
                    ..Default::default()
                }),
                language: "en".into(),
                sentiment_label: if n % 3 == 0 {
                    SentimentLabel::Negative
                } else {
                    SentimentLabel::Neutral
                } as i32,
                hashtags: vec!["#refund".into()],
                matched_watches: vec![format!("t{t}/w{a}"), format!("t{t}/w{b}")],
                ..Default::default()
            }
            .encode_to_vec()
        })
        .collect()
}

fn engine(c: &mut Criterion) {
    let registry = registry();
    let watches = registry.read();
    let mut group = c.benchmark_group("alerting");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(20);
    let base = 1_764_000_000_000i64;
    group.bench_function("decode only (baseline)", |b| {
        let recs = records(base);
        b.iter(|| {
            for r in &recs {
                black_box(EnrichedMention::decode(r.as_slice()).ok());
            }
        })
    });
    // The engine keeps learning across iterations: each iteration feeds the next 40 s of event
    // time, so windows close, baselines learn and alerts fire as in a live stream.
    let mut engine = Engine::default();
    let mut round = 0i64;
    let mut alerts = Vec::new();
    group.bench_function("10k watches x 2 rules (decode + engine)", |b| {
        b.iter_batched(
            || {
                round += 1;
                (round, records(base + round * 2 * BATCH as i64))
            },
            |(round, recs)| {
                for (i, r) in recs.iter().enumerate() {
                    if let Ok(e) = EnrichedMention::decode(r.as_slice()) {
                        let position = Some((0, round * BATCH as i64 + i as i64));
                        engine
                            .observe(&e, position, &watches, 0, &mut alerts)
                            .expect("every bench record carries a mention");
                    }
                }
                alerts.clear();
            },
            criterion::BatchSize::PerIteration,
        )
    });
    eprintln!("engine stats after the bench: {:?}", engine.stats());
    // What a member does at start and after every rebalance: read back every piece of the
    // state (here all 10,000 watches, as the engine above left them) into an empty engine.
    let pieces: Vec<(String, Vec<u8>)> = engine
        .take_checkpoint()
        .pieces
        .into_iter()
        .filter_map(|(key, bytes)| Some((key, bytes?)))
        .collect();
    let bytes: usize = pieces.iter().map(|(k, b)| k.len() + b.len()).sum();
    eprintln!("checkpoint: {} pieces, {bytes} bytes", pieces.len());
    group.throughput(Throughput::Elements(pieces.len() as u64));
    group.sample_size(10);
    group.bench_function("restore every piece (10k watches)", |b| {
        b.iter(|| {
            let mut restored = Engine::default();
            for (key, bytes) in &pieces {
                restored.restore(key, bytes).expect("a piece the engine wrote");
            }
            restored.restored();
            black_box(restored)
        })
    });
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
