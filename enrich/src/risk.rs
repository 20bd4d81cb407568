//! Risk signals: toxicity from the trained model ([`crate::toxicity`]); complaint, crisis and
//! threat signal families for French and English (refund, fraud, legal action, boycott, health,
//! recall, safety, churn, threats), each a named flag; and a reach score.

use crate::model::features::FnvBuild;
use std::collections::HashMap;
use vigie_core::proto::{Mention, Risk, Source};
use vigie_core::text::{tokenize, Token};

/// (flag, family, words): a flag fires when any word of its list appears.
const SIGNALS: &[(&str, Family, &[&str])] = &[
    (
        "refund",
        Family::Complaint,
        &[
            "refund",
            "remboursement",
            "rembourser",
            "remboursez",
            "money",
            "argent",
        ],
    ),
    (
        "fraud",
        Family::Complaint,
        &[
            "scam",
            "fraud",
            "arnaque",
            "arnaqueurs",
            "escroquerie",
            "escrocs",
            "voleurs",
        ],
    ),
    (
        "legal",
        Family::Crisis,
        &[
            "lawyer", "lawsuit", "sue", "avocat", "plainte", "tribunal", "justice", "proces",
        ],
    ),
    (
        "boycott",
        Family::Crisis,
        &["boycott", "boycotter", "boycottez", "#boycott"],
    ),
    (
        "health",
        Family::Crisis,
        &[
            "poisoning",
            "sick",
            "hospital",
            "intoxication",
            "intoxique",
            "intoxiques",
            "malade",
            "malades",
            "hopital",
            "allergie",
        ],
    ),
    (
        "recall",
        Family::Crisis,
        &[
            "recall",
            "rappel",
            "rappele",
            "contamine",
            "contamination",
            "listeria",
            "salmonelle",
            "salmonella",
        ],
    ),
    (
        "safety",
        Family::Crisis,
        &[
            "danger",
            "dangerous",
            "dangereux",
            "explosion",
            "fire",
            "incendie",
            "blesse",
            "injured",
        ],
    ),
    (
        "churn",
        Family::Complaint,
        &[
            "cancel",
            "unsubscribe",
            "resilier",
            "resiliation",
            "quitte",
            "concurrent",
        ],
    ),
    (
        "threat",
        Family::Crisis,
        &[
            "kill", "tuer", "bomb", "bombe", "shoot", "flinguer", "egorger", "menace", "threat", "cramer",
            "bruler",
        ],
    ),
];

/// Every signal word with the index of its family in [`SIGNALS`].
static SIGNAL_WORDS: std::sync::LazyLock<HashMap<&'static str, usize, FnvBuild>> =
    std::sync::LazyLock::new(|| {
        let mut map = HashMap::default();
        for (i, (_, _, words)) in SIGNALS.iter().enumerate() {
            for w in *words {
                map.entry(*w).or_insert(i);
            }
        }
        map
    });

#[derive(Clone, Copy, PartialEq)]
enum Family {
    Complaint,
    Crisis,
}

/// Toxicity at or above which a mention is flagged `toxic`: the toxicity score's balanced
/// point. The model is calibrated so that its best macro-F1 cut on the validation data is 0.5
/// (`vigie train --search`, see [`crate::model::train::flag_threshold`], which would raise the
/// flag above 0.5 if that point flagged more than 3 % of ordinary validation tweets).
pub const TOXIC_THRESHOLD: f32 = 0.5;

/// Computes risk scores and flags for a text written in `lang`.
pub fn assess(text: &str, lang: &str) -> Risk {
    assess_tokens(&tokenize(text), crate::toxicity::toxicity(text, lang))
}

/// Computes risk scores and flags from already tokenised text and its toxicity.
pub fn assess_tokens(tokens: &[Token], toxicity: f32) -> Risk {
    let mut complaint = 0u32;
    let mut crisis = 0u32;
    let mut flags = Vec::new();
    // Which signal families the tokens hit: one table lookup per token.
    let mut hit = [false; SIGNALS.len()];
    for t in tokens {
        if let Some(&i) = SIGNAL_WORDS.get(t.text.as_str()) {
            hit[i] = true;
        }
    }
    for (i, (flag, family, _)) in SIGNALS.iter().enumerate() {
        if hit[i] {
            flags.push(flag.to_string());
            match family {
                Family::Complaint => complaint += 1,
                Family::Crisis => crisis += 1,
            }
        }
    }
    if toxicity >= TOXIC_THRESHOLD {
        flags.push("toxic".into());
    }
    let squash = |n: u32| 1.0 - (-(n as f32)).exp();
    Risk {
        toxicity,
        complaint: squash(complaint),
        crisis: squash(crisis),
        flags,
    }
}

/// Source authority in [0, 1]: press above reviews and forums above comments.
fn authority(source: Source) -> f32 {
    match source {
        Source::News => 1.0,
        Source::Blog | Source::Youtube => 0.6,
        Source::Review | Source::X | Source::Linkedin | Source::Tiktok | Source::Reddit => 0.5,
        Source::Mastodon | Source::Bluesky => 0.4,
        Source::Facebook | Source::Instagram | Source::Forum => 0.4,
        Source::Whatsapp | Source::Messenger | Source::Telegram | Source::Email => 0.1,
        Source::Other | Source::Unspecified => 0.3,
    }
}

/// Potential audience in [0, 1] from followers, engagement, verification and source authority.
pub fn reach(m: &Mention) -> f32 {
    let author = m.author.clone().unwrap_or_default();
    let e = m.engagement.unwrap_or_default();
    let followers = (author.followers as f32 + 1.0).log10() / 7.0; // 10M followers ≈ 1
    let engagement =
        ((e.likes + 3 * e.shares + 2 * e.comments) as f32 + e.views as f32 / 100.0 + 1.0).log10() / 6.0;
    let verified = if author.verified { 0.15 } else { 0.0 };
    let source = Source::try_from(m.source).unwrap_or_default();
    (0.45 * followers.min(1.0) + 0.3 * engagement.min(1.0) + 0.25 * authority(source) + verified)
        .clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::proto::Author;

    #[test]
    fn flags_complaints_and_crises() {
        let r = assess(
            "Intoxication alimentaire après le burger, je vais porter plainte !",
            "fr",
        );
        assert!(r.flags.contains(&"health".to_string()));
        assert!(r.flags.contains(&"legal".to_string()));
        assert!(r.crisis > 0.5);
        assert_eq!(assess("Bonne journée", "fr").flags.len(), 0);
        assert!(assess("bande de connards, vous êtes des voleurs", "fr")
            .flags
            .contains(&"toxic".to_string()));
        assert!(assess("je vais vous cramer votre magasin", "fr")
            .flags
            .contains(&"threat".to_string()));
    }

    #[test]
    fn press_and_big_accounts_reach_further() {
        let small = Mention {
            source: Source::Whatsapp as i32,
            ..Default::default()
        };
        let press = Mention {
            source: Source::News as i32,
            author: Some(Author {
                followers: 2_000_000,
                verified: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(reach(&press) > reach(&small) + 0.3);
    }
}
