//! Reproducible training of the embedded models from the development data (`vigie train`), and
//! the metrics `vigie eval` reports. Same features as inference: the training code calls the
//! very functions the scoring stage uses.

use super::data::{read_csv, read_tsv, Example};
use super::linear::{train, LinearModel};
use crate::{language, sentiment, toxicity};
use std::collections::BTreeMap;
use std::path::Path;

/// Feature buckets of the language model.
pub const LANGID_BUCKETS: u32 = 1 << 15;
/// Feature buckets of the sentiment model.
pub const SENTIMENT_BUCKETS: u32 = 1 << 18;

/// Languages of the tweet files (`umsab_*`), which have no Dutch.
pub const TWEET_LANGUAGES: [&str; 7] = ["ar", "de", "en", "es", "fr", "it", "pt"];

/// The Leipzig files used for language identification.
pub const LINGUA_FILES: [&str; 3] = [
    "lingua_sentences_75langs.tsv",
    "lingua_word_pairs_75langs.tsv",
    "lingua_single_words_75langs.tsv",
];

/// Every fifth line of each Leipzig file (per language) is held out of training for `vigie eval`.
pub fn is_held_out(index: usize) -> bool {
    index % 5 == 4
}

/// Leipzig examples of the eight languages from `file`, split into (training, held out).
pub fn lingua_split(data: &Path, file: &str) -> std::io::Result<(Vec<Example>, Vec<Example>)> {
    let mut per_lang: BTreeMap<String, usize> = BTreeMap::new();
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for e in read_tsv(&data.join("langid").join(file), "lang")? {
        if !language::LANGUAGES.contains(&e.label.as_str()) {
            continue;
        }
        let i = per_lang.entry(e.label.clone()).or_default();
        if is_held_out(*i) {
            held.push(e);
        } else {
            train.push(e);
        }
        *i += 1;
    }
    Ok((train, held))
}

/// Training examples for the language model: Leipzig sentences, word pairs and single words of
/// the eight languages (minus the held-out fifth), and the training tweets of seven.
pub fn langid_examples(data: &Path) -> std::io::Result<Vec<Example>> {
    let mut out = Vec::new();
    for file in LINGUA_FILES {
        out.extend(lingua_split(data, file)?.0);
    }
    for lang in TWEET_LANGUAGES {
        let tweets = read_tsv(
            &data.join("sentiment").join(format!("umsab_{lang}_train.tsv")),
            "lang",
        )?;
        out.extend(tweets.into_iter().map(|mut e| {
            e.label = lang.to_string();
            e
        }));
    }
    Ok(out)
}

/// Trains the language model.
pub fn train_langid(data: &Path) -> std::io::Result<LinearModel> {
    let examples = langid_examples(data)?;
    let classes: Vec<String> = language::LANGUAGES.iter().map(|s| s.to_string()).collect();
    let encoded: Vec<(Vec<u32>, usize)> = examples
        .iter()
        .filter_map(|e| {
            let label = classes.iter().position(|c| *c == e.label)?;
            let mut f = Vec::new();
            language::features(&e.text, LANGID_BUCKETS, |b| f.push(b));
            Some((f, label))
        })
        .collect();
    Ok(train(classes, LANGID_BUCKETS, &encoded, 6, 0.5, 1e-7, None))
}

/// Training examples for sentiment: the training tweets of all seven languages.
pub fn sentiment_examples(data: &Path) -> std::io::Result<Vec<Example>> {
    let mut out = Vec::new();
    for lang in TWEET_LANGUAGES {
        out.extend(read_tsv(
            &data.join("sentiment").join(format!("umsab_{lang}_train.tsv")),
            "label",
        )?);
    }
    Ok(out)
}

/// Trains the sentiment model.
pub fn train_sentiment(data: &Path) -> std::io::Result<LinearModel> {
    // Epochs, learning rate and L2 picked on the umsab validation splits (see README).
    let settings = Settings {
        buckets: SENTIMENT_BUCKETS,
        epochs: 16,
        learning_rate: 0.3,
        l2: 2e-5,
    };
    Ok(fit_balanced(
        &sentiment::CLASSES,
        &sentiment_examples(data)?,
        settings,
    ))
}

/// Training settings of one model.
#[derive(Debug, Clone, Copy)]
struct Settings {
    buckets: u32,
    epochs: usize,
    learning_rate: f32,
    l2: f32,
}

/// Trains a model over the sentiment features with classes weighted inversely to their
/// frequency, so macro-F1 rather than accuracy is what training favours.
fn fit_balanced(class_names: &[&str], examples: &[Example], s: Settings) -> LinearModel {
    let classes: Vec<String> = class_names.iter().map(|c| c.to_string()).collect();
    let encoded: Vec<(Vec<u32>, usize)> = examples
        .iter()
        .filter_map(|e| {
            let label = classes.iter().position(|c| *c == e.label)?;
            let mut f = Vec::new();
            sentiment::features(&e.text, &e.lang, s.buckets, |b| f.push(b));
            Some((f, label))
        })
        .collect();
    let mut counts = vec![0usize; classes.len()];
    for (_, l) in &encoded {
        counts[*l] += 1;
    }
    let total: usize = counts.iter().sum();
    let weights: Vec<f32> = counts
        .iter()
        .map(|&c| total as f32 / (classes.len() * c.max(1)) as f32)
        .collect();
    train(
        classes,
        s.buckets,
        &encoded,
        s.epochs,
        s.learning_rate,
        s.l2,
        Some(&weights),
    )
}

