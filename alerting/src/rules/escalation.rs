//! The `escalation` rule: one story reaching successively wider audiences — private messages,
//! then public posts, then the press — within a window. This is the overflow e-reputation teams
//! fear most: an unresolved private complaint going public, public anger reaching journalists.
//!
//! A story is the same near-duplicate cluster or the same author (`by = "story"`), or every
//! mention of the watch (`by = "watch"`, for narrow watches that are a topic in themselves).

use crate::detector::{Audience, DetectorState, EvidenceData, Firing, Observed, Signal};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use vigie_core::proto::EscalationRule;

/// Stories tracked per watch at most (new stories are not tracked while full).
pub const MAX_STORIES: usize = 10_000;

/// One step of a chain: (audience, event time, mention id, source name).
type Step = (Audience, i64, String, String);

/// The chains of one story: `chains[s]` starts at audience `s` (its earliest mention still in
/// the window) and is extended, greedily and in time order, by the first mention of each wider
/// audience.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Track {
    chains: [Vec<Step>; 3],
    last_ms: i64,
}

/// State of one `escalation` rule of one watch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EscalationState {
    tracks: HashMap<String, Track>,
}

/// Story keys of a mention.
fn keys(rule: &EscalationRule, o: &Observed) -> Vec<String> {
    if rule.by == "watch" {
        return vec!["watch".into()];
    }
    let mut keys = Vec::with_capacity(2);
    if o.enriched.cluster != 0 {
        keys.push(format!("story:{}", o.enriched.cluster));
    }
    if let Some(a) = o.mention.author.as_ref().filter(|a| !a.id.is_empty()) {
        keys.push(format!("author:{}", a.id));
    }
    keys
}

impl Track {
    /// Adds one mention; returns the longest chain it completes, if it extended or began one.
    fn add(&mut self, step: Step, window: i64) -> Option<&Vec<Step>> {
        let (audience, at) = (step.0, step.1);
        if self.chains.iter().flatten().any(|s| s.2 == step.2) {
            return None;
        }
        self.last_ms = self.last_ms.max(at);
        for chain in self.chains.iter_mut() {
            if chain.first().is_some_and(|first| first.1 < at - window) {
                chain.clear();
            }
        }
        let mut touched = false;
        for (start, chain) in self.chains.iter_mut().enumerate() {
            let extends = chain.last().is_some_and(|last| last.0 < audience && last.1 <= at);
            if (chain.is_empty() && start == audience as usize) || extends {
                chain.push(step.clone());
                touched = true;
            }
        }
        if !touched {
            return None;
        }
        self.chains
            .iter()
            .max_by_key(|c| (c.len(), std::cmp::Reverse(c.first().map(|s| s.1))))
    }
}

impl DetectorState for EscalationState {
    type Rule = EscalationRule;
    const EPISODIC: bool = true;

    fn new(_rule: &EscalationRule) -> Self {
        Self::default()
    }

    /// A story stays reserved for two windows: a chain extended later is the same alert.
    fn episode_memory_ms(rule: &EscalationRule) -> i64 {
        2 * rule.window_seconds as i64 * 1000
    }

