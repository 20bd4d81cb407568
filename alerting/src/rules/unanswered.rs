//! The `unanswered` rule: a customer's private message or public question that none of the
//! brand's own accounts answered within the SLA. An answer is written by one of `brand_authors`
//! and is either a reply (a mention whose parent id is the question's native id or full mention
//! id), or, for a private message, any later message of the same conversation (same source and
//! `thread_id`): private messages have no parent id, and one brand message in a chat answers
//! every customer message before it. The alert fires at the deadline (event time) and resolves
//! when the answer finally comes.

use crate::detector::{Audience, DetectorState, EvidenceData, Firing, Observed, ReplyKey, Signal};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
    /// The private conversation it was asked in ([`Observed::conversation`]), answered by any
    /// later brand message there; empty for a public question (and in checkpoints written
    /// before conversations were answered).
    #[serde(default)]
    thread: String,
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
                thread: o.conversation().unwrap_or_default(),
            });
    }

    /// When `o` waits here as a question: its native id, and its conversation if private.
    fn reply_keys(&self, o: &Observed) -> Vec<ReplyKey> {
        match self.pending.get(&o.mention.native_id) {
            Some(q) => Self::keys(&o.mention.native_id, q).collect(),
            None => Vec::new(),
        }
    }

    /// The native ids of the questions waiting here, and their conversations.
    fn awaiting(&self) -> Vec<ReplyKey> {
        let keys: BTreeSet<ReplyKey> = self
            .pending
            .iter()
            .flat_map(|(native_id, q)| Self::keys(native_id, q))
            .collect();
        keys.into_iter().collect()
    }

    /// A possible answer (a mention of the tenant with a parent id, or a private message in a
    /// conversation): when written by the brand, it answers the question it replies to, and
    /// every question of its conversation asked at or before it (a brand message in another
    /// chat, or in a chat with nothing pending, answers nothing). An answer after the deadline
    /// still fires first, so the outcome depends on event times only, not on when the deadline
    /// check ran; each answered question resolves its own alert.
    fn on_reply(&mut self, rule: &UnansweredRule, o: &Observed, out: &mut Vec<Signal>) {
        if !by_brand(rule, o) {
            return;
        }
        let mut answered: BTreeSet<String> = BTreeSet::new();
        let parent = &o.mention.parent_id;
        if !parent.is_empty() {
            if self.pending.contains_key(parent) {
                answered.insert(parent.clone());
            } else if let Some((k, _)) = self.pending.iter().find(|(_, q)| q.id == *parent) {
                answered.insert(k.clone());
            }
        }
        if let Some(conversation) = o.conversation() {
            answered.extend(
                self.pending
                    .iter()
                    .filter(|(_, q)| q.thread == conversation && q.at <= o.at())
                    .map(|(k, _)| k.clone()),
            );
        }
        for key in answered {
            if let Some(q) = self.pending.remove(&key) {
                Self::answer(rule, &q, o.at(), out);
            }
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
    /// The keys question `q` (native id `native_id`) awaits an answer under.
    fn keys(native_id: &str, q: &Question) -> impl Iterator<Item = ReplyKey> {
        let conversation = (!q.thread.is_empty()).then(|| ReplyKey::Conversation(q.thread.clone()));
        std::iter::once(ReplyKey::Parent(native_id.to_string())).chain(conversation)
    }

    /// Question `q` answered at event time `at`: fires first if the deadline passed unseen,
    /// then resolves its alert if one fired; nothing when answered within the SLA.
    fn answer(rule: &UnansweredRule, q: &Question, at: i64, out: &mut Vec<Signal>) {
        let deadline = q.at + rule.sla_seconds as i64 * 1000;
        if !q.fired && at > deadline {
            out.push(Signal::Fire(Self::firing(rule, q)));
        }
        if q.fired || at > deadline {
            out.push(Signal::Clear {
                episode: Some(q.id.clone()),
                at_ms: at,
                note: format!(
                    "answered after {}",
                    crate::detector::human_duration(((at - q.at) / 60_000).max(1) * 60)
                ),
            });
        }
    }

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
            // As the engine routes it: anything that may answer (a reply, a private message
            // in a conversation).
            if !ReplyKey::answering(o).is_empty() {
                s.on_reply(&rule(), o, out);
            }
        })
    }

    fn waits(s: &UnansweredState, native_id: &str) -> bool {
        s.pending.contains_key(native_id)
    }

    /// A private message of `thread` on WhatsApp.
    fn dm(id: &str, at: i64, thread: &str) -> crate::testkit::M {
        m(id, at)
            .source(Source::Whatsapp)
            .thread(thread)
            .text("my refund please")
    }

    /// The clears among `signals`: (episode, note).
    fn clears(signals: &[Signal]) -> Vec<(String, String)> {
        signals
            .iter()
            .filter_map(|s| match s {
                Signal::Clear { episode, note, .. } => {
                    Some((episode.clone().unwrap_or_default(), note.clone()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_question_answered_in_time_never_fires() {
        let mut s = UnansweredState::default();
        see(&mut s, m("q1", 0).text("is my order lost?"));
        see(&mut s, m("not-a-question", 0).text("love it"));
        assert!(waits(&s, "q1") && !waits(&s, "not-a-question"));
        // A reply by someone else does not count; the brand's does.
        assert!(see(&mut s, m("r0", 10 * MIN).reply_to("q1")).is_empty());
        assert!(waits(&s, "q1"));
        let out = see(
            &mut s,
            m("r1", 20 * MIN).reply_to("q1").author("acmecare", 10, true),
        );
        assert!(out.is_empty() && !waits(&s, "q1"));
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

    #[test]
    fn one_brand_message_in_a_conversation_answers_every_earlier_message_of_it() {
        let mut s = UnansweredState::default();
        see(&mut s, dm("c1", 0, "t1"));
        see(&mut s, dm("o1", 5 * MIN, "t2"));
        see(&mut s, dm("c2", 10 * MIN, "t1"));
        // A private question awaits an answer by id and in its conversation.
        let e = dm("c2", 10 * MIN, "t1").build();
        with_observed(&e, |o, _| {
            assert_eq!(
                s.reply_keys(o),
                vec![
                    ReplyKey::Parent("c2".into()),
                    ReplyKey::Conversation("whatsapp:t1".into())
                ]
            );
        });
        assert!(s
            .awaiting()
            .contains(&ReplyKey::Conversation("whatsapp:t2".into())));
        let mut out = Vec::new();
        s.advance(&rule(), 61 * MIN, &mut out);
        assert_eq!(firings(&out).len(), 1, "only c1's deadline passed");
        // Someone else writing in the chat answers nothing (and is a message of its own).
        let out = see(&mut s, dm("x", 62 * MIN, "t1").author("cousin", 0, false));
        assert!(out.is_empty() && waits(&s, "c1") && waits(&s, "c2") && waits(&s, "x"));
        // The brand in a chat with nothing pending, or in the same thread id on another
        // channel, answers nothing either.
        for other in [
            dm("b0", 62 * MIN, "t9"),
            dm("b1", 62 * MIN, "t1").source(Source::Messenger),
        ] {
            let out = see(&mut s, other.author("AcmeCare", 0, true));
            assert!(out.is_empty());
        }
        assert!(waits(&s, "c1") && waits(&s, "c2") && waits(&s, "o1"));
        // The brand answers in t1 at 63 min: c1 (fired) resolves "answered after 63 min", c2
        // and x (within their SLA) go quietly; t2 and what comes later in t1 still wait.
        let out = see(&mut s, dm("a", 63 * MIN, "t1").author("acmecare", 0, true));
        assert!(firings(&out).is_empty());
        assert_eq!(
            clears(&out),
            vec![(
                "acme:whatsapp:c1".to_string(),
                "answered after 63 min".to_string()
            )]
        );
        assert!(!waits(&s, "c1") && !waits(&s, "c2") && !waits(&s, "x"));
        assert!(waits(&s, "o1"));
        see(&mut s, dm("c3", 64 * MIN, "t1"));
        let mut out = Vec::new();
        s.advance(&rule(), 125 * MIN, &mut out);
        let fired: Vec<&str> = firings(&out).iter().map(|f| f.episode.as_str()).collect();
        assert_eq!(fired, ["acme:whatsapp:c3", "acme:whatsapp:o1"]);
        // A late answer in t2 resolves o1 alone.
        let out = see(&mut s, dm("a2", 130 * MIN, "t2").author("acmecare", 0, true));
        assert_eq!(clears(&out).len(), 1);
        assert_eq!(clears(&out)[0].0, "acme:whatsapp:o1");
        assert!(waits(&s, "c3") && !waits(&s, "o1"));
    }

    #[test]
    fn a_late_answer_in_a_conversation_fires_then_resolves_each_question() {
        let mut s = UnansweredState::default();
        see(&mut s, dm("c1", 0, "t1"));
        see(&mut s, dm("c2", MIN, "t1"));
        // Answered after both deadlines before any check ran: each fires, then resolves.
        let out = see(&mut s, dm("a", 2 * 60 * MIN, "t1").author("acmecare", 0, true));
        let fired: Vec<&str> = firings(&out).iter().map(|f| f.episode.as_str()).collect();
        assert_eq!(fired, ["acme:whatsapp:c1", "acme:whatsapp:c2"]);
        let cleared: Vec<String> = clears(&out).into_iter().map(|(e, _)| e).collect();
        assert_eq!(cleared, ["acme:whatsapp:c1", "acme:whatsapp:c2"]);
        assert!(s.awaiting().is_empty());
    }

    #[test]
    fn a_public_comment_thread_is_answered_by_reply_only() {
        let mut s = UnansweredState::default();
        see(&mut s, m("pq", 0).thread("post-1").text("where is my order?"));
        let e = m("pq", 0).thread("post-1").build();
        with_observed(&e, |o, _| {
            assert_eq!(s.reply_keys(o), vec![ReplyKey::Parent("pq".into())]);
        });
        // The brand commenting in the same thread, not replying to the question, answers
        // nothing: a public thread is not a conversation.
        let brand = m("b", 10 * MIN).thread("post-1").author("acmecare", 0, true);
        let e = brand.clone().build();
        with_observed(&e, |o, _| assert!(ReplyKey::answering(o).is_empty()));
        let out = with_observed(&e, |o, out| s.on_reply(&rule(), o, out));
        assert!(out.is_empty() && waits(&s, "pq"));
        let out = see(&mut s, brand.reply_to("pq"));
        assert!(out.is_empty() && !waits(&s, "pq"));
    }

    #[test]
    fn a_private_reply_by_parent_still_answers_its_question() {
        let mut s = UnansweredState::default();
        see(&mut s, dm("c1", 0, "t1"));
        see(&mut s, m("c2", 0).source(Source::Whatsapp).text("no thread"));
        let out = see(
            &mut s,
            m("a", 10 * MIN)
                .source(Source::Whatsapp)
                .reply_to("c2")
                .author("acmecare", 0, true),
        );
        assert!(out.is_empty() && !waits(&s, "c2") && waits(&s, "c1"));
    }

    /// Checkpoints written before conversations were answered have no `thread`: they load, and
    /// their questions are still answered by reply.
    #[test]
    fn a_question_from_an_old_checkpoint_still_loads() {
        let old = r#"{"pending":{"dm":{"id":"acme:whatsapp:dm","at":0,"path":"private:whatsapp","author":"userdm","excerpt":"my refund please","fired":true}}}"#;
        let mut s: UnansweredState = serde_json::from_str(old).unwrap();
        assert_eq!(s.awaiting(), vec![ReplyKey::Parent("dm".into())]);
        let out = see(
            &mut s,
            m("r", 90 * MIN)
                .source(Source::Whatsapp)
                .reply_to("dm")
                .author("acmecare", 0, true),
        );
        assert_eq!(
            clears(&out),
            vec![(
                "acme:whatsapp:dm".to_string(),
                "answered after 90 min".to_string()
            )]
        );
        assert!(firings(&out).is_empty());
    }
}
