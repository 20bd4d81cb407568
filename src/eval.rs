//! `vigie train` and `vigie eval`: rebuild the embedded models from the development data, and
//! report accuracy and macro-F1 per data set and language next to baselines run in the same
//! process (the `whatlang` crate for language, the `vader_sentiment` crate for sentiment).

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigie_enrich::model::data::{read_tsv, Example};
use vigie_enrich::model::splits::{self, Split};
use vigie_enrich::model::train::{self, scores, Scores, TWEET_LANGUAGES};
use vigie_enrich::{language, sentiment};

/// Options of `vigie train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// The development data directory.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Where to write the model files (embedded at the next build).
    #[arg(long, default_value = "enrich/models")]
    out: PathBuf,
    /// Write nothing: train one sentiment model per candidate setting, and one toxicity model
    /// per candidate source mix at each cut, and print each one's macro-F1 on the validation
    /// rows (how the embedded settings were chosen).
    #[arg(long)]
    search: bool,
}

/// Options of `vigie eval`.
#[derive(clap::Args)]
pub struct EvalArgs {
    /// The development data directory.
    #[arg(long, default_value = "../shared/data")]
    data: PathBuf,
    /// Only the volume detector, on the labelled series of `DATA/volume` (5 tweet volumes, 48
    /// other NAB series): NAB scores per series and category beside published detectors, false
    /// alarms per week, leave-one-category-out tuning; then `negative_surge` and `flatline` on
    /// labelled mention streams built from `DATA/sentiment`.
    #[arg(long)]
    volume: bool,
    /// Write the development-test sentiment rows (set, kind, language, label, text) as TSV to
    /// this file and stop: the rows `vigie eval` scores, for a scorer that cannot run in this
    /// process (`deploy/eval/vader_fr.py`, VADER's French port).
    #[arg(long, value_name = "FILE")]
    export_sentiment: Option<PathBuf>,
}