/// Feature buckets of the toxicity model.
pub const TOXICITY_BUCKETS: u32 = 1 << 18;

/// MLMA hostility labels: toxic when offensive, abusive, hateful or disrespectful; clean when
/// only normal or fearful; mixed labels with "normal" are skipped as ambiguous.
fn mlma_label(label: &str) -> Option<&'static str> {
    let toxic = ["offensive", "abusive", "hateful", "disrespectful"]
        .iter()
        .any(|t| label.contains(t));
    match (toxic, label.contains("normal")) {
        (true, false) => Some("toxic"),
        (false, _) if label == "normal" || label == "fearful" => Some("clean"),
        _ => None,
    }
}

/// MLMA examples of `lang` ("fr" or "en"), split into (training, held-out fifth).
pub fn mlma_split(data: &Path, lang: &str) -> std::io::Result<(Vec<Example>, Vec<Example>)> {
    let all = read_csv(
        &data.join("toxicity").join(format!("mlma_{lang}_dataset.csv")),
        |get| {
            Some(Example {
                label: mlma_label(&get("sentiment")?)?.to_string(),
                lang: lang.to_string(),
                text: get("tweet")?,
            })
        },
    )?;
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for (i, e) in all.into_iter().enumerate() {
        if is_held_out(i) {
            held.push(e);
        } else {
            train.push(e);
        }
    }
    Ok((train, held))
}

/// Training examples for toxicity: OLID offensive tweets, Davidson, and MLMA French and English
/// (minus the held-out fifth).
pub fn toxicity_examples(data: &Path) -> std::io::Result<Vec<Example>> {
    let mut out: Vec<Example> = read_tsv(&data.join("toxicity/tweeteval_offensive_train.tsv"), "label")?
        .into_iter()
        .map(|mut e| {
            e.label = if e.label == "offensive" { "toxic" } else { "clean" }.into();
            e.lang = "en".into();
            e
        })
        .collect();
    out.extend(read_csv(
        &data.join("toxicity/davidson_labeled_data.csv"),
        |get| {
            Some(Example {
                label: if get("class")? == "2" { "clean" } else { "toxic" }.into(),
                lang: "en".into(),
                text: get("tweet")?,
            })
        },
    )?);
    for lang in ["fr", "en"] {
        out.extend(mlma_split(data, lang)?.0);
    }
    Ok(out)
}

/// Trains the toxicity model.
pub fn train_toxicity(data: &Path) -> std::io::Result<LinearModel> {
    let settings = Settings {
        buckets: TOXICITY_BUCKETS,
        epochs: 8,
        learning_rate: 0.3,
        l2: 2e-5,
    };
    Ok(fit_balanced(
        &toxicity::CLASSES,
        &toxicity_examples(data)?,
        settings,
    ))
}

/// Accuracy and macro-F1 of predictions against gold labels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scores {
    /// Number of examples.
    pub n: usize,
    /// Share of exact predictions.
    pub accuracy: f64,
    /// Mean over gold classes of the per-class F1.
    pub macro_f1: f64,
}

/// Computes [`Scores`] over (gold, predicted) pairs; macro-F1 averages over the gold classes.
pub fn scores<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Scores {
    let mut tp: BTreeMap<&str, usize> = BTreeMap::new();
    let mut gold: BTreeMap<&str, usize> = BTreeMap::new();
    let mut pred: BTreeMap<&str, usize> = BTreeMap::new();
    let mut n = 0;
    let mut correct = 0;
    for (g, p) in pairs {
        n += 1;
        *gold.entry(g).or_default() += 1;
        *pred.entry(p).or_default() += 1;
        if g == p {
            correct += 1;
            *tp.entry(g).or_default() += 1;
        }
    }
    let f1s: Vec<f64> = gold
        .iter()
        .map(|(c, &g)| {
            let t = *tp.get(c).unwrap_or(&0) as f64;
            let p = *pred.get(c).unwrap_or(&0) as f64;
            if t == 0.0 {
                0.0
            } else {
                2.0 * t / (g as f64 + p)
            }
        })
        .collect();
    Scores {
        n,
        accuracy: if n == 0 { 0.0 } else { correct as f64 / n as f64 },
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn macro_f1_averages_over_gold_classes() {
        let s = scores([("a", "a"), ("a", "b"), ("b", "b"), ("b", "b")]);
        assert_eq!(s.n, 4);
        assert!((s.accuracy - 0.75).abs() < 1e-9);
        // F1(a) = 2·1/(2+1) = 0.667, F1(b) = 2·2/(2+3) = 0.8
        assert!((s.macro_f1 - (2.0 / 3.0 + 0.8) / 2.0).abs() < 1e-9);
    }
}
