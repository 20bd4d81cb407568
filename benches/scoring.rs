//! The scoring stage per mention (language, sentiment, risk, entities, reach, watch matching) on
//! tweet-length French and English text, with 0, 100 and 1,000 watches, and its components alone.
//! Run: `cargo bench --bench scoring`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vigie_core::proto::{Mention, Source};
use vigie_core::watches::{parse_file, WatchRegistry};
use vigie_enrich::{language, sentiment, Scorer};

const TEXTS: &[&str] = &[
    "Toute la famille malade après le menu Verdier, c'est une honte #boycott @maisonverdier",
    "Smooth flight with Northwind Air this morning, crew was lovely 😍",
    "Encore une panne chez Acme, trois jours sans internet, service client injoignable !!!",
    "Just booked Lisbon with @northwindair, great fares this winter https://t.co/abc",
    "Le nouveau wrap végé de chez Verdier est vraiment bon, je recommande",
    "Why does the app log me out every single time? So annoying",
];

fn mentions() -> Vec<Mention> {
    TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| Mention {
            id: format!("t{i}:x:{i}"),
            tenant: format!("t{}", i % 10),
            source: Source::X as i32,
            text: t.to_string(),
            ..Default::default()
        })
        .collect()
}

/// `n` watches over 10 tenants, each a realistic brand query.
fn watches(n: usize) -> WatchRegistry {
    let registry = WatchRegistry::default();
    let mut file = String::new();
    for i in 0..n {
        file.push_str(&format!(
            "[[watch]]\ntenant = \"t{}\"\nid = \"w{i}\"\nquery = \"(brand{i} OR #brand{i}) AND (panne OR malade OR refund) -promo\"\n\n",
            i % 10
        ));
    }
    for w in parse_file(&file, "bench").expect("valid watches") {
        registry.upsert(w).expect("valid watch");
    }
    registry
}

fn scoring_stage(c: &mut Criterion) {
    let mentions = mentions();
    let mut group = c.benchmark_group("scoring_stage");
    group.throughput(Throughput::Elements(mentions.len() as u64));
    for n in [0usize, 100, 1_000] {
        let registry = watches(n);
        let set = registry.read();
        group.bench_function(BenchmarkId::new("watches", n), |b| {
            b.iter(|| {
                for m in &mentions {
                    black_box(Scorer.score(m.clone(), &set, 0));
                }
            })
        });
    }
    group.finish();
}

fn components(c: &mut Criterion) {
    let mut group = c.benchmark_group("components");
    group.throughput(Throughput::Elements(TEXTS.len() as u64));
    group.bench_function("language", |b| {
        b.iter(|| {
            TEXTS.iter().for_each(|t| {
                black_box(language::identify(t));
            })
        })
    });
    group.bench_function("sentiment", |b| {
        b.iter(|| {
            TEXTS.iter().for_each(|t| {
                black_box(sentiment::score(t, "fr"));
            })
        })
    });
    group.bench_function("tokenize", |b| {
        b.iter(|| {
            TEXTS.iter().for_each(|t| {
                black_box(vigie_core::text::tokenize(t));
            })
        })
    });
    group.finish();
}

criterion_group!(benches, scoring_stage, components);
criterion_main!(benches);
