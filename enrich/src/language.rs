//! Language identification tuned for short social posts: a linear model over hashed character
//! 1–4-grams and whole words, trained on news sentences, word pairs and tweets (`vigie train`),
//! with a fast path for Arabic script. Returns `und` (undetermined) when the text has too few
//! letters or the model is unsure.

use crate::model::features::{char_ngrams, word_bucket};
use crate::model::linear::{softmax, LinearModel};
use std::sync::LazyLock;

/// Languages the model knows, in model class order.
pub const LANGUAGES: [&str; 8] = ["ar", "de", "en", "es", "fr", "it", "nl", "pt"];

/// The embedded model (see `enrich/models/README.md`).
static MODEL: LazyLock<LinearModel> = LazyLock::new(|| {
    LinearModel::from_bytes(include_bytes!("../models/langid.bin")).expect("embedded language model is valid")
});

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

/// Calls `f` with every feature bucket of `text`; returns the number of letters seen. Handles,
/// URLs and platform boilerplate (`RT`, `@user`) carry no language and are skipped.
pub fn features(text: &str, buckets: u32, mut f: impl FnMut(u32)) -> usize {
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
        }
    }
    letters
}

/// Identifies the language of `text`.
pub fn identify(text: &str) -> Language {
    identify_with(&MODEL, text, MIN_CONFIDENCE)
}

/// Identifies the language of `text` with `model`, undetermined below `min_confidence`
/// (training and evaluation of candidates).
pub fn identify_with(model: &LinearModel, text: &str, min_confidence: f32) -> Language {
    let mut acc = [0i32; LANGUAGES.len()];
    let mut n = 0usize;
    let mut arabic = 0usize;
    let letters = features(text, model.buckets, |b| {
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
}
