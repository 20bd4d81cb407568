//! The `reddit` connector: the new posts and comments of chosen subreddits, and/or the posts a
//! search finds, read with Reddit's OAuth API by `vigie collect`, each new one a mention.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-reddit"
//! type = "reddit"
//! tenant = "acme"
//! client_id = "AbCdEf0123456789"            # a "script" or "web" app's id
//! client_secret_env = "REDDIT_SECRET"       # or client_secret = "…"
//! user_agent = "linux:com.acme.vigie:1.0 (by /u/acme_social)"   # required, descriptive
//! subreddits = ["acme", "AcmeSupport"]      # and/or:
//! query = "acme OR \"acme x2\""
//! interval = "1m"                           # from 1s; 1m when absent
//! # api_base = "https://oauth.reddit.com"
//! # auth_base = "https://www.reddit.com"
//! ```
//!
//! Authentication ([`Reddit::token`]): application-only OAuth2 (client credentials), `POST
//! <auth_base>/api/v1/access_token` with HTTP basic `client_id:client_secret` and
//! `grant_type=client_credentials`; the token is kept until [`TOKEN_MARGIN`] before its
//! `expires_in`, asked again then, and at once when the API answers `401`. Every call carries
//! `Authorization: bearer <token>` and the configured `User-Agent`.
//!
//! Listings ([`Listing`]), each polled from the newest with `limit=100` and `raw_json=1`:
//! `/r/<sub>/new` (posts) and `/r/<sub>/comments` (comments) per subreddit, and `/search?q=…
//! &sort=new&type=link` (posts). Older pages are read with `after=<fullname>` (and `count`) until
//! a page reaches what the cursor knows (at most [`MAX_PAGES`]; the first poll of a listing reads
//! one page, its backfill). `before=` is not used: Reddit answers it with nothing once the post it
//! names is deleted or removed, which would stall the listing.
//!
//! Rate limits: the `X-Ratelimit-Remaining` and `X-Ratelimit-Reset` (seconds) of every answer
//! are kept; a poll needing more calls than remain (one per listing) fails with kind
//! `rate_limited` and a wait until the reset, and a poll that runs out midway hands on what it
//! read. A `429` is a `rate_limited` error with its `Retry-After` (else the last reset known).
//! A listing refused (`403` private or banned subreddit, `404`) is skipped that poll, counted.
//!
//! Mapping in [`listing`]; deleted and removed posts and comments are ignored (`deleted`),
//! children that cannot be mapped are dead-lettered once (the cursor keeps their key).

pub mod cursor;
pub mod listing;
#[cfg(test)]
mod tests;

use super::api::{error, Answer, Api};
use super::map::{Mapped, Mapping};
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::{Secret, Settings};
use super::{Built, ConnectorError};
use base64::Engine;
use cursor::Cursor;
use hyper::{Method, StatusCode};
use serde_json::Value;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use vigie_core::metrics::ConnectorMetrics;
use vigie_core::model::FieldError;

/// The API's address when `api_base` is not given.
pub const DEFAULT_API_BASE: &str = "https://oauth.reddit.com";
/// Where tokens are asked for when `auth_base` is not given.
pub const DEFAULT_AUTH_BASE: &str = "https://www.reddit.com";
/// The time between two polls when `interval` is not given.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The shortest `interval` accepted.
pub const MIN_INTERVAL: Duration = Duration::from_secs(1);
/// Most `subreddits` (each is two listings a poll).
pub const MAX_SUBREDDITS: usize = 25;
/// Most pages read per listing and poll (100 children each).
pub const MAX_PAGES: usize = 5;
/// A token expiring within this is asked for again before the next call.
pub const TOKEN_MARGIN: Duration = Duration::from_secs(60);

/// The time now, Unix milliseconds (the system clock; tests set theirs).
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// One listing polled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// `/r/<sub>/new`: the subreddit's posts.
    New(String),
    /// `/r/<sub>/comments`: the subreddit's comments.
    Comments(String),
    /// `/search?q=<query>&sort=new`: posts anywhere.
    Search(String),
}

impl Listing {
    /// Its key in the cursor: `r/<sub>/new`, `r/<sub>/comments`, `search:<query>`.
    pub fn key(&self) -> String {
        match self {
            Listing::New(s) => format!("r/{s}/new"),
            Listing::Comments(s) => format!("r/{s}/comments"),
            Listing::Search(q) => format!("search:{q}"),
        }
    }

