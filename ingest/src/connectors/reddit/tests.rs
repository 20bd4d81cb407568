//! The reddit connector against a token endpoint and an OAuth API served on 127.0.0.1 by the
//! test, from payloads written after Reddit's API documentation (fake ids): mapping field by
//! field, deleted children ignored, the OAuth token kept, renewed before expiry and on a 401,
//! a restart without gap or duplicate, 429 and `X-Ratelimit-Remaining: 0` waited out, malformed
//! children dead-lettered once, and the settings.

use super::cursor::Cursor;
use super::*;
use crate::collect;
use crate::connectors::build_all;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::model::parse_rfc3339_ms;
use vigie_core::proto::{DeadLetter, Kind, Mention, Source, Visibility};
use vigie_core::topics;

const ACCESS_TOKEN: &str = include_str!("../../../../testdata/connectors/reddit/access_token.json");
const NEW_POSTS: &str = include_str!("../../../../testdata/connectors/reddit/new_posts.json");
const COMMENTS: &str = include_str!("../../../../testdata/connectors/reddit/comments.json");
const SEARCH: &str = include_str!("../../../../testdata/connectors/reddit/search.json");

const USER_AGENT: &str = "linux:com.acme.vigie:1.0 (by /u/acme_social)";

fn ms(rfc3339: &str) -> i64 {
    parse_rfc3339_ms(rfc3339).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// An answer given instead of the API's: status, headers, body.
type Instead = (StatusCode, Vec<(&'static str, String)>, String);

/// A token request: its `Authorization`, `User-Agent` and body.
type TokenRequest = (Option<String>, Option<String>, String);

/// One API request answered: its path, query, `User-Agent` and `Authorization`.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    query: HashMap<String, String>,
    user_agent: Option<String>,
    authorization: Option<String>,
}

/// The fake Reddit: its token endpoint (counting the tokens it issued, the one valid now), its
/// listings (set by the tests), the rate-limit headers it sends, and an answer to give instead.
struct Fake {
    tokens_issued: AtomicUsize,
    token_requests: Mutex<Vec<TokenRequest>>,
    valid_token: Mutex<String>,
    expires_in: AtomicU64,
    new_posts: Mutex<Value>,
    comments: Mutex<Value>,
    search: Mutex<Value>,
    requests: Mutex<Vec<Request>>,
    limit: Mutex<(String, String)>,
    instead: Mutex<Option<Instead>>,
    /// When set, r/acme/new lists these instead, newest first, 100 a page by `after`.
    paged: Mutex<Option<Vec<Value>>>,
}

struct Served {
    fake: Arc<Fake>,
    auth_base: String,
    api_base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn access_token(State(fake): State<Arc<Fake>>, headers: HeaderMap, body: String) -> Response {
    fake.token_requests.lock().unwrap().push((
        header(&headers, "authorization"),
        header(&headers, "user-agent"),
        body,
    ));
    let n = fake.tokens_issued.fetch_add(1, Ordering::SeqCst) + 1;
    let mut answer = json(ACCESS_TOKEN);
    let token = format!("{}-{n}", answer["access_token"].as_str().unwrap());
    answer["access_token"] = token.clone().into();
    answer["expires_in"] = fake.expires_in.load(Ordering::SeqCst).into();
    *fake.valid_token.lock().unwrap() = token;
    axum::Json(answer).into_response()
}

async fn listing(
    State(fake): State<Arc<Fake>>,
    Path((sub, which)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    fake.answer(format!("/r/{sub}/{which}"), q, &headers)
}

async fn search(
    State(fake): State<Arc<Fake>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    fake.answer("/search".to_string(), q, &headers)
}

impl Fake {
    fn answer(&self, path: String, q: HashMap<String, String>, headers: &HeaderMap) -> Response {
        let authorization = header(headers, "authorization");
        self.requests.lock().unwrap().push(Request {
            path: path.clone(),
            query: q.clone(),
            user_agent: header(headers, "user-agent"),
            authorization: authorization.clone(),
        });
        let valid = format!("bearer {}", self.valid_token.lock().unwrap());
        let mut response = if authorization.as_deref() != Some(valid.as_str()) {
            (
                StatusCode::UNAUTHORIZED,
                "{\"message\": \"Unauthorized\", \"error\": 401}",
            )
                .into_response()
        } else if let Some((status, headers, body)) = self.instead.lock().unwrap().clone() {
            let mut response = (status, body).into_response();
            for (k, v) in headers {
                response.headers_mut().insert(k, v.parse().unwrap());
            }
            response
        } else {
            let body = if path.ends_with("/new") {
                self.new_posts.lock().unwrap().clone()
            } else if path.ends_with("/comments") {
                self.comments.lock().unwrap().clone()
            } else {
                self.search.lock().unwrap().clone()
            };
            let paged = self
                .paged
                .lock()
                .unwrap()
                .clone()
                .filter(|_| path == "/r/acme/new");
            // Older pages than the first are empty.
            let body = if let Some(all) = paged {
                let from = q.get("after").map_or(0, |a| {
                    1 + all.iter().position(|c| c["data"]["name"] == a.as_str()).unwrap()
                });
                let children: Vec<Value> = all.iter().skip(from).take(100).cloned().collect();
                let after =
                    (from + 100 < all.len()).then(|| children.last().unwrap()["data"]["name"].clone());
                serde_json::json!({"kind": "Listing", "data": {"after": after, "before": null, "children": children}})
            } else if q.contains_key("after") {
                serde_json::json!({"kind": "Listing", "data": {"after": null, "before": null, "children": []}})
            } else {
                body
            };
            axum::Json(body).into_response()
        };
        let (remaining, reset) = self.limit.lock().unwrap().clone();
        let h = response.headers_mut();
        h.insert("x-ratelimit-used", "1".parse().unwrap());
        h.insert("x-ratelimit-remaining", remaining.parse().unwrap());
        h.insert("x-ratelimit-reset", reset.parse().unwrap());
        response
    }
}

impl Served {
    async fn start() -> Served {
        let fake = Arc::new(Fake {
            tokens_issued: AtomicUsize::new(0),
            token_requests: Mutex::new(Vec::new()),
            valid_token: Mutex::new(String::new()),
            expires_in: AtomicU64::new(86_400),
            new_posts: Mutex::new(json(NEW_POSTS)),
            comments: Mutex::new(json(COMMENTS)),
            search: Mutex::new(json(SEARCH)),
            requests: Mutex::new(Vec::new()),
            limit: Mutex::new(("598.0".into(), "412".into())),
            instead: Mutex::new(None),
            paged: Mutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = axum::Router::new()
            .route("/api/v1/access_token", axum::routing::post(access_token))
            .route("/oauth/r/{sub}/{which}", axum::routing::get(listing))
            .route("/oauth/search", axum::routing::get(search))
            .with_state(fake.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Served {
            fake,
            auth_base: format!("http://{addr}"),
            api_base: format!("http://{addr}/oauth"),
            task,
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.fake.requests.lock().unwrap().clone()
    }

    fn tokens_issued(&self) -> usize {
        self.fake.tokens_issued.load(Ordering::SeqCst)
    }

    fn instead(&self, status: StatusCode, headers: Vec<(&'static str, String)>, body: &str) {
        *self.fake.instead.lock().unwrap() = Some((status, headers, body.to_string()));
    }

    fn answer_normally(&self) {
        *self.fake.instead.lock().unwrap() = None;
    }

    fn limit(&self, remaining: &str, reset: &str) {
        *self.fake.limit.lock().unwrap() = (remaining.into(), reset.into());
    }

    /// Puts `child` on top of the `/new` listing, as a new post is.
    fn add_post(&self, child: Value) {
        let mut listing = self.fake.new_posts.lock().unwrap();
        listing["data"]["children"]
            .as_array_mut()
            .unwrap()
            .insert(0, child);
    }

    fn config(&self, name: &str, extra: &str) -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"{name}\"\ntype = \"reddit\"\ntenant = \"acme\"\nclient_id = \"AcmeClient01\"\n\
             client_secret = \"s3cr3t\"\nuser_agent = \"{}\"\napi_base = \"{}\"\nauth_base = \"{}\"\n{extra}",
            USER_AGENT.replace('"', "\\\""),
            self.api_base,
            self.auth_base
        ))
        .unwrap()
    }

    /// A poller of `extra` (r/acme and a search when empty), reading the time from `clock`.
    fn poller(&self, extra: &str, clock: &Arc<AtomicI64>) -> Reddit {
        let extra = if extra.is_empty() {
            "subreddits = [\"acme\"]\nquery = \"acme\""
        } else {
            extra
        };
        let config = self.config("rd", extra);
        let mut settings = Settings::new(0, &config);
        let reddit = reddit(&mut settings).unwrap();
        settings.finish().unwrap();
        let clock = clock.clone();
        reddit.with_clock(Arc::new(move || clock.load(Ordering::SeqCst)))
    }
}

fn clock_at(rfc3339: &str) -> Arc<AtomicI64> {
    Arc::new(AtomicI64::new(ms(rfc3339)))
}

fn advance(clock: &AtomicI64, by: Duration) {
    clock.fetch_add(by.as_millis() as i64, Ordering::SeqCst);
}

fn mentions_of(polled: &Polled) -> Vec<&Mention> {
    polled
        .mapped
        .items
        .iter()
        .map(|m| m.item.as_ref().expect("a mention"))
        .collect()
}

fn find<'a>(mentions: &[&'a Mention], native_id: &str) -> &'a Mention {
    mentions
        .iter()
        .find(|m| m.native_id == native_id)
        .copied()
        .unwrap_or_else(|| panic!("no mention {native_id}"))
}

fn cursor_of(polled: &Polled) -> Cursor {
    Cursor::decode(polled.cursor.as_deref().expect("a cursor")).unwrap()
}

/// A new self post of r/acme, as the listing gives it.
fn new_post(id: &str, title: &str, created_utc: f64) -> Value {
    serde_json::json!({
        "kind": "t3",
        "data": {
            "subreddit": "acme",
            "selftext": "",
            "author_fullname": "t2_newuser",
            "title": title,
            "name": format!("t3_{id}"),
            "id": id,
            "ups": 1,
            "score": 1,
            "num_comments": 0,
            "is_self": true,
            "over_18": false,
            "removed_by_category": null,
            "author": "new_user",
            "permalink": format!("/r/acme/comments/{id}/x/"),
            "url": format!("https://www.reddit.com/r/acme/comments/{id}/x/"),
            "created_utc": created_utc
        }
    })
}

#[tokio::test]
async fn posts_comments_and_search_results_are_mapped_field_by_field() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("", &clock);
    assert_eq!(
        rd.listings(),
        [
            Listing::New("acme".into()),
            Listing::Comments("acme".into()),
            Listing::Search("acme".into())
        ]
    );
    let polled = rd.poll(b"").await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 6, "2 posts, 2 comments, 2 search results");
    assert_eq!(
        polled.mapped.ignored,
        ["deleted", "deleted"],
        "the removed post and the deleted comment"
    );

    let post = find(&m, "t3_1h0acm3");
    assert_eq!(post.source, Source::Reddit as i32);
    assert_eq!(post.visibility, Visibility::Public as i32);
    assert_eq!(post.kind, Kind::Post as i32);
    assert_eq!(post.thread_id, "t3_1h0acm3");
    assert_eq!(post.parent_id, "");
    assert_eq!(post.title, "Acme refund nightmare: 3 weeks and nothing");
    assert_eq!(
        post.text,
        "Ordered an X2 on Nov 8, cancelled on Nov 9, still no refund. Support closes my tickets as \"resolved\" & won't answer. Anyone else?"
    );
    assert_eq!(
        post.url,
        "https://www.reddit.com/r/acme/comments/1h0acm3/acme_refund_nightmare_3_weeks_and_nothing/"
    );
    let author = post.author.as_ref().unwrap();
    assert_eq!(
        (
            author.id.as_str(),
            author.handle.as_str(),
            author.display_name.as_str()
        ),
        ("t2_8lea0c0n", "lea_consomme", "lea_consomme")
    );
    let e = post.engagement.as_ref().unwrap();
    assert_eq!((e.likes, e.comments), (154, 37));
    assert_eq!(post.created_at_ms, ms("2026-11-30T09:00:00Z"));

    let link = find(&m, "t3_1h0acm2");
    assert_eq!(
        link.text, "Acme recalls 12,000 K2 kettles after overheating reports",
        "a link post: its title is its text"
    );
    assert!(link
        .url
        .starts_with("https://www.reddit.com/r/acme/comments/1h0acm2/"));

    let comment = find(&m, "t1_m1acme1");
    assert_eq!(comment.kind, Kind::Comment as i32);
    assert_eq!(
        (comment.parent_id.as_str(), comment.thread_id.as_str()),
        ("t3_1h0acm3", "t3_1h0acm3")
    );
    assert_eq!(
        comment.text,
        "Same here. 2 weeks & counting. Filed a chargeback with my bank."
    );
    assert_eq!(comment.engagement.as_ref().unwrap().likes, 23);
    assert_eq!(comment.created_at_ms, ms("2026-11-30T09:05:00Z"));
    assert_eq!(
        comment.url,
        "https://www.reddit.com/r/acme/comments/1h0acm3/acme_refund_nightmare_3_weeks_and_nothing/m1acme1/"
    );
    let reply = find(&m, "t1_m1acme3");
    assert_eq!(reply.kind, Kind::Reply as i32, "its parent is a comment");
    assert_eq!(
        (reply.parent_id.as_str(), reply.thread_id.as_str()),
        ("t1_m1acme1", "t3_1h0acm3")
    );
    assert_eq!(reply.author.as_ref().unwrap().handle, "AcmeSupport");

    let found = find(&m, "t3_1gzlyon");
    assert_eq!(found.thread_id, "t3_1gzlyon");
    assert_eq!(found.engagement.as_ref().unwrap().likes, 310);
    assert!(found
        .url
        .starts_with("https://www.reddit.com/r/france/comments/1gzlyon/"));

    let times: Vec<i64> = m.iter().map(|m| m.created_at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first: {times:?}");

    // One token for the three calls; each call with it and the configured User-Agent.
    assert_eq!(served.tokens_issued(), 1);
    let (basic, agent, body) = served.fake.token_requests.lock().unwrap()[0].clone();
    let expected = base64::engine::general_purpose::STANDARD.encode("AcmeClient01:s3cr3t");
    assert_eq!(basic, Some(format!("Basic {expected}")));
    assert_eq!(agent.as_deref(), Some(USER_AGENT));
    assert_eq!(body, "grant_type=client_credentials");
    let requests = served.requests();
    let paths: Vec<&str> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/r/acme/new", "/r/acme/comments", "/search"],
        "one page each: the backfill"
    );
    for r in &requests {
        assert_eq!(r.user_agent.as_deref(), Some(USER_AGENT));
        assert!(r.authorization.as_deref().unwrap().starts_with("bearer eyJ"));
        assert_eq!(r.query.get("limit").map(String::as_str), Some("100"));
        assert_eq!(r.query.get("raw_json").map(String::as_str), Some("1"));
    }
    let q = &requests[2].query;
    assert_eq!(
        (q.get("q").map(String::as_str), q.get("sort").map(String::as_str)),
        (Some("acme"), Some("new"))
    );

    let cursor = cursor_of(&polled);
    let new = &cursor.listings["r/acme/new"];
    assert_eq!(new.newest_ms, ms("2026-11-30T09:00:00Z"));
    assert_eq!(
        new.floor_ms,
        ms("2026-11-30T08:10:00Z"),
        "the backfill stopped at the page's oldest"
    );
    assert_eq!(new.len(), 3, "the removed post remembered too");
    assert_eq!(
        cursor.listings["search:acme"].floor_ms, 0,
        "the search had no more pages"
    );
}

#[tokio::test]
async fn the_token_is_kept_renewed_before_it_expires_and_on_a_401() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("subreddits = [\"acme\"]", &clock);
    let first = rd.poll(b"").await.unwrap();
    assert_eq!(served.tokens_issued(), 1);
    let mut saved = first.cursor.unwrap();

    // An hour later: the same token.
    advance(&clock, Duration::from_secs(3600));
    let polled = rd.poll(&saved).await.unwrap();
    saved = polled.cursor.unwrap();
    assert_eq!(served.tokens_issued(), 1, "kept");

    // Within a minute of its 24 hours: asked for again before the calls.
    advance(&clock, Duration::from_secs(86_400 - 3600 - 30));
    let polled = rd.poll(&saved).await.unwrap();
    saved = polled.cursor.unwrap();
    assert_eq!(served.tokens_issued(), 2, "renewed before expiry");
    assert!(served
        .requests()
        .last()
        .unwrap()
        .authorization
        .as_deref()
        .unwrap()
        .ends_with("-2"));

    // Revoked on Reddit's side: the 401 is answered by a new token and the call again.
    *served.fake.valid_token.lock().unwrap() = "revoked".into();
    advance(&clock, Duration::from_secs(60));
    let calls = served.requests().len();
    rd.poll(&saved).await.unwrap();
    assert_eq!(served.tokens_issued(), 3);
    assert_eq!(
        served.requests().len(),
        calls + 3,
        "the refused call, then both listings"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_its_wait_and_the_next_poll_recovers() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("subreddits = [\"acme\"]", &clock);
    served.instead(
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "7".into())],
        "",
    );
    let e = rd.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(7)))
    );
    assert_eq!(
        collect::backoff(DEFAULT_INTERVAL, 1, e.retry_after),
        DEFAULT_INTERVAL,
        "never sooner than the interval"
    );
    assert_eq!(
        collect::backoff(MIN_INTERVAL, 1, e.retry_after),
        Duration::from_secs(7)
    );

    // A 429 without Retry-After waits for the reset the last answer told (412 s, 5 s ago).
    served.answer_normally();
    rd.poll(b"").await.unwrap();
    served.instead(StatusCode::TOO_MANY_REQUESTS, vec![], "");
    advance(&clock, Duration::from_secs(5));
    let e = rd.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(407)))
    );

    served.answer_normally();
    advance(&clock, Duration::from_secs(60));
    let polled = rd.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&polled).len(), 4, "r/acme's posts and comments");
}

