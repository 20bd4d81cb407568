//! The `escalation` rule: one story reaching successively wider audiences — private messages,
//! then public posts, then the press — within a window. This is the overflow e-reputation teams
//! fear most: an unresolved private complaint going public, public anger reaching journalists.
//!
//! A story is the same near-duplicate cluster or the same author (`by = "story"`), or every
//! mention of the watch (`by = "watch"`, for narrow watches that are a topic in themselves).

use crate::detector::{EvidenceData, Firing, Observed, Signal, Stage};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use vigie_core::proto::EscalationRule;

/// Mentions remembered per stage of a story.
const PER_STAGE: usize = 8;
/// Stories tracked per watch at most (oldest are dropped first when full).
pub const MAX_STORIES: usize = 50_000;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Track {
    /// Per stage (private, public, press): (event time, mention id, source), oldest first.
    stages: [VecDeque<(i64, String, String)>; 3],
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
    /// The escalation chain: the earliest mention of the first stage present, then the earliest
    /// of each wider stage at or after it. Returns the chain's mentions in order.
    fn chain(&self) -> Vec<(Stage, &(i64, String, String))> {
        let mut chain: Vec<(Stage, &(i64, String, String))> = Vec::new();
        for (stage, list) in [Stage::Private, Stage::Public, Stage::Press]
            .into_iter()
            .zip(&self.stages)
        {
            let after = chain.last().map(|c| c.1 .0).unwrap_or(i64::MIN);
            if let Some(m) = list.iter().find(|m| m.0 >= after) {
                chain.push((stage, m));
            }
        }
        chain
    }
}

impl EscalationState {
    /// Adds one matching mention to its stories; fires when a story escalated far enough.
    pub fn observe(&mut self, rule: &EscalationRule, o: &Observed, out: &mut Vec<Signal>) {
        let window = rule.window_seconds as i64 * 1000;
        let at = o.at();
        let stage = o.stage();
        for key in keys(rule, o) {
            if !self.tracks.contains_key(&key) && self.tracks.len() >= MAX_STORIES {
                continue;
            }
            let track = self.tracks.entry(key.clone()).or_default();
            let list = &mut track.stages[stage as usize];
            if list.iter().any(|(_, id, _)| *id == o.mention.id) {
                continue;
            }
            if list.len() < PER_STAGE {
                let pos = list.partition_point(|(t, _, _)| *t <= at);
                list.insert(pos, (at, o.mention.id.clone(), o.source_name().to_string()));
            }
            track.last_ms = track.last_ms.max(at);
            let newest = track.last_ms;
            for list in track.stages.iter_mut() {
                while list.front().is_some_and(|(t, _, _)| *t < newest - window) {
                    list.pop_front();
                }
            }
            let chain = track.chain();
            if chain.len() < rule.min_stages as usize {
                continue;
            }
            let start = chain[0].1 .0;
            let end = chain[chain.len() - 1].1 .0;
            let path: Vec<String> = chain
                .iter()
                .map(|(stage, (_, _, source))| format!("{}:{source}", stage.name()))
                .collect();
            out.push(Signal::Fire(Firing {
                // Window-aligned start: late data moving the chain's first mention a little does
                // not make a second alert.
                episode: format!("{key}@{}", start.div_euclid(window) * window),
                at_ms: at,
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
                    samples: chain.iter().rev().map(|(_, (_, id, _))| id.clone()).collect(),
                    path,
                    ..Default::default()
                },
            }));
        }
    }

    /// Forgets stories with nothing in the window.
    pub fn advance(&mut self, rule: &EscalationRule, watermark: i64) {
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
        // A late private message within the window completes the chain.
        let f = feed(&mut s, &r, m("e", 6 * 60 * MIN).source(Source::Telegram));
        assert_eq!(f[0].evidence.path, ["private:telegram", "public:x"]);
        // More of the same story is the same episode, not a new alert.
        assert_eq!(
            feed(&mut s, &r, m("f", 7 * 60 * MIN + 1))[0].episode,
            f[0].episode
        );
    }
}