    /// Its path, from `after` (with `count` children read before) when paging.
    fn path(&self, after: Option<&str>, count: usize) -> String {
        let count = count.to_string();
        let paging = [
            ("after", after.unwrap_or_default()),
            ("count", if after.is_some() { count.as_str() } else { "" }),
        ];
        let common = [("limit", "100"), ("raw_json", "1")];
        match self {
            Listing::New(s) => format!("/r/{s}/new?{}", query(&[&common[..], &paging[..]].concat())),
            Listing::Comments(s) => {
                format!("/r/{s}/comments?{}", query(&[&common[..], &paging[..]].concat()))
            }
            Listing::Search(q) => format!(
                "/search?{}",
                query(
                    &[
                        &[("q", q.as_str()), ("sort", "new"), ("type", "link")][..],
                        &common[..],
                        &paging[..]
                    ]
                    .concat()
                )
            ),
        }
    }
}

/// A query string of `pairs`, those with an empty value left out.
fn query(pairs: &[(&str, &str)]) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        q.append_pair(k, v);
    }
    q.finish()
}

/// Builds a `reddit` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Ok(Built::Pull(Arc::new(reddit(settings)?)))
}

/// The connector its settings describe: `client_id`, `client_secret` (or `client_secret_env`),
/// `user_agent`, `subreddits` and/or `query`, `interval`, `api_base`, `auth_base`.
pub fn reddit(settings: &mut Settings) -> Result<Reddit, ConnectorError> {
    let client_id = settings.string("client_id")?.trim().to_string();
    let client_secret = settings.secret("client_secret")?;
    let user_agent = settings.string("user_agent")?.trim().to_string();
    let mut subreddits: Vec<String> = Vec::new();
    for s in settings.string_list("subreddits")?.unwrap_or_default() {
        let name = s
            .trim()
            .trim_start_matches('/')
            .trim_start_matches("r/")
            .to_string();
        let valid =
            (2..=21).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            return Err(settings.error(
                "subreddits",
                format!("{s:?} is not a subreddit name (2 to 21 letters, digits or _)"),
            ));
        }
        if !subreddits.iter().any(|k| k.eq_ignore_ascii_case(&name)) {
            subreddits.push(name);
        }
    }
    if subreddits.len() > MAX_SUBREDDITS {
        return Err(settings.error(
            "subreddits",
            format!("{} subreddits; at most {MAX_SUBREDDITS}", subreddits.len()),
        ));
    }
    let search = match settings.optional_string("query")? {
        Some(q) if q.trim().is_empty() => return Err(settings.error("query", "an empty search")),
        Some(q) if q.len() > 512 => {
            return Err(settings.error("query", "longer than Reddit's 512 characters"))
        }
        q => q.map(|q| q.trim().to_string()),
    };
    let mut listings: Vec<Listing> = subreddits
        .iter()
        .flat_map(|s| [Listing::New(s.clone()), Listing::Comments(s.clone())])
        .collect();
    listings.extend(search.map(Listing::Search));
    if listings.is_empty() {
        return Err(settings.error(
            "subreddits",
            "required for this connector type: the subreddits to read (or query, a search)",
        ));
    }
    let interval = settings.duration("interval", DEFAULT_INTERVAL, MIN_INTERVAL)?;
    let base = |settings: &mut Settings, key: &str, default: &str| -> Result<Api, ConnectorError> {
        let base = settings
            .optional_string(key)?
            .unwrap_or_else(|| default.to_string());
        Api::new(&base).map_err(|e| settings.error(key, e))
    };
    let api = base(settings, "api_base", DEFAULT_API_BASE)?;
    let auth = base(settings, "auth_base", DEFAULT_AUTH_BASE)?;
    Ok(Reddit {
        name: settings.name().to_string(),
        metrics: ConnectorMetrics::new(settings.name()),
        api,
        auth,
        client_id,
        client_secret,
        user_agent,
        listings,
        interval,
        clock: Arc::new(vigie_core::now_ms),
        token: Mutex::new(None),
        limit: Mutex::new(None),
    })
}

/// A `reddit` connector.
pub struct Reddit {
    name: String,
    metrics: ConnectorMetrics,
    api: Api,
    auth: Api,
    client_id: String,
    client_secret: Secret,
    user_agent: String,
    listings: Vec<Listing>,
    interval: Duration,
    clock: Clock,
    token: Mutex<Option<Token>>,
    limit: Mutex<Option<Limit>>,
}

