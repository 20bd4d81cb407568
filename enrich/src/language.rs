//! Language identification tuned for short social posts: a linear model over hashed character
//! 1–4-grams, whole words and each word's frequency class in every language's word list
//! (wordfreq), trained on news sentences, word pairs and tweets (`vigie train`), with a fast
//! path for Arabic script. Returns `und` (undetermined) when the text has too few letters or the
//! model is unsure.

use crate::model::features::{bucket, char_ngrams, hash_bytes, word_bucket, FnvBuild};
use crate::model::linear::{softmax, LinearModel};
use std::collections::HashMap;
use std::sync::LazyLock;

/// Languages the model knows, in model class order.
pub const LANGUAGES: [&str; 8] = ["ar", "de", "en", "es", "fr", "it", "nl", "pt"];

/// The embedded model (see `enrich/models/README.md`).
static MODEL: LazyLock<LinearModel> = LazyLock::new(|| {
    LinearModel::from_bytes(include_bytes!("../models/langid.bin")).expect("embedded language model is valid")
});

/// How often a word is used in each of [`LANGUAGES`]: its Zipf frequency (log10 of uses per
/// billion words) × 10, 0 where it is not among that language's most frequent words. Two-word
/// fragments are mostly words the training sentences never show; the lists of the most
/// frequent 30,000 words of each language say where they belong.
/// Keyed by a 64-bit hash of the word rather than the word itself: one memory access per
/// lookup instead of two (the table and the word's text); no two of the 186,297 embedded words
/// share a key (tested).
pub struct WordTable(HashMap<u64, [u8; LANGUAGES.len()], FnvBuild>);

/// The key of a word in a [`WordTable`].
fn word_key(word: &str) -> u64 {
    hash_bytes(401, word.as_bytes())
}

impl WordTable {
    /// Reads `lang<TAB>word<TAB>zipf×10` lines (`#` lines are comments); languages other than
    /// [`LANGUAGES`] and malformed lines are skipped.
    pub fn parse(text: &str) -> Self {
        let mut map: HashMap<u64, [u8; LANGUAGES.len()], FnvBuild> = HashMap::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let mut fields = line.split('\t');
            let (Some(lang), Some(word), Some(zipf)) = (fields.next(), fields.next(), fields.next()) else {
                continue;
            };
            let (Some(i), Ok(zipf)) = (LANGUAGES.iter().position(|l| *l == lang), zipf.parse::<u8>()) else {
                continue;
            };
            map.entry(word_key(word)).or_default()[i] = zipf;
        }
        WordTable(map)
    }

    /// The frequency classes of a lower-cased word, if it is in any list. wordfreq case-folds
    /// its words, so "weiß" is looked up as "weiss".
    fn get(&self, word: &str) -> Option<&[u8; LANGUAGES.len()]> {
        if word.contains('ß') {
            self.0.get(&word_key(&word.replace('ß', "ss")))
        } else {
            self.0.get(&word_key(word))
        }
    }

    /// How many words the table holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The embedded word table (`enrich/models/wordfreq_top.tsv`, built by `wordfreq_build.py`
/// from wordfreq 3.1.1, CC BY-SA 4.0).
pub static WORDS: LazyLock<WordTable> =
    LazyLock::new(|| WordTable::parse(include_str!("../models/wordfreq_top.tsv")));

/// Zipf classes of the word-list features: whole Zipf units (chosen on the validation fifth
/// over half units and presence alone, runs made with this constant edited; see the README's
/// "Quality (`vigie eval`)").
const ZIPF_CLASS: u8 = 10;

/// Texts longer than this (in bytes) get no word-list features: they have character n-grams
/// enough (Leipzig sentences 99.6 % on the validation fifth with or without the bound), and a
/// table lookup per word would cost the scoring stage 6–9 % (`cargo bench --bench scoring`).
/// Chosen on the validation fifth among 24, 32, 48, 64 bytes and unbounded, runs made with this
/// constant edited (see the README's "Quality (`vigie eval`)").
pub const WORD_LIST_MAX_BYTES: usize = 64;

