//! The `unanswered` rule: a customer's private message or public question that none of the
//! brand's own accounts answered within the SLA. A reply is a mention whose parent id is the
//! question's native id (or full mention id), written by one of `brand_authors`. The alert fires
//! at the deadline (event time) and resolves when the reply finally comes.

use crate::detector::{Audience, DetectorState, EvidenceData, Firing, Observed, Signal};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use vigie_core::proto::UnansweredRule;

/// How long an unanswered question is remembered (and its alert stays open, answerable) after
/// its deadline.
const KEEP_AFTER_DEADLINE_MS: i64 = 7 * 86_400_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Question {
    id: String,
    at: i64,
    path: String,
    author: String,
    excerpt: String,
    fired: bool,
}

/// State of one `unanswered` rule of one watch: questions waiting for the brand, by native id.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UnansweredState {
    pending: BTreeMap<String, Question>,
}

/// Whether `o` was written by one of the brand's accounts.
pub fn by_brand(rule: &UnansweredRule, o: &Observed) -> bool {
    let Some(a) = &o.mention.author else { return false };
    rule.brand_authors.iter().any(|b| {
        let b = b.trim().trim_start_matches('@');
        !b.is_empty()
            && (b.eq_ignore_ascii_case(&a.id) || b.eq_ignore_ascii_case(a.handle.trim_start_matches('@')))
    })
}

impl DetectorState for UnansweredState {
    type Rule = UnansweredRule;
    const EPISODIC: bool = true;

    fn new(_rule: &UnansweredRule) -> Self {
        Self::default()
    }

    /// A question's episode stays reserved as long as the question is remembered: from the
    /// question to its deadline, then seven days.
    fn episode_memory_ms(rule: &UnansweredRule) -> i64 {
        rule.sla_seconds as i64 * 1000 + KEEP_AFTER_DEADLINE_MS
    }

    /// The alert stays open as long as the question can still be answered: seven days after
    /// its deadline.
    fn keep_open_ms(_rule: &UnansweredRule) -> i64 {
        KEEP_AFTER_DEADLINE_MS
    }

    /// Registers a matching mention that expects an answer.
    fn observe(&mut self, rule: &UnansweredRule, o: &Observed, _out: &mut Vec<Signal>) {
        if by_brand(rule, o) {
            return;
        }
        let audience = o.audience();
        let expects_answer = (rule.private_messages && audience == Audience::Private)
            || (rule.public_questions && audience == Audience::Public && o.mention.text.contains('?'));
        if !expects_answer || o.mention.native_id.is_empty() {
            return;
        }
        let author = o
            .mention
            .author
            .as_ref()
            .map(|a| a.handle.clone())
            .unwrap_or_default();
        self.pending
            .entry(o.mention.native_id.clone())
            .or_insert_with(|| Question {
                id: o.mention.id.clone(),
                at: o.at(),
                path: format!("{}:{}", audience.name(), o.source_name()),
                author,
                excerpt: o.mention.text.chars().take(100).collect(),
                fired: false,
            });
    }

    /// Whether a question with this native id waits here.
    fn awaits_reply(&self, native_id: &str) -> bool {
        self.pending.contains_key(native_id)
    }

    /// Native ids of the questions waiting here.
    fn awaiting(&self) -> Vec<&str> {
        self.pending.keys().map(String::as_str).collect()
    }

    /// A possible reply (any mention of the tenant with a parent id): answers the question when
    /// written by the brand. A reply after the deadline still fires first, so the outcome depends
    /// on event times only, not on when the deadline check ran.
    fn on_reply(&mut self, rule: &UnansweredRule, o: &Observed, out: &mut Vec<Signal>) {
        if !by_brand(rule, o) {
            return;
        }
        let parent = &o.mention.parent_id;
        let key = match self.pending.contains_key(parent) {
            true => Some(parent.clone()),
            false => self
                .pending
                .iter()
                .find(|(_, q)| q.id == *parent)
                .map(|(k, _)| k.clone()),
        };
        let Some(q) = key.and_then(|k| self.pending.remove(&k)) else {
            return;
        };
        let deadline = q.at + rule.sla_seconds as i64 * 1000;
        if !q.fired && o.at() > deadline {
            out.push(Signal::Fire(Self::firing(rule, &q)));
        }
        if q.fired || o.at() > deadline {
            out.push(Signal::Clear {
                episode: Some(q.id.clone()),
                at_ms: o.at(),
                note: format!(
                    "answered after {}",
                    crate::detector::human_duration(((o.at() - q.at) / 60_000).max(1) * 60)
                ),
            });
        }
    }

