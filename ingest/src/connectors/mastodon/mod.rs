//! The `mastodon` connector: an instance's streaming API (server-sent events) for hashtags
//! and/or the public timeline, run by `vigie collect` as a stream (a [`Poller`] with a zero
//! interval), its gaps filled from the REST timelines.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-mastodon"
//! type = "mastodon"
//! tenant = "acme"
//! instance_url = "https://mastodon.social"   # REST: gap fill, and the host of local handles
//! access_token_env = "MASTODON_TOKEN"        # or access_token = "…" (read scope is enough)
//! hashtags = ["acme", "AcmeSupport"]         # one stream each (a leading # is dropped)
//! public = false                             # true: the federated public timeline too
//! api_base = "https://streaming.mastodon.social"  # optional: the streaming API's base
//! ```
//!
//! At least one hashtag or `public = true`. `api_base` is where the streaming requests go
//! (the instance's `urls.streaming_api` when it serves streaming on another host), by default
//! `instance_url`; the REST timelines always go to `instance_url`. Every request carries
//! `Authorization: Bearer <access_token>`.
//!
//! **Streams.** One SSE connection per stream: `GET <api_base>/api/v1/streaming/hashtag?tag=<t>`
//! for each hashtag (stream key `hashtag:<t>`, lowercased: Mastodon's tags ignore case), and
//! `GET <api_base>/api/v1/streaming/public` (key `public`). Each connection is read by a task
//! of its own, which drops it when nothing came, not even a `:thump` heartbeat, for
//! [`STALL_TIMEOUT`] (60 s), or when it ends or breaks; a poll returns what arrived on all of
//! them (from the first event, what came within [`WINDOW`], at most [`MAX_BATCH`] events),
//! with the cursor after it. A dropped connection is a failed poll (`stream`, `stalled`), after
//! the events that came before it are handed on: the collect loop backs off from 1 s and the
//! next poll opens it again (`vigie_connector_reconnects_total`), the other streams staying
//! connected. A stream that cannot be opened (a `404` hashtag, a `429`…) does not hold the
//! others up: it is retried after a back-off of its own, [`RETRY_BASE`] doubling up to
//! [`MAX_RETRY`] (at least its `Retry-After`), while the polls go on reading the streams that
//! are connected; a poll fails with the error only when no stream is connected (then every
//! stream is tried at each poll, the collect loop backing off between them).
//!
//! **Cursor and gaps.** The cursor is the newest status id seen on each stream
//! (`{"streams":{"hashtag:acme":"…","public":"…"}}`; ids compared as numbers). When a stream
//! is (re)connected with an id saved (a reconnect, or a restart of collect), the stream is
//! opened first and then the gap is read from `GET <instance_url>/api/v1/timelines/tag/<t>`
//! (or `/api/v1/timelines/public`) with `min_id=<saved id>&limit=40`, paging forward with the
//! newest id of each page until a page is not full, at most [`MAX_FILL_PAGES`] pages a poll:
//! past that, the statuses read are handed on, the connection is closed and the next poll goes
//! on from the new cursor. (`min_id` gives the statuses right after the id; `since_id` would
//! give the newest 40 and leave a hole when more came.) Statuses both read from the timeline
//! and streamed are handed on once. A stream first connected with no saved id starts from
//! the newest status of its timeline (`limit=1`, not handed on), so that its first gap can be
//! filled. A poll whose items were not handed on (the broker failed: collect polls again from
//! the older cursor) hands the same events on again.
//!
//! **Mapping** ([`status`]) of `update` events and timeline statuses: source `mastodon`, public;
//! native id = `id` (the instance's id of the status); url = `url`, else `uri`; created at
//! `created_at`; text = `content` as plain text ([`html`]), or for a status with only media
//! `[image]`, `[video]`, `[gifv]`, `[audio]`… and `[poll]`; title = `spoiler_text` (the content
//! warning); author = `account` (`id`, handle = `acct`, with `@<instance host>` added to a
//! local account's bare name, `display_name`, followers = `followers_count`, never verified);
//! kind `reply` with `parent_id` = `in_reply_to_id`, else `post`; thread_id = the parent's id for
//! a reply, the status's own id for a root (a status does not name its chain's root); language
//! hint = `language`'s two-letter code; likes = `favourites_count`, shares = `reblogs_count`,
//! comments = `replies_count`. A `status.update` event (an edit) is a mention of its own, native
//! id `<id>:edit:<edited_at ms>` ([`map::edit_id`]), created at
//! `edited_at`, the rest as above.
//!
//! Ignored by design (`vigie_connector_ignored_total{event}`): `delete` (Vigie keeps what was
//! said), `reblog` (a boost: the original is its own status), `not_public` (a `private` or
//! `direct` status: public and hashtag timelines carry only public ones). Dead-lettered
//! (stage `connector:<name>`): an event whose data is not a JSON object or is over 1 MiB, a
//! status without id, text, media or poll, or with an unreadable `created_at`, an unknown
//! event name.
//!
//! Limits: ids are the instance's own (the same post seen through two instances is two
//! mentions; run one connector per instance); a remote status federated late can get an id
//! below the saved one and be missed by the gap fill (the stream itself delivers it when
//! connected); an account's `bot` flag is not kept (the Author has no field for it); a
//! connection is opened per stream (SSE does not multiplex; the WebSocket API would).

