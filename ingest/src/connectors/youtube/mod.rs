//! The `youtube` connector: the comments of chosen videos, or of every video of a channel, read
//! with the YouTube Data API v3 by `vigie collect`, each new comment, reply or edit a mention.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-youtube"
//! type = "youtube"
//! tenant = "acme"
//! api_key_env = "YOUTUBE_API_KEY"     # or api_key = "…"
//! video_ids = ["AcmeVid0001"]         # and/or:
//! channel_id = "UCAcmeChannel000000000001"
//! interval = "5m"                     # from 1s; 5m when absent
//! daily_quota = 10000                 # the project's units a day (Google's default: 10,000)
//! # api_base = "https://www.googleapis.com/youtube/v3"
//! ```
//!
//! Each poll reads, per target, `commentThreads.list` (`part=snippet,replies`, `videoId=` or
//! `allThreadsRelatedToChannelId=`, `order=time`, `maxResults=100`), newest first, page after
//! page until a page reaches what the cursor had already seen (at most [`MAX_PAGES`]; the first
//! poll of a target reads one page: the newest 100 threads are its backfill). A thread carrying
//! fewer replies than its `totalReplyCount`, whose count changed since the cursor read it, has
//! its replies read with `comments.list` (`parentId=`, at most [`MAX_REPLY_PAGES`] pages). The
//! key is sent as the `X-Goog-Api-Key` header, never in the URL (URLs end up in logs).
//!
//! Quota: each call costs 1 unit ([`UNITS_PER_CALL`], the documented cost of both list
//! methods, failed calls included); the units used are counted against `daily_quota` on the
//! API's day (midnight to midnight Pacific Time, [`quota`]) and kept in the cursor, so that a
//! restart does not count from zero (`vigie_connector_quota_used`). Polls are spread over what
//! is left ([`quota::budget`]): a poll starts no sooner than `time_left / (units_left /
//! units_per_poll)` after the previous one; with fewer units left than targets, or on a `403
//! quotaExceeded`, the poll fails with kind `quota` and a wait until the reset.
//!
//! Mapping ([`comment`]): comments never seen are mentions (native id the comment id), a
//! comment seen again with a newer `updatedAt` than the cursor's is an edit (native id
//! [`map::edit_id`]`(id, updatedAt)`, dated then); items without id, snippet, top-level
//! comment, `publishedAt` or text are dead-lettered once (the cursor keeps their hash).

pub mod comment;
pub mod cursor;
pub mod quota;
#[cfg(test)]
mod tests;

use super::api::{error, Api};
use super::map::{self, Mapped, Mapping};
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::{Secret, Settings};
use super::{signature, Built, ConnectorError};
use comment::Comment;
use cursor::{Cursor, Quota};
use hyper::Method;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use vigie_core::metrics::ConnectorMetrics;
use vigie_core::model::FieldError;

/// The API's address when `api_base` is not given.
pub const DEFAULT_API_BASE: &str = "https://www.googleapis.com/youtube/v3";
/// The time between two polls when `interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);
/// The shortest `interval` accepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// The units a day when `daily_quota` is not given (a Google Cloud project's default).
pub const DEFAULT_DAILY_QUOTA: i64 = 10_000;
/// Most `video_ids`: each costs at least a unit a poll, and the cursor remembers comments of each.
pub const MAX_VIDEO_IDS: usize = 25;
/// Most pages of threads read per target and poll (100 threads each).
pub const MAX_PAGES: usize = 10;
/// Most pages of replies read per thread (100 replies each).
pub const MAX_REPLY_PAGES: usize = 5;
/// What one call of `commentThreads.list` or `comments.list` costs.
pub const UNITS_PER_CALL: u64 = 1;

/// The time now, Unix milliseconds (the system clock; tests set theirs).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// What one target is: a video's comments, or those of every video of a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// `videoId=`.
    Video(String),
    /// `allThreadsRelatedToChannelId=`.
    Channel(String),
}

