//! The `risky_mention` rule: one mention worth a human look right now — toxic or threatening,
//! negative from a high-reach or verified author, or a negative press article or review. Each
//! risky mention is its own alert (episode = mention id).

use crate::detector::{Audience, DetectorState, EvidenceData, Firing, Observed, Sentiments, Signal};
use vigie_core::proto::{Kind, RiskyMentionRule, Source};

/// Why `o` is risky under `rule`, if it is.
pub fn reason(rule: &RiskyMentionRule, o: &Observed) -> Option<String> {
    let risk = o.enriched.risk.as_ref();
    let toxicity = risk.map(|r| r.toxicity).unwrap_or(0.0);
    if let Some(flag) = risk.and_then(|r| r.flags.iter().find(|f| rule.flags.contains(f))) {
        return Some(format!("risk signal \"{flag}\""));
    }
    if toxicity >= rule.min_toxicity {
        return Some(format!("toxic (toxicity {toxicity:.2})"));
    }
    // A star rating is the customer's own verdict: it overrides the sentiment model.
    let rating = o.mention.rating;
    let negative = if rating > 0.0 { rating <= 2.0 } else { o.negative() };
    if !negative {
        return None;
    }
    let author = o.mention.author.clone().unwrap_or_default();
    let who = if author.handle.is_empty() {
        author.id.clone()
    } else {
        format!("@{}", author.handle)
    };
    if author.followers >= rule.min_followers && rule.min_followers > 0 {
        return Some(format!("negative, from {who} ({} followers)", author.followers));
    }
    if rule.verified_negative && author.verified {
        return Some(format!("negative, from verified {who}"));
    }
    if rule.press_and_reviews {
        if o.audience() == Audience::Press {
            return Some(format!("negative press ({})", o.source_name()));
        }
        let review = o.mention.kind == Kind::Review as i32 || o.mention.source == Source::Review as i32;
        if review {
            return Some(if rating > 0.0 {
                format!("{rating:.0}-star review")
            } else {
                "negative review".into()
            });
        }
    }
    None
}

/// The `risky_mention` detector: no state, each mention stands alone.
#[derive(Debug, Clone, Copy, Default)]
pub struct RiskyMentionState;

impl DetectorState for RiskyMentionState {
    type Rule = RiskyMentionRule;
    const EPISODIC: bool = true;

    fn new(_rule: &RiskyMentionRule) -> Self {
        Self
    }

    /// Fires for a risky mention.
    fn observe(&mut self, rule: &RiskyMentionRule, o: &Observed, out: &mut Vec<Signal>) {
        let Some(why) = reason(rule, o) else { return };
        let mut sentiments = Sentiments::default();
        sentiments.add(o.enriched.sentiment_label);
        let text: String = o.mention.text.chars().take(140).collect();
        out.push(Signal::Fire(Firing {
            episode: o.mention.id.clone(),
            at_ms: o.at(),
            window_start_ms: o.at(),
            window_end_ms: o.at(),
            summary: format!("risky {} mention: {why}: \"{text}\"", o.source_name()),
            evidence: EvidenceData {
                count: 1,
                score: o.enriched.risk.as_ref().map(|r| r.toxicity as f64).unwrap_or(0.0),
                samples: vec![o.mention.id.clone()],
                sentiments,
                top_terms: o.enriched.hashtags.iter().map(|h| (h.clone(), 1)).collect(),
                path: vec![format!("{}:{}", o.audience().name(), o.source_name())],
                ..Default::default()
            },
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{firings, m, with_observed};

    fn rule() -> RiskyMentionRule {
        RiskyMentionRule {
            min_toxicity: 0.8,
            min_followers: 100_000,
            verified_negative: true,
            press_and_reviews: true,
            flags: vec!["threat".into()],
        }
    }

    fn fires(e: crate::testkit::M) -> Option<String> {
        let e = e.build();
        let out = with_observed(&e, |o, out| RiskyMentionState.observe(&rule(), o, out));
        firings(&out).first().map(|f| f.summary.clone())
    }

    #[test]
    fn each_risk_fires_and_ordinary_mentions_do_not() {
        assert!(fires(m("a", 0)).is_none());
        assert!(fires(m("a", 0).negative()).is_none(), "an ordinary complaint");
        assert!(fires(m("a", 0).risk(0.9, &[])).unwrap().contains("toxic"));
        assert!(fires(m("a", 0).risk(0.1, &["threat"]))
            .unwrap()
            .contains("threat"));
        assert!(fires(m("a", 0).negative().author("star", 250_000, false))
            .unwrap()
            .contains("250000 followers"));
        assert!(
            fires(m("a", 0).author("star", 250_000, false)).is_none(),
            "positive star"
        );
        assert!(fires(m("a", 0).negative().author("v", 10, true))
            .unwrap()
            .contains("verified"));
        assert!(
            fires(m("a", 0).negative().source(vigie_core::proto::Source::News))
                .unwrap()
                .contains("press")
        );
        assert!(fires(m("a", 0).rating(1.0)).unwrap().contains("1-star review"));
        assert!(
            fires(m("a", 0).negative().rating(4.0)).is_none(),
            "the stars say otherwise"
        );
    }
}