/// Trains every model and writes it under `args.out`.
pub fn run_train(args: TrainArgs) -> anyhow::Result<()> {
    if args.search {
        return search(&args.data);
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let started = Instant::now();
    let model = train::train_langid(&args.data).context("training the language model")?;
    write(&args.out.join("langid.bin"), &model.to_bytes())?;
    eprintln!("langid.bin trained in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let model = train::train_sentiment(&args.data).context("training the sentiment model")?;
    write(&args.out.join("sentiment.bin"), &model.to_bytes())?;
    let rows = splits::sentiment_rows(&args.data)?;
    for (set, s) in train::sentiment_scores(&model, &rows, Split::Validation) {
        eprintln!(
            "  sentiment {set} validation: n {}, macro-F1 {:.3}, macro-recall {:.3}",
            s.n, s.macro_f1, s.macro_recall
        );
    }
    eprintln!(
        "sentiment.bin trained in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let model = train::train_toxicity(&args.data).context("training the toxicity model")?;
    write(&args.out.join("toxicity.bin"), &model.to_bytes())?;
    eprintln!("toxicity.bin trained in {:.1} s", started.elapsed().as_secs_f64());
    eprintln!("rebuild Vigie to embed the new models");
    Ok(())
}

/// `vigie train --search`: the language, sentiment and toxicity grids on the validation rows,
/// as Markdown tables.
fn search(data: &Path) -> anyhow::Result<()> {
    println!("| language buckets | epochs | extra en/fr texts | least confidence | word lists | mean accuracy | per validation set |");
    println!("|---|---|---|---|---|---|---|");
    train::search_langid(data, |s, mean, per_set| {
        let sets: Vec<String> = per_set
            .iter()
            .map(|(name, acc)| format!("{name} {:.1} %", 100.0 * acc))
            .collect();
        println!(
            "| 2^{} | {} | {} | {:.2} | {} | {:.2} % | {} |",
            s.buckets.trailing_zeros(),
            s.epochs,
            s.extra_per_language,
            s.min_confidence,
            if s.word_list { "yes" } else { "no" },
            100.0 * mean,
            sets.join(", ")
        );
    })
    .context("reading the language data")?;
    println!();
    println!("| epochs | learning rate | review weight | mean macro-F1 | per validation set |");
    println!("|---|---|---|---|---|");
    train::search_sentiment(data, |s, mean, per_set| {
        let sets: Vec<String> = per_set
            .iter()
            .map(|(set, sc)| format!("{set} {:.3}", sc.macro_f1))
            .collect();
        println!(
            "| {} | {} | {} | {mean:.4} | {} |",
            s.epochs,
            s.learning_rate,
            s.review_weight,
            sets.join(", ")
        );
    })
    .context("reading the sentiment data")?;
    println!();
    println!("| toxicity sources | epochs | learning rate | cut | mean macro-F1 | ordinary tweets flagged | per validation set |");
    println!("|---|---|---|---|---|---|---|");
    let mut chosen = Vec::new();
    train::search_toxicity(data, |sources, settings, cut, mean, flagged, per_set| {
        if sources == train::TOXICITY_SOURCES && settings == train::TOXICITY {
            chosen.push((cut, flagged));
        }
        let sets: Vec<String> = per_set
            .iter()
            .map(|(set, sc)| format!("{set} {:.3}", sc.macro_f1))
            .collect();
        println!(
            "| {} | {} | {} | {cut:.2} | {mean:.4} | {:.1} % | {} |",
            sources.join(" + "),
            settings.epochs,
            settings.learning_rate,
            100.0 * flagged,
            sets.join(", ")
        );
    })
    .context("reading the toxicity data")?;
    println!(
        "\nEmbedded: {} calibrated at cut {:.2}; `toxic` flag at calibrated P ≥ {} (at most {:.0} % of ordinary validation tweets).",
        train::TOXICITY_SOURCES.join(" + "),
        train::TOXICITY_CUT,
        train::flag_threshold(&chosen).map_or("none".to_string(), |t| format!("{t:.2}")),
        100.0 * train::ORDINARY_FLAG_LIMIT
    );
    Ok(())
}

/// The keyword baseline for toxicity: the insult list of the first, keyword-only scorer.
fn keyword_toxic(text: &str) -> &'static str {
    const INSULTS: &[&str] = &[
        "idiot", "idiots", "stupid", "moron", "fuck", "fucking", "shit", "bitch", "asshole", "con", "cons",
        "connard", "connards", "connasse", "encule", "merde", "salope", "debile", "cretin", "abruti", "pute",
        "batard",
    ];
    let toxic = vigie_core::text::tokenize(text)
        .iter()
        .any(|t| INSULTS.contains(&t.text.as_str()));
    if toxic {
        "toxic"
    } else {
        "clean"
    }
}

/// The toxicity model before issue 16, for the comparison column.
const PREVIOUS_TOXICITY: &[u8] = include_bytes!("../enrich/models/previous/toxicity-0.2.0.bin");

fn toxicity_table(data: &Path) -> anyhow::Result<()> {
    println!("\n## Toxicity (toxic vs clean): development-test rows, flagged at P(toxic) ≥ 0.5\n");
    println!(
        "The previous model was trained on OLID, all of Davidson and four fifths of MLMA by record number:"
    );
    println!("its columns count only the rows it never saw (n prev.).\n");
    println!(
        "| data set | n | Vigie macro-F1 | texts/s | n prev. | previous macro-F1 | keyword list macro-F1 |"
    );
    println!("|---|---|---|---|---|---|---|");
    let previous = vigie_enrich::model::linear::LinearModel::from_bytes(PREVIOUS_TOXICITY)
        .context("reading the previous toxicity model")?;
    let rows = splits::toxicity_rows(data)?;
    // What the previous model saw: OLID's training rows and MLMA but every fifth line (and all of
    // Davidson, which has no development-test rows here).
    let mut previously_seen = std::collections::HashSet::new();
    for lang in ["fr", "en"] {
        let file = data.join("toxicity").join(format!("mlma_{lang}_dataset.csv"));
        // Numbered as the previous training did: after skipping the ambiguous labels.
        let all = vigie_enrich::model::data::read_csv(&file, |get| {
            Some(Example {
                label: splits::mlma_label(&get("sentiment")?)?.to_string(),
                lang: String::new(),
                text: get("tweet")?,
            })
        })?;
        previously_seen.extend(
            all.iter()
                .enumerate()
                .filter(|(i, _)| !train::is_held_out(*i))
                .map(|(_, e)| splits::key(&e.text)),
        );
    }
    previously_seen.extend(
        read_tsv(&data.join("toxicity/tweeteval_offensive_train.tsv"), "label")?
            .iter()
            .map(|e| splits::key(&e.text)),
    );
    let flag = |p: f32| if p >= 0.5 { "toxic" } else { "clean" };
    let sets = splits::sets_in(&rows, Split::DevTest);
    for set in sets {
        let group: Vec<&splits::Row> = rows
            .iter()
            .filter(|r| r.split == Split::DevTest && r.set == set)
            .collect();
        let started = Instant::now();
        let ours: Vec<&str> = group
            .iter()
            .map(|r| {
                let t = &r.example.text;
                flag(vigie_enrich::toxicity::toxicity(t, language::identify(t).code))
            })
            .collect();
        let rate = group.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let s = scores(group.iter().map(|r| r.example.label.as_str()).zip(ours));
        let seen = |r: &&&splits::Row| previously_seen.contains(&splits::key(&r.example.text));
        let p = scores(group.iter().filter(|r| !seen(r)).map(|r| {
            let t = &r.example.text;
            let p = vigie_enrich::toxicity::toxicity_with(&previous, t, language::identify(t).code).0;
            (r.example.label.as_str(), flag(p))
        }));
        let k = scores(
            group
                .iter()
                .map(|r| (r.example.label.as_str(), keyword_toxic(&r.example.text))),
        );
        println!(
            "| {set:<14} | {:>5} | {:.3} | {} | {:>5} | {} | {:.3} |",
            s.n,
            s.macro_f1,
            rate_text(rate),
            p.n,
            if p.n == 0 {
                "—".to_string()
            } else {
                format!("{:.3}", p.macro_f1)
            },
            k.macro_f1
        );
    }
    // False flags on ordinary text: the sentiment development-test tweets, and short posts with
    // names the models never saw.
    let ordinary: Vec<String> = splits::sentiment_rows(data)?
        .into_iter()
        .filter(|r| r.split == Split::DevTest && r.kind == splits::Kind::Tweet)
        .map(|r| r.example.text)
        .collect();
    let short: Vec<String> = SHORT_POSTS
        .iter()
        .flat_map(|p| NAMES.iter().map(move |n| p.replace("{n}", n)))
        .collect();
    println!(
        "\nThe `toxic` flag: Vigie at P ≥ {} (see `vigie train --search`), the previous model at 0.5.\n",
        vigie_enrich::risk::TOXIC_THRESHOLD
    );
    println!("| ordinary text | n | flagged toxic, Vigie | previous |");
    println!("|---|---|---|---|");
    for (name, texts) in [
        ("sentiment development-test tweets", &ordinary),
        ("short posts with unseen names", &short),
    ] {
        let share = |model: Option<&vigie_enrich::model::linear::LinearModel>| {
            let flagged = texts
                .iter()
                .filter(|t| {
                    let lang = language::identify(t).code;
                    match model {
                        Some(m) => vigie_enrich::toxicity::toxicity_with(m, t, lang).0 >= 0.5,
                        None => {
                            vigie_enrich::toxicity::toxicity(t, lang) >= vigie_enrich::risk::TOXIC_THRESHOLD
                        }
                    }
                })
                .count();
            100.0 * flagged as f64 / texts.len().max(1) as f64
        };
        println!(
            "| {name} | {} | {:.1} % | {:.1} % |",
            texts.len(),
            share(None),
            share(Some(&previous))
        );
    }
    Ok(())
}

/// Short, harmless posts around a name (`{n}`), French and English.
const SHORT_POSTS: &[&str] = &[
    "Merci {n} !",
    "Bravo {n}",
    "{n} au top",
    "Bonjour {n}, une question sur ma commande",
    "Thanks {n}!",
    "Go {n}",
    "{n} is here",
    "Happy birthday {n}",
    "@{n} ok",
    "Vu {n} ce matin",
];

/// Names of people, places and brands that are in no training set (invented or rare).
const NAMES: &[&str] = &[
    "Kevinou",
    "Marzena",
    "Trokvil",
    "Yannick",
    "Bertrande",
    "Zolani",
    "Duchmol",
    "Ophélie",
    "Vasquez",
    "Grünwald",
    "Kowalczyk",
    "Nadège",
    "Brixton",
    "Tatouin",
    "Ferrandou",
];

fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
    eprintln!("wrote {} ({} KiB)", path.display(), bytes.len() / 1024);
    Ok(())
}

/// A rate cell: blank for aggregate rows (rate 0).
fn rate_text(rate: f64) -> String {
    if rate > 0.0 {
        format!("{rate:>9.0}")
    } else {
        format!("{:>9}", "")
    }
}

fn timed<T>(items: &[Example], f: impl Fn(&str) -> T) -> (Vec<T>, f64) {
    let started = Instant::now();
    let out: Vec<T> = items.iter().map(|e| f(&e.text)).collect();
    (
        out,
        items.len() as f64 / started.elapsed().as_secs_f64().max(1e-9),
    )
}

fn whatlang_code(text: &str) -> &'static str {
    use whatlang::Lang;
    match whatlang::detect_lang(text) {
        Some(Lang::Ara) => "ar",
        Some(Lang::Deu) => "de",
        Some(Lang::Eng) => "en",
        Some(Lang::Spa) => "es",
        Some(Lang::Fra) => "fr",
        Some(Lang::Ita) => "it",
        Some(Lang::Nld) => "nl",
        Some(Lang::Por) => "pt",
        Some(_) => "other",
        None => "und",
    }
}