    /// Fires for questions whose deadline the watermark passed; forgets very old ones.
    fn advance(&mut self, rule: &UnansweredRule, watermark: i64, out: &mut Vec<Signal>) {
        let sla = rule.sla_seconds as i64 * 1000;
        for q in self.pending.values_mut() {
            if !q.fired && q.at + sla < watermark {
                q.fired = true;
                out.push(Signal::Fire(Self::firing(rule, q)));
            }
        }
        self.pending
            .retain(|_, q| q.at + sla + KEEP_AFTER_DEADLINE_MS >= watermark);
    }
}

impl UnansweredState {
    fn firing(rule: &UnansweredRule, q: &Question) -> Firing {
        let deadline = q.at + rule.sla_seconds as i64 * 1000;
        Firing {
            episode: q.id.clone(),
            at_ms: deadline,
            window_start_ms: q.at,
            window_end_ms: deadline,
            summary: format!(
                "no answer from the brand within {} to @{} on {}: \"{}\"",
                crate::detector::human_duration(rule.sla_seconds as i64),
                q.author,
                q.path,
                q.excerpt
            ),
            evidence: EvidenceData {
                count: 1,
                baseline: rule.sla_seconds as f64,
                samples: vec![q.id.clone()],
                path: vec![q.path.clone()],
                ..Default::default()
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{cleared, firings, m, with_observed, MIN};
    use vigie_core::proto::Source;

    fn rule() -> UnansweredRule {
        UnansweredRule {
            sla_seconds: 3600,
            brand_authors: vec!["@AcmeCare".into()],
            private_messages: true,
            public_questions: true,
        }
    }

    fn see(s: &mut UnansweredState, e: crate::testkit::M) -> Vec<Signal> {
        let e = e.build();
        with_observed(&e, |o, out| {
            s.observe(&rule(), o, out);
            if !o.mention.parent_id.is_empty() {
                s.on_reply(&rule(), o, out);
            }
        })
    }

    #[test]
    fn a_question_answered_in_time_never_fires() {
        let mut s = UnansweredState::default();
        see(&mut s, m("q1", 0).text("is my order lost?"));
        see(&mut s, m("not-a-question", 0).text("love it"));
        assert!(s.awaits_reply("q1") && !s.awaits_reply("not-a-question"));
        // A reply by someone else does not count; the brand's does.
        assert!(see(&mut s, m("r0", 10 * MIN).reply_to("q1")).is_empty());
        assert!(s.awaits_reply("q1"));
        let out = see(
            &mut s,
            m("r1", 20 * MIN).reply_to("q1").author("acmecare", 10, true),
        );
        assert!(out.is_empty() && !s.awaits_reply("q1"));
        let mut out = Vec::new();
        s.advance(&rule(), 5 * 60 * MIN, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_missed_sla_fires_at_the_deadline_and_the_late_reply_resolves_it() {
        let mut s = UnansweredState::default();
        see(
            &mut s,
            m("dm", 0).source(Source::Whatsapp).text("my refund please"),
        );
        let mut out = Vec::new();
        s.advance(&rule(), 59 * MIN, &mut out);
        assert!(out.is_empty());
        s.advance(&rule(), 61 * MIN, &mut out);
        let f = firings(&out);
        assert_eq!(
            (f.len(), f[0].at_ms, f[0].episode.as_str()),
            (1, 60 * MIN, "acme:whatsapp:dm")
        );
        let out = see(
            &mut s,
            m("r", 90 * MIN).reply_to("dm").author("AcmeCare", 10, true),
        );
        assert!(cleared(&out) && firings(&out).is_empty());
    }

    #[test]
    fn a_late_reply_before_the_check_still_counts_as_a_miss() {
        let mut s = UnansweredState::default();
        see(&mut s, m("q", 0).text("anyone there?"));
        let out = see(
            &mut s,
            m("r", 2 * 60 * MIN).reply_to("q").author("acmecare", 0, false),
        );
        assert_eq!(firings(&out).len(), 1);
        assert!(cleared(&out));
    }
}
