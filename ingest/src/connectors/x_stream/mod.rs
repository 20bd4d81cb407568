//! The `x_stream` connector: X API v2's filtered stream, run by `vigie collect` as a stream (a
//! [`Poller`] with a zero interval), its rules kept as the configuration says.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-x"
//! type = "x_stream"
//! tenant = "acme"
//! bearer_token_env = "X_BEARER_TOKEN"    # or bearer_token = "…" (the app's bearer token)
//! rules = ["acme -is:retweet", "\"acme support\" lang:fr"]
//! api_base = "https://api.x.com"          # optional, the default
//! backfill_minutes = 0                    # optional, 0..=5 (Pro and Enterprise access)
//! ```
//!
//! **Rules** ([`rules`]). Before the first connection of the process, the app's rules are read
//! (`GET /2/tweets/search/stream/rules`); each configured rule missing is added
//! (`POST …/rules` with `{"add":[{"value":<rule>,"tag":"vigie:<rule>"}]}`), and each rule tagged
//! `vigie:…` that the configuration no longer has is deleted (`{"delete":{"ids":[…]}}`). Rules
//! of other tools (any other tag, or none) are left alone; a configured rule that already exists
//! under another tag is not added again (X refuses duplicate values). A rule X refuses (invalid
//! syntax, too long, too many rules) fails the poll (`rules`), retried with back-off and logged.
//! Filtered-stream rules belong to the app, and X allows one connection per app at standard
//! access: run one `x_stream` connector per app.
//!
//! **Stream.** `GET <api_base>/2/tweets/search/stream?tweet.fields=created_at,author_id,
//! conversation_id,in_reply_to_user_id,referenced_tweets,lang,public_metrics,note_tweet,geo&
//! expansions=author_id,geo.place_id&user.fields=username,name,verified,public_metrics,location&
//! place.fields=country_code,name,place_type` with
//! `Authorization: Bearer <bearer_token>`: one JSON object per line, `\r\n` keep-alives about
//! every 20 s. A task reads the connection and drops it when nothing came, not even a
//! keep-alive, for [`STALL_TIMEOUT`] (20 s, as X's documentation advises: its keep-alives come
//! every 20 s, so one missed is a stalled connection); a poll returns what arrived (from the first line, what came within
//! [`WINDOW`], at most [`MAX_BATCH`] lines) with the cursor after it. A dropped or stalled
//! connection, and an `{"errors":[…]}` line (X's operational disconnects), is a failed poll
//! (`stream`, `stalled`, `stream_error`) after the lines before it are handed on; the collect loop
//! backs off from 1 s (doubling) and reconnects (`vigie_connector_reconnects_total`). A `429`
//! (too many connections or requests) waits for `Retry-After`, else `x-rate-limit-reset`.
//!
//! **Cursor and gaps.** The cursor is the newest tweet id seen (`{"last_id":"…"}`). The filtered
//! stream cannot resume at standard access: tweets posted while disconnected (or while collect
//! was down) are lost. With `backfill_minutes = N` (1 to 5; Pro and Enterprise access), every
//! connection made with a saved cursor asks X to send the last N minutes again
//! (`&backfill_minutes=N`), and the tweets of that connection not newer than the saved id are
//! skipped as already handed on (counted as ignored `backfill_repeat`); a gap longer than N
//! minutes is still lost. A poll whose lines were not handed on (the broker failed: collect
//! polls again from the older cursor) hands the same lines on again.
//!
//! **Mapping** ([`tweet`]): source `x`, public; native id = `data.id`; text = `note_tweet.text`
//! (a long post) else `text`; created at `created_at`; author from `includes.users` (the one of
//! `author_id`: `username` as handle, `name`, `verified`, `public_metrics.followers_count`); kind
//! `reply` with `parent_id` = the `replied_to` tweet's id, else `post` (quotes included);
//! `thread_id` = `conversation_id`; url `https://x.com/<username>/status/<id>` (else
//! `https://x.com/i/web/status/<id>`); language hint = `lang`'s two-letter code (not `und`,
//! `qme`…); likes = `like_count`, shares = `retweet_count + quote_count`, comments =
//! `reply_count`, views = `impression_count` when given. `matching_rules` (which rules matched)
//! is not kept: the Mention has no field for it.
//!
//! Ignored by design: `retweet` (a tweet whose `referenced_tweets` has `retweeted`: the
//! original's words again). Dead-lettered (stage `connector:<name>`): a line that is not a JSON
//! object, or that has neither `data` nor `errors`, a tweet without id or text, or with an
//! unreadable `created_at`.