impl Target {
    /// Its key in the cursor: `video:<id>` or `channel:<id>`.
    pub fn key(&self) -> String {
        match self {
            Target::Video(v) => format!("video:{v}"),
            Target::Channel(c) => format!("channel:{c}"),
        }
    }

    fn video(&self) -> Option<&str> {
        match self {
            Target::Video(v) => Some(v),
            Target::Channel(_) => None,
        }
    }

    fn query(&self) -> (&'static str, &str) {
        match self {
            Target::Video(v) => ("videoId", v),
            Target::Channel(c) => ("allThreadsRelatedToChannelId", c),
        }
    }
}

/// Builds a `youtube` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Ok(Built::Pull(Arc::new(youtube(settings)?)))
}

/// The connector its settings describe: `api_key` (or `api_key_env`), `video_ids` and/or
/// `channel_id`, `interval`, `daily_quota`, `api_base`.
pub fn youtube(settings: &mut Settings) -> Result<YouTube, ConnectorError> {
    let key = settings.secret("api_key")?;
    let videos = settings.string_list("video_ids")?.unwrap_or_default();
    let channel = settings.optional_string("channel_id")?;
    let mut targets: Vec<Target> = Vec::new();
    for v in videos {
        let v = v.trim().to_string();
        if !is_id(&v) {
            return Err(settings.error("video_ids", format!("{v:?} is not a YouTube video id")));
        }
        let target = Target::Video(v);
        if !targets.contains(&target) {
            targets.push(target);
        }
    }
    if targets.len() > MAX_VIDEO_IDS {
        return Err(settings.error(
            "video_ids",
            format!(
                "{} videos; at most {MAX_VIDEO_IDS} (use channel_id for all of a channel's)",
                targets.len()
            ),
        ));
    }
    if let Some(c) = channel {
        let c = c.trim().to_string();
        if !is_id(&c) {
            return Err(settings.error("channel_id", format!("{c:?} is not a YouTube channel id")));
        }
        targets.push(Target::Channel(c));
    }
    if targets.is_empty() {
        return Err(settings.error(
            "video_ids",
            "required for this connector type: the videos whose comments to read (or channel_id)",
        ));
    }
    let interval = settings.duration("interval", DEFAULT_INTERVAL, MIN_INTERVAL)?;
    let daily_quota = settings.integer("daily_quota", DEFAULT_DAILY_QUOTA, 1)?;
    if daily_quota < targets.len() as i64 {
        return Err(settings.error(
            "daily_quota",
            format!(
                "{daily_quota} units a day cannot read {} targets even once (each costs at least one unit)",
                targets.len()
            ),
        ));
    }
    let base = settings
        .optional_string("api_base")?
        .unwrap_or_else(|| DEFAULT_API_BASE.to_string());
    let api = Api::new(&base).map_err(|e| settings.error("api_base", e))?;
    Ok(YouTube {
        name: settings.name().to_string(),
        metrics: ConnectorMetrics::new(settings.name()),
        api,
        key,
        targets,
        interval,
        daily_quota: u64::try_from(daily_quota).unwrap_or(1),
        clock: Arc::new(vigie_core::now_ms),
        memory: Mutex::new(Memory::default()),
    })
}

/// A query string of `pairs`, those with an empty value left out.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    q.finish()
}

/// Video and channel ids: letters, digits, `-` and `_`.
fn is_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A `youtube` connector.
pub struct YouTube {
    name: String,
    metrics: ConnectorMetrics,
    api: Api,
    key: Secret,
    targets: Vec<Target>,
    interval: Duration,
    daily_quota: u64,
    clock: Clock,
    memory: Mutex<Memory>,
}

/// What the poller remembers between polls: the units used (also counted when a poll failed,
/// whose cursor is not saved), the last poll's calls and start.
#[derive(Default)]
struct Memory {
    quota: Option<Quota>,
    calls_per_poll: u64,
    last_start_ms: Option<i64>,
}