#[tokio::test]
async fn no_call_left_waits_for_the_reset_and_the_next_poll_recovers() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("subreddits = [\"acme\"]", &clock);
    // The first answer says no call is left until 42 s from now.
    served.limit("0.0", "42");
    let polled = rd.poll(b"").await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 2, "r/acme/new read; the comments wait");
    assert!(m.iter().all(|m| m.kind == Kind::Post as i32));
    let cursor = cursor_of(&polled);
    assert!(cursor.listings.contains_key("r/acme/new") && !cursor.listings.contains_key("r/acme/comments"));
    assert_eq!(served.requests().len(), 1);

    // The next poll needs two calls and has none: it waits the 42 s, without calling.
    let e = rd.poll(&cursor.encode()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(42)))
    );
    assert_eq!(served.requests().len(), 1);
    advance(&clock, Duration::from_secs(30));
    let e = rd.poll(&cursor.encode()).await.unwrap_err();
    assert_eq!(
        e.retry_after,
        Some(Duration::from_secs(12)),
        "the wait counts down"
    );

    // Reset: the poll goes through and the comments flow, the posts not again.
    served.limit("600.0", "600");
    advance(&clock, Duration::from_secs(12));
    let polled = rd.poll(&cursor.encode()).await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 2);
    assert!(m.iter().all(|m| m.kind != Kind::Post as i32), "the comments");

    // One call left of two needed: waits for the reset again.
    served.limit("1.0", "100");
    rd.poll(polled.cursor.as_deref().unwrap()).await.unwrap();
    let e = rd.poll(polled.cursor.as_deref().unwrap()).await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(100)))
    );
}

