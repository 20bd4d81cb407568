//! Builders for crafted mention streams in detector and engine tests.

use crate::detector::{Firing, Observed, Signal};
use vigie_core::proto::{Author, EnrichedMention, Kind, Mention, Risk, SentimentLabel, Source, Visibility};

/// Minutes to ms.
pub const MIN: i64 = 60_000;

/// An enriched mention under construction.
#[derive(Clone)]
pub struct M(pub EnrichedMention);

/// A neutral public X post `id` of tenant "acme" at `at_ms`, matched by watch "acme/w".
pub fn m(id: &str, at_ms: i64) -> M {
    M(EnrichedMention {
        mention: Some(Mention {
            id: format!("acme:x:{id}"),
            native_id: id.into(),
            tenant: "acme".into(),
            source: Source::X as i32,
            visibility: Visibility::Public as i32,
            kind: Kind::Post as i32,
            created_at_ms: at_ms,
            author: Some(Author {
                id: format!("u-{id}"),
                handle: format!("user{id}"),
                ..Default::default()
            }),
            text: "hello acme".into(),
            ..Default::default()
        }),
        sentiment_label: SentimentLabel::Neutral as i32,
        risk: Some(Risk::default()),
        matched_watches: vec!["acme/w".into()],
        ..Default::default()
    })
}

impl M {
    fn mention(&mut self) -> &mut Mention {
        self.0.mention.get_or_insert_with(Default::default)
    }
    /// Labelled negative.
    pub fn negative(mut self) -> Self {
        self.0.sentiment_label = SentimentLabel::Negative as i32;
        self
    }
    /// Published on `source` (and private for private messengers).
    pub fn source(mut self, source: Source) -> Self {
        self.mention().source = source as i32;
        if matches!(
            source,
            Source::Whatsapp | Source::Messenger | Source::Telegram | Source::Email
        ) {
            self.mention().visibility = Visibility::Private as i32;
            self.mention().kind = Kind::DirectMessage as i32;
        }
        if matches!(source, Source::News | Source::Blog) {
            self.mention().kind = Kind::Article as i32;
        }
        let native = self.mention().native_id.clone();
        let tenant = self.mention().tenant.clone();
        self.mention().id = format!("{tenant}:{}:{native}", vigie_core::names::source_name(source));
        self
    }
    /// Written by `id` with `followers`, `verified`.
    pub fn author(mut self, id: &str, followers: u64, verified: bool) -> Self {
        self.mention().author = Some(Author {
            id: id.into(),
            handle: id.into(),
            followers,
            verified,
            ..Default::default()
        });
        self
    }
    /// Received by ingest at `at_ms`.
    pub fn received(mut self, at_ms: i64) -> Self {
        self.mention().received_at_ms = at_ms;
        self
    }
    /// Of `tenant`, matched by its watch "w".
    pub fn tenant(mut self, tenant: &str) -> Self {
        let native = self.mention().native_id.clone();
        self.mention().tenant = tenant.into();
        self.mention().id = format!("{tenant}:x:{native}");
        self.0.matched_watches = vec![format!("{tenant}/w")];
        self
    }
    /// Text.
    pub fn text(mut self, text: &str) -> Self {
        self.mention().text = text.into();
        self
    }
    /// Hashtags as extracted by enrich.
    pub fn hashtags(mut self, tags: &[&str]) -> Self {
        self.0.hashtags = tags.iter().map(|t| t.to_string()).collect();
        self
    }
    /// Near-duplicate cluster.
    pub fn cluster(mut self, c: u64) -> Self {
        self.0.cluster = c;
        self
    }
    /// A reply to the mention with native id `parent`.
    pub fn reply_to(mut self, parent: &str) -> Self {
        self.mention().parent_id = parent.into();
        self.mention().kind = Kind::Reply as i32;
        self
    }
    /// In the conversation (or comment thread) `thread`.
    pub fn thread(mut self, thread: &str) -> Self {
        self.mention().thread_id = thread.into();
        self
    }
    /// Toxicity score and risk flags.
    pub fn risk(mut self, toxicity: f32, flags: &[&str]) -> Self {
        self.0.risk = Some(Risk {
            toxicity,
            flags: flags.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        });
        self
    }
    /// Review rating.
    pub fn rating(mut self, r: f32) -> Self {
        self.mention().rating = r;
        self.mention().kind = Kind::Review as i32;
        self
    }
    /// Matched by these watch keys instead of "acme/w".
    pub fn watches(mut self, keys: &[&str]) -> Self {
        self.0.matched_watches = keys.iter().map(|k| k.to_string()).collect();
        self
    }
    /// The finished record.
    pub fn build(self) -> EnrichedMention {
        self.0
    }
}

/// Runs `f` on the observed form of `e`, collecting signals.
pub fn with_observed(e: &EnrichedMention, f: impl FnOnce(&Observed, &mut Vec<Signal>)) -> Vec<Signal> {
    let mut out = Vec::new();
    let o = Observed::new(e).expect("a mention");
    f(&o, &mut out);
    out
}

/// The firings among `signals`.
pub fn firings(signals: &[Signal]) -> Vec<&Firing> {
    signals
        .iter()
        .filter_map(|s| match s {
            Signal::Fire(f) => Some(f),
            _ => None,
        })
        .collect()
}

/// Whether `signals` holds a clear.
pub fn cleared(signals: &[Signal]) -> bool {
    signals.iter().any(|s| matches!(s, Signal::Clear { .. }))
}
