//! Toxicity (insults, offensive language, hate) for French and English: a linear model over the
//! same hashed word, n-gram and lexicon features as sentiment, trained by `vigie train` on
//! offensive-language tweets (OLID via TweetEval), the Davidson hate/offensive tweets and the
//! French and English MLMA hostility data. Returns P(toxic) in [0, 1].

use crate::model::linear::LinearModel;
use crate::sentiment;
use std::sync::LazyLock;

/// Class order of the model.
pub const CLASSES: [&str; 2] = ["clean", "toxic"];

static MODEL: LazyLock<LinearModel> = LazyLock::new(|| {
    LinearModel::from_bytes(include_bytes!("../models/toxicity.bin"))
        .expect("embedded toxicity model is valid")
});

/// P(toxic) of `text` written in `lang`, with the embedded model.
pub fn toxicity(text: &str, lang: &str) -> f32 {
    toxicity_with(&MODEL, text, lang)
}

/// Feature buckets of the embedded model.
pub fn buckets() -> u32 {
    MODEL.buckets
}

/// P(toxic) of precomputed [`sentiment::features`] buckets (computed with [`buckets`]).
pub fn toxicity_buckets(features: &[u32]) -> f32 {
    let mut p = [0f32; 2];
    MODEL.probabilities(features, &mut p);
    p[1]
}

/// P(toxic) with `model` (training and evaluation of candidate models).
pub fn toxicity_with(model: &LinearModel, text: &str, lang: &str) -> f32 {
    let lang = if lang == "und" { "" } else { lang };
    let mut buckets = Vec::with_capacity(160);
    sentiment::features(text, lang, model.buckets, |b| buckets.push(b));
    let mut p = [0f32; 2];
    model.probabilities(&buckets, &mut p);
    p[1]
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
