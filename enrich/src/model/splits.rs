//! Which sentiment rows of the development data train the model, which choose its settings
//! (validation) and which only report (development test), so that no figure `vigie eval`
//! prints comes from a text the model was trained on or tuned on.
//!
//! Every row gets its split from a hash of its *key* (lower-cased letters and digits, user
//! names and links left out), so two copies of one tweet in two files (UMSAB's English and
//! French splits come from SemEval and DEFT, which the other files also hold) always fall on
//! the same side:
//!
//! - `tweeteval_en_val.tsv` and each `umsab_*_val.tsv` are halved: validation / development
//!   test (TweetEval's validation tweets are of another period than its training ones, as the
//!   held-out test tweets are: the closest thing to them on the validation side);
//! - the training files (`tweeteval_en_train`, `umsab_*_train`, `deft2017_fr_train`,
//!   `allocine_fr_train`) give a tenth to validation; DEFT and Allociné, which have no
//!   validation file, give another tenth to development test; the rest trains.
//!
//! A key seen in development test anywhere is removed from validation and training, and a key
//! seen in validation from training.

use super::data::{read_tsv, Example};
use super::features::hash_bytes;
use std::collections::HashSet;
use std::path::Path;

/// The role of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Split {
    /// Fits the model.
    Train,
    /// Chooses settings (epochs, learning rate, regularisation, feature switches).
    Validation,
    /// Only reported, never looked at while choosing.
    DevTest,
}

/// The kind of text of a data set (reviews are long and binary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Tweets, three classes.
    Tweet,
    /// Film reviews, negative or positive only.
    Review,
}

/// One labelled row with its data set and split.
#[derive(Debug, Clone)]
pub struct Row {
    /// Text, label (`negative` / `neutral` / `positive`) and language.
    pub example: Example,
    /// The data set it comes from (`tweeteval en`, `tweeteval en val`, `umsab fr`, `deft fr`,
    /// `allocine fr`).
    pub set: &'static str,
    /// Tweet or review.
    pub kind: Kind,
    /// Its role.
    pub split: Split,
}

/// The dedup key of a text: its letters and digits, lower-cased, without user names or links.
pub fn key(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if word.starts_with('@') || word.starts_with("http") || word.starts_with("www.") {
            continue;
        }
        out.extend(
            word.chars()
                .filter(|c| c.is_alphanumeric())
                .flat_map(char::to_lowercase),
        );
    }
    out
}

