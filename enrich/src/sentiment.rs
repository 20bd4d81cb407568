//! Sentiment of short social posts: a score in [-1, 1] and a label.
//!
//! A linear model (trained by `vigie train` on the multilingual tweet data of `../shared/data`)
//! over hashed features that carry what matters in social text: words and word pairs with
//! negation scope marked (`not good`, `ne … pas`, `pas du tout`), character n-grams for
//! misspellings and unseen inflections, elongation (`soooo`), emoji and emoticons, intensifiers,
//! exclamation and question runs, and a small bilingual polarity lexicon. The score is
//! P(positive) − P(negative); the label is the most probable class.

use crate::model::features::{
    char_ngrams, hash_bytes, pair_bucket_of, pair_first, pair_second, word_bucket, FnvBuild,
};
use crate::model::linear::LinearModel;
use std::collections::HashMap;
use std::sync::LazyLock;
use vigie_core::proto::SentimentLabel;
use vigie_core::text::normalize_into;

/// Class order of the model.
pub const CLASSES: [&str; 3] = ["negative", "neutral", "positive"];

static MODEL: LazyLock<LinearModel> = LazyLock::new(|| {
    LinearModel::from_bytes(include_bytes!("../models/sentiment.bin"))
        .expect("embedded sentiment model is valid")
});

/// What the sentiment features know about a word.
#[derive(Debug, Default, Clone, Copy)]
struct WordInfo {
    /// Valence from the lexicon (0 when absent).
    valence: f32,
    negator: bool,
    intensifier: bool,
    /// An insult or slur (toxicity: a shared tag lets English insults, frequent in the
    /// training data, teach the weight of French ones, rare there).
    insult: bool,
}

/// The English valence lexicon — the words of VADER's lexicon (C.J. Hutto, MIT licence, see
/// `enrich/models/README.md`) — with this project's French and English polarity words (±2),
/// negators and intensifiers, in one table looked up once per word.
static WORDS: LazyLock<HashMap<&'static str, WordInfo, FnvBuild>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, WordInfo, FnvBuild> = HashMap::default();
    for line in include_str!("../models/lexicon_en_vader.tsv").lines() {
        if line.starts_with('#') {
            continue;
        }
        if let Some((w, v)) = line.split_once('\t') {
            if let Ok(v) = v.parse::<f32>() {
                map.entry(w).or_default().valence = v;
            }
        }
    }
    for w in POSITIVE {
        let e = map.entry(*w).or_default();
        if e.valence == 0.0 {
            e.valence = 2.0;
        }
    }
    for w in NEGATIVE {
        let e = map.entry(*w).or_default();
        if e.valence == 0.0 {
            e.valence = -2.0;
        }
    }
    for w in NEGATORS {
        map.entry(*w).or_default().negator = true;
    }
    for w in INTENSIFIERS {
        map.entry(*w).or_default().intensifier = true;
    }
    for w in INSULTS {
        map.entry(*w).or_default().insult = true;
    }
    map
});