/// An access token and when it expires.
struct Token {
    value: String,
    expires_at_ms: i64,
}

/// The rate limit as the last answer told it.
#[derive(Debug, Clone, Copy)]
struct Limit {
    remaining: f64,
    reset_at_ms: i64,
}

/// Why a poll stops.
enum Stop {
    /// The rate limit is reached: the poll ends with what it read.
    Limited(PollError),
    /// The poll fails whole (`429`, `5xx`, network, an unreadable answer, a refused token).
    Poll(PollError),
    /// This listing was refused (a private, banned or missing subreddit): skipped this time.
    Listing(PollError),
}

/// What a poll found: items with their time (oldest handed on first), and ignored children.
#[derive(Default)]
struct Found {
    items: Vec<(i64, Mapping)>,
    ignored: Vec<&'static str>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Reddit {
    /// The same connector reading the time from `clock` (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Its listings.
    pub fn listings(&self) -> &[Listing] {
        &self.listings
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// A `rate_limited` error when fewer than `needed` calls remain before the reset.
    fn limited(&self, needed: usize) -> Option<PollError> {
        let limit = (*lock(&self.limit))?;
        let now = self.now();
        if limit.remaining >= needed as f64 || limit.reset_at_ms <= now {
            return None;
        }
        let wait = Duration::from_millis((limit.reset_at_ms - now) as u64);
        Some(PollError {
            kind: "rate_limited",
            message: format!(
                "reddit {}: {} calls left of the rate limit, {needed} needed; it resets in {}s",
                self.name,
                limit.remaining,
                wait.as_secs()
            ),
            retry_after: Some(wait),
        })
    }

    /// The time left to the last reset known, if it is ahead.
    fn reset_wait(&self) -> Option<Duration> {
        let limit = (*lock(&self.limit))?;
        let left = limit.reset_at_ms - self.now();
        (left > 0).then(|| Duration::from_millis(left as u64))
    }

    /// Keeps the rate limit an answer tells (`X-Ratelimit-Remaining`, `X-Ratelimit-Reset`).
    fn note_limit(&self, answer: &Answer) {
        let number = |name: &str| answer.header(name).and_then(|v| v.trim().parse::<f64>().ok());
        let (Some(remaining), Some(reset)) = (number("x-ratelimit-remaining"), number("x-ratelimit-reset"))
        else {
            return;
        };
        if !(remaining.is_finite() && reset.is_finite() && reset >= 0.0) {
            return;
        }
        *lock(&self.limit) = Some(Limit {
            remaining,
            reset_at_ms: self.now().saturating_add((reset.min(86_400.0) * 1000.0) as i64),
        });
    }

    /// The access token: the one kept unless it expires within [`TOKEN_MARGIN`] (or `renew`),
    /// else a new one asked with the client credentials.
    pub async fn token(&self, renew: bool) -> Result<String, PollError> {
        let now = self.now();
        if !renew {
            if let Some(t) = lock(&self.token).as_ref() {
                if now.saturating_add(TOKEN_MARGIN.as_millis() as i64) < t.expires_at_ms {
                    return Ok(t.value.clone());
                }
            }
        }
        let credentials = format!(
            "{}:{}",
            self.client_id,
            String::from_utf8_lossy(self.client_secret.expose())
        );
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(credentials)
        );
        let answer = self
            .auth
            .call(
                Method::POST,
                "/api/v1/access_token",
                &[
                    ("Authorization", &basic),
                    ("Content-Type", "application/x-www-form-urlencoded"),
                    ("User-Agent", &self.user_agent),
                    ("Accept", "application/json"),
                ],
                Some(b"grant_type=client_credentials".to_vec()),
            )
            .await?;
        if matches!(answer.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(error(
                "auth",
                format!(
                    "reddit {}: the access token was refused (HTTP {}): check client_id and client_secret",
                    self.name, answer.status
                ),
            ));
        }
        if !answer.status.is_success() {
            return Err(error(
                "status",
                format!("reddit {}: access token: HTTP {}", self.name, answer.status),
            ));
        }
        let body = answer.json("access token")?;
        let Some(value) = super::map::non_blank(super::map::text(&body, &["access_token"])) else {
            let said = super::map::text(&body, &["error"]).unwrap_or("no access_token");
            return Err(error(
                "auth",
                format!("reddit {}: no access token given: {said}", self.name),
            ));
        };
        let expires_in = super::map::count(&body, &["expires_in"]).unwrap_or(3600);
        let token = Token {
            value: value.to_string(),
            expires_at_ms: now.saturating_add(expires_in.min(365 * 86_400) as i64 * 1000),
        };
        let value = token.value.clone();
        *lock(&self.token) = Some(token);
        Ok(value)
    }