/// Why a poll stops.
enum Stop {
    /// The daily quota is spent (a `403 quotaExceeded`, or no unit left): the poll ends with
    /// what it found.
    Quota(String),
    /// The poll fails whole (`429`, `5xx`, network, an unreadable answer, a refused key).
    Poll(PollError),
    /// This target's call was refused (`403 commentsDisabled`, `404 videoNotFound`…): the target
    /// is skipped this time.
    Target(PollError),
}

/// The units of one poll: used today (this poll's included), and this poll's calls.
struct Calls {
    used: u64,
    made: u64,
    daily: u64,
}

/// What a poll found: items with their time (oldest handed on first).
#[derive(Default)]
struct Found {
    items: Vec<(i64, Mapping)>,
}

impl Found {
    fn mention(&mut self, m: vigie_core::proto::Mention, original: &Value) {
        self.items.push((
            m.created_at_ms,
            Mapping {
                item: Ok(m),
                original: original.to_string().into_bytes(),
            },
        ));
    }

    fn unmapped(&mut self, field: &str, reason: &str, original: &Value) {
        self.items.push((
            i64::MAX,
            Mapping {
                item: Err(FieldError::new(field, reason)),
                original: original.to_string().into_bytes(),
            },
        ));
    }
}

impl YouTube {
    /// The same connector reading the time from `clock` (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Its targets.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The units used on the Pacific day of `now_ms`: the cursor's or the poller's own count,
    /// the larger (zero on a new day).
    fn used_today(&self, cursor: &Cursor, day: &str) -> u64 {
        let saved = if cursor.quota.day == day {
            cursor.quota.used
        } else {
            0
        };
        let own = self
            .memory()
            .quota
            .as_ref()
            .filter(|q| q.day == day)
            .map_or(0, |q| q.used);
        saved.max(own)
    }

    fn remember(&self, day: &str, calls: &Calls, start_ms: i64) {
        let mut memory = self.memory();
        memory.quota = Some(Quota {
            day: day.to_string(),
            used: calls.used,
        });
        memory.calls_per_poll = calls.made.max(self.targets.len() as u64);
        memory.last_start_ms = Some(start_ms);
        drop(memory);
        self.metrics
            .quota_used(i64::try_from(calls.used).unwrap_or(i64::MAX));
    }

    fn quota_error(&self, now_ms: i64, why: &str) -> PollError {
        let wait = Duration::from_millis((quota::next_reset_ms(now_ms) - now_ms).max(0) as u64);
        PollError {
            kind: "quota",
            message: format!(
                "youtube {}: {why}; the quota resets at midnight Pacific Time, in {}s",
                self.name,
                wait.as_secs()
            ),
            retry_after: Some(wait),
        }
    }