#[tokio::test]
async fn a_refused_listing_is_skipped_and_paging_stops_at_the_cursor() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("subreddits = [\"acme\"]", &clock);
    served.instead(StatusCode::FORBIDDEN, vec![], "{\"reason\": \"private\"}");
    assert_eq!(
        rd.poll(b"").await.unwrap_err().kind,
        "status",
        "every listing refused"
    );
    served.answer_normally();

    // A cursor of a poll at 08:00 (newer than nothing on the first page): the next page is
    // read, after the first page's last fullname.
    let mut cursor = Cursor::default();
    for key in ["r/acme/new", "r/acme/comments"] {
        let mut l = cursor::Listing::default();
        l.newest_ms = ms("2026-11-30T08:00:00Z");
        cursor.listings.insert(key.into(), l);
    }
    let polled = rd.poll(&cursor.encode()).await.unwrap();
    assert_eq!(mentions_of(&polled).len(), 4);
    let pages: Vec<(String, Option<String>, Option<String>)> = served
        .requests()
        .iter()
        .skip(2)
        .map(|r| {
            (
                r.path.clone(),
                r.query.get("after").cloned(),
                r.query.get("count").cloned(),
            )
        })
        .collect();
    assert_eq!(
        pages,
        [
            ("/r/acme/new".into(), None, None),
            ("/r/acme/new".into(), Some("t3_1h0acm1".into()), Some("3".into())),
            ("/r/acme/comments".into(), None, None),
            (
                "/r/acme/comments".into(),
                Some("t1_m1acme1".into()),
                Some("3".into())
            ),
        ]
    );

    // Polled again: the first page reaches the cursor, no second page.
    let calls = served.requests().len();
    let again = rd.poll(polled.cursor.as_deref().unwrap()).await.unwrap();
    assert!(again.mapped.items.is_empty() && again.mapped.ignored.is_empty());
    assert_eq!(served.requests().len(), calls + 2);
}