    /// One call of the API with the token (asked again once on a `401`): its JSON, or why the
    /// poll stops.
    async fn get(&self, path: &str, what: &str) -> Result<Value, Stop> {
        for attempt in 0..2 {
            if let Some(e) = self.limited(1) {
                return Err(Stop::Limited(e));
            }
            let token = self.token(attempt > 0).await.map_err(Stop::Poll)?;
            let bearer = format!("bearer {token}");
            let headers = [
                ("Authorization", bearer.as_str()),
                ("User-Agent", self.user_agent.as_str()),
                ("Accept", "application/json"),
            ];
            let answer = match self.api.call(Method::GET, path, &headers, None).await {
                Ok(answer) => answer,
                Err(mut e) => {
                    if e.kind == "rate_limited" && e.retry_after.is_none() {
                        e.retry_after = self.reset_wait();
                    }
                    return Err(Stop::Poll(e));
                }
            };
            self.note_limit(&answer);
            if answer.status.is_success() {
                return answer.json(what).map_err(Stop::Poll);
            }
            if answer.status == StatusCode::UNAUTHORIZED {
                if attempt == 0 {
                    *lock(&self.token) = None;
                    continue;
                }
                return Err(Stop::Poll(error(
                    "auth",
                    format!("{what}: HTTP 401 with a new token"),
                )));
            }
            return Err(Stop::Listing(error(
                "status",
                format!("{what}: HTTP {}", answer.status),
            )));
        }
        Err(Stop::Poll(error("auth", format!("{what}: HTTP 401"))))
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let mut cursor = Cursor::decode(saved).unwrap_or_else(|e| {
            tracing::warn!("reddit {}: unreadable cursor ({e}); starting afresh", self.name);
            Cursor::default()
        });
        if let Some(e) = self.limited(self.listings.len()) {
            return Err(e);
        }
        let bound = Cursor::bound(self.listings.len());
        let mut found = Found::default();
        let (mut done, mut refused, mut limited) = (0usize, Vec::new(), None);
        for listing in &self.listings {
            let key = listing.key();
            let first = !cursor.listings.contains_key(&key);
            let mut state = cursor.listings.get(&key).cloned().unwrap_or_default();
            let mut read = Found::default();
            match self.poll_listing(listing, first, &mut state, &mut read).await {
                Ok(()) => {
                    state.trim(bound);
                    cursor.listings.insert(key, state);
                    found.items.append(&mut read.items);
                    found.ignored.append(&mut read.ignored);
                    done += 1;
                }
                Err(Stop::Listing(e)) => {
                    self.metrics.error(e.kind);
                    tracing::warn!("reddit {}: {key}: {e}; skipped this time", self.name);
                    refused.push(e);
                }
                Err(Stop::Limited(e)) => {
                    limited = Some(e);
                    break;
                }
                Err(Stop::Poll(e)) => return Err(e),
            }
        }
        if let Some(e) = limited {
            if done == 0 {
                return Err(e);
            }
            tracing::warn!(
                "reddit {}: {e}; handing on what was read, the rest after the reset",
                self.name
            );
        } else if done == 0 {
            if let Some(e) = refused.into_iter().next() {
                return Err(e);
            }
        }
        let configured: Vec<String> = self.listings.iter().map(Listing::key).collect();
        cursor.listings.retain(|k, _| configured.contains(k));
        found.items.sort_by_key(|(at, _)| *at);
        Ok(Polled {
            mapped: Mapped {
                items: found.items.into_iter().map(|(_, m)| m).collect(),
                ignored: found.ignored,
            },
            cursor: Some(cursor.encode()),
        })
    }