/// Polarity words (French and English, accents folded), hand-written for this project, added
/// to the lexicon with valence ±2.
const POSITIVE: &[&str] = &[
    "good",
    "great",
    "love",
    "loved",
    "excellent",
    "amazing",
    "awesome",
    "perfect",
    "happy",
    "thanks",
    "thank",
    "best",
    "nice",
    "recommend",
    "fantastic",
    "wonderful",
    "delicious",
    "helpful",
    "enjoy",
    "beautiful",
    "glad",
    "bon",
    "bonne",
    "super",
    "genial",
    "geniale",
    "parfait",
    "parfaite",
    "merci",
    "adore",
    "aime",
    "top",
    "bravo",
    "delicieux",
    "recommande",
    "content",
    "contente",
    "satisfait",
    "ravi",
    "ravie",
    "efficace",
    "sympa",
    "formidable",
    "magnifique",
    "heureux",
    "heureuse",
    "felicitations",
    "chouette",
    "excellente",
];
const NEGATIVE: &[&str] = &[
    "bad",
    "terrible",
    "awful",
    "worst",
    "hate",
    "broken",
    "scam",
    "angry",
    "disappointed",
    "disgusting",
    "sick",
    "useless",
    "rude",
    "horrible",
    "fraud",
    "dangerous",
    "shame",
    "fail",
    "failed",
    "sad",
    "stupid",
    "annoying",
    "nul",
    "nulle",
    "honte",
    "arnaque",
    "decu",
    "decue",
    "degoutant",
    "malade",
    "inadmissible",
    "scandale",
    "scandaleux",
    "pire",
    "catastrophe",
    "inacceptable",
    "dangereux",
    "mensonge",
    "insupportable",
    "lamentable",
    "panne",
    "triste",
    "marre",
    "colere",
    "ridicule",
    "pourri",
    "naze",
    "galere",
    "deception",
    "mauvais",
    "mauvaise",
    // Complaints and health incidents, which the tweet data (politics, sport, news) reads as
    // neutral statements of fact.
    "intoxication",
    "intoxications",
    "intoxique",
    "intoxiquee",
    "intoxiques",
    "hospitalise",
    "hospitalisee",
    "hospitalises",
    "fievre",
    "vomi",
    "vomir",
    "salmonelle",
    "empoisonne",
    "plainte",
    "poisoning",
    "poisoned",
    "hospitalized",
    "vomiting",
];
/// Insults and slurs, French and English (accents folded), hand-written for this project.
const INSULTS: &[&str] = &[
    "idiot",
    "idiots",
    "stupid",
    "moron",
    "morons",
    "fuck",
    "fucking",
    "fucker",
    "shit",
    "bitch",
    "bitches",
    "asshole",
    "assholes",
    "bastard",
    "dumbass",
    "retard",
    "retarded",
    "scum",
    "cunt",
    "loser",
    "losers",
    "jerk",
    "conne",
    "connard",
    "connards",
    "connasse",
    "encule",
    "encules",
    "enfoire",
    "enfoires",
    "merde",
    "salope",
    "salopes",
    "salaud",
    "salauds",
    "debile",
    "debiles",
    "cretin",
    "cretins",
    "abruti",
    "abrutis",
    "pute",
    "putain",
    "batard",
    "batards",
    "ordure",
    "ordures",
    "minable",
    "minables",
    "pourriture",
    "tocard",
    "tocards",
    "bouffon",
    "bouffons",
    "imbecile",
    "imbeciles",
    "chier",
    "fdp",
    "ntm",
];
const NEGATORS: &[&str] = &[
    "not", "no", "never", "dont", "don", "didn", "doesn", "isn", "wasn", "aren", "won", "cannot", "cant",
    "nothing", "ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "sans", "ni", "no", "nunca", "nicht",
    "kein", "keine", "niet", "geen", "non", "nao", "nem",
];
const INTENSIFIERS: &[&str] = &[
    "very",
    "so",
    "really",
    "extremely",
    "too",
    "totally",
    "tres",
    "trop",
    "vraiment",
    "tellement",
    "grave",
    "completement",
    "hyper",
    "ultra",
    "muy",
    "sehr",
    "molto",
    "muito",
    "zeer",
];

const POSITIVE_EMOJI: &[char] = &[
    '😀', '😃', '😄', '😁', '😊', '😍', '🥰', '👍', '❤', '💯', '🙏', '👏', '🎉', '😎', '😘', '♥', '💕', '😂',
    '🤣', '😉', '🙂', '💪', '✨', '🔥',
];
const NEGATIVE_EMOJI: &[char] = &[
    '😡', '😠', '🤬', '😤', '😞', '😢', '😭', '👎', '💩', '🤮', '🤢', '😱', '😒', '🙄', '😔', '😩', '😫',
    '💔', '😕', '☹',
];

/// A sentiment score and its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    /// P(positive) − P(negative), in [-1, 1].
    pub score: f32,
    /// The most probable class.
    pub label: SentimentLabel,
}