/// The language model of scorer 0.4.0 (before the word lists), run with the same feature code
/// minus the word-list features, for the comparison column.
const PREVIOUS_LANGID: &[u8] = include_bytes!("../enrich/models/previous/langid-0.4.0.bin");

fn language_table(title: &str, sets: &[(String, Vec<Example>)]) -> anyhow::Result<()> {
    let previous = vigie_enrich::model::linear::LinearModel::from_bytes(PREVIOUS_LANGID)
        .context("reading the previous language model")?;
    println!("\n{title}\n");
    println!("| data set | n | Vigie acc. | macro-F1 | texts/s | previous (0.4.0) acc. | whatlang acc. | macro-F1 | texts/s |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let row = |name: &str, s: Scores, rate: f64, p: Scores, b: Scores, base_rate: f64| {
        println!(
            "| {name:<36} | {:>5} | {:>6.1} % | {:>5.3} | {} | {:>6.1} % | {:>6.1} % | {:>5.3} | {} |",
            s.n,
            s.accuracy * 100.0,
            s.macro_f1,
            rate_text(rate),
            p.accuracy * 100.0,
            b.accuracy * 100.0,
            b.macro_f1,
            rate_text(base_rate)
        )
    };
    let mut all_gold = Vec::new();
    let mut all_ours = Vec::new();
    let mut all_previous = Vec::new();
    let mut all_base = Vec::new();
    for (name, examples) in sets {
        let (ours, rate) = timed(examples, |t| language::identify(t).code);
        let (prev, _) = timed(examples, |t| {
            language::identify_with_words(&previous, t, language::MIN_CONFIDENCE, None).code
        });
        let (base, base_rate) = timed(examples, whatlang_code);
        let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
        let s = scores(gold.iter().copied().zip(ours.iter().copied()));
        let p = scores(gold.iter().copied().zip(prev.iter().copied()));
        let b = scores(gold.iter().copied().zip(base.iter().copied()));
        row(name, s, rate, p, b, base_rate);
        all_gold.extend(gold);
        all_ours.extend(ours);
        all_previous.extend(prev);
        all_base.extend(base);
    }
    let s = scores(all_gold.iter().copied().zip(all_ours.iter().copied()));
    let p = scores(all_gold.iter().copied().zip(all_previous.iter().copied()));
    let b = scores(all_gold.iter().copied().zip(all_base.iter().copied()));
    row("all", s, 0.0, p, b, 0.0);
    Ok(())
}

