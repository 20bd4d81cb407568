//! Language identification, baseline: counts very common function words of each supported
//! language among the text's tokens, plus script detection for Arabic. Returns `und` when too
//! little evidence is found. (The scoring-stage issue replaces this with a trained model.)

use vigie_core::text::tokenize;

const STOPWORDS: &[(&str, &[&str])] = &[
    (
        "fr",
        &[
            "le", "la", "les", "de", "des", "du", "un", "une", "et", "est", "pas", "je", "tu", "il", "elle",
            "nous", "vous", "ils", "que", "qui", "dans", "pour", "sur", "avec", "ce", "cette", "mon", "ma",
            "mes", "au", "aux", "ne", "plus", "tres", "mais", "ou", "c", "j", "l", "d", "qu", "suis", "sont",
            "ai", "a", "fait", "tout", "rien", "encore", "chez", "merci", "bonjour",
        ],
    ),
    (
        "en",
        &[
            "the", "a", "an", "and", "is", "are", "was", "were", "not", "i", "you", "he", "she", "we",
            "they", "it", "that", "this", "of", "to", "in", "for", "on", "with", "my", "your", "but", "or",
            "have", "has", "had", "do", "does", "did", "be", "been", "just", "so", "very", "what", "at",
            "from", "me", "no", "can", "will", "don", "t", "s", "thanks",
        ],
    ),
    (
        "es",
        &[
            "el", "la", "los", "las", "de", "del", "y", "es", "no", "un", "una", "que", "en", "por", "para",
            "con", "mi", "su", "pero", "muy", "yo", "tu", "se", "lo", "al", "esta", "estoy", "como", "mas",
            "gracias", "hola", "todo",
        ],
    ),
    (
        "de",
        &[
            "der", "die", "das", "und", "ist", "nicht", "ein", "eine", "ich", "du", "er", "sie", "wir",
            "mit", "auf", "fur", "zu", "den", "dem", "von", "es", "aber", "sehr", "mein", "auch", "noch",
            "war", "sind", "danke", "ganz",
        ],
    ),
    (
        "it",
        &[
            "il", "lo", "la", "gli", "le", "di", "e", "non", "un", "una", "che", "per", "con", "sono", "mi",
            "ma", "molto", "del", "della", "io", "tu", "questo", "anche", "piu", "grazie", "ho", "ha",
            "alla",
        ],
    ),
    (
        "pt",
        &[
            "o", "os", "as", "de", "do", "da", "e", "nao", "um", "uma", "que", "em", "para", "com", "meu",
            "minha", "mas", "muito", "eu", "voce", "ele", "ela", "isso", "esta", "obrigado", "no", "na",
            "mais",
        ],
    ),
    (
        "nl",
        &[
            "de", "het", "een", "en", "is", "niet", "ik", "je", "jij", "hij", "zij", "wij", "van", "voor",
            "met", "op", "dat", "dit", "maar", "zeer", "heel", "mijn", "ook", "nog", "was", "zijn",
            "bedankt", "geen",
        ],
    ),
];

/// A language guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Language {
    /// ISO 639-1 code or `und`.
    pub code: &'static str,
    /// Confidence in [0, 1].
    pub confidence: f32,
}

/// Identifies the language of `text`.
pub fn identify(text: &str) -> Language {
    let und = Language {
        code: "und",
        confidence: 0.0,
    };
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let arabic = text
        .chars()
        .filter(|c| ('\u{0600}'..='\u{06FF}').contains(c))
        .count();
    if letters > 0 && arabic * 2 > letters {
        return Language {
            code: "ar",
            confidence: (arabic as f32 / letters as f32).min(1.0),
        };
    }
    let tokens = tokenize(text);
    let mut scores = [0u32; 7];
    for t in &tokens {
        for (i, (_, words)) in STOPWORDS.iter().enumerate() {
            if words.contains(&t.text.as_str()) {
                scores[i] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scores[i]));
    let (best, second) = (scores[order[0]], scores[order[1]]);
    if best < 2 || best == second {
        return und;
    }
    Language {
        code: STOPWORDS[order[0]].0,
        confidence: ((best - second) as f32 / best as f32).clamp(0.0, 1.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_french_from_english() {
        assert_eq!(
            identify("Je suis très déçu par le service client, c'est une honte").code,
            "fr"
        );
        assert_eq!(
            identify("I am so disappointed with the customer service, this is a joke").code,
            "en"
        );
        assert_eq!(identify("مرحبا كيف حالك اليوم").code, "ar");
        assert_eq!(identify("ok").code, "und");
    }
}
