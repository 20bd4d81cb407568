//! `vigie train` and `vigie eval`: rebuild the embedded models from the development data, and
//! report accuracy and macro-F1 per data set and language next to baselines run in the same
//! process (the `whatlang` crate for language, the `vader_sentiment` crate for sentiment).

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;
use vigie_enrich::model::data::{read_tsv, Example};
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
}

/// Trains every model and writes it under `args.out`.
pub fn run_train(args: TrainArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let started = Instant::now();
    let model = train::train_langid(&args.data).context("training the language model")?;
    write(&args.out.join("langid.bin"), &model.to_bytes())?;
    eprintln!("langid.bin trained in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let model = train::train_sentiment(&args.data).context("training the sentiment model")?;
    write(&args.out.join("sentiment.bin"), &model.to_bytes())?;
    for lang in TWEET_LANGUAGES {
        let val = read_tsv(
            &args.data.join("sentiment").join(format!("umsab_{lang}_val.tsv")),
            "label",
        )?;
        let predicted: Vec<&str> = val
            .iter()
            .map(|e| {
                label_name(sentiment::score_with(&model, &e.text, language::identify(&e.text).code).label)
            })
            .collect();
        let s = scores(
            val.iter()
                .map(|e| e.label.as_str())
                .zip(predicted.iter().copied()),
        );
        eprintln!(
            "  sentiment {lang} val: accuracy {:.3}, macro-F1 {:.3}",
            s.accuracy, s.macro_f1
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

fn toxicity_table(data: &Path) -> anyhow::Result<()> {
    println!("\n## Toxicity (toxic vs clean), never trained on\n");
    println!("| data set | n | Vigie acc. | macro-F1 | texts/s | keyword list acc. | macro-F1 | texts/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let relabel = |rows: Vec<Example>, toxic: &str| -> Vec<Example> {
        rows.into_iter()
            .map(|mut e| {
                e.label = if e.label == toxic { "toxic" } else { "clean" }.into();
                e
            })
            .collect()
    };
    let sets = vec![
        (
            "OLID offensive val (en)".to_string(),
            relabel(
                read_tsv(&data.join("toxicity/tweeteval_offensive_val.tsv"), "label")?,
                "offensive",
            ),
        ),
        (
            "HatEval hate val (en)".to_string(),
            relabel(
                read_tsv(&data.join("toxicity/tweeteval_hate_val.tsv"), "label")?,
                "hate",
            ),
        ),
        (
            "MLMA fr (held-out fifth)".to_string(),
            train::mlma_split(data, "fr")?.1,
        ),
        (
            "MLMA en (held-out fifth)".to_string(),
            train::mlma_split(data, "en")?.1,
        ),
    ];
    for (name, examples) in &sets {
        let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
        let (ours, rate) = timed(examples, |t| {
            if vigie_enrich::toxicity::toxicity(t, language::identify(t).code) >= 0.5 {
                "toxic"
            } else {
                "clean"
            }
        });
        let (base, base_rate) = timed(examples, keyword_toxic);
        let s = scores(gold.iter().copied().zip(ours.iter().copied()));
        let b = scores(gold.iter().copied().zip(base.iter().copied()));
        line(name, s, rate, Some((b, base_rate)));
    }
    Ok(())
}

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

fn line(name: &str, ours: Scores, rate: f64, baseline: Option<(Scores, f64)>) {
    let base = baseline
        .map(|(b, r)| {
            format!(
                "| {:>6.1} % | {:>5.3} | {}",
                b.accuracy * 100.0,
                b.macro_f1,
                rate_text(r)
            )
        })
        .unwrap_or_else(|| "|          |       |          ".into());
    println!(
        "| {name:<36} | {:>5} | {:>6.1} % | {:>5.3} | {} {base} |",
        ours.n,
        ours.accuracy * 100.0,
        ours.macro_f1,
        rate_text(rate)
    );
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

fn language_table(title: &str, sets: &[(String, Vec<Example>)]) {
    println!("\n{title}\n");
    println!("| data set | n | Vigie acc. | macro-F1 | texts/s | whatlang acc. | macro-F1 | texts/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut all_gold = Vec::new();
    let mut all_ours = Vec::new();
    let mut all_base = Vec::new();
    for (name, examples) in sets {
        let (ours, rate) = timed(examples, |t| language::identify(t).code);
        let (base, base_rate) = timed(examples, whatlang_code);
        let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
        let s = scores(gold.iter().copied().zip(ours.iter().copied()));
        let b = scores(gold.iter().copied().zip(base.iter().copied()));
        line(name, s, rate, Some((b, base_rate)));
        all_gold.extend(gold);
        all_ours.extend(ours);
        all_base.extend(base);
    }
    let s = scores(all_gold.iter().copied().zip(all_ours.iter().copied()));
    let b = scores(all_gold.iter().copied().zip(all_base.iter().copied()));
    line("all", s, 0.0, Some((b, 0.0)));
}

fn vader_label(analyzer: &vader_sentiment::SentimentIntensityAnalyzer, text: &str) -> &'static str {
    let compound = analyzer
        .polarity_scores(text)
        .get("compound")
        .copied()
        .unwrap_or(0.0);
    if compound >= 0.05 {
        "positive"
    } else if compound <= -0.05 {
        "negative"
    } else {
        "neutral"
    }
}

fn sentiment_label(text: &str) -> &'static str {
    label_name(sentiment::score(text, language::identify(text).code).label)
}

fn label_name(label: vigie_core::proto::SentimentLabel) -> &'static str {
    match label {
        vigie_core::proto::SentimentLabel::Negative => "negative",
        vigie_core::proto::SentimentLabel::Positive => "positive",
        _ => "neutral",
    }
}

/// Prints the evaluation tables.
pub fn run_eval(args: EvalArgs) -> anyhow::Result<()> {
    let data = &args.data;
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
    language_table("## Language identification: real tweets, 7 languages", &tweets);
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
    );

    // Sentiment.
    println!("\n## Sentiment (3 classes), validation splits never trained on\n");
    println!("| data set | n | Vigie acc. | macro-F1 | texts/s | VADER acc. | macro-F1 | texts/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let analyzer = vader_sentiment::SentimentIntensityAnalyzer::new();
    let mut sets: Vec<(String, Vec<Example>)> = Vec::new();
    for lang in TWEET_LANGUAGES {
        sets.push((
            format!("umsab {lang} val"),
            read_tsv(
                &data.join("sentiment").join(format!("umsab_{lang}_val.tsv")),
                "label",
            )?,
        ));
    }
    // TweetEval's validation tweets overlap UMSAB's English training split: keep only unseen ones.
    let trained: std::collections::HashSet<String> = train::sentiment_examples(data)?
        .into_iter()
        .map(|e| e.text)
        .collect();
    let tweeteval: Vec<Example> = read_tsv(&data.join("sentiment/tweeteval_en_val.tsv"), "label")?
        .into_iter()
        .filter(|e| !trained.contains(&e.text))
        .collect();
    sets.push(("tweeteval en val, unseen part".into(), tweeteval));
    for (name, examples) in &sets {
        let gold: Vec<&str> = examples.iter().map(|e| e.label.as_str()).collect();
        let (ours, rate) = timed(examples, sentiment_label);
        let (base, base_rate) = timed(examples, |t| vader_label(&analyzer, t));
        let s = scores(gold.iter().copied().zip(ours.iter().copied()));
        let b = scores(gold.iter().copied().zip(base.iter().copied()));
        line(name, s, rate, Some((b, base_rate)));
    }
    toxicity_table(data)?;
    Ok(())
}