#[test]
fn children_are_mapped_or_ignored_or_refused() {
    let map = |v: Value| listing::map(&v);
    assert!(matches!(
        map(
            serde_json::json!({"kind": "t1", "data": {"name": "t1_x", "body": "[removed]", "link_id": "t3_y"}})
        ),
        listing::Child::Deleted
    ));
    assert!(matches!(
        map(
            serde_json::json!({"kind": "t3", "data": {"name": "t3_x", "title": "t", "selftext": "[deleted]"}})
        ),
        listing::Child::Deleted
    ));
    let refused = |v: Value| match listing::map(&v) {
        listing::Child::Unmapped(field, reason) => (field, reason),
        other => panic!("{other:?}"),
    };
    assert_eq!(refused(serde_json::json!({"kind": "t3"})).0, "data");
    assert_eq!(
        refused(serde_json::json!({"kind": "t3", "data": {"title": "x"}})).0,
        "data.name"
    );
    assert_eq!(
        refused(serde_json::json!({"kind": "t1", "data": {"name": "t1_x", "body": "hi"}})).0,
        "data.link_id"
    );
    let (field, reason) =
        refused(serde_json::json!({"kind": "more", "data": {"name": "t1_more", "count": 3}}));
    assert_eq!(field, "kind");
    assert!(reason.contains("\"more\""), "{reason}");
    let key = listing::key(&serde_json::json!({"kind": "t3"}));
    assert!(key.starts_with("sha256:") && key.len() == 23, "{key}");
    assert_eq!(
        listing::created_ms(&serde_json::json!({"data": {"created_utc": 1796029200.5}})),
        Some(1_796_029_200_500)
    );
    match map(
        serde_json::json!({"kind": "t1", "data": {"name": "t1_x", "body": "hi", "link_id": "t3_y", "parent_id": "t3_y", "author": "[deleted]", "score": -4}}),
    ) {
        listing::Child::Mention(m) => {
            assert!(m.author.is_none(), "a deleted author is no author");
            assert_eq!(m.engagement.unwrap().likes, 0, "a negative score is no like");
            assert_eq!(m.created_at_ms, 0, "no time: ingest's reception time");
        }
        other => panic!("{other:?}"),
    }
}