/// Collapses runs of three or more identical characters to two; returns whether any was found.
#[cfg(test)]
fn squeeze(word: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let elongated = squeeze_into(word, &mut out);
    (out, elongated)
}

/// [`squeeze`] appending to `out`; returns whether a run was collapsed.
fn squeeze_into(word: &str, out: &mut String) -> bool {
    let mut last = None;
    let mut run = 0;
    let mut elongated = false;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            run = 1;
            last = Some(c);
        }
        if run <= 2 {
            out.push(c);
        } else {
            elongated = true;
        }
    }
    elongated
}

fn tag(name: &str, buckets: u32) -> u32 {
    crate::model::features::bucket(hash_bytes(211, name.as_bytes()), buckets)
}

/// Calls `f` with every feature bucket of `text`.
/// The state of one feature pass over a text: the previous word (for word pairs), negation
/// scope, a pending intensifier and the running lexicon valence, plus reused buffers.
struct Scan<'a, F: FnMut(u32)> {
    lang: &'a str,
    buckets: u32,
    f: F,
    words: &'static HashMap<&'static str, WordInfo, FnvBuild>,
    word: String,
    squeezed: String,
    normalized: String,
    key: String,
    /// The language, hashed as the first word of a pair.
    lang_first: u64,
    /// The previous word, hashed as the first word of a pair.
    prev_first: u64,
    /// Words left in the current negation scope.
    negated: u32,
    intensified: bool,
    valence: f32,
    /// Whether a word of the insult list was seen (French and English texts only).
    insult: bool,
}

impl<F: FnMut(u32)> Scan<'_, F> {
    fn tag(&mut self, name: &str) {
        (self.f)(tag(name, self.buckets));
    }

    /// Emits the features of the word gathered in `self.word`, then clears it.
    fn flush_word(&mut self) {
        if self.word.is_empty() {
            return;
        }
        self.squeezed.clear();
        let elongated = squeeze_into(&self.word, &mut self.squeezed);
        self.word.clear();
        self.normalized.clear();
        normalize_into(&self.squeezed, &mut self.normalized);
        if elongated {
            self.tag("ELONG");
        }
        let info = self
            .words
            .get(self.normalized.as_str())
            .copied()
            .unwrap_or_default();
        self.key.clear();
        if self.negated > 0 && !info.negator {
            self.key.push_str("n_");
        }
        self.key.push_str(&self.normalized);
        let buckets = self.buckets;
        (self.f)(word_bucket(&self.key, buckets));
        let second = pair_second(&self.key);
        if !self.lang.is_empty() {
            (self.f)(pair_bucket_of(self.lang_first, second, buckets));
        }
        (self.f)(pair_bucket_of(self.prev_first, second, buckets));
        if self.normalized.len() >= 4 {
            char_ngrams(&self.normalized, 4, 5, buckets, &mut self.f);
        }
        if info.valence != 0.0 {
            let v = if self.negated > 0 {
                -0.75 * info.valence
            } else {
                info.valence
            };
            let strength = if v.abs() < 1.5 {
                0
            } else if v.abs() < 2.5 {
                1
            } else {
                2
            };
            let positive = v > 0.0;
            const LEX: [[&str; 3]; 2] = [["LEX-1", "LEX-2", "LEX-3"], ["LEX+1", "LEX+2", "LEX+3"]];
            self.tag(LEX[positive as usize][strength]);
            if self.intensified {
                self.tag(if positive { "LEX+!" } else { "LEX-!" });
            }
            self.valence += v;
        }
        if info.insult && matches!(self.lang, "fr" | "en" | "") {
            self.tag("INSULT");
            self.insult = true;
        }
        self.intensified = info.intensifier;
        if info.negator {
            self.negated = 4;
        } else if self.negated > 0 {
            self.negated -= 1;
        }
        self.prev_first = pair_first(&self.key);
    }

    /// Features of one whitespace-separated chunk.
    fn chunk(&mut self, chunk: &str) {
        if chunk.starts_with('@') {
            return self.tag("@USER");
        }
        if chunk.starts_with("http") || chunk.starts_with("www.") {
            return self.tag("URL");
        }
        if chunk.starts_with('#') {
            self.tag("HASHTAG");
        }
        // Sarcasm and irony markers, which often invert the literal polarity.
        if matches!(
            chunk,
            "/s" | "#sarcasm" | "#sarcasme" | "#ironie" | "#irony" | "#not" | "😏" | "🙃"
        ) {
            self.tag("SARCASM");
        }
        if chunk.contains([':', ';', '<', '>']) {
            for emoticon in [":)", ":-)", ":D", ";)", "<3", ":p", ":P"] {
                if chunk.contains(emoticon) {
                    self.tag("EMO+");
                }
            }
            for emoticon in [":(", ":-(", ":'(", ":/", ">:("] {
                if chunk.contains(emoticon) {
                    self.tag("EMO-");
                }
            }
        }
        let letters = chunk.chars().filter(|c| c.is_alphabetic());
        if chunk.len() > 2 && letters.clone().all(|c| c.is_uppercase()) && letters.count() > 2 {
            self.tag("CAPS");
        }
        for c in chunk.chars() {
            if c == '\'' || c == '’' {
                // Elision: "n'est" → "n" + "est".
                self.flush_word();
                continue;
            }
            if c.is_alphanumeric() {
                self.word.push(c);
                continue;
            }
            self.flush_word();
            match c {
                '!' => self.tag("!"),
                '?' => self.tag("?"),
                '.' | ';' | ',' | ':' => self.negated = 0,
                c if POSITIVE_EMOJI.contains(&c) => self.tag("EMOJI+"),
                c if NEGATIVE_EMOJI.contains(&c) => self.tag("EMOJI-"),
                c if !c.is_ascii() => {
                    let mut b = [0u8; 4];
                    (self.f)(word_bucket(c.encode_utf8(&mut b), self.buckets));
                }
                _ => {}
            }
        }
        self.flush_word();
    }
}