pub mod cursor;
pub mod html;
pub mod sse;
pub mod status;
#[cfg(test)]
mod tests;

use super::api::{error, Api, Lines};
use super::map::{self, Mapped, Mapping};
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::{Secret, Settings};
use super::{Built, ConnectorError};
use cursor::{compare_ids, Cursor};
use hyper::Method;
use serde_json::Value;
use sse::Event;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use vigie_core::metrics::ConnectorMetrics;
use vigie_core::model::FieldError;

/// A connection silent this long (no event, no heartbeat) is dropped and opened again.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// Once an event came, how long a poll waits for more before returning them.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Most events a poll takes from the streams (a gap fill may add up to its pages).
pub const MAX_BATCH: usize = 100;
/// Statuses asked per timeline page (Mastodon's most).
pub const FILL_LIMIT: usize = 40;
/// Most timeline pages read by one poll to fill a gap.
pub const MAX_FILL_PAGES: usize = 10;
/// The first wait before opening again a stream that could not be opened.
pub const RETRY_BASE: Duration = Duration::from_secs(1);
/// The longest wait before opening again a stream that could not be opened.
pub const MAX_RETRY: Duration = Duration::from_secs(300);
/// Events the connections' tasks may hold before the poller takes them.
const CHANNEL: usize = 64;