/// The sentiment model before issue 16 (scorer 0.2.0: UMSAB training tweets only), run with
/// the same feature code for the comparison columns.
const PREVIOUS_SENTIMENT: &[u8] = include_bytes!("../enrich/models/previous/sentiment-0.2.0.bin");

/// Sentiment on the development-test rows of [`splits::sentiment_rows`]: the embedded model
/// (what `vigie score` prints and the service stores), the previous model and VADER.
fn sentiment_table(data: &Path) -> anyhow::Result<()> {
    println!("\n## Sentiment: development-test rows (never trained on, never used to choose a setting)\n");
    println!("Tweets: 3 classes. Reviews (Allociné): negative / positive by the sign of the score (VADER: of its compound).");
    println!("The previous model was trained on every UMSAB training row, some of which are development-test rows here:");
    println!("its columns count only the rows it never saw (n prev.).\n");
    println!("| data set | n | Vigie macro-F1 | macro-recall | texts/s | n prev. | previous macro-F1 | macro-recall | VADER macro-F1 | macro-recall |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let previous = vigie_enrich::model::linear::LinearModel::from_bytes(PREVIOUS_SENTIMENT)
        .context("reading the previous sentiment model")?;
    let rows = splits::sentiment_rows(data)?;
    // What the previous model was trained on: every UMSAB training row.
    let mut previously_seen = std::collections::HashSet::new();
    for lang in TWEET_LANGUAGES {
        let file = data.join("sentiment").join(format!("umsab_{lang}_train.tsv"));
        previously_seen.extend(read_tsv(&file, "label")?.iter().map(|e| splits::key(&e.text)));
    }
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    let test: Vec<&splits::Row> = rows.iter().filter(|r| r.split == Split::DevTest).collect();
    let sets = splits::sets_in(&rows, Split::DevTest);
    let mut groups: Vec<(String, Vec<&splits::Row>)> = sets
        .iter()
        .map(|set| {
            (
                set.to_string(),
                test.iter().copied().filter(|r| r.set == *set).collect(),
            )
        })
        .collect();
    for lang in ["en", "fr"] {
        groups.push((
            format!("all {lang} tweets"),
            test.iter()
                .copied()
                .filter(|r| r.example.lang == lang && r.kind == splits::Kind::Tweet)
                .collect(),
        ));
    }
    for (name, group) in groups {
        fn gold<'a>(r: &&'a splits::Row) -> &'a str {
            r.example.label.as_str()
        }
        let started = Instant::now();
        let ours: Vec<&str> = group
            .iter()
            .map(|r| {
                let text = &r.example.text;
                train::label_for(sentiment::score(text, language::identify(text).code), r.kind)
            })
            .collect();
        let rate = group.len() as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let s = scores(group.iter().map(gold).zip(ours.iter().copied()));
        let unseen: Vec<&&splits::Row> = group
            .iter()
            .filter(|r| !previously_seen.contains(&splits::key(&r.example.text)))
            .collect();
        let p = scores(
            unseen
                .iter()
                .map(|r| (gold(r), train::predicted_label(&previous, r))),
        );
        let v = scores(group.iter().map(|r| {
            let label = match r.kind {
                splits::Kind::Tweet => vader_label(&analyzer, &r.example.text),
                splits::Kind::Review if vader_compound(&analyzer, &r.example.text) >= 0.0 => "positive",
                splits::Kind::Review => "negative",
            };
            (gold(r), label)
        }));
        let rate = if name.starts_with("all ") { 0.0 } else { rate };
        println!(
            "| {name:<22} | {:>5} | {:.3} | {:.3} | {} | {:>5} | {:.3} | {:.3} | {:.3} | {:.3} |",
            s.n,
            s.macro_f1,
            s.macro_recall,
            rate_text(rate),
            p.n,
            p.macro_f1,
            p.macro_recall,
            v.macro_f1,
            v.macro_recall
        );
    }
    Ok(())
}