/// The in-process bus a collect loop runs over, as `vigie standalone` runs it.
struct Pipeline {
    bus: MemoryBus,
}

impl Pipeline {
    async fn collect_until(&self, config: ConnectorConfig, done: impl Fn(&Self) -> bool) {
        let connectors = build_all(&[config]).unwrap();
        crate::connectors::testing::collect_until(&self.bus, connectors, None, self, done).await;
    }

    fn mentions(&self) -> Vec<Mention> {
        crate::connectors::testing::mentions(&self.bus)
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        crate::connectors::testing::dead_letters(&self.bus)
    }

    fn cursors(&self) -> usize {
        self.bus.snapshot(topics::CONNECTOR_STATE).len()
    }
}

#[tokio::test]
async fn after_a_restart_only_the_new_post_is_published_without_gap_or_duplicate() {
    let served = Served::start().await;
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    let config = || {
        served.config(
            "rd",
            "subreddits = [\"acme\"]\nquery = \"acme\"\ninterval = \"1s\"",
        )
    };
    p.collect_until(config(), |p| p.cursors() > 0).await;
    let first = p.mentions();
    assert_eq!(first.len(), 6);
    assert!(first
        .iter()
        .all(|m| m.tenant == "acme" && m.source == Source::Reddit as i32));
    let saved = p.cursors();

    served.add_post(new_post(
        "1h0acm9",
        "Acme answered me on here, refund done",
        1796032800.0,
    ));
    p.collect_until(config(), |p| p.cursors() > saved).await;
    let all = p.mentions();
    assert_eq!(all.len(), 7, "exactly the new post");
    assert_eq!(all[6].native_id, "t3_1h0acm9");
    assert_eq!(all[6].created_at_ms, ms("2026-11-30T10:00:00Z"));
    let ids: std::collections::HashSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 7, "no duplicate row");
    assert_eq!(served.tokens_issued(), 2, "one token per process");
    assert!(p.dead_letters().is_empty());
}

