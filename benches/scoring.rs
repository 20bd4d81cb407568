//! The scoring stage per mention on tweet-length mixed French/English text: the whole stage
//! with 0, 1,000, 10,000 and 100,000 generated watches, each component alone, and a naive
//! baseline (whatlang + VADER + regexes per watch) side by side at 1,000 watches, and the
//! hostile watches of issue 11 against 20,000-character mentions.
//!
//! Run: `cargo bench --bench scoring` (criterion reports time per mention and mentions/s).
//!
//! Instructions per mention, for comparing two builds exactly (issue 12): with
//! `VIGIE_MATCH_PASSES=n` set, the binary skips criterion and matches the 256 mentions of
//! `components/match_10k_watches` `n` times in `match_pass`, to be counted with
//! `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*match_pass*'`
//! (instructions per mention = the `Ir` of `match_pass` / (n × 256)).

/// The same allocator as the `vigie` binary, so the figures are those of the service.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use vigie_core::document::Document;
use vigie_core::proto::{Mention, Source, Watch};
use vigie_core::watches::{WatchRegistry, WatchSet};
use vigie_enrich::{cluster, language, sentiment, toxicity, Scorer};

const TENANTS: usize = 100;

const FR: &[&str] = &[
    "Toute la famille malade après le menu {b}, c'est une honte #boycott",
    "Le service client de {b} ne répond plus depuis trois jours, je veux être remboursé",
    "Super accueil chez {b} ce midi, merci à l'équipe 👍",
    "Encore une panne chez {b}, trois jours sans internet !!!",
    "Quelqu'un sait si {b} ouvre le dimanche ?",
    "Arnaque totale avec {b}, je vais porter plainte @{b}",
    "J'adore la nouvelle collection {b} #{b}",
];
const EN: &[&str] = &[
    "Smooth flight with {b} this morning, crew was lovely 😍",
    "{b} lost my luggage again, worst airline ever",
    "Just booked Lisbon with @{b}, great fares this winter https://t.co/abc",
    "Why does the {b} app log me out every single time? So annoying",
    "{b} customer service is a joke, still waiting for my refund",
    "Thanks {b} for the quick delivery!",
];

fn brand(i: usize) -> String {
    const SYLLABLES: &[&str] = &[
        "ver", "dor", "lu", "mi", "nor", "wind", "ka", "zen", "bel", "tra", "co", "vio",
    ];
    let mut s = String::new();
    let mut n = i + 7;
    for _ in 0..3 {
        s.push_str(SYLLABLES[n % SYLLABLES.len()]);
        n /= SYLLABLES.len();
    }
    format!("{s}{}", i / 1728)
}

/// `n` realistic watches spread over the tenants: a brand with its handle and hashtag, a topic,
/// exclusions, sometimes a language filter or a phrase.
fn watches(n: usize) -> Vec<Watch> {
    (0..n)
        .map(|i| {
            let b = brand(i);
            let query = match i % 4 {
                0 => format!(
                    "({b} OR #{b} OR @{b}) AND (panne OR arnaque OR rembours* OR \"service client\") -promo"
                ),
                1 => format!("{b} AND (malade* OR intoxication OR sick OR poisoning)"),
                2 => format!("(@{b} OR {b}) (refund OR luggage OR late OR retard) -job"),
                _ => format!(
                    "#{b} OR \"{b} app\" OR ({b} NEAR/3 nul) OR ({b} NEAR/3 worst) OR ({b} ONEAR/5 honte)"
                ),
            };
            Watch {
                tenant: format!("t{}", i % TENANTS),
                id: format!("w{i}"),
                name: b,
                query,
                ..Default::default()
            }
        })
        .collect()
}

fn registry(n: usize) -> WatchRegistry {
    let registry = WatchRegistry::default();
    for w in watches(n) {
        registry.upsert(w).expect("valid watch");
    }
    registry
}