/// Builds a `mastodon` connector from its settings: `instance_url`, `access_token`,
/// `hashtags`, `public`, `api_base`.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let instance_url = settings.string("instance_url")?;
    let token = settings.secret("access_token")?;
    let hashtags = settings.string_list("hashtags")?.unwrap_or_default();
    let public = settings.boolean("public", false)?;
    let api_base = settings
        .optional_string("api_base")?
        .filter(|s| !s.trim().is_empty());
    for tag in &hashtags {
        let bare = tag.trim().trim_start_matches('#');
        if bare.is_empty() || !bare.chars().all(|c| c.is_alphanumeric() || c == '_') {
            return Err(settings.error(
                "hashtags",
                format!("{tag:?} is not a hashtag (letters, digits and _, with or without #)"),
            ));
        }
    }
    if hashtags.is_empty() && !public {
        return Err(settings.error("hashtags", "give at least one hashtag, or public = true"));
    }
    let url = |key: &str, value: &str| {
        let parsed = url::Url::parse(value.trim())
            .map_err(|e| settings.error(key, format!("{value:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(settings.error(key, format!("{value:?}: expected an http:// or https:// URL")));
        }
        Ok(parsed)
    };
    let instance = url("instance_url", &instance_url)?;
    let streaming = match &api_base {
        Some(base) => url("api_base", base)?,
        None => instance.clone(),
    };
    let mastodon = Mastodon::new(
        settings.name(),
        instance.as_str(),
        streaming.as_str(),
        token,
        &hashtags,
        public,
        STALL_TIMEOUT,
    )
    .map_err(|e| settings.error("instance_url", e))?;
    Ok(Built::Pull(Arc::new(mastodon)))
}

/// One stream: its cursor key and its two paths.
#[derive(Debug, Clone)]
struct Stream {
    key: String,
    stream_path: String,
    timeline_path: String,
}

/// A Mastodon instance's streams.
pub struct Mastodon {
    name: String,
    streams: Vec<Stream>,
    rest: Api,
    streaming: Api,
    authorization: String,
    host: String,
    stall: Duration,
    metrics: ConnectorMetrics,
    state: Mutex<State>,
}

/// What the poller keeps between polls.
struct State {
    /// The live connection of each stream.
    connections: Vec<Option<Connection>>,
    /// Streams whose connection dropped, to count their reconnect.
    dropped: Vec<bool>,
    /// Streams that could not be opened: when to try again, and the wait that led there.
    retry: Vec<Option<Retry>>,
    generation: u64,
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    /// A failure met after events were taken: returned by the next poll.
    failed: Option<PollError>,
    /// The events of the last poll and the cursor returned after them, to hand them on again
    /// if that cursor was not saved.
    last: Option<Delivered>,
}

/// A stream that could not be opened: tried again no sooner than `at`.
struct Retry {
    at: tokio::time::Instant,
    delay: Duration,
    error: PollError,
}

/// A cursor returned and the events (with their stream) it was returned after.
type Delivered = (Vec<u8>, Vec<(usize, Event)>);

/// A connection's reading task (ended when dropped).
struct Connection {
    generation: u64,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// What a connection's task says: an event, or why the connection ended.
struct Message {
    stream: usize,
    generation: u64,
    what: Result<Event, PollError>,
}

impl Mastodon {
    /// The streams of `hashtags` (and the public timeline when `public`) of the instance at
    /// `instance_url` (REST) streamed from `api_base`, read with `access_token`, a connection
    /// silent for `stall` dropped; `name` is the connector's (its metrics).
    pub fn new(
        name: &str,
        instance_url: &str,
        api_base: &str,
        access_token: Secret,
        hashtags: &[String],
        public: bool,
        stall: Duration,
    ) -> Result<Self, String> {
        let token = std::str::from_utf8(access_token.expose())
            .map_err(|_| "the access token is not text".to_string())?;
        let mut streams: Vec<Stream> = Vec::new();
        for tag in hashtags {
            let tag = tag.trim().trim_start_matches('#').to_lowercase();
            let key = format!("hashtag:{tag}");
            if streams.iter().any(|s| s.key == key) {
                continue;
            }
            let encoded: String = url::form_urlencoded::byte_serialize(tag.as_bytes()).collect();
            streams.push(Stream {
                key,
                stream_path: format!("/api/v1/streaming/hashtag?tag={encoded}"),
                timeline_path: format!("/api/v1/timelines/tag/{encoded}"),
            });
        }
        if public {
            streams.push(Stream {
                key: "public".to_string(),
                stream_path: "/api/v1/streaming/public".to_string(),
                timeline_path: "/api/v1/timelines/public".to_string(),
            });
        }
        let host = url::Url::parse(instance_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_default();
        let (sender, receiver) = mpsc::channel(CHANNEL);
        Ok(Self {
            name: name.to_string(),
            rest: Api::new(instance_url)?,
            streaming: Api::new(api_base)?,
            authorization: format!("Bearer {token}"),
            host,
            stall,
            metrics: ConnectorMetrics::new(name),
            state: Mutex::new(State {
                connections: streams.iter().map(|_| None).collect(),
                dropped: vec![false; streams.len()],
                retry: streams.iter().map(|_| None).collect(),
                generation: 0,
                sender,
                receiver,
                failed: None,
                last: None,
            }),
            streams,
        })
    }

    /// The streams' cursor keys, in order.
    pub fn stream_keys(&self) -> Vec<&str> {
        self.streams.iter().map(|s| s.key.as_str()).collect()
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        if let Some(e) = state.failed.take() {
            return Err(e);
        }
        let mut start = Cursor::decode(saved).unwrap_or_else(|e| {
            tracing::warn!("mastodon {}: unreadable cursor ({e}); starting afresh", self.name);
            Cursor::default()
        });
        start
            .streams
            .retain(|k, _| self.streams.iter().any(|s| &s.key == k));
        let mut batch = Batch::new(self, start.clone());
        if let Some((cursor, events)) = state.last.take() {
            if cursor != saved {
                // The last poll's cursor was not saved: its events were not all handed on.
                for (stream, event) in events {
                    batch.event(stream, event);
                }
            }
        }
        let now = tokio::time::Instant::now();
        let waiting = |state: &State, i: usize| {
            state
                .retry
                .get(i)
                .and_then(Option::as_ref)
                .is_some_and(|r| r.at > now)
        };
        // With nothing connected and every stream waiting, all are tried: the poll would fail
        // anyway, and the collect loop backs off between polls.
        let honour_waits = state.connections.iter().any(Option::is_some)
            || (0..self.streams.len())
                .any(|i| state.connections.get(i).is_some_and(Option::is_none) && !waiting(state, i));
        let mut refused: Vec<PollError> = Vec::new();
        for i in 0..self.streams.len() {
            if state.connections.get(i).is_some_and(Option::is_some) {
                continue;
            }
            if honour_waits && waiting(state, i) {
                continue;
            }
            if let Err(e) = self.connect(state, i).await {
                let key = self.streams.get(i).map_or("", |s| s.key.as_str());
                let delay = state
                    .retry
                    .get(i)
                    .and_then(Option::as_ref)
                    .map_or(RETRY_BASE, |r| (r.delay * 2).min(MAX_RETRY))
                    .max(e.retry_after.unwrap_or_default());
                tracing::warn!(
                    "mastodon {}: {key}: {e}; trying it again in {}s, the other streams go on",
                    self.name,
                    delay.as_secs()
                );
                if let Some(slot) = state.retry.get_mut(i) {
                    *slot = Some(Retry {
                        at: tokio::time::Instant::now() + delay,
                        delay,
                        error: e.clone(),
                    });
                }
                refused.push(e);
                continue;
            }
            if let Some(slot) = state.retry.get_mut(i) {
                *slot = None;
            }
            if let Some(dropped) = state.dropped.get_mut(i) {
                if std::mem::take(dropped) {
                    self.metrics.reconnected();
                }
            }
            let saved_id = self.streams.get(i).and_then(|s| start.last(&s.key));
            let caught_up = match saved_id {
                Some(since) => self.fill(i, since, &mut batch).await,
                None => self.seed(i, &mut batch).await.map(|()| true),
            };
            match caught_up {
                Ok(true) => {}
                Ok(false) => {
                    // More to read than a poll reads: hand this on, go on from its cursor.
                    if let Some(c) = state.connections.get_mut(i) {
                        *c = None;
                    }
                    return Ok(batch.finish(state));
                }
                Err(e) => {
                    if let Some(c) = state.connections.get_mut(i) {
                        *c = None;
                    }
                    return batch.fail(state, e);
                }
            }
        }
        if state.connections.iter().all(Option::is_none) {
            // Nothing to read: the error of a stream that could not be opened.
            let e = refused.first().cloned().or_else(|| {
                let now = tokio::time::Instant::now();
                state
                    .retry
                    .iter()
                    .flatten()
                    .min_by_key(|r| r.at)
                    .map(|r| PollError {
                        retry_after: Some(r.at.saturating_duration_since(now)),
                        ..r.error.clone()
                    })
            });
            if let Some(e) = e {
                return batch.fail(state, e);
            }
        }
        for e in &refused {
            self.metrics.error(e.kind);
        }
        // A stream waiting to be opened again: the poll returns by then, so the next one tries.
        let retry_at = state.retry.iter().flatten().map(|r| r.at).min();
        let mut deadline = (!batch.is_empty()).then(|| tokio::time::Instant::now() + WINDOW);
        while batch.events.len() < MAX_BATCH {
            let message = match deadline.or(retry_at) {
                Some(at) => match tokio::time::timeout_at(at, state.receiver.recv()).await {
                    Ok(m) => m,
                    Err(_) => break,
                },
                None => state.receiver.recv().await,
            };
            let Some(message) = message else { break };
            let live = state
                .connections
                .get(message.stream)
                .and_then(Option::as_ref)
                .is_some_and(|c| c.generation == message.generation);
            if !live {
                continue;
            }
            match message.what {
                Ok(event) => {
                    batch.event(message.stream, event);
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + WINDOW);
                }
                Err(e) => {
                    if let Some(c) = state.connections.get_mut(message.stream) {
                        *c = None;
                    }
                    if let Some(d) = state.dropped.get_mut(message.stream) {
                        *d = true;
                    }
                    return batch.fail(state, e);
                }
            }
        }
        Ok(batch.finish(state))
    }

    /// Opens stream `i` and starts the task reading it.
    async fn connect(&self, state: &mut State, i: usize) -> Result<(), PollError> {
        let Some(stream) = self.streams.get(i) else {
            return Ok(());
        };
        let lines = self
            .streaming
            .open(
                &stream.stream_path,
                &[
                    ("Authorization", &self.authorization),
                    ("Accept", "text/event-stream"),
                ],
            )
            .await?;
        state.generation += 1;
        let generation = state.generation;
        let task = tokio::spawn(read(lines, i, generation, state.sender.clone(), self.stall));
        if let Some(slot) = state.connections.get_mut(i) {
            *slot = Some(Connection { generation, task });
        }
        tracing::info!("mastodon {}: {} connected", self.name, stream.key);
        Ok(())
    }

    /// Reads stream `i`'s timeline after `since` into `batch`: whether it caught up within
    /// [`MAX_FILL_PAGES`] pages.
    async fn fill(&self, i: usize, since: &str, batch: &mut Batch<'_>) -> Result<bool, PollError> {
        let Some(stream) = self.streams.get(i) else {
            return Ok(true);
        };
        let mut after = since.to_string();
        for _ in 0..MAX_FILL_PAGES {
            let min_id: String = url::form_urlencoded::byte_serialize(after.as_bytes()).collect();
            let page = self
                .timeline(stream, &format!("min_id={min_id}&limit={FILL_LIMIT}"))
                .await?;
            let full = page.len() >= FILL_LIMIT;
            let mut statuses: Vec<(String, Value)> = Vec::with_capacity(page.len());
            for status in page {
                match map::id(&status, &["id"]) {
                    Some(id) => statuses.push((id, status)),
                    None => batch.event(i, update(&status)),
                }
            }
            // Oldest first, whatever order the instance lists them in.
            statuses.sort_by(|a, b| compare_ids(&a.0, &b.0));
            let newest = statuses.last().map(|(id, _)| id.clone());
            for (_, status) in &statuses {
                batch.event(i, update(status));
            }
            match newest {
                Some(id) if full && compare_ids(&id, &after).is_gt() => after = id,
                _ => return Ok(true),
            }
        }
        tracing::info!(
            "mastodon {}: {} has more than {} statuses to catch up; going on next poll",
            self.name,
            stream.key,
            MAX_FILL_PAGES * FILL_LIMIT
        );
        Ok(false)
    }

    /// Starts stream `i`'s cursor at the newest status of its timeline (not handed on).
    async fn seed(&self, i: usize, batch: &mut Batch<'_>) -> Result<(), PollError> {
        let Some(stream) = self.streams.get(i) else {
            return Ok(());
        };
        let page = self.timeline(stream, "limit=1").await?;
        if let Some(id) = page
            .iter()
            .filter_map(|s| map::id(s, &["id"]))
            .max_by(|a, b| compare_ids(a, b))
        {
            batch.cursor.advance(&stream.key, &id);
        }
        Ok(())
    }

    /// One page of `stream`'s timeline with `query`.
    async fn timeline(&self, stream: &Stream, query: &str) -> Result<Vec<Value>, PollError> {
        let path = format!("{}?{query}", stream.timeline_path);
        let answer = self
            .rest
            .call(
                Method::GET,
                &path,
                &[
                    ("Authorization", &self.authorization),
                    ("Accept", "application/json"),
                ],
                None,
            )
            .await?;
        if !answer.status.is_success() {
            return Err(error(
                "status",
                format!("{}: HTTP {}", self.rest.url(&path), answer.status),
            ));
        }
        match answer.json("timeline")? {
            Value::Array(statuses) => Ok(statuses),
            _ => Err(error(
                "parse",
                format!("{}: the timeline is not a JSON array", self.rest.url(&path)),
            )),
        }
    }
}

/// A timeline's status as the `update` event that would have streamed it.
fn update(status: &Value) -> Event {
    Event {
        name: "update".to_string(),
        data: status.to_string(),
        oversized: false,
    }
}

/// Reads a connection until it ends, breaks or stalls, sending each event, then why it ended.
async fn read(
    mut lines: Lines,
    stream: usize,
    generation: u64,
    sender: mpsc::Sender<Message>,
    stall: Duration,
) {
    let mut parser = sse::Parser::default();
    loop {
        let what = match tokio::time::timeout(stall, lines.next_line()).await {
            Err(_) => Err(error(
                "stalled",
                format!("no event or heartbeat within {stall:?}: reconnecting"),
            )),
            Ok(Err(e)) => Err(e),
            Ok(Ok(None)) => Err(error("stream", "the server ended the stream: reconnecting")),
            Ok(Ok(Some(line))) => match parser.line(&line) {
                Some(event) => Ok(event),
                None => continue,
            },
        };
        let end = what.is_err();
        let message = Message {
            stream,
            generation,
            what,
        };
        if sender.send(message).await.is_err() || end {
            return;
        }
    }
}

/// What one poll gathers.
struct Batch<'a> {
    poller: &'a Mastodon,
    mapped: Mapped,
    start: Cursor,
    cursor: Cursor,
    /// The statuses (and edits) handed on by this poll, to hand each on once.
    seen: HashSet<String>,
    events: Vec<(usize, Event)>,
}

impl<'a> Batch<'a> {
    fn new(poller: &'a Mastodon, start: Cursor) -> Self {
        Self {
            poller,
            mapped: Mapped::default(),
            cursor: start.clone(),
            start,
            seen: HashSet::new(),
            events: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.cursor == self.start
    }

    /// Maps `event` of stream `stream`.
    fn event(&mut self, stream: usize, event: Event) {
        let key = self
            .poller
            .streams
            .get(stream)
            .map(|s| s.key.clone())
            .unwrap_or_default();
        self.take(&key, &event);
        self.events.push((stream, event));
    }

    fn take(&mut self, stream: &str, event: &Event) {
        let version = match event.name.as_str() {
            "update" => status::Version::New,
            "status.update" => status::Version::Edit,
            "delete" => return self.mapped.ignore("delete"),
            other => {
                return self.raw(
                    event,
                    "event",
                    format!("event {other:?} is not mapped (update, status.update and delete are)"),
                )
            }
        };
        if event.oversized {
            return self.raw(event, "data", format!("over {} bytes", sse::MAX_EVENT_BYTES));
        }
        let status = match serde_json::from_str::<Value>(&event.data) {
            Ok(v @ Value::Object(_)) => v,
            _ => return self.raw(event, "data", "the event's data is not a JSON object"),
        };
        if let Some(id) = map::id(&status, &["id"]) {
            let edited = map::text(&status, &["edited_at"]).unwrap_or_default();
            let once = match version {
                status::Version::New => id.clone(),
                status::Version::Edit => format!("{id}:edit:{edited}"),
            };
            if !self.seen.insert(once) {
                self.cursor.advance(stream, &id);
                return;
            }
        }
        if let Some(id) = status::map(&status, version, &self.poller.host, &mut self.mapped) {
            self.cursor.advance(stream, &id);
        }
    }

    /// An event that is not a status: dead-lettered as it came.
    fn raw(&mut self, event: &Event, field: &str, reason: impl Into<String>) {
        self.mapped.items.push(Mapping {
            item: Err(FieldError::new(field, reason)),
            original: format!("event: {}\ndata: {}", event.name, event.data).into_bytes(),
        });
    }

    /// The poll's result; its events kept until its cursor is seen saved.
    fn finish(self, state: &mut State) -> Polled {
        let cursor = (self.cursor != self.start).then(|| self.cursor.encode());
        if let Some(c) = &cursor {
            state.last = Some((c.clone(), self.events));
        }
        Polled {
            mapped: self.mapped,
            cursor,
        }
    }

    /// `e` now when nothing was gathered; else what was gathered, `e` at the next poll.
    fn fail(self, state: &mut State, e: PollError) -> Result<Polled, PollError> {
        if self.is_empty() {
            return Err(e);
        }
        state.failed = Some(e);
        Ok(self.finish(state))
    }
}

impl Poller for Mastodon {
    fn interval(&self) -> Duration {
        Duration::ZERO
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