    /// The budget before a poll from `cursor` at `now_ms` (see [`quota::budget`]).
    pub fn budget(&self, cursor: &Cursor, now_ms: i64) -> quota::Budget {
        let used = self.used_today(cursor, &quota::pacific_date(now_ms));
        let (calls_per_poll, last_start) = {
            let m = self.memory();
            (m.calls_per_poll, m.last_start_ms)
        };
        quota::budget(
            now_ms,
            self.daily_quota,
            used,
            self.targets.len() as u64,
            calls_per_poll,
            last_start,
        )
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let mut cursor = Cursor::decode(saved).unwrap_or_else(|e| {
            tracing::warn!("youtube {}: unreadable cursor ({e}); starting afresh", self.name);
            Cursor::default()
        });
        match self.budget(&cursor, (self.clock)()) {
            quota::Budget::Exhausted(_) => {
                return Err(self.quota_error((self.clock)(), "no quota unit left for today"))
            }
            quota::Budget::After(wait) if !wait.is_zero() => {
                tracing::info!(
                    "youtube {}: spreading the quota left over the day: polling in {}s",
                    self.name,
                    wait.as_secs()
                );
                tokio::time::sleep(wait).await;
            }
            quota::Budget::After(_) => {}
        }
        let start_ms = (self.clock)();
        let day = quota::pacific_date(start_ms);
        let mut calls = Calls {
            used: self.used_today(&cursor, &day),
            made: 0,
            daily: self.daily_quota,
        };
        let bound = Cursor::bound(self.targets.len());
        let mut found = Found::default();
        let (mut done, mut refused, mut spent) = (0usize, Vec::new(), None);
        for target in &self.targets {
            let key = target.key();
            let first = !cursor.targets.contains_key(&key);
            let mut state = cursor.targets.get(&key).cloned().unwrap_or_default();
            let mut items = Found::default();
            match self
                .poll_target(target, first, &mut state, &mut calls, &mut items)
                .await
            {
                Ok(()) => {
                    state.trim(bound);
                    cursor.targets.insert(key, state);
                    found.items.append(&mut items.items);
                    done += 1;
                }
                Err(Stop::Target(e)) => {
                    self.metrics.error(e.kind);
                    tracing::warn!("youtube {}: {}: {e}; skipped this time", self.name, target.key());
                    refused.push(e);
                }
                Err(Stop::Quota(why)) => {
                    spent = Some(why);
                    break;
                }
                Err(Stop::Poll(e)) => {
                    self.remember(&day, &calls, start_ms);
                    return Err(e);
                }
            }
        }
        self.remember(&day, &calls, start_ms);
        if let Some(why) = spent {
            if found.items.is_empty() {
                return Err(self.quota_error((self.clock)(), &why));
            }
            tracing::warn!(
                "youtube {}: {why}; handing on what was read, the next poll waits for the reset",
                self.name
            );
        } else if done == 0 {
            if let Some(e) = refused.into_iter().next() {
                return Err(e);
            }
        }
        let configured: Vec<String> = self.targets.iter().map(Target::key).collect();
        cursor.targets.retain(|k, _| configured.contains(k));
        cursor.quota = Quota {
            day,
            used: calls.used,
        };
        found.items.sort_by_key(|(at, _)| *at);
        Ok(Polled {
            mapped: Mapped {
                items: found.items.into_iter().map(|(_, m)| m).collect(),
                ignored: Vec::new(),
            },
            cursor: Some(cursor.encode()),
        })
    }

    /// Reads one target's backlog, if any (where the last poll stopped at the page limit),
    /// then its threads from the newest, page after page, until a page reaches what `state`
    /// knew (one page on the `first` poll), [`MAX_PAGES`] pages in all: what is left past them
    /// is the backlog of the next poll.
    async fn poll_target(
        &self,
        target: &Target,
        first: bool,
        state: &mut cursor::Target,
        calls: &mut Calls,
        found: &mut Found,
    ) -> Result<(), Stop> {
        let watermark = state.newest_ms;
        let mut pages = MAX_PAGES;
        if let Some(backlog) = state.backlog.take() {
            let token = Some(backlog.page_token.clone());
            match self
                .read_pages(
                    target,
                    token,
                    backlog.until_ms,
                    false,
                    &mut pages,
                    state,
                    calls,
                    found,
                )
                .await
            {
                Ok(Some(rest)) => {
                    state.backlog = Some(cursor::Backlog {
                        page_token: rest,
                        until_ms: backlog.until_ms,
                    });
                    // The pages are spent: the new threads are read by a later poll.
                    return Ok(());
                }
                Ok(None) => {}
                Err(Stop::Target(e)) => {
                    // A page token no longer accepted: the backlog is given up, not the target.
                    self.metrics.error(e.kind);
                    tracing::warn!(
                        "youtube {}: {}: {e}; the threads left from the last poll are not read",
                        self.name,
                        target.key()
                    );
                }
                Err(e) => return Err(e),
            }
        }
        if pages == 0 {
            return Ok(());
        }
        if let Some(rest) = self
            .read_pages(target, None, watermark, first, &mut pages, state, calls, found)
            .await?
        {
            tracing::warn!(
                "youtube {}: {}: more than {MAX_PAGES} pages of new threads since the last poll; \
                 the older ones are read from the next poll on (poll more often)",
                self.name,
                target.key()
            );
            state.backlog = Some(cursor::Backlog {
                page_token: rest,
                until_ms: watermark,
            });
        }
        Ok(())
    }

