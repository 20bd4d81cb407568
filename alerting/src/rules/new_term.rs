//! The `new_term` rule: a hashtag (or word) rarely or never seen for this watch over the last
//! days suddenly appears `min_count` times within `window` — a new angle on the brand, often
//! the name of a nascent crisis. Each term is its own alert (episode = term).

use crate::detector::{DetectorState, EvidenceData, Firing, Observed, Signal};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};
use vigie_core::proto::NewTermRule;

const DAY_MS: i64 = 86_400_000;
/// Most distinct terms remembered per watch; beyond it, unseen terms are not tracked until old
/// ones age out (a bound on memory for very busy watches).
pub const MAX_TERMS: usize = 5_000;
/// Words shorter than this are never terms (hashtags always are).
const MIN_WORD_CHARS: usize = 5;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TermHistory {
    /// Event times of occurrences within the window, oldest first.
    recent: VecDeque<i64>,
    /// Older occurrences per day (day number, count), oldest first.
    days: VecDeque<(i64, u32)>,
    /// Newest mention ids with the term (at most three).
    samples: VecDeque<String>,
    /// Set when the term first fired ("<term>@<event time>"), kept while the term is remembered,
    /// so one surge is one alert and a term new again weeks later is a new alert with a new id.
    #[serde(default)]
    episode: Option<String>,
}

/// State of one `new_term` rule of one watch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NewTermState {
    /// Event time of the first mention seen: nothing is new before the history has filled.
    first_ms: Option<i64>,
    terms: HashMap<String, TermHistory>,
    /// (event time, id hash) of mentions within the window, to count a redelivery once.
    counted: VecDeque<(i64, u64)>,
    counted_ids: HashSet<u64>,
}