#[tokio::test]
async fn a_malformed_child_is_dead_lettered_once_and_the_others_still_flow() {
    let served = Served::start().await;
    {
        let mut listing = served.fake.new_posts.lock().unwrap();
        let children = listing["data"]["children"].as_array_mut().unwrap();
        children.insert(
            1,
            serde_json::json!({"kind": "t3", "data": {"title": "no name", "created_utc": 1796028600.0}}),
        );
        children.insert(2, serde_json::json!({"kind": "t3"}));
    }
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    let config = || served.config("rd", "subreddits = [\"acme\"]\ninterval = \"1s\"");
    p.collect_until(config(), |p| p.cursors() > 0).await;
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:rd" && l.tenant == "acme"));
    assert!(
        letters.iter().any(|l| l.field.ends_with("data.name"))
            && letters.iter().any(|l| l.reason == "a listing child without data"),
        "{letters:?}"
    );
    let original: Value = serde_json::from_slice(&letters[0].original).unwrap();
    assert_eq!(original["kind"], "t3");
    assert_eq!(p.mentions().len(), 4, "the rest flowed");

    let saved = p.cursors();
    served.add_post(new_post("1h0acma", "Acme again", 1796032800.0));
    p.collect_until(config(), |p| p.cursors() > saved).await;
    assert_eq!(
        p.dead_letters().len(),
        2,
        "not dead-lettered again after the restart"
    );
    assert_eq!(p.mentions().len(), 5);
}