/// DEFT tweets keep real user names and links; UMSAB, like TweetEval, writes `@user` and
/// `http`. DEFT rows are normalised the same way so the model sees one convention.
fn umsab_style(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            if w.starts_with('@') && w.len() > 1 {
                "@user"
            } else if w.starts_with("http") || w.starts_with("www.") {
                "http"
            } else {
                w
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The splitting rules of the module docs.
enum Rule {
    /// Half validation, half development test.
    Halves,
    /// A tenth validation, the rest training.
    TrainingFile,
    /// A tenth validation, a tenth development test, the rest training.
    TrainingFileWithTest,
}

fn split_of(rule: &Rule, key: &str) -> Split {
    let h = hash_bytes(0x5eed, key.as_bytes()) % 20;
    match rule {
        Rule::Halves if h.is_multiple_of(2) => Split::Validation,
        Rule::Halves => Split::DevTest,
        Rule::TrainingFile | Rule::TrainingFileWithTest if h < 2 => Split::Validation,
        Rule::TrainingFileWithTest if h < 4 => Split::DevTest,
        _ => Split::Train,
    }
}

/// Languages of the UMSAB files.
const UMSAB: [(&str, &str); 7] = [
    ("ar", "umsab ar"),
    ("de", "umsab de"),
    ("en", "umsab en"),
    ("es", "umsab es"),
    ("fr", "umsab fr"),
    ("it", "umsab it"),
    ("pt", "umsab pt"),
];

/// Every sentiment row of `data/sentiment` with its split (see the module docs).
pub fn sentiment_rows(data: &Path) -> std::io::Result<Vec<Row>> {
    let dir = data.join("sentiment");
    let mut rows = Vec::new();
    let mut add = |file: &str, lang: &str, set: &'static str, kind: Kind, rule: Rule| {
        for mut e in read_tsv(&dir.join(file), "label")? {
            if e.lang.is_empty() {
                e.lang = lang.to_string();
            }
            if set == "deft fr" {
                e.text = umsab_style(&e.text);
            }
            let split = split_of(&rule, &key(&e.text));
            rows.push(Row {
                example: e,
                set,
                kind,
                split,
            });
        }
        Ok::<_, std::io::Error>(())
    };
    add(
        "tweeteval_en_train.tsv",
        "en",
        "tweeteval en",
        Kind::Tweet,
        Rule::TrainingFile,
    )?;
    add(
        "tweeteval_en_val.tsv",
        "en",
        "tweeteval en val",
        Kind::Tweet,
        Rule::Halves,
    )?;
    for (lang, set) in UMSAB {
        add(
            &format!("umsab_{lang}_train.tsv"),
            lang,
            set,
            Kind::Tweet,
            Rule::TrainingFile,
        )?;
        add(
            &format!("umsab_{lang}_val.tsv"),
            lang,
            set,
            Kind::Tweet,
            Rule::Halves,
        )?;
    }
    add(
        "deft2017_fr_train.tsv",
        "fr",
        "deft fr",
        Kind::Tweet,
        Rule::TrainingFileWithTest,
    )?;
    add(
        "allocine_fr_train.tsv",
        "fr",
        "allocine fr",
        Kind::Review,
        Rule::TrainingFileWithTest,
    )?;
    dedup(&mut rows);
    Ok(rows)
}

/// Every toxicity row of `data/toxicity` (labels `toxic` / `clean`) with its split, by the same
/// rules: OLID and HatEval validation files halved, their training files and Davidson giving a
/// tenth to validation, MLMA (one file per language) a tenth to validation and a tenth to
/// development test; ordinary sentiment training tweets are added as clean text (below). Which
/// of these sources train the embedded model is the search's choice
/// (`crate::model::train::TOXICITY_SOURCES`; Davidson is not among them).
pub fn toxicity_rows(data: &Path) -> std::io::Result<Vec<Row>> {
    use super::data::read_csv;
    let dir = data.join("toxicity");
    let mut rows = Vec::new();
    let mut push = |e: Example, set: &'static str, rule: &Rule| {
        let split = split_of(rule, &key(&e.text));
        rows.push(Row {
            example: e,
            set,
            kind: Kind::Tweet,
            split,
        });
    };
    for (file, set, toxic, rule) in [
        (
            "tweeteval_offensive_train.tsv",
            "olid en",
            "offensive",
            Rule::TrainingFile,
        ),
        (
            "tweeteval_offensive_val.tsv",
            "olid en",
            "offensive",
            Rule::Halves,
        ),
        (
            "tweeteval_hate_train.tsv",
            "hateval en",
            "hate",
            Rule::TrainingFile,
        ),
        ("tweeteval_hate_val.tsv", "hateval en", "hate", Rule::Halves),
    ] {
        for mut e in read_tsv(&dir.join(file), "label")? {
            e.label = if e.label == toxic { "toxic" } else { "clean" }.into();
            e.lang = "en".into();
            push(e, set, &rule);
        }
    }
    let davidson = read_csv(&dir.join("davidson_labeled_data.csv"), |get| {
        Some(Example {
            label: if get("class")? == "2" { "clean" } else { "toxic" }.into(),
            lang: "en".into(),
            text: get("tweet")?,
        })
    })?;
    for e in davidson {
        push(e, "davidson en", &Rule::TrainingFile);
    }
    for (lang, set) in [("fr", "mlma fr"), ("en", "mlma en")] {
        let file = dir.join(format!("mlma_{lang}_dataset.csv"));
        let mlma = read_csv(&file, |get| {
            Some(Example {
                label: mlma_label(&get("sentiment")?)?.to_string(),
                lang: lang.to_string(),
                text: get("tweet")?,
            })
        })?;
        for e in mlma {
            push(e, set, &Rule::TrainingFileWithTest);
        }
    }
    // Ordinary text as (noisy) clean examples: French has none in the toxicity data (MLMA was
    // collected by hostile keywords, so "malade" read as an insult), and HatEval and MLMA teach
    // that "black", "islam" or "women" are hostile. The French sentiment training tweets and a
    // quarter (by key) of TweetEval's English ones stand in, except those holding an
    // insult-list word, whose toxicity nobody labelled. Only the sentiment *training* rows:
    // the sentiment validation and development-test tweets measure false flags.
    for r in sentiment_rows(data)? {
        let french = r.set == "umsab fr" || r.set == "deft fr";
        let english =
            r.set == "tweeteval en" && hash_bytes(0x0e0e, key(&r.example.text).as_bytes()).is_multiple_of(4);
        if r.split != Split::Train || !(french || english) {
            continue;
        }
        let mut e = r.example;
        if crate::sentiment::features(&e.text, &e.lang, 1 << 10, |_| {}) {
            continue;
        }
        e.label = "clean".into();
        let set = if french { "ordinary fr" } else { "ordinary en" };
        rows.push(Row {
            example: e,
            set,
            kind: Kind::Tweet,
            split: Split::Train,
        });
    }
    dedup(&mut rows);
    Ok(rows)
}