fn vader_compound(analyzer: &vader_sentiment::SentimentIntensityAnalyzer, text: &str) -> f64 {
    analyzer
        .polarity_scores(text)
        .get("compound")
        .copied()
        .unwrap_or(0.0)
}

fn vader_label(analyzer: &vader_sentiment::SentimentIntensityAnalyzer, text: &str) -> &'static str {
    let compound = vader_compound(analyzer, text);
    if compound >= 0.05 {
        "positive"
    } else if compound <= -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

/// Writes the development-test sentiment rows to `path` (see [`devtest_tsv`]).
fn export_sentiment(data: &Path, path: &Path) -> anyhow::Result<()> {
    let rows = splits::sentiment_rows(data)?;
    let (tsv, n) = devtest_tsv(&rows);
    write(path, tsv.as_bytes())?;
    eprintln!("{n} development-test sentiment rows");
    Ok(())
}

/// The development-test rows of `rows` as `set, kind, lang, label, text` TSV with a header
/// (tabs and line breaks inside a text become spaces), and how many rows it holds.
fn devtest_tsv(rows: &[splits::Row]) -> (String, usize) {
    let mut out = String::from("set\tkind\tlang\tlabel\ttext\n");
    let mut n = 0;
    for r in rows.iter().filter(|r| r.split == Split::DevTest) {
        let kind = match r.kind {
            splits::Kind::Review => "review",
            splits::Kind::Tweet => "tweet",
        };
        let text = r.example.text.replace(['\t', '\n', '\r'], " ");
        out.push_str(&format!(
            "{}\t{kind}\t{}\t{}\t{text}\n",
            r.set, r.example.lang, r.example.label
        ));
        n += 1;
    }
    (out, n)
}