    /// Reads pages of threads from `token` (the newest without) until a page reaches
    /// `until_ms` or is the last, at most `pages` of them (counted down; one on the `first`
    /// poll): the token of the next page when the pages ran out first.
    #[allow(clippy::too_many_arguments)]
    async fn read_pages(
        &self,
        target: &Target,
        mut token: Option<String>,
        until_ms: i64,
        first: bool,
        pages: &mut usize,
        state: &mut cursor::Target,
        calls: &mut Calls,
        found: &mut Found,
    ) -> Result<Option<String>, Stop> {
        while *pages > 0 {
            *pages -= 1;
            let (param, value) = target.query();
            let path = format!(
                "/commentThreads?{}",
                query(&[
                    ("part", "snippet,replies"),
                    (param, value),
                    ("order", "time"),
                    ("maxResults", "100"),
                    ("pageToken", token.as_deref().unwrap_or_default()),
                ])
            );
            let answer = self.get(calls, &path, "commentThreads.list").await?;
            let mut oldest = i64::MAX;
            for item in answer
                .get("items")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(activity) = self.thread(target, item, state, calls, found).await? {
                    oldest = oldest.min(activity);
                }
            }
            let next = map::non_blank(map::text(&answer, &["nextPageToken"])).map(str::to_string);
            if first {
                // The backfill stops at this page: what is older and unknown stays unread.
                if next.is_some() && oldest != i64::MAX {
                    state.floor_ms = state.floor_ms.max(oldest);
                }
                return Ok(None);
            }
            let Some(next) = next else { return Ok(None) };
            if oldest <= until_ms {
                return Ok(None);
            }
            token = Some(next);
        }
        Ok(token)
    }

    /// One thread item: its top-level comment and its replies considered; its latest activity.
    async fn thread(
        &self,
        target: &Target,
        item: &Value,
        state: &mut cursor::Target,
        calls: &mut Calls,
        found: &mut Found,
    ) -> Result<Option<i64>, Stop> {
        let thread = match comment::thread(item) {
            Ok(t) => t,
            Err((field, reason)) => {
                malformed(item, &field, &reason, state, found);
                return Ok(None);
            }
        };
        let Some(video) = thread
            .video_id
            .clone()
            .or_else(|| target.video().map(str::to_string))
        else {
            malformed(
                item,
                "snippet.videoId",
                "a comment thread without videoId",
                state,
                found,
            );
            return Ok(None);
        };
        let activity = thread.activity_ms();
        state.newest_ms = state.newest_ms.max(activity);
        let known_replies = state.known(&thread.top.id).map(|k| k.replies);
        consider(
            &thread.top,
            &video,
            None,
            Some(thread.total_replies),
            item,
            state,
            found,
        );
        state.active(&thread.top.id, activity);
        let fetched;
        let replies: Vec<&Value> = if thread.total_replies > thread.carried.len() as u64
            && known_replies != Some(thread.total_replies)
        {
            fetched = self.replies(&thread.id, calls).await?;
            fetched.iter().collect()
        } else {
            thread.carried.clone()
        };
        for reply in replies {
            match comment::comment(reply, "") {
                Ok(c) => {
                    let parent = c.parent_id.clone().unwrap_or_else(|| thread.top.id.clone());
                    consider(&c, &video, Some(&parent), None, reply, state, found);
                }
                Err((field, reason)) => malformed(reply, &field, &reason, state, found),
            }
        }
        Ok(Some(activity))
    }

    /// The replies of thread `parent`, with `comments.list`.
    async fn replies(&self, parent: &str, calls: &mut Calls) -> Result<Vec<Value>, Stop> {
        let mut all = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_REPLY_PAGES {
            let path = format!(
                "/comments?{}",
                query(&[
                    ("part", "snippet"),
                    ("parentId", parent),
                    ("maxResults", "100"),
                    ("pageToken", token.as_deref().unwrap_or_default()),
                ])
            );
            let answer = self.get(calls, &path, "comments.list").await?;
            if let Some(Value::Array(items)) = answer.get("items") {
                all.extend(items.iter().cloned());
            }
            match map::non_blank(map::text(&answer, &["nextPageToken"])) {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        Ok(all)
    }

    /// One call of the API, counted against the quota: its JSON, or why the poll stops.
    async fn get(&self, calls: &mut Calls, path: &str, what: &str) -> Result<Value, Stop> {
        if calls.used.saturating_add(UNITS_PER_CALL) > calls.daily {
            return Err(Stop::Quota(format!(
                "the daily quota of {} units is spent",
                calls.daily
            )));
        }
        calls.used += UNITS_PER_CALL;
        calls.made += 1;
        let key = String::from_utf8_lossy(self.key.expose());
        let answer = self
            .api
            .call(
                Method::GET,
                path,
                &[("X-Goog-Api-Key", &key), ("Accept", "application/json")],
                None,
            )
            .await
            .map_err(Stop::Poll)?;
        if answer.status.is_success() {
            return answer.json(what).map_err(Stop::Poll);
        }
        let body: Value = serde_json::from_slice(&answer.body).unwrap_or(Value::Null);
        let reason = body
            .pointer("/error/errors/0/reason")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let said = body
            .pointer("/error/message")
            .and_then(Value::as_str)
            .map(crate::connectors::html::to_text)
            .unwrap_or_default();
        let message = format!("{what}: HTTP {} {reason}: {said}", answer.status);
        match reason {
            "quotaExceeded" | "dailyLimitExceeded" => {
                calls.used = calls.used.max(calls.daily);
                Err(Stop::Quota(message))
            }
            "rateLimitExceeded" | "userRateLimitExceeded" => Err(Stop::Poll(error("rate_limited", message))),
            "keyInvalid" | "keyExpired" | "accessNotConfigured" | "ipRefererBlocked" | "forbiddenByKey" => {
                Err(Stop::Poll(error("auth", message)))
            }
            _ if answer.status == hyper::StatusCode::UNAUTHORIZED || said.contains("API key") => {
                Err(Stop::Poll(error("auth", message)))
            }
            _ => Err(Stop::Target(error("status", message))),
        }
    }
}

/// A comment as it is now against what `state` knew: a mention the first time (unless older
/// than the floor), an edit when its `updatedAt` is newer than the one handed on, else
/// nothing; noted as seen (a thread with its reply count, even when older than the floor).
fn consider(
    c: &Comment,
    video: &str,
    parent: Option<&str>,
    replies: Option<u64>,
    original: &Value,
    state: &mut cursor::Target,
    found: &mut Found,
) {
    let count = replies.unwrap_or(0);
    match state.known(&c.id) {
        Some(known) => {
            if c.updated_ms > known.updated_ms {
                let edit = (map::edit_id(&c.id, Some(c.updated_ms), &c.text), c.updated_ms);
                found.mention(comment::mention(c, video, parent, count, Some(edit)), original);
            }
        }
        None if c.published_ms <= state.floor_ms => {
            if replies.is_none() {
                return;
            }
        }
        None => found.mention(comment::mention(c, video, parent, count, None), original),
    }
    state.note(&c.id, c.updated_ms, replies);
}

/// An item that cannot be read: dead-lettered the first time (its hash is noted in `state`).
fn malformed(item: &Value, field: &str, reason: &str, state: &mut cursor::Target, found: &mut Found) {
    let digest = signature::hex(&Sha256::digest(item.to_string().as_bytes()));
    let key = format!("sha256:{}", digest.get(..16).unwrap_or(&digest));
    if state.known(&key).is_none() {
        found.unmapped(field, reason, item);
    }
    // Dated by the newest activity seen, so that the bound does not forget it first.
    let at = state.newest_ms;
    state.note(&key, at, None);
}

impl Poller for YouTube {
    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
