//! The `rss` connector: an RSS 2.0 or Atom feed polled by `vigie collect` (Google Alerts
//! included), each new entry a mention.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-alerts"
//! type = "rss"
//! tenant = "acme"
//! url = "https://www.google.com/alerts/feeds/0000/1111"   # http or https
//! interval = "5m"          # from 1s; 5m when absent
//! source = "tiktok"        # optional: every entry of this source, not the one of its domain
//! ```
//!
//! Each poll is a conditional GET ([`fetch`]): a `304` costs nothing. An entry's link is
//! unwrapped when Google wrapped it, its source is the target's domain's ([`entry::infer_source`]:
//! the social platforms, review sites, blog platforms, else news), its title and text are plain
//! text ([`html`](crate::connectors::html)), its native id is the entry's id (its link when it has none). Entries already
//! handed on (the keys of the [`cursor`]) are skipped; a feed that is no RSS or Atom is
//! dead-lettered whole, once (the cursor keeps its hash, and otherwise stays where it was).

pub mod cursor;
pub mod entry;
pub mod fetch;
#[cfg(test)]
mod tests;

use super::map::{Mapped, Mapping};
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::Settings;
use super::signature;
use super::{Built, ConnectorError};
use cursor::Cursor;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::http_client::HttpClient;
use vigie_core::proto::Source;

/// The time between two polls when `interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
/// The shortest `interval` accepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// Builds a `rss` connector from its settings: `url`, `interval`, `source`.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let url = settings.string("url")?;
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| settings.error("url", format!("{url:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(settings.error("url", format!("{url:?}: expected an http:// or https:// URL")));
    }
    let interval = settings.duration("interval", DEFAULT_INTERVAL, MIN_INTERVAL)?;
    let source = match settings.optional_string("source")? {
        None => None,
        Some(name) => Some(forced_source(settings, &name)?),
    };
    let client =
        vigie_core::http_client::client(parsed.as_str()).map_err(|e| settings.error("url", e.to_string()))?;
    Ok(Built::Pull(Arc::new(Rss::new(
        parsed.as_str(),
        interval,
        source,
        client,
    ))))
}

fn forced_source(settings: &Settings, name: &str) -> Result<Source, ConnectorError> {
    let names = || {
        vigie_core::names::SOURCE_NAMES
            .iter()
            .map(|(n, _)| *n)
            .filter(|n| {
                !vigie_core::model::is_private_channel(vigie_core::names::parse_source(n).unwrap_or_default())
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    match vigie_core::names::parse_source(name) {
        Some(s) if vigie_core::model::is_private_channel(s) => Err(settings.error(
            "source",
            format!(
                "{name:?} is a private channel; a feed's entries are public: one of {}",
                names()
            ),
        )),
        Some(s) if s != Source::Unspecified => Ok(s),
        _ => Err(settings.error(
            "source",
            format!("{name:?} is not a source; expected one of {}", names()),
        )),
    }
}

/// A feed polled.
pub struct Rss {
    url: String,
    interval: Duration,
    source: Option<Source>,
    client: HttpClient,
}

impl Rss {
    /// The feed at `url`, polled every `interval`, its entries of `source` when given (else of
    /// their domain's), fetched with `client`.
    pub fn new(url: &str, interval: Duration, source: Option<Source>, client: HttpClient) -> Self {
        Self {
            url: url.to_string(),
            interval,
            source,
            client,
        }
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let cursor = Cursor::decode(saved).unwrap_or_else(|e| {
            tracing::warn!("rss {}: unreadable cursor ({e}); starting afresh", self.url);
            Cursor::default()
        });
        match fetch::get(
            &self.client,
            &self.url,
            cursor.etag.as_deref(),
            cursor.last_modified.as_deref(),
        )
        .await?
        {
            fetch::Answer::NotModified => Ok(Polled::default()),
            fetch::Answer::Feed {
                body,
                etag,
                last_modified,
            } => self.read(&cursor, &body, etag, last_modified),
        }
    }

    /// What a feed `body` holds that `cursor` has not seen, and the cursor to save once it is
    /// handed on (`None` when unchanged).
    pub fn read(
        &self,
        cursor: &Cursor,
        body: &[u8],
        etag: Option<String>,
        last_modified: Option<String>,
    ) -> Result<Polled, PollError> {
        let parser = feed_rs::parser::Builder::new()
            .base_uri(Some(&self.url))
            // No made-up ids (feed-rs would draw a random UUID for an entry with neither id nor
            // link): entry::map picks a stable one.
            .id_generator(|_, _, _| String::new())
            .build();
        let feed = match parser.parse(body) {
            Ok(feed) => feed,
            Err(e) => return self.malformed(cursor, body, &e.to_string()),
        };
        let seen = cursor.seen_set();
        let mut keys = Vec::with_capacity(feed.entries.len());
        let mut fresh: Vec<(i64, Mapping)> = Vec::new();
        for e in &feed.entries {
            let mapped = entry::map(e, self.source);
            if !seen.contains(mapped.key.as_str()) {
                let at = match &mapped.mapping.item {
                    Ok(m) if m.created_at_ms > 0 => m.created_at_ms,
                    _ => i64::MAX,
                };
                fresh.push((at, mapped.mapping));
            }
            keys.push(mapped.key);
        }
        // Oldest first (feeds list the newest first): downstream windows see them in order.
        fresh.sort_by_key(|(at, _)| *at);
        let mut next = cursor.clone();
        next.etag = etag;
        next.last_modified = last_modified;
        next.malformed = None;
        next.remember(keys.iter().map(String::as_str));
        Ok(Polled {
            mapped: Mapped {
                items: fresh.into_iter().map(|(_, m)| m).collect(),
                ignored: Vec::new(),
            },
            cursor: (next != *cursor).then(|| next.encode()),
        })
    }

    /// A body that is no feed: dead-lettered whole the first time, an error (backed off) while
    /// it stays the same, rather than another dead letter each poll (each keeping up to 256 KiB
    /// of the body: `core::deadletter` cuts originals there). Its hash goes in the cursor, saved
    /// only once the broker acknowledged the dead letter: a failed hand-over dead-letters it
    /// again at the next poll, and a restart remembers it. The rest of the cursor is kept.
    fn malformed(&self, cursor: &Cursor, body: &[u8], reason: &str) -> Result<Polled, PollError> {
        let hash = signature::hex(&Sha256::digest(body));
        if cursor.malformed.as_deref() == Some(hash.as_str()) {
            return Err(PollError {
                kind: "parse",
                message: format!(
                    "{}: still not an RSS or Atom feed (the body already dead-lettered): {reason}",
                    self.url
                ),
                retry_after: None,
            });
        }
        let mut next = cursor.clone();
        next.malformed = Some(hash);
        Ok(Polled {
            mapped: Mapped::malformed(format!("not an RSS or Atom feed: {reason}"), body),
            cursor: Some(next.encode()),
        })
    }
}

impl Poller for Rss {
    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
