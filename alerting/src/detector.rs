//! What every detector shares: the interface each rule type implements ([`DetectorState`]), the
//! mention as detectors see it, what they report ([`Signal`]), and the evidence they attach.
//! Detectors are pure state machines over event time; they never read a clock and never decide
//! about alert ids, cooldowns or notifications (see [`crate::book`]).

use serde::{Deserialize, Serialize};
use vigie_core::proto::{
    EnrichedMention, Evidence, Kind, Mention, SentimentLabel, Source, TermCount, Visibility,
};

/// How far behind a tenant's newest event time a mention may arrive and still count. Older
/// mentions are ignored by every detector, so replaying history gives the same alerts as living
/// through it as long as data was never later than this.
pub const LATENESS_MS: i64 = 10 * 60 * 1000;

/// How far after its reception a mention's own time may place it (clock skew between a source and
/// Vigie); a mention dated later counts at its reception time plus this.
pub const MAX_AHEAD_MS: i64 = 5 * 60 * 1000;

/// What one rule type's detector does, implemented by the state each rule keeps (one file per
/// rule type under [`crate::rules`]). The engine reaches rules only through this interface (via
/// [`crate::rules::Detector`]), so a rule's special needs live with the rule; the defaults are
/// those of a rule that only looks at the mentions its watch matched.
pub trait DetectorState: Sized {
    /// The rule's parameters: its message in the contract (`vigie.v1.ThresholdRule`, ...).
    type Rule;

    /// Whether each occurrence is its own alert (mentions, terms, stories, questions) rather
    /// than one alert per spell of a condition (volume, threshold, flatline).
    const EPISODIC: bool = false;

    /// Fresh state for `rule`.
    fn new(rule: &Self::Rule) -> Self;

    /// Feeds one mention the watch matched.
    fn observe(&mut self, rule: &Self::Rule, o: &Observed, out: &mut Vec<Signal>);

    /// Moves the detector's clock to the tenant's watermark: closes windows, checks deadlines,
    /// forgets what fell out of every window. Runs at every sweep of the tenant.
    fn advance(&mut self, _rule: &Self::Rule, _watermark: i64, _out: &mut Vec<Signal>) {}

    /// How long a fired episode stays reserved after firing, so a detector reporting it again
    /// (a chain extended hours later, a question still unanswered) never reuses its id.
    fn episode_memory_ms(_rule: &Self::Rule) -> i64 {
        0
    }

    /// How long an episodic alert stays open at least before it closes by itself (beyond the
    /// rule's cooldown and [`crate::book::EPISODIC_MIN_OPEN_MS`]).
    fn keep_open_ms(_rule: &Self::Rule) -> i64 {
        0
    }

    /// The keys under which this state, having just observed `o` (checked after each
    /// [`DetectorState::observe`]), awaits an answer to it: mentions found under one of them
    /// (see [`ReplyKey::answering`]) are then passed to [`DetectorState::on_reply`], even when
    /// the watch does not match them. Empty when it awaits nothing about `o`.
    fn reply_keys(&self, _o: &Observed) -> Vec<ReplyKey> {
        Vec::new()
    }

    /// Every key this state awaits an answer under, each once (to rebuild the reply index after
    /// a restore or a sweep): the same keys [`DetectorState::reply_keys`] gave for what is still
    /// awaited.
    fn awaiting(&self) -> Vec<ReplyKey> {
        Vec::new()
    }

    /// A mention of the tenant found under one of the keys this state awaits: a reply to an
    /// awaited mention (its parent id is that mention's native id or full id), or a private
    /// message in an awaited conversation. It may come from anyone and may also have been
    /// observed by the watch; the state decides whether it answers anything.
    fn on_reply(&mut self, _rule: &Self::Rule, _reply: &Observed, _out: &mut Vec<Signal>) {}
}

/// What a mention can answer, as the engine's reply index holds it (per tenant). The two kinds
/// never collide: a native id that happens to look like a conversation is still a parent key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ReplyKey {
    /// Replies to the mention with this native id (or this full id): the mentions whose
    /// `parent_id` it is.
    Parent(String),
    /// Later messages of this private conversation, as [`Observed::conversation`] names it.
    Conversation(String),
}

impl ReplyKey {
    /// The keys `o` may answer under: its parent (as given, and its native id when given as a
    /// full id) and its private conversation. Empty for a mention that answers nothing (no
    /// parent, and public or outside any conversation).
    pub fn answering(o: &Observed) -> Vec<ReplyKey> {
        let mut keys = Vec::new();
        let parent = o.mention.parent_id.as_str();
        if !parent.is_empty() {
            keys.push(ReplyKey::Parent(parent.to_string()));
            let native = parent.rsplit(':').next().unwrap_or(parent);
            if native != parent && !native.is_empty() {
                keys.push(ReplyKey::Parent(native.to_string()));
            }
        }
        if let Some(c) = o.conversation() {
            keys.push(ReplyKey::Conversation(c));
        }
        keys
    }
}

/// The audience a mention reached, in the order a story escalates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Audience {
    /// Private channels and direct messages ("dark social").
    Private,
    /// Public posts, comments and reviews.
    Public,
    /// Press articles and blogs.
    Press,
}

impl Audience {
    /// Name used in evidence paths.
    pub fn name(self) -> &'static str {
        match self {
            Audience::Private => "private",
            Audience::Public => "public",
            Audience::Press => "press",
        }
    }
}

/// One enriched mention as the detectors read it.
#[derive(Debug, Clone, Copy)]
pub struct Observed<'a> {
    /// The raw mention.
    pub mention: &'a Mention,
    /// Its enrichment.
    pub enriched: &'a EnrichedMention,
}