/// Mentions naming brands that exist among `n` watches (when n > 0) for their own tenant.
fn mentions(n: usize) -> Vec<Mention> {
    (0..256)
        .map(|i| {
            let w = if n == 0 { i } else { (i * 7919) % n };
            let templates = if i % 2 == 0 { FR } else { EN };
            let text = templates[i % templates.len()].replace("{b}", &brand(w));
            Mention {
                id: format!("m{i}"),
                tenant: format!("t{}", w % TENANTS),
                source: Source::X as i32,
                text,
                // Two authors in three write a location on their profile (not all of them a
                // place): the inference the stage runs on real mentions.
                author: (i % 3 != 2).then(|| vigie_core::proto::Author {
                    location: LOCATIONS[i % LOCATIONS.len()].to_string(),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect()
}

/// Profile locations as authors write them.
const LOCATIONS: &[&str] = &[
    "Lyon, France",
    "Paris 🇫🇷",
    "London, UK",
    "Austin, TX",
    "Bruxelles / Brussel",
    "somewhere over the rainbow",
    "Montréal, QC",
    "she/her",
    "Île-de-France",
    "Madrid, España",
    "Living my best life",
];

/// Scores every mention once through the whole stage.
fn score_all(mentions: &[Mention], set: &WatchSet) {
    for m in mentions {
        black_box(Scorer.score(m.clone(), set, 0));
    }
}

fn scoring_stage(c: &mut Criterion) {
    let mut group = c.benchmark_group("scoring_stage");
    group.sample_size(20);
    for n in [0usize, 1_000, 10_000, 100_000] {
        let registry = registry(n);
        let set = registry.read();
        let mentions = mentions(n);
        group.throughput(Throughput::Elements(mentions.len() as u64));
        group.bench_function(BenchmarkId::new("watches", n), |b| {
            b.iter(|| score_all(&mentions, &set))
        });
    }
    group.finish();
}

fn components(c: &mut Criterion) {
    let mentions = mentions(1_000);
    let texts: Vec<&str> = mentions.iter().map(|m| m.text.as_str()).collect();
    let registry = registry(10_000);
    let set = registry.read();
    let mut group = c.benchmark_group("components");
    group.throughput(Throughput::Elements(texts.len() as u64));
    let mut each_text = |name: &str, f: &dyn Fn(&str)| {
        group.bench_function(name, |b| b.iter(|| texts.iter().for_each(|t| f(t))));
    };
    each_text("language", &|t| {
        black_box(language::identify(t));
    });
    // The language model of scorer 0.4.0, without the word lists: the speed before them.
    let previous_language = vigie_enrich::model::linear::LinearModel::from_bytes(include_bytes!(
        "../enrich/models/previous/langid-0.4.0.bin"
    ))
    .expect("the previous language model reads");
    each_text("language_previous_model", &|t| {
        black_box(language::identify_with_words(
            &previous_language,
            t,
            language::MIN_CONFIDENCE,
            None,
        ));
    });
    each_text("sentiment", &|t| {
        black_box(sentiment::score(t, "fr"));
    });
    // The model of scorer 0.2.0 on the same feature code: the speed before issue 16.
    let previous = vigie_enrich::model::linear::LinearModel::from_bytes(include_bytes!(
        "../enrich/models/previous/sentiment-0.2.0.bin"
    ))
    .expect("the previous sentiment model reads");
    each_text("sentiment_previous_model", &|t| {
        black_box(sentiment::score_with(&previous, t, "fr"));
    });
    each_text("toxicity", &|t| {
        black_box(toxicity::toxicity(t, "fr"));
    });
    each_text("places_profile", &|t| {
        black_box(vigie_core::places::from_profile(
            LOCATIONS[t.len() % LOCATIONS.len()],
        ));
    });
    each_text("places_text", &|t| {
        black_box(vigie_core::places::from_text(t));
    });
    each_text("cluster", &|t| {
        black_box(cluster::cluster_id("t", t));
    });
    group.bench_function("match_10k_watches", |b| {
        b.iter(|| {
            for m in &mentions {
                black_box(set.matcher().matches(&m.tenant, &Document::from_mention(m, "fr")));
            }
        })
    });
    group.finish();
}

/// The naive pipeline people assemble: a general-purpose language crate, the VADER crate, and
/// regexes per watch (brand alternatives AND topic alternatives), evaluated one by one.
fn naive_baseline(c: &mut Criterion) {
    let n = 1_000;
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    let compiled: Vec<(String, regex::Regex, regex::Regex)> = watches(n)
        .into_iter()
        .map(|w| {
            let b = regex::escape(&w.name);
            let brand = regex::Regex::new(&format!(r"(?i)(^|\W)[#@]?{b}\b")).expect("valid regex");
            let topic = regex::Regex::new(
                r"(?i)\b(panne|arnaque|rembours\w*|service client|malade\w*|intoxication|sick|poisoning|refund|luggage|late|retard|nul|worst|honte|app)\b",
            )
            .expect("valid regex");
            (w.tenant, brand, topic)
        })
        .collect();
    let mentions = mentions(n);
    let registry = registry(n);
    let set = registry.read();
    let mut group = c.benchmark_group("versus_naive_1000_watches");
    group.sample_size(10);
    group.throughput(Throughput::Elements(mentions.len() as u64));
    group.bench_function("naive", |b| {
        b.iter(|| {
            for m in &mentions {
                black_box(whatlang::detect(&m.text));
                black_box(analyzer.polarity_scores(&m.text));
                let matched: Vec<&String> = compiled
                    .iter()
                    .filter(|(t, brand, topic)| {
                        *t == m.tenant && brand.is_match(&m.text) && topic.is_match(&m.text)
                    })
                    .map(|(t, _, _)| t)
                    .collect();
                black_box(matched);
            }
        })
    });
    group.bench_function("vigie", |b| b.iter(|| score_all(&mentions, &set)));
    group.finish();
}

/// Adding (replacing) one watch live in a registry already holding 100,000.
fn live_update(c: &mut Criterion) {
    let registry = registry(100_000);
    let mut extra = watches(1).remove(0);
    extra.id = "live".into();
    let mut group = c.benchmark_group("live_update");
    group.bench_function("upsert_one_into_100k", |b| {
        b.iter(|| registry.upsert(black_box(extra.clone())).expect("valid watch"))
    });
    group.finish();
}

/// Hostile watches (issue 11): the 1,024-word phrase `"x x … x"` that cost 244 ms per
/// 20,000-character mention of `x x x …` before matching was bounded, the costliest query
/// the parser accepts (32 `NEAR`s of words, against mixed spellings that defeat the index),
/// and (issue 12) a `NEAR` between two groups of 32 prefixes that all occur.
fn hostile(c: &mut Criterion) {
    use vigie_core::query::Query;
    let xs = |n: usize| vec!["x"; n].join(" ");
    let cases = [
        (
            "issue_phrase_1024_words",
            format!("\"{}\"", xs(1_024)),
            xs(10_000),
        ),
        (
            "costliest_accepted",
            vec!["x NEAR/100 x"; 32].join(" "),
            vec!["x X #X"; 3_333].join(" "),
        ),
        (
            "costliest_group_near",
            format!("({0}) NEAR/100 ({0})", vec!["xy*"; 32].join(" OR ")),
            (0..3_333).map(|i| format!("xy{i}")).collect::<Vec<_>>().join(" "),
        ),
    ];
    let mut group = c.benchmark_group("hostile");
    for (name, query, text) in cases {
        let query = Query::parse(&query).expect("an accepted query");
        let doc = Document::from_title_and_text(&text, &text);
        group.bench_function(name, |b| b.iter(|| black_box(query.matches(&doc))));
    }
    group.finish();
}

/// One pass of `components/match_10k_watches`: each mention made a document and matched
/// (not inlined, so that callgrind can count it alone).
#[inline(never)]
fn match_pass(set: &WatchSet, mentions: &[Mention]) -> usize {
    mentions
        .iter()
        .map(|m| {
            set.matcher()
                .matches(&m.tenant, &Document::from_mention(m, "fr"))
                .len()
        })
        .sum()
}

/// `VIGIE_MATCH_PASSES=n`: `n` passes of [`match_pass`] over 10,000 watches, for callgrind.
fn count_matching(passes: usize) {
    let mentions = mentions(1_000);
    let registry = registry(10_000);
    let set = registry.read();
    let mut matched = 0;
    for _ in 0..passes {
        matched += black_box(match_pass(&set, &mentions));
    }
    println!(
        "{passes} passes over {} mentions: {matched} matches",
        mentions.len()
    );
}

criterion_group!(
    benches,
    scoring_stage,
    components,
    naive_baseline,
    live_update,
    hostile
);

fn main() {
    if let Ok(passes) = std::env::var("VIGIE_MATCH_PASSES") {
        count_matching(passes.parse().expect("VIGIE_MATCH_PASSES: a number of passes"));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