/// The feature of a word found in the list of `LANGUAGES[language]` with Zipf frequency
/// `zipf` × 10.
fn listed_feature(language: usize, zipf: u8, buckets: u32) -> u32 {
    bucket(
        hash_bytes(307, &[b'W', b'F', language as u8, zipf / ZIPF_CLASS]),
        buckets,
    )
}

/// The feature of a word in none of the lists.
fn unlisted_feature(buckets: u32) -> u32 {
    bucket(hash_bytes(307, b"WF-none"), buckets)
}

/// Fewer letters than this is undetermined.
const MIN_LETTERS: usize = 3;
/// Below this probability the answer is undetermined (chosen by `vigie train --search`: 0.40
/// left 2 % of the two-word validation fragments undetermined, most of them right at 0.25).
pub const MIN_CONFIDENCE: f32 = 0.25;

/// A language guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// ISO 639-1 code or `und`.
    pub code: &'static str,
    /// Confidence in [0, 1] (the model's probability; 0 for `und` by lack of letters).
    pub confidence: f32,
}

/// Calls `f` with every feature bucket of `text`, word-list features from the embedded
/// [`WORDS`]; returns the number of letters seen. Handles, URLs and platform boilerplate (`RT`,
/// `@user`) carry no language and are skipped.
pub fn features(text: &str, buckets: u32, f: impl FnMut(u32)) -> usize {
    features_with(text, buckets, Some(&WORDS), f)
}

/// [`features`] with the word-list features of `words` (none without it: the models before
/// scorer 0.5.0).
pub fn features_with(text: &str, buckets: u32, words: Option<&WordTable>, mut f: impl FnMut(u32)) -> usize {
    // The table, and the feature of a word in none of its lists.
    let lists = words
        .filter(|_| text.len() <= WORD_LIST_MAX_BYTES)
        .map(|words| (words, unlisted_feature(buckets)));
    let mut letters = 0;
    let mut word = String::with_capacity(32);
    for chunk in text.split_whitespace() {
        if chunk.starts_with('@') || chunk.starts_with("http") || chunk.starts_with("www.") {
            continue;
        }
        let mut chars = chunk.chars().peekable();
        while chars.peek().is_some() {
            word.clear();
            let mut word_letters = 0;
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    word.push(c.to_ascii_lowercase());
                } else if !c.is_ascii() && c.is_alphabetic() {
                    word.extend(c.to_lowercase());
                } else {
                    break;
                }
                word_letters += 1;
            }
            if word.is_empty() || matches!(word.as_str(), "rt" | "amp") {
                continue;
            }
            letters += word_letters;
            char_ngrams(&word, 1, 4, buckets, &mut f);
            f(word_bucket(&word, buckets));
            if let Some((words, unlisted)) = lists {
                match words.get(&word) {
                    Some(zipf) => {
                        for (i, &z) in zipf.iter().enumerate() {
                            if z > 0 {
                                f(listed_feature(i, z, buckets));
                            }
                        }
                    }
                    None => f(unlisted),
                }
            }
        }
    }
    letters
}

/// Identifies the language of `text`.
pub fn identify(text: &str) -> Language {
    identify_with(&MODEL, text, MIN_CONFIDENCE)
}

/// Identifies the language of `text` with `model`, undetermined below `min_confidence`, with
/// the embedded word lists' features (for models trained with them; see
/// [`identify_with_words`] for the others).
pub fn identify_with(model: &LinearModel, text: &str, min_confidence: f32) -> Language {
    identify_with_words(model, text, min_confidence, Some(&WORDS))
}