/// The terms of a mention under `rule`.
fn terms(rule: &NewTermRule, o: &Observed) -> Vec<String> {
    let mut out: Vec<String> = o.enriched.hashtags.iter().map(|h| h.to_lowercase()).collect();
    if !rule.hashtags_only {
        for t in vigie_core::text::tokenize(&o.mention.text) {
            if !t.raw().starts_with(['#', '@']) && t.text.chars().count() >= MIN_WORD_CHARS {
                out.push(t.text);
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl DetectorState for NewTermState {
    type Rule = NewTermRule;
    const EPISODIC: bool = true;

    fn new(_rule: &NewTermRule) -> Self {
        Self::default()
    }

    /// A term stays reserved for its window and the history it must be absent from.
    fn episode_memory_ms(rule: &NewTermRule) -> i64 {
        rule.window_seconds as i64 * 1000 + rule.history_days as i64 * DAY_MS
    }

    /// Counts the terms of one matching mention; fires for a term that just became frequent.
    fn observe(&mut self, rule: &NewTermRule, o: &Observed, out: &mut Vec<Signal>) {
        let at = o.at();
        let window = rule.window_seconds as i64 * 1000;
        let history = rule.history_days as i64 * DAY_MS;
        let id = crate::detector::stable_hash(&o.mention.id);
        if !self.counted_ids.insert(id) {
            return;
        }
        self.counted.push_back((at, id));
        while self.counted.front().is_some_and(|(t, _)| *t < at - 2 * window) {
            if let Some((_, old)) = self.counted.pop_front() {
                self.counted_ids.remove(&old);
            }
        }
        let first = *self.first_ms.get_or_insert(at);
        // Nothing is new until the watch has a day (or its whole history, if shorter) behind it.
        let warm = at - first >= history.min(DAY_MS);
        for term in terms(rule, o) {
            if !self.terms.contains_key(&term) && self.terms.len() >= MAX_TERMS {
                continue;
            }
            let h = self.terms.entry(term.clone()).or_default();
            h.recent.push_back(at);
            if h.samples.len() == 3 {
                h.samples.pop_front();
            }
            h.samples.push_back(o.mention.id.clone());
            while h.recent.front().is_some_and(|t| *t < at - window) {
                let Some(t) = h.recent.pop_front() else { break };
                let day = t.div_euclid(DAY_MS);
                match h.days.back_mut() {
                    Some((d, n)) if *d == day => *n += 1,
                    _ => h.days.push_back((day, 1)),
                }
            }
            while h
                .days
                .front()
                .is_some_and(|(d, _)| (d + 1) * DAY_MS < at - history)
            {
                h.days.pop_front();
            }
            let prior: u32 = h.days.iter().map(|(_, n)| n).sum();
            let count = h.recent.len() as u64;
            if warm && count >= rule.min_count as u64 && prior <= rule.max_prior {
                let start = h.recent.front().copied().unwrap_or(at);
                let episode = h.episode.get_or_insert_with(|| format!("{term}@{at}")).clone();
                out.push(Signal::Fire(Firing {
                    episode,
                    at_ms: at,
                    window_start_ms: start,
                    window_end_ms: at,
                    summary: format!(
                        "new term \"{term}\": {count} mentions in {}, {prior} in the {} days before",
                        crate::detector::human_duration(rule.window_seconds as i64),
                        rule.history_days
                    ),
                    evidence: EvidenceData {
                        count,
                        baseline: prior as f64,
                        score: count as f64,
                        samples: h.samples.iter().rev().cloned().collect(),
                        top_terms: vec![(term.clone(), count)],
                        ..Default::default()
                    },
                }));
            }
        }
    }

    /// Forgets terms with nothing left in the window or the history.
    fn advance(&mut self, rule: &NewTermRule, watermark: i64, _out: &mut Vec<Signal>) {
        let window = rule.window_seconds as i64 * 1000;
        let history = rule.history_days as i64 * DAY_MS;
        self.terms.retain(|_, h| {
            h.days
                .iter()
                .any(|(d, _)| (d + 1) * DAY_MS >= watermark - history)
                || h.recent.back().is_some_and(|t| *t >= watermark - window)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{firings, m, with_observed, MIN};

    fn rule() -> NewTermRule {
        NewTermRule {
            window_seconds: 3600,
            min_count: 3,
            history_days: 7,
            max_prior: 0,
            hashtags_only: true,
        }
    }

    /// The terms that fired (episode without its time).
    fn feed(s: &mut NewTermState, id: &str, at: i64, tags: &[&str]) -> Vec<String> {
        let e = m(id, at).hashtags(tags).build();
        let out = with_observed(&e, |o, out| s.observe(&rule(), o, out));
        firings(&out)
            .iter()
            .map(|f| f.episode.split('@').next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn a_never_seen_tag_becoming_frequent_fires_and_a_usual_one_does_not() {
        let mut s = NewTermState::default();
        // A usual tag over two days (sparse: a few a day).
        for i in 0..12 {
            assert!(feed(&mut s, &format!("u{i}"), i * 4 * 60 * MIN, &["#acme"]).is_empty());
        }
        let now = 2 * 24 * 60 * MIN;
        assert!(feed(&mut s, "n1", now, &["#acmefail", "#acme"]).is_empty());
        // Redelivery of the same mention does not count twice.
        assert!(feed(&mut s, "n1", now, &["#acmefail", "#acme"]).is_empty());
        assert!(feed(&mut s, "n2", now + MIN, &["#acmefail"]).is_empty());
        assert_eq!(
            feed(&mut s, "n3", now + 2 * MIN, &["#acmefail", "#acme"]),
            ["#acmefail"]
        );
    }

    #[test]
    fn nothing_is_new_while_the_watch_is_young_or_when_spread_out() {
        let mut s = NewTermState::default();
        for i in 0..5 {
            assert!(
                feed(&mut s, &format!("y{i}"), i * MIN, &["#launch"]).is_empty(),
                "warming up"
            );
        }
        let later = 3 * 24 * 60 * MIN;
        // Three mentions of a new tag spread over three hours: never three within the hour.
        for i in 0..3 {
            assert!(feed(&mut s, &format!("s{i}"), later + i * 90 * MIN, &["#slow"]).is_empty());
        }
    }
}