/// Prints the evaluation tables.
pub fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let data = &args.data;
    if let Some(path) = &args.export_sentiment {
        return export_sentiment(data, path);
    }
    if args.volume {
        crate::volume_eval::run(&data.join("volume"))?;
        println!();
        return crate::surge_eval::run(data);
    }
    println!("# Vigie evaluation on the development data ({})", data.display());
    println!("Texts/s are single-thread wall-clock rates inside this run; use the benches for speed.");

    // Language identification: tweets (validation split, never trained on).
    let mut tweets = Vec::new();
    for lang in TWEET_LANGUAGES {
        let mut rows = read_tsv(
            &data.join("sentiment").join(format!("umsab_{lang}_val.tsv")),
            "lang",
        )?;
        for r in &mut rows {
            r.label = lang.to_string();
        }
        tweets.push((format!("tweets {lang} (umsab val)"), rows));
    }
    language_table("## Language identification: real tweets, 7 languages", &tweets)?;
    let mut leipzig = Vec::new();
    for file in train::LINGUA_FILES {
        let (_, held) = train::lingua_split(data, file)?;
        leipzig.push((
            format!("{} (held-out fifth)", file.trim_end_matches("_75langs.tsv")),
            held,
        ));
    }
    language_table(
        "## Language identification: Leipzig sentences, word pairs, single words, 8 languages",
        &leipzig,
    )?;

    sentiment_table(data)?;
    toxicity_table(data)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exported_rows_are_the_development_test_ones_one_line_each() {
        let row = |set: &'static str, kind, split, text: &str| splits::Row {
            example: Example {
                label: "negative".into(),
                lang: "fr".into(),
                text: text.into(),
            },
            set,
            kind,
            split,
        };
        let rows = [
            row("deft fr", splits::Kind::Tweet, Split::DevTest, "nul\tvraiment"),
            row("deft fr", splits::Kind::Tweet, Split::Validation, "pas celui-ci"),
            row("allocine fr", splits::Kind::Review, Split::DevTest, "long\nfilm"),
            row("allocine fr", splits::Kind::Review, Split::Train, "ni celui-là"),
        ];
        let (tsv, n) = devtest_tsv(&rows);
        assert_eq!(n, 2);
        assert_eq!(
            tsv,
            "set\tkind\tlang\tlabel\ttext\n\
             deft fr\ttweet\tfr\tnegative\tnul vraiment\n\
             allocine fr\treview\tfr\tnegative\tlong film\n"
        );
    }
}