/// Calls `f` with every feature bucket of `text`. `lang` (ISO 639-1 or empty) adds
/// language-specific copies of the word features. Returns whether the text holds a word of the
/// insult list (counted in French, English and undetermined texts only: "con" or "merde" mean
/// other things elsewhere), the condition of [`crate::toxicity::INSULT_FLOOR`].
pub fn features(text: &str, lang: &str, buckets: u32, f: impl FnMut(u32)) -> bool {
    let mut scan = Scan {
        lang,
        buckets,
        f,
        words: &WORDS,
        word: String::with_capacity(32),
        squeezed: String::with_capacity(32),
        normalized: String::with_capacity(32),
        key: String::with_capacity(32),
        lang_first: pair_first(lang),
        prev_first: pair_first("<s>"),
        negated: 0,
        intensified: false,
        valence: 0.0,
        insult: false,
    };
    for chunk in text.split_whitespace() {
        scan.chunk(chunk);
    }
    let bin = match scan.valence {
        v if v <= -3.0 => "SUM--",
        v if v < -0.5 => "SUM-",
        v if v <= 0.5 => "SUM0",
        v if v < 3.0 => "SUM+",
        _ => "SUM++",
    };
    scan.tag(bin);
    scan.tag("BIAS");
    scan.insult
}

/// Scores the sentiment of `text`, written in `lang` (ISO 639-1, `und` or empty when unknown),
/// with the embedded model.
pub fn score(text: &str, lang: &str) -> Sentiment {
    score_with(&MODEL, text, lang)
}

/// Feature buckets of the embedded model.
pub fn buckets() -> u32 {
    MODEL.buckets
}

/// Scores precomputed feature buckets (from [`features`] with [`buckets`]) with the embedded
/// model; lets the scoring stage share one feature pass between sentiment and toxicity.
pub fn score_buckets(features: &[u32]) -> Sentiment {
    from_buckets(&MODEL, features)
}