    /// Adds one matching mention to its stories; fires when a story escalated far enough.
    fn observe(&mut self, rule: &EscalationRule, o: &Observed, out: &mut Vec<Signal>) {
        let window = rule.window_seconds as i64 * 1000;
        let step: Step = (
            o.audience(),
            o.at(),
            o.mention.id.clone(),
            o.source_name().to_string(),
        );
        for key in keys(rule, o) {
            if !self.tracks.contains_key(&key) && self.tracks.len() >= MAX_STORIES {
                continue;
            }
            let track = self.tracks.entry(key.clone()).or_default();
            let Some(chain) = track.add(step.clone(), window) else {
                continue;
            };
            if chain.len() < rule.min_stages as usize {
                continue;
            }
            let (start, end) = (chain[0].1, chain[chain.len() - 1].1);
            let path: Vec<String> = chain
                .iter()
                .map(|(audience, _, _, source)| format!("{}:{source}", audience.name()))
                .collect();
            out.push(Signal::Fire(Firing {
                // Window-aligned start: late data moving the chain's first mention a little does
                // not make a second alert.
                episode: format!("{key}@{}", start.div_euclid(window) * window),
                at_ms: o.at(),
                window_start_ms: start,
                window_end_ms: end,
                summary: format!(
                    "{} escalated {} in {}",
                    if key == "watch" {
                        "the topic".to_string()
                    } else {
                        key.replace(':', " ")
                    },
                    path.join(" → "),
                    crate::detector::human_duration(((end - start) / 60_000).max(1) * 60)
                ),
                evidence: EvidenceData {
                    count: chain.len() as u64,
                    score: chain.len() as f64,
                    samples: chain.iter().rev().map(|s| s.2.clone()).collect(),
                    path,
                    ..Default::default()
                },
            }));
        }
    }

    /// Forgets stories with nothing in the window.
    fn advance(&mut self, rule: &EscalationRule, watermark: i64, _out: &mut Vec<Signal>) {
        let window = rule.window_seconds as i64 * 1000;
        self.tracks.retain(|_, t| t.last_ms >= watermark - window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{firings, m, with_observed, MIN};
    use vigie_core::proto::Source;

    fn rule(min_stages: u32, by: &str) -> EscalationRule {
        EscalationRule {
            window_seconds: 6 * 3600,
            min_stages,
            by: by.into(),
        }
    }

    fn feed(s: &mut EscalationState, r: &EscalationRule, e: crate::testkit::M) -> Vec<Firing> {
        let e = e.build();
        let out = with_observed(&e, |o, out| s.observe(r, o, out));
        firings(&out).into_iter().cloned().collect()
    }

    #[test]
    fn private_then_public_then_press_fires_in_order() {
        let r = rule(3, "story");
        let mut s = EscalationState::default();
        assert!(feed(&mut s, &r, m("p", 0).source(Source::Whatsapp).cluster(7)).is_empty());
        assert!(
            feed(&mut s, &r, m("q", 30 * MIN).cluster(7)).is_empty(),
            "two stages of three"
        );
        let f = feed(&mut s, &r, m("r", 90 * MIN).source(Source::News).cluster(7));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence.path, ["private:whatsapp", "public:x", "press:news"]);
        assert_eq!(f[0].episode, "story:7@0");
    }

    #[test]
    fn the_wrong_order_or_a_window_too_long_does_not_fire() {
        let r = rule(2, "watch");
        let mut s = EscalationState::default();
        // Press first, then private chatter: not an escalation.
        assert!(feed(&mut s, &r, m("a", 0).source(Source::News)).is_empty());
        assert!(feed(&mut s, &r, m("b", MIN).source(Source::Messenger)).is_empty());
        // Private then public, but seven hours apart (window six).
        let mut s = EscalationState::default();
        assert!(feed(&mut s, &r, m("c", 0).source(Source::Messenger)).is_empty());
        assert!(feed(&mut s, &r, m("d", 7 * 60 * MIN)).is_empty());
        // A new private message starts a chain; the next public post completes it.
        assert!(feed(&mut s, &r, m("e", 7 * 60 * MIN).source(Source::Telegram)).is_empty());
        let f = feed(&mut s, &r, m("f", 7 * 60 * MIN + 1));
        assert_eq!(f[0].evidence.path, ["private:telegram", "public:x"]);
        // More public posts add nothing; reaching the press is the same episode (the book keeps
        // one alert and its strongest evidence).
        assert!(feed(&mut s, &r, m("g", 7 * 60 * MIN + 2)).is_empty());
        let h = feed(&mut s, &r, m("h", 7 * 60 * MIN + 3).source(Source::News));
        assert_eq!(
            (h[0].episode.as_str(), h[0].evidence.count),
            (f[0].episode.as_str(), 3)
        );
    }
}
