//! The scoring stage as a pure function of a mention and the current watches.

use crate::{extract, language, risk, sentiment, toxicity};
use vigie_core::document::Document;
use vigie_core::places;
use vigie_core::proto::{EnrichedMention, Mention};
use vigie_core::watches::WatchSet;

/// Version of the scoring stage, stored with every enriched mention.
pub const SCORER_VERSION: &str = "0.5.0";

/// Scores mentions; holds no per-mention state and is shared freely.
#[derive(Debug, Default, Clone)]
pub struct Scorer;

impl Scorer {
    /// Enriches one mention. `now_ms` is the processing time recorded on the result.
    pub fn score(&self, mention: Mention, watches: &WatchSet, now_ms: i64) -> EnrichedMention {
        let text: std::borrow::Cow<str> = if mention.title.is_empty() {
            std::borrow::Cow::Borrowed(&mention.text)
        } else {
            std::borrow::Cow::Owned(format!("{}. {}", mention.title, mention.text))
        };
        let detected = language::identify(&text);
        let (lang, confidence) = if detected.code == "und" && !mention.language_hint.is_empty() {
            (mention.language_hint.clone(), 0.5)
        } else {
            (detected.code.to_string(), detected.confidence)
        };
        // One tokenisation and one feature pass serve matching, risk, clustering, sentiment
        // and toxicity.
        let place = places::infer(&mention);
        let doc = Document::from_mention_at(&mention, &lang, &place);
        if doc.is_capped() {
            vigie_core::metrics::matching_capped();
        }
        let model_lang = if lang == "und" { "" } else { lang.as_str() };
        let mut features = Vec::with_capacity(160);
        let insult = sentiment::features(&text, model_lang, sentiment::buckets(), |b| features.push(b));
        let sentiment = sentiment::with_rating(sentiment::score_buckets(&features), mention.rating);
        let toxicity = if toxicity::buckets() == sentiment::buckets() {
            toxicity::toxicity_buckets(&features, insult)
        } else {
            toxicity::toxicity(&text, &lang)
        };
        let entities = extract::extract(&text);
        let risk = risk::assess_tokens(doc.tokens(), toxicity);
        let cluster = crate::cluster::cluster_of_tokens(&mention.tenant, doc.tokens());
        let matched = watches.matcher().matches(&mention.tenant, &doc);
        EnrichedMention {
            language: lang,
            language_confidence: confidence,
            sentiment_score: sentiment.score,
            sentiment_label: sentiment.label as i32,
            risk: Some(risk),
            hashtags: entities.hashtags,
            mentioned_handles: entities.handles,
            urls: entities.urls,
            matched_watches: matched,
            reach: risk::reach(&mention),
            enriched_at_ms: now_ms,
            scorer_version: SCORER_VERSION.to_string(),
            cluster,
            place: Some(place.into_proto()),
            mention: Some(mention),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::proto::{SentimentLabel, Source};
    use vigie_core::watches::{parse_file, WatchRegistry};

    fn registry_of(file: &str) -> WatchRegistry {
        let registry = WatchRegistry::default();
        for w in parse_file(file, "test").unwrap() {
            registry.upsert(w).unwrap();
        }
        registry
    }

    #[test]
    fn scores_and_matches_the_tenants_watches_only() {
        let file = r#"
[[watch]]
tenant = "acme"
id = "crisis"
query = "acme AND (malade OR intoxication)"
[[watch]]
tenant = "other"
id = "crisis"
query = "acme"
[[watch]]
tenant = "acme"
id = "english-only"
query = "acme"
languages = ["en"]
"#;
        let registry = registry_of(file);
        let m = Mention {
            tenant: "acme".into(),
            source: Source::X as i32,
            text: "Toute la famille malade après le menu Acme, c'est une honte #boycott".into(),
            ..Default::default()
        };
        let e = Scorer.score(m, &registry.read(), 7);
        assert_eq!(e.matched_watches, ["acme/crisis"]);
        assert_eq!(e.language, "fr");
        assert_eq!(e.sentiment_label, SentimentLabel::Negative as i32);
        assert_eq!(e.hashtags, ["#boycott"]);
        assert!(e.risk.unwrap().flags.contains(&"health".to_string()));
        assert_eq!(e.enriched_at_ms, 7);
    }

    #[test]
    fn country_and_city_filters_read_the_inferred_place() {
        let file = r#"
[[watch]]
tenant = "acme"
id = "lyon"
query = "acme city:Lyon"
[[watch]]
tenant = "acme"
id = "france"
query = "acme"
countries = ["FR"]
[[watch]]
tenant = "acme"
id = "belgium"
query = "acme country:BE"
"#;
        let registry = registry_of(file);
        let mention = |location: &str| Mention {
            tenant: "acme".into(),
            source: Source::X as i32,
            text: "Encore une panne chez Acme".into(),
            author: Some(vigie_core::proto::Author {
                location: location.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let e = Scorer.score(mention("Lyon 🇫🇷"), &registry.read(), 7);
        let mut matched = e.matched_watches.clone();
        matched.sort();
        assert_eq!(matched, ["acme/france", "acme/lyon"]);
        let place = e.place.unwrap();
        assert_eq!(
            (place.country.as_str(), place.city.as_str(), place.source.as_str()),
            ("FR", "Lyon", "profile")
        );
        let e = Scorer.score(mention("Bruxelles"), &registry.read(), 7);
        assert_eq!(e.matched_watches, ["acme/belgium"]);
        // A profile that names no place: no country filter holds.
        let e = Scorer.score(mention("dans ma tête"), &registry.read(), 7);
        assert!(e.matched_watches.is_empty(), "{:?}", e.matched_watches);
        assert_eq!(e.place.unwrap().source, "");
    }
}