impl<'a> Observed<'a> {
    /// The mention inside an enriched record, if any.
    pub fn new(enriched: &'a EnrichedMention) -> Option<Self> {
        enriched
            .mention
            .as_ref()
            .map(|mention| Self { mention, enriched })
    }

    /// Event time, ms: the mention's own time, but never more than [`MAX_AHEAD_MS`] after its
    /// reception (stored with it, so a replay sees the same bound). A mention dated in the future
    /// — a wrong clock, or a hostile client — therefore cannot move its tenant's clock ahead and
    /// make every later mention "late".
    pub fn at(&self) -> i64 {
        let m = self.mention;
        if m.received_at_ms > 0 {
            m.created_at_ms.min(m.received_at_ms + MAX_AHEAD_MS)
        } else {
            m.created_at_ms
        }
    }

    /// Whether the scoring stage labelled it negative.
    pub fn negative(&self) -> bool {
        self.enriched.sentiment_label == SentimentLabel::Negative as i32
    }

    /// The audience it reached.
    pub fn audience(&self) -> Audience {
        let source = self.mention.source;
        let kind = self.mention.kind;
        if self.mention.visibility == Visibility::Private as i32
            || kind == Kind::DirectMessage as i32
            || vigie_core::model::is_private_channel(Source::try_from(source).unwrap_or_default())
        {
            Audience::Private
        } else if source == Source::News as i32
            || source == Source::Blog as i32
            || kind == Kind::Article as i32
        {
            Audience::Press
        } else {
            Audience::Public
        }
    }

    /// The private conversation it belongs to, "<source>:<thread_id>" (a WhatsApp, Messenger,
    /// Instagram or Telegram chat): None for a mention that is not private or has no thread id.
    /// Public mentions with a thread id (a comment thread) are not conversations: answers to
    /// them are replies, by parent id.
    pub fn conversation(&self) -> Option<String> {
        let thread = self.mention.thread_id.as_str();
        (self.audience() == Audience::Private && !thread.is_empty())
            .then(|| format!("{}:{thread}", self.source_name()))
    }

    /// Source name ("x", "news"...).
    pub fn source_name(&self) -> &'static str {
        vigie_core::names::source_name(Source::try_from(self.mention.source).unwrap_or(Source::Unspecified))
    }
}

/// Sentiment breakdown of a set of mentions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Sentiments {
    /// Negative mentions.
    pub negative: u64,
    /// Neutral (or unlabelled) mentions.
    pub neutral: u64,
    /// Positive mentions.
    pub positive: u64,
}

impl Sentiments {
    /// Counts one mention.
    pub fn add(&mut self, label: i32) {
        if label == SentimentLabel::Negative as i32 {
            self.negative += 1;
        } else if label == SentimentLabel::Positive as i32 {
            self.positive += 1;
        } else {
            self.neutral += 1;
        }
    }
}

/// Evidence as detectors build it (serialisable, for checkpoints); becomes [`Evidence`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvidenceData {
    /// Mentions (or stories) counted.
    pub count: u64,
    /// What was expected.
    pub baseline: f64,
    /// Distance from the baseline in the detector's unit.
    pub score: f64,
    /// A few mention ids, newest first.
    pub samples: Vec<String>,
    /// Sentiment breakdown.
    pub sentiments: Sentiments,
    /// Most frequent terms.
    pub top_terms: Vec<(String, u64)>,
    /// Audiences reached, in order (escalation).
    pub path: Vec<String>,
}

impl EvidenceData {
    /// The contract form.
    pub fn to_proto(&self) -> Evidence {
        Evidence {
            count: self.count,
            baseline: self.baseline,
            sample_mention_ids: self.samples.clone(),
            negative_count: self.sentiments.negative,
            neutral_count: self.sentiments.neutral,
            positive_count: self.sentiments.positive,
            top_terms: self
                .top_terms
                .iter()
                .map(|(term, count)| TermCount {
                    term: term.clone(),
                    count: *count,
                })
                .collect(),
            score: self.score,
            path: self.path.clone(),
        }
    }
}

/// A detector's finding that its condition holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    /// What distinguishes this occurrence from others of the same rule: a window or bucket start
    /// for condition rules, a mention, term, story or question for episodic ones. Part of the
    /// alert id, so it must depend on the data only.
    pub episode: String,
    /// Event time at which the condition was first seen to hold.
    pub at_ms: i64,
    /// Event-time span the evidence covers.
    pub window_start_ms: i64,
    /// End of that span.
    pub window_end_ms: i64,
    /// What the detector saw.
    pub evidence: EvidenceData,
    /// One human sentence.
    pub summary: String,
}

/// What a detector reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Signal {
    /// The condition holds (a new occurrence, or an update of the open one).
    Fire(Firing),
    /// The condition cleared at event time `at_ms`: for `episode` only, or for the rule's open
    /// alert when `None`.
    Clear {
        /// Which occurrence cleared (episodic rules).
        episode: Option<String>,
        /// Event time.
        at_ms: i64,
        /// Why, for the resolved alert's summary.
        note: String,
    },
}

/// FNV-1a, stable across processes (checkpoints hold these hashes).
pub fn stable_hash(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Up to `n` most frequent entries, ties broken by name so output is deterministic.
pub fn top_n(counts: impl IntoIterator<Item = (String, u64)>, n: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

/// "90 s", "10 min", "2 h".
pub fn human_duration(seconds: i64) -> String {
    if seconds % 3600 == 0 {
        format!("{} h", seconds / 3600)
    } else if seconds % 60 == 0 {
        format!("{} min", seconds / 60)
    } else {
        format!("{seconds} s")
    }
}