#[test]
fn the_settings_are_checked_and_name_the_key() {
    let config = |extra: &str| -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"rd\"\ntype = \"reddit\"\ntenant = \"acme\"\n{extra}"
        ))
        .unwrap()
    };
    let error = |extra: &str| match build_all(&[config(extra)]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{extra} accepted"),
    };
    let id = "client_id = \"c\"";
    let secret = "client_secret = \"s\"";
    let ua = "user_agent = \"linux:x:1.0 (by /u/x)\"";
    let subs = "subreddits = [\"acme\"]";
    assert!(error(&format!("{secret}\n{ua}\n{subs}")).contains("(rd).client_id: required"));
    assert!(error(&format!("{id}\n{ua}\n{subs}")).contains("(rd).client_secret: required"));
    assert!(error(&format!("{id}\n{secret}\n{subs}")).contains("(rd).user_agent: required"));
    assert!(error(&format!("{id}\n{secret}\n{ua}")).contains("(rd).subreddits: required"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\nsubreddits = [\"a b\"]")).contains("(rd).subreddits:"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\nquery = \" \"")).contains("(rd).query:"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\n{subs}\ninterval = \"1ms\"")).contains("(rd).interval:"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\n{subs}\napi_base = \"x\"")).contains("(rd).api_base:"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\n{subs}\nauth_base = \"x\"")).contains("(rd).auth_base:"));
    assert!(error(&format!("{id}\n{secret}\n{ua}\n{subs}\nsubreddit = \"x\""))
        .contains("(rd).subreddit: unknown key"));

    let c = config(&format!(
        "{id}\n{secret}\n{ua}\nsubreddits = [\"r/acme\", \"/r/Acme\", \"AcmeSupport\"]\nquery = \"acme x2\""
    ));
    let mut settings = Settings::new(0, &c);
    let rd = reddit(&mut settings).unwrap();
    settings.finish().unwrap();
    assert_eq!(rd.listings().len(), 5, "acme once, AcmeSupport, the search");
    assert_eq!(rd.listings()[4].key(), "search:acme x2");
    assert_eq!(rd.interval(), DEFAULT_INTERVAL);
}

/// `n` posts of r/acme, newest first, the newest `n` seconds after 2026-11-30T00:00:00Z.
fn many_posts(n: i64) -> Vec<Value> {
    let t0 = ms("2026-11-30T00:00:00Z") / 1000;
    (1..=n)
        .rev()
        .map(|i| new_post(&format!("p{i:05}"), &format!("post {i}"), (t0 + i) as f64))
        .collect()
}