pub mod rules;
#[cfg(test)]
mod tests;
pub mod tweet;

use super::api::{error, Api, Lines};
use super::map::{self, Mapped, Mapping};
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::{Secret, Settings};
use super::{Built, ConnectorError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Mutex};
use vigie_core::metrics::ConnectorMetrics;
use vigie_core::model::FieldError;

/// X's API, where `api_base` is not given.
pub const DEFAULT_API_BASE: &str = "https://api.x.com";
/// The stream and the fields asked for each tweet.
pub const STREAM_PATH: &str = "/2/tweets/search/stream?tweet.fields=created_at,author_id,conversation_id,in_reply_to_user_id,referenced_tweets,lang,public_metrics,note_tweet,geo&expansions=author_id,geo.place_id&user.fields=username,name,verified,public_metrics,location&place.fields=country_code,name,place_type";
/// A connection silent this long (no tweet, no keep-alive) is dropped and opened again.
pub const STALL_TIMEOUT: Duration = Duration::from_secs(20);
/// Once a line came, how long a poll waits for more before returning them.
pub const WINDOW: Duration = Duration::from_secs(1);
/// Most lines a poll takes.
pub const MAX_BATCH: usize = 100;
/// The most minutes of backfill X gives.
pub const MAX_BACKFILL_MINUTES: i64 = 5;
/// Lines the connection's task may hold before the poller takes them.
const CHANNEL: usize = 64;

/// Builds an `x_stream` connector from its settings: `bearer_token`, `rules`, `api_base`,
/// `backfill_minutes`.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let token = settings.secret("bearer_token")?;
    let rules = settings.string_list("rules")?.unwrap_or_default();
    if rules.is_empty() {
        return Err(settings.error(
            "rules",
            "give at least one rule (X's filtered-stream rule syntax, e.g. \"acme -is:retweet\")",
        ));
    }
    let api_base = settings
        .optional_string("api_base")?
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
    let parsed = url::Url::parse(api_base.trim())
        .map_err(|e| settings.error("api_base", format!("{api_base:?} is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(settings.error(
            "api_base",
            format!("{api_base:?}: expected an http:// or https:// URL"),
        ));
    }
    let backfill = settings.integer("backfill_minutes", 0, 0)?;
    if backfill > MAX_BACKFILL_MINUTES {
        return Err(settings.error(
            "backfill_minutes",
            format!("{backfill}: X backfills at most {MAX_BACKFILL_MINUTES} minutes"),
        ));
    }
    let stream = XStream::new(
        settings.name(),
        parsed.as_str(),
        token,
        &rules,
        u8::try_from(backfill).unwrap_or(0),
        STALL_TIMEOUT,
    )
    .map_err(|e| settings.error("bearer_token", e))?;
    Ok(Built::Pull(Arc::new(stream)))
}

/// The cursor: the newest tweet id seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The newest tweet id seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
}

impl Cursor {
    /// The cursor saved as `bytes` (empty: a first run).
    pub fn decode(bytes: &[u8]) -> Result<Cursor, serde_json::Error> {
        if bytes.is_empty() {
            return Ok(Cursor::default());
        }
        serde_json::from_slice(bytes)
    }

    /// As saved.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    fn advance(&mut self, id: &str) {
        if self
            .last_id
            .as_deref()
            .is_none_or(|last| compare_ids(id, last) == Ordering::Greater)
        {
            self.last_id = Some(id.to_string());
        }
    }
}