/// MLMA hostility labels: toxic when offensive, abusive, hateful or disrespectful; clean when
/// only normal or fearful; mixed labels with "normal" are skipped as ambiguous.
pub fn mlma_label(label: &str) -> Option<&'static str> {
    let toxic = ["offensive", "abusive", "hateful", "disrespectful"]
        .iter()
        .any(|t| label.contains(t));
    match (toxic, label.contains("normal")) {
        (true, false) => Some("toxic"),
        (false, _) if label == "normal" || label == "fearful" => Some("clean"),
        _ => None,
    }
}

/// The data sets of the rows of `split`, in the order they first appear.
pub fn sets_in(rows: &[Row], split: Split) -> Vec<&'static str> {
    let mut sets: Vec<&'static str> = Vec::new();
    for r in rows.iter().filter(|r| r.split == split) {
        if !sets.contains(&r.set) {
            sets.push(r.set);
        }
    }
    sets
}

/// Removes from validation and training every key of a development-test row, and from training
/// every key of a validation row.
fn dedup(rows: &mut Vec<Row>) {
    let keys = |rows: &[Row], split: Split| -> HashSet<String> {
        rows.iter()
            .filter(|r| r.split == split)
            .map(|r| key(&r.example.text))
            .collect()
    };
    let test = keys(rows, Split::DevTest);
    rows.retain(|r| r.split == Split::DevTest || !test.contains(&key(&r.example.text)));
    let validation = keys(rows, Split::Validation);
    rows.retain(|r| r.split != Split::Train || !validation.contains(&key(&r.example.text)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_punctuation_names_and_links() {
        assert_eq!(
            key("\"Great day @bob, see http://x.co/1 !\" "),
            key("great day @user see http")
        );
        assert_ne!(key("great day"), key("bad day"));
    }

    #[test]
    fn deft_names_and_links_become_umsab_style() {
        assert_eq!(
            umsab_style("Merci @Orange_France http://bit.ly/x super"),
            "Merci @user http super"
        );
    }

    #[test]
    fn the_rules_split_in_the_stated_shares() {
        let count = |rule: Rule, split: Split| {
            (0..4000)
                .filter(|i| split_of(&rule, &format!("text {i}")) == split)
                .count()
        };
        let v = count(Rule::TrainingFile, Split::Validation);
        assert!((300..500).contains(&v), "validation tenth: {v}");
        assert_eq!(count(Rule::TrainingFile, Split::DevTest), 0);
        let t = count(Rule::TrainingFileWithTest, Split::DevTest);
        assert!((300..500).contains(&t), "development-test tenth: {t}");
        let h = count(Rule::Halves, Split::Validation);
        assert!((1800..2200).contains(&h), "halves: {h}");
    }
}
