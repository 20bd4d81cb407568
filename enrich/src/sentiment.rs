//! Sentiment, baseline: a small French and English lexicon with negation (`not`, `ne … pas`,
//! `pas du tout`), intensifiers, elongation (`soooo`) and emoji. Score in [-1, 1].
//! (The scoring-stage issue replaces this with a trained model.)

use vigie_core::proto::SentimentLabel;
use vigie_core::text::tokenize;

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
    "fast",
    "recommend",
    "fantastic",
    "wonderful",
    "delicious",
    "helpful",
    "like",
    "bon",
    "bonne",
    "super",
    "genial",
    "excellent",
    "excellente",
    "parfait",
    "parfaite",
    "merci",
    "adore",
    "aime",
    "top",
    "bravo",
    "rapide",
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
];

const NEGATIVE: &[&str] = &[
    "bad",
    "terrible",
    "awful",
    "worst",
    "hate",
    "broken",
    "scam",
    "refund",
    "angry",
    "disappointed",
    "disgusting",
    "sick",
    "poisoning",
    "never",
    "useless",
    "slow",
    "rude",
    "horrible",
    "fraud",
    "late",
    "dangerous",
    "shame",
    "lawsuit",
    "boycott",
    "fail",
    "failed",
    "problem",
    "issue",
    "complaint",
    "nul",
    "nulle",
    "honte",
    "arnaque",
    "decu",
    "decue",
    "deçu",
    "horrible",
    "degoutant",
    "malade",
    "intoxication",
    "retard",
    "lent",
    "inadmissible",
    "scandale",
    "scandaleux",
    "plainte",
    "probleme",
    "colere",
    "pire",
    "catastrophe",
    "inacceptable",
    "remboursement",
    "boycott",
    "danger",
    "dangereux",
    "vol",
    "voleurs",
    "mensonge",
    "menteurs",
    "insupportable",
    "lamentable",
    "panne",
];

const NEGATORS: &[&str] = &[
    "not", "no", "never", "don", "didn", "doesn", "isn", "wasn", "aren", "cannot", "pas", "jamais", "aucun",
    "aucune", "ni", "sans", "plus",
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
    "super",
    "completement",
    "grave",
];

const POSITIVE_EMOJI: &[char] = &[
    '😀', '😃', '😄', '😁', '😊', '😍', '🥰', '👍', '❤', '💯', '🙏', '👏', '🎉', '😎',
];
const NEGATIVE_EMOJI: &[char] = &[
    '😡', '😠', '🤬', '😤', '😞', '😢', '😭', '👎', '💩', '🤮', '🤢', '😱', '😒',
];

/// A sentiment score and its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sentiment {
    /// Score in [-1, 1].
    pub score: f32,
    /// Label derived from the score.
    pub label: SentimentLabel,
}

/// Collapses runs of three or more identical letters to one ("soooo" → "so", "nuuul" → "nul").
fn squeeze(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && chars[j] == chars[i] {
            j += 1;
        }
        let run = j - i;
        for _ in 0..if run >= 3 { 1 } else { run } {
            out.push(chars[i]);
        }
        i = j;
    }
    out
}

/// Scores the sentiment of `text`.
pub fn score(text: &str) -> Sentiment {
    let tokens = tokenize(text);
    let mut total = 0.0f32;
    let mut negate_until = 0usize;
    let mut boost = 1.0f32;
    let mut last_position = u32::MAX;
    let mut index = 0usize;
    for t in &tokens {
        if t.text.starts_with('#') || t.text.starts_with('@') {
            continue;
        }
        if t.position == last_position {
            continue;
        }
        last_position = t.position;
        index += 1;
        let w = squeeze(&t.text);
        let w = w.as_str();
        if NEGATORS.contains(&w) {
            negate_until = index + 3;
            continue;
        }
        if INTENSIFIERS.contains(&w) {
            boost = 1.6;
            continue;
        }
        let polarity = if POSITIVE.contains(&w) {
            1.0
        } else if NEGATIVE.contains(&w) {
            -1.0
        } else {
            0.0
        };
        if polarity != 0.0 {
            let negated = index <= negate_until;
            total += polarity * boost * if negated { -0.8 } else { 1.0 };
            boost = 1.0;
        }
    }
    for c in text.chars() {
        if POSITIVE_EMOJI.contains(&c) {
            total += 0.8;
        } else if NEGATIVE_EMOJI.contains(&c) {
            total -= 0.8;
        }
    }
    if text.contains(":)") || text.contains(":-)") || text.contains(":D") {
        total += 0.6;
    }
    if text.contains(":(") || text.contains(":-(") {
        total -= 0.6;
    }
    let exclaim = text.matches('!').count().min(3) as f32;
    total *= 1.0 + 0.1 * exclaim;
    let score = (total / 2.0).tanh();
    let label = if score <= -0.2 {
        SentimentLabel::Negative
    } else if score >= 0.2 {
        SentimentLabel::Positive
    } else {
        SentimentLabel::Neutral
    };
    Sentiment { score, label }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polarity_negation_and_elongation() {
        assert_eq!(score("Service génial, merci !").label, SentimentLabel::Positive);
        assert_eq!(
            score("Je suis très déçu, c'est une honte").label,
            SentimentLabel::Negative
        );
        assert_eq!(score("Ce n'est pas bon du tout").label, SentimentLabel::Negative);
        assert_eq!(score("not good at all").label, SentimentLabel::Negative);
        assert_eq!(score("nuuuul").label, SentimentLabel::Negative);
        assert_eq!(score("Commande reçue 😍").label, SentimentLabel::Positive);
        assert_eq!(score("Le magasin ouvre à 9h").label, SentimentLabel::Neutral);
    }
}