    /// Reads one listing's backlog, if any (where the last poll stopped at the page limit),
    /// then the listing from the newest, page after page, until a page reaches what `state`
    /// knew (one page on the `first` poll), [`MAX_PAGES`] pages in all: what is left past them
    /// is the backlog of the next poll.
    async fn poll_listing(
        &self,
        listing: &Listing,
        first: bool,
        state: &mut cursor::Listing,
        found: &mut Found,
    ) -> Result<(), Stop> {
        let watermark = state.newest_ms;
        let mut pages = MAX_PAGES;
        if let Some(backlog) = state.backlog.take() {
            let after = Some(backlog.after.clone());
            match self
                .read_pages(listing, after, backlog.until_ms, false, &mut pages, state, found)
                .await
            {
                Ok(Some(rest)) => {
                    state.backlog = Some(cursor::Backlog {
                        after: rest,
                        until_ms: backlog.until_ms,
                    });
                    // The pages are spent: the new children are read by a later poll.
                    return Ok(());
                }
                Ok(None) => {}
                Err(Stop::Listing(e)) => {
                    // An `after` no longer accepted: the backlog is given up, not the listing.
                    self.metrics.error(e.kind);
                    tracing::warn!(
                        "reddit {}: {}: {e}; the children left from the last poll are not read",
                        self.name,
                        listing.key()
                    );
                }
                Err(e) => return Err(e),
            }
        }
        if pages == 0 {
            return Ok(());
        }
        if let Some(rest) = self
            .read_pages(listing, None, watermark, first, &mut pages, state, found)
            .await?
        {
            tracing::warn!(
                "reddit {}: {}: more than {MAX_PAGES} pages new since the last poll; the older \
                 ones are read from the next poll on (poll more often)",
                self.name,
                listing.key()
            );
            state.backlog = Some(cursor::Backlog {
                after: rest,
                until_ms: watermark,
            });
        }
        Ok(())
    }

    /// Reads pages of `listing` from `after` (the newest without) until a page reaches
    /// `until_ms` or what `state` knows, or is the last, at most `pages` of them (counted down;
    /// one on the `first` poll): the `after` of the next page when the pages ran out first.
    #[allow(clippy::too_many_arguments)]
    async fn read_pages(
        &self,
        listing: &Listing,
        mut after: Option<String>,
        until_ms: i64,
        first: bool,
        pages: &mut usize,
        state: &mut cursor::Listing,
        found: &mut Found,
    ) -> Result<Option<String>, Stop> {
        let what = listing.key();
        let mut count = 0usize;
        while *pages > 0 {
            *pages -= 1;
            let answer = self.get(&listing.path(after.as_deref(), count), &what).await?;
            let Some(children) = answer.pointer("/data/children").and_then(Value::as_array) else {
                return Err(Stop::Poll(error(
                    "parse",
                    format!("{what}: the answer is not a Listing (no data.children)"),
                )));
            };
            count += children.len();
            let (mut oldest, mut reached) = (i64::MAX, false);
            for child in children {
                let key = listing::key(child);
                let created = listing::created_ms(child);
                if let Some(at) = created {
                    oldest = oldest.min(at);
                    state.newest_ms = state.newest_ms.max(at);
                }
                if state.knows(&key) {
                    reached = true;
                    state.note(&key, created.unwrap_or(state.newest_ms));
                    continue;
                }
                if created.is_some_and(|at| at <= state.floor_ms) {
                    reached = true;
                    continue;
                }
                match listing::map(child) {
                    listing::Child::Mention(m) => found.items.push((
                        m.created_at_ms,
                        Mapping {
                            item: Ok(*m),
                            original: child.to_string().into_bytes(),
                        },
                    )),
                    listing::Child::Deleted => found.ignored.push("deleted"),
                    listing::Child::Unmapped(field, reason) => found.items.push((
                        i64::MAX,
                        Mapping {
                            item: Err(FieldError::new(field, reason)),
                            original: child.to_string().into_bytes(),
                        },
                    )),
                }
                // Undated: dated by the newest seen, so that the bound does not forget it first.
                state.note(&key, created.unwrap_or(state.newest_ms));
            }
            let next = answer
                .pointer("/data/after")
                .and_then(Value::as_str)
                .filter(|a| !a.trim().is_empty())
                .map(str::to_string);
            if first {
                // The backfill stops at this page: what is older and unknown stays unread.
                if next.is_some() && oldest != i64::MAX {
                    state.floor_ms = state.floor_ms.max(oldest);
                }
                return Ok(None);
            }
            let Some(next) = next else { return Ok(None) };
            if reached || oldest <= until_ms || children.is_empty() {
                return Ok(None);
            }
            after = Some(next);
        }
        Ok(after)
    }
}

impl Poller for Reddit {
    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