fn from_buckets(model: &LinearModel, features: &[u32]) -> Sentiment {
    let mut p = [0f32; 3];
    model.probabilities(features, &mut p);
    let best = (0..3).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap_or(1);
    Sentiment {
        score: (p[2] - p[0]).clamp(-1.0, 1.0),
        label: [
            SentimentLabel::Negative,
            SentimentLabel::Neutral,
            SentimentLabel::Positive,
        ][best],
    }
}

/// Combines the text's sentiment with a star rating given with the mention (1–5; 0 when none):
/// the author's own verdict outweighs a reading of their words. A rating of 1–2 makes the
/// label negative and 4–5 positive; 3 leaves the label to the text. The score is
/// 0.75 × the rating's position ((rating − 3) / 2) + 0.25 × the text's score, so "5 stars, but
/// the wait was long" stays positive and keeps a trace of the complaint, and the score's sign
/// always agrees with a label the rating set.
pub fn with_rating(text: Sentiment, rating: f32) -> Sentiment {
    if !(1.0..=5.0).contains(&rating) {
        return text;
    }
    let r = (rating - 3.0) / 2.0;
    let label = if rating < 2.5 {
        SentimentLabel::Negative
    } else if rating > 3.5 {
        SentimentLabel::Positive
    } else {
        text.label
    };
    Sentiment {
        score: (0.75 * r + 0.25 * text.score).clamp(-1.0, 1.0),
        label,
    }
}

/// Scores the sentiment of `text` with `model` (training and evaluation of candidate models).
pub fn score_with(model: &LinearModel, text: &str, lang: &str) -> Sentiment {
    let lang = if lang == "und" { "" } else { lang };
    let mut buckets = Vec::with_capacity(128);
    features(text, lang, model.buckets, |b| buckets.push(b));
    from_buckets(model, &buckets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polarity_negation_and_elongation() {
        assert_eq!(
            score("Service génial, merci beaucoup ! Je recommande 😍", "").label,
            SentimentLabel::Positive
        );
        assert_eq!(
            score("Je suis très déçu, c'est une honte, service nul", "").label,
            SentimentLabel::Negative
        );
        assert_eq!(
            score("I love this, best day ever!", "").label,
            SentimentLabel::Positive
        );
        assert_eq!(
            score("This is the worst service ever, I hate it", "").label,
            SentimentLabel::Negative
        );
        assert!(score("not good at all", "").score < score("good", "").score);
        assert!(score("ce n'est pas bon du tout", "").score < score("c'est bon", "").score);
    }

    #[test]
    fn a_star_rating_outweighs_the_text() {
        let text = score("Le pain était délicieux mais l'attente interminable", "fr");
        let low = with_rating(text, 1.0);
        assert_eq!(low.label, SentimentLabel::Negative);
        assert!(low.score < -0.2);
        let high = with_rating(score("attente interminable, service lent", "fr"), 5.0);
        assert_eq!(high.label, SentimentLabel::Positive);
        assert!(high.score > 0.1);
        let four = with_rating(
            Sentiment {
                score: -1.0,
                label: SentimentLabel::Negative,
            },
            4.0,
        );
        assert_eq!(four.label, SentimentLabel::Positive);
        assert!(four.score > 0.0, "{four:?}");
        let middle = with_rating(text, 3.0);
        assert_eq!(middle.label, text.label);
        assert_eq!(with_rating(text, 0.0), text);
    }

    #[test]
    fn insults_are_found_whatever_the_case_and_accents_in_french_and_english_only() {
        let insult = |text: &str, lang: &str| features(text, lang, 1 << 10, |_| {});
        assert!(insult("Bande de CONNARDS !", "fr"));
        assert!(insult("espèce de DÉBILE", "fr"));
        assert!(insult("what an idiot", ""));
        assert!(!insult("Merci pour la livraison", "fr"));
        assert!(!insult("@connard http://x.co/merde", "fr"));
        assert!(!insult("idiot", "de"));
    }

    #[test]
    fn squeeze_marks_elongation() {
        assert_eq!(squeeze("soooo"), ("soo".to_string(), true));
        assert_eq!(squeeze("good"), ("good".to_string(), false));
    }
}