/// Tweet ids in their order (snowflakes: numbers of any length), else as text.
pub fn compare_ids(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

/// X's filtered stream.
pub struct XStream {
    name: String,
    api: Api,
    authorization: String,
    rules: Vec<String>,
    backfill_minutes: u8,
    stall: Duration,
    metrics: ConnectorMetrics,
    state: Mutex<State>,
}

/// What the poller keeps between polls.
struct State {
    connection: Option<Connection>,
    /// The connection dropped: its reconnect is counted.
    dropped: bool,
    rules_synced: bool,
    generation: u64,
    sender: mpsc::Sender<Message>,
    receiver: mpsc::Receiver<Message>,
    /// A failure met after lines were taken: returned by the next poll.
    failed: Option<PollError>,
    /// The lines of the last poll and the cursor returned after them, to hand them on again if
    /// that cursor was not saved.
    last: Option<(Vec<u8>, Vec<String>)>,
}

/// A connection's reading task (ended when dropped), and the id up to which its tweets are a
/// backfill of what was handed on.
struct Connection {
    generation: u64,
    repeats_up_to: Option<String>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Message {
    generation: u64,
    what: Result<String, PollError>,
}

impl XStream {
    /// The stream at `api_base` read with `bearer_token`, with `rules`, asking
    /// `backfill_minutes` (0: none) when it connects with a saved cursor, a connection silent
    /// for `stall` dropped; `name` is the connector's (its metrics).
    pub fn new(
        name: &str,
        api_base: &str,
        bearer_token: Secret,
        rules: &[String],
        backfill_minutes: u8,
        stall: Duration,
    ) -> Result<Self, String> {
        let token = std::str::from_utf8(bearer_token.expose())
            .map_err(|_| "the bearer token is not text".to_string())?;
        let mut unique: Vec<String> = Vec::new();
        for rule in rules.iter().map(|r| r.trim()) {
            if !rule.is_empty() && !unique.iter().any(|u| u == rule) {
                unique.push(rule.to_string());
            }
        }
        let (sender, receiver) = mpsc::channel(CHANNEL);
        Ok(Self {
            name: name.to_string(),
            api: Api::new(api_base)?,
            authorization: format!("Bearer {token}"),
            rules: unique,
            backfill_minutes,
            stall,
            metrics: ConnectorMetrics::new(name),
            state: Mutex::new(State {
                connection: None,
                dropped: false,
                rules_synced: false,
                generation: 0,
                sender,
                receiver,
                failed: None,
                last: None,
            }),
        })
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let mut guard = self.state.lock().await;
        let state = &mut *guard;
        if let Some(e) = state.failed.take() {
            return Err(e);
        }
        let start = Cursor::decode(saved).unwrap_or_else(|e| {
            tracing::warn!("x_stream {}: unreadable cursor ({e}); starting afresh", self.name);
            Cursor::default()
        });
        let mut batch = Batch::new(start.clone());
        if let Some((cursor, lines)) = state.last.take() {
            if cursor != saved {
                // The last poll's cursor was not saved: its lines were not all handed on.
                for line in lines {
                    // An error line is never kept, so this is only tweets and dead letters.
                    let _ = batch.line(line, None);
                }
            }
        }
        if state.connection.is_none() {
            if !state.rules_synced {
                match rules::sync(&self.api, &self.authorization, &self.rules).await {
                    Ok(changes) => {
                        tracing::info!(
                            "x_stream {}: rules in sync ({} added, {} deleted)",
                            self.name,
                            changes.added.len(),
                            changes.deleted.len()
                        );
                        state.rules_synced = true;
                    }
                    Err(e) => return batch.fail(state, e),
                }
            }
            let backfill =
                (self.backfill_minutes > 0 && start.last_id.is_some()).then_some(self.backfill_minutes);
            if let Err(e) = self.connect(state, backfill, start.last_id.clone()).await {
                return batch.fail(state, e);
            }
            if std::mem::take(&mut state.dropped) {
                self.metrics.reconnected();
            }
        }
        let mut deadline = (!batch.is_empty()).then(|| tokio::time::Instant::now() + WINDOW);
        while batch.lines.len() < MAX_BATCH {
            let message = match deadline {
                Some(at) => match tokio::time::timeout_at(at, state.receiver.recv()).await {
                    Ok(m) => m,
                    Err(_) => break,
                },
                None => state.receiver.recv().await,
            };
            let Some(message) = message else { break };
            let Some(connection) = state
                .connection
                .as_ref()
                .filter(|c| c.generation == message.generation)
            else {
                continue;
            };
            let outcome = match message.what {
                Ok(line) => batch.line(line, connection.repeats_up_to.as_deref()),
                Err(e) => Err(e),
            };
            if let Err(e) = outcome {
                state.connection = None;
                state.dropped = true;
                return batch.fail(state, e);
            }
            deadline.get_or_insert_with(|| tokio::time::Instant::now() + WINDOW);
        }
        Ok(batch.finish(state))
    }

    /// Opens the stream (asking `backfill` minutes again) and starts the task reading it.
    async fn connect(
        &self,
        state: &mut State,
        backfill: Option<u8>,
        last_id: Option<String>,
    ) -> Result<(), PollError> {
        let path = match backfill {
            Some(minutes) => format!("{STREAM_PATH}&backfill_minutes={minutes}"),
            None => STREAM_PATH.to_string(),
        };
        let lines = self
            .api
            .open(&path, &[("Authorization", &self.authorization)])
            .await?;
        state.generation += 1;
        let generation = state.generation;
        let task = tokio::spawn(read(lines, generation, state.sender.clone(), self.stall));
        state.connection = Some(Connection {
            generation,
            repeats_up_to: backfill.and(last_id),
            task,
        });
        tracing::info!(
            "x_stream {}: connected{}",
            self.name,
            backfill.map_or(String::new(), |m| format!(", {m} minutes backfilled"))
        );
        Ok(())
    }
}

/// Reads a connection until it ends, breaks or stalls, sending each line (keep-alives are not
/// sent), then why it ended.
async fn read(mut lines: Lines, generation: u64, sender: mpsc::Sender<Message>, stall: Duration) {
    loop {
        let what = match tokio::time::timeout(stall, lines.next_line()).await {
            Err(_) => Err(error(
                "stalled",
                format!("no tweet or keep-alive within {stall:?}: reconnecting"),
            )),
            Ok(Err(e)) => Err(e),
            Ok(Ok(None)) => Err(error("stream", "X ended the stream: reconnecting")),
            Ok(Ok(Some(line))) if line.trim().is_empty() => continue,
            Ok(Ok(Some(line))) => Ok(line),
        };
        let end = what.is_err();
        if sender.send(Message { generation, what }).await.is_err() || end {
            return;
        }
    }
}

/// What one poll gathers.
struct Batch {
    mapped: Mapped,
    start: Cursor,
    cursor: Cursor,
    seen: HashSet<String>,
    lines: Vec<String>,
}

impl Batch {
    fn new(start: Cursor) -> Self {
        Self {
            mapped: Mapped::default(),
            cursor: start.clone(),
            start,
            seen: HashSet::new(),
            lines: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Maps one line of the stream; an `errors` line is the stream failing.
    fn line(&mut self, line: String, repeats_up_to: Option<&str>) -> Result<(), PollError> {
        let v = match serde_json::from_str::<Value>(&line) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                self.raw(&line, "line", "not a JSON object");
                self.lines.push(line);
                return Ok(());
            }
        };
        if v.get("data").is_some_and(Value::is_object) {
            if let Some(id) = map::id(&v, &["data", "id"]) {
                if repeats_up_to.is_some_and(|up_to| compare_ids(&id, up_to) != Ordering::Greater) {
                    self.mapped.ignore("backfill_repeat");
                    return Ok(());
                }
                if !self.seen.insert(id) {
                    return Ok(());
                }
            }
            if let Some(id) = tweet::map(&v, &mut self.mapped) {
                self.cursor.advance(&id);
            }
        } else if let Some(errors) = v.get("errors") {
            return Err(error(
                "stream_error",
                format!("X sent errors: {}: reconnecting", tweet::describe_errors(errors)),
            ));
        } else {
            self.raw(&line, "line", "neither data nor errors");
        }
        self.lines.push(line);
        Ok(())
    }

    fn raw(&mut self, line: &str, field: &str, reason: &str) {
        self.mapped.items.push(Mapping {
            item: Err(FieldError::new(field, reason)),
            original: line.as_bytes().to_vec(),
        });
    }

    /// The poll's result; its lines kept until its cursor is seen saved.
    fn finish(self, state: &mut State) -> Polled {
        let cursor = (self.cursor != self.start).then(|| self.cursor.encode());
        if let Some(c) = &cursor {
            state.last = Some((c.clone(), self.lines));
        }
        Polled {
            mapped: self.mapped,
            cursor,
        }
    }

    /// `e` now when nothing was gathered; else what was gathered, `e` at the next poll.
    fn fail(self, state: &mut State, e: PollError) -> Result<Polled, PollError> {
        if self.is_empty() && self.mapped.ignored.is_empty() {
            return Err(e);
        }
        state.failed = Some(e);
        Ok(self.finish(state))
    }
}

impl Poller for XStream {
    fn interval(&self) -> Duration {
        Duration::ZERO
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