/// A cursor knowing r/acme/new up to 2026-11-30T00:00:00Z.
fn known_until_t0() -> Cursor {
    let mut cursor = Cursor::default();
    let mut state = cursor::Listing::default();
    state.newest_ms = ms("2026-11-30T00:00:00Z");
    state.floor_ms = state.newest_ms;
    cursor.listings.insert("r/acme/new".into(), state);
    cursor
}

#[tokio::test]
async fn a_poll_noting_more_than_the_bound_keeps_the_newest_and_a_floor_below_them() {
    let served = Served::start().await;
    *served.fake.paged.lock().unwrap() = Some(many_posts(300));
    let clock = clock_at("2026-11-30T12:00:00Z");
    let subs: Vec<String> = std::iter::once("\"acme\"".to_string())
        .chain((2..=MAX_SUBREDDITS).map(|i| format!("\"acme{i}\"")))
        .collect();
    let rd = served.poller(
        &format!("subreddits = [{}]\nquery = \"acme\"", subs.join(", ")),
        &clock,
    );
    let bound = Cursor::bound(2 * MAX_SUBREDDITS + 1);
    assert!(bound < 300);
    let polled = rd.poll(&known_until_t0().encode()).await.unwrap();
    let posts = mentions_of(&polled)
        .iter()
        .filter(|m| m.native_id.starts_with("t3_p"))
        .count();
    assert_eq!(posts, 300);
    let after = cursor_of(&polled);
    let state = &after.listings["r/acme/new"];
    assert_eq!(state.len(), bound);
    assert!(state.knows("t3_p00300"), "the newest is kept");
    assert!(state.knows(&format!("t3_p{:05}", 300 - bound + 1)));
    assert!(
        !state.knows(&format!("t3_p{:05}", 300 - bound)),
        "the oldest forgotten"
    );
    let t0 = ms("2026-11-30T00:00:00Z");
    assert_eq!(
        state.floor_ms,
        t0 + (300 - bound as i64) * 1000,
        "the floor is the newest forgotten, below those kept"
    );
    assert_eq!(state.newest_ms, t0 + 300_000);
}

#[tokio::test]
async fn pages_past_the_limit_are_read_by_the_next_poll_none_lost_none_twice() {
    let served = Served::start().await;
    let total = (MAX_PAGES as i64 + 2) * 100;
    *served.fake.paged.lock().unwrap() = Some(many_posts(total));
    let clock = clock_at("2026-11-30T12:00:00Z");
    let rd = served.poller("subreddits = [\"acme\"]", &clock);
    let posts = |polled: &Polled| -> Vec<String> {
        mentions_of(polled)
            .iter()
            .filter(|m| m.native_id.starts_with("t3_p"))
            .map(|m| m.native_id.clone())
            .collect()
    };
    let first = rd.poll(&known_until_t0().encode()).await.unwrap();
    let mut ids = posts(&first);
    assert_eq!(ids.len(), MAX_PAGES * 100);
    let backlog = cursor_of(&first).listings["r/acme/new"].backlog.clone();
    assert_eq!(
        backlog,
        Some(cursor::Backlog {
            after: format!("t3_p{:05}", total - MAX_PAGES as i64 * 100 + 1),
            until_ms: ms("2026-11-30T00:00:00Z"),
        })
    );
    // Two posts come meanwhile: the backlog first, then them.
    let t0 = ms("2026-11-30T00:00:00Z") / 1000;
    let mut all = many_posts(total);
    all.insert(0, new_post("p99001", "new 1", (t0 + total + 1) as f64));
    all.insert(0, new_post("p99002", "new 2", (t0 + total + 2) as f64));
    *served.fake.paged.lock().unwrap() = Some(all);
    advance(&clock, Duration::from_secs(60));
    let second = rd.poll(first.cursor.as_deref().unwrap()).await.unwrap();
    ids.extend(posts(&second));
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    let expected = total as usize + 2;
    assert_eq!((ids.len(), unique.len()), (expected, expected));
    assert!(cursor_of(&second).listings["r/acme/new"].backlog.is_none());
    advance(&clock, Duration::from_secs(60));
    let third = rd.poll(second.cursor.as_deref().unwrap()).await.unwrap();
    assert!(posts(&third).is_empty(), "nothing again");
}