/// [`identify_with`] with the word-list features of `words` (`None` for a model trained
/// without them).
pub fn identify_with_words(
    model: &LinearModel,
    text: &str,
    min_confidence: f32,
    words: Option<&WordTable>,
) -> Language {
    let mut acc = [0i32; LANGUAGES.len()];
    let mut n = 0usize;
    let mut arabic = 0usize;
    let letters = features_with(text, model.buckets, words, |b| {
        model.add(b, &mut acc);
        n += 1;
    });
    if letters < MIN_LETTERS {
        return Language {
            code: "und",
            confidence: 0.0,
        };
    }
    for c in text.chars() {
        if ('\u{0600}'..='\u{06FF}').contains(&c) {
            arabic += 1;
        }
    }
    if arabic * 2 > letters {
        return Language {
            code: "ar",
            confidence: (arabic as f32 / letters as f32).min(1.0),
        };
    }
    let mut p = [0f32; LANGUAGES.len()];
    model.finish(&acc, n, &mut p);
    softmax(&mut p);
    let (best, &prob) = p
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap_or((0, &0.0));
    if prob < min_confidence {
        return Language {
            code: "und",
            confidence: prob,
        };
    }
    Language {
        code: LANGUAGES[best],
        confidence: prob,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_languages_apart_on_short_posts() {
        assert_eq!(
            identify("Je suis très déçu par le service client, c'est une honte").code,
            "fr"
        );
        assert_eq!(
            identify("I am so disappointed with the customer service, this is a joke").code,
            "en"
        );
        assert_eq!(identify("El servicio al cliente es una vergüenza").code, "es");
        assert_eq!(identify("Der Kundenservice ist wirklich schlecht").code, "de");
        assert_eq!(identify("Il servizio clienti è pessimo").code, "it");
        assert_eq!(identify("O atendimento ao cliente é péssimo").code, "pt");
        assert_eq!(identify("De klantenservice is echt slecht").code, "nl");
        assert_eq!(identify("مرحبا كيف حالك اليوم").code, "ar");
        assert_eq!(identify("ok").code, "und");
        assert_eq!(identify("@user http://t.co/x 123").code, "und");
    }

    #[test]
    fn word_lists_are_read_and_tell_two_word_fragments_apart() {
        let table = WordTable::parse("# comment\nfr\tmaison\t55\nde\thaus\t52\nxx\tnope\t40\nfr\tbad\n");
        assert_eq!(table.len(), 2);
        assert_eq!(table.get("maison").map(|z| z[4]), Some(55));
        assert!(table.get("nope").is_none());
        // Every listed word has its own key (no two words share a 64-bit hash).
        let listed: std::collections::HashSet<&str> = include_str!("../models/wordfreq_top.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split('\t').nth(1))
            .collect();
        assert!(listed.len() > 100_000);
        assert_eq!(WORDS.len(), listed.len());
        // wordfreq case-folds "ß".
        assert_eq!(WORDS.get("weiß"), WORDS.get("weiss"));
        assert!(WORDS.get("weiss").is_some());
        let unlisted = unlisted_feature(1 << 15);
        let mut buckets = Vec::new();
        features_with("weiß", 1 << 15, Some(&WORDS), |b| buckets.push(b));
        assert!(!buckets.contains(&unlisted), "weiß is looked up as weiss");
        buckets.clear();
        features_with("qxzvw", 1 << 15, Some(&WORDS), |b| buckets.push(b));
        assert!(buckets.contains(&unlisted));
        assert_eq!(identify("weiß nicht").code, "de");
        // Word-list features for short texts only.
        let count = |text: &str, words: Option<&WordTable>| {
            let mut n = 0;
            features_with(text, 1 << 15, words, |_| n += 1);
            n
        };
        let short = "leur voiture rouge";
        assert!(count(short, Some(&WORDS)) > count(short, None));
        let long = "leur voiture rouge est garée devant la maison depuis trois semaines déjà";
        assert!(long.len() > WORD_LIST_MAX_BYTES);
        assert_eq!(count(long, Some(&WORDS)), count(long, None));
        // Fragments whose words are frequent in one language only.
        assert_eq!(identify("leur voiture").code, "fr");
        assert_eq!(identify("seine Mutter").code, "de");
        assert_eq!(identify("zijn moeder").code, "nl");
        assert_eq!(identify("sua mãe").code, "pt");
    }
}
