//! Toxicity (insults, offensive language, hate) for French and English: a linear model over the
//! same hashed word, n-gram and lexicon features as sentiment, trained by `vigie train` on
//! offensive-language tweets (OLID via TweetEval), hate speech (HatEval), the French and English
//! MLMA hostility data and ordinary tweets as clean text, calibrated so that 0.5 is its balanced
//! point; a text holding a word of the insult list scores at least [`INSULT_FLOOR`]. Returns
//! P(toxic) in [0, 1].

use crate::model::linear::LinearModel;
use crate::sentiment;
use std::sync::LazyLock;

/// Class order of the model.
pub const CLASSES: [&str; 2] = ["clean", "toxic"];

static MODEL: LazyLock<LinearModel> = LazyLock::new(|| {
    LinearModel::from_bytes(include_bytes!("../models/toxicity.bin"))
        .expect("embedded toxicity model is valid")
});

/// P(toxic) of `text` written in `lang`, with the embedded model (and [`INSULT_FLOOR`]).
pub fn toxicity(text: &str, lang: &str) -> f32 {
    let lang = if lang == "und" { "" } else { lang };
    let mut buckets = Vec::with_capacity(160);
    let insult = sentiment::features(text, lang, MODEL.buckets, |b| buckets.push(b));
    toxicity_buckets(&buckets, insult)
}

/// Feature buckets of the embedded model.
pub fn buckets() -> u32 {
    MODEL.buckets
}

/// P(toxic) of precomputed [`sentiment::features`] buckets (computed with [`buckets`]), with
/// the embedded model and, when `insult` (what [`sentiment::features`] returned), the
/// [`INSULT_FLOOR`].
pub fn toxicity_buckets(features: &[u32], insult: bool) -> f32 {
    let p = raw(&MODEL, features);
    if insult {
        p.max(INSULT_FLOOR)
    } else {
        p
    }
}

/// The least toxicity of a text holding a word of the insult list. French insults are rare in
/// the training data (MLMA is hate speech about groups, not insults thrown at a brand), so the
/// model alone scores "bande de connards" below the flag; the list says what it cannot learn.
/// Above the flag threshold ([`crate::risk::TOXIC_THRESHOLD`]): such a text is always flagged.
pub const INSULT_FLOOR: f32 = 0.6;

fn raw(model: &LinearModel, features: &[u32]) -> f32 {
    let mut p = [0f32; 2];
    model.probabilities(features, &mut p);
    p[1]
}

/// P(toxic) with `model` alone, without the insult floor, and whether the text holds an
/// insult-list word (training and evaluation of candidate models: `vigie train --search` flags
/// such texts at every cut, as the floor does in the service).
pub fn toxicity_with(model: &LinearModel, text: &str, lang: &str) -> (f32, bool) {
    let lang = if lang == "und" { "" } else { lang };
    let mut buckets = Vec::with_capacity(160);
    let insult = sentiment::features(text, lang, model.buckets, |b| buckets.push(b));
    (raw(model, &buckets), insult)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insults_score_higher_than_ordinary_posts() {
        assert!(toxicity("bande de connards, vous êtes des voleurs", "fr") > 0.5);
        assert!(toxicity("you are a fucking idiot", "en") > 0.5);
        assert!(toxicity("Merci pour la livraison rapide, très bon service", "fr") < 0.5);
        assert!(toxicity("Thanks for the quick delivery, great service", "en") < 0.5);
    }
}
