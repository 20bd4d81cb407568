//! The youtube connector against a Data API served on 127.0.0.1 by the test, from payloads
//! written after the API's reference (fake ids): mapping field by field, replies read when a
//! thread carries fewer than its count, edits, paging down to the cursor, a restart without gap
//! or duplicate, 429, the quota spent (counted and from a `403 quotaExceeded`) until the
//! Pacific midnight, malformed items dead-lettered once, and the settings.

use super::cursor::{Cursor, Target as TargetState};
use super::*;
use crate::collect;
use crate::connectors::build_all;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::model::parse_rfc3339_ms;
use vigie_core::proto::{DeadLetter, Kind, Mention, Source, Visibility};
use vigie_core::topics;

const PAGE1: &str = include_str!("../../../../testdata/connectors/youtube/comment_threads_page1.json");
const PAGE2: &str = include_str!("../../../../testdata/connectors/youtube/comment_threads_page2.json");
const REPLIES: &str = include_str!("../../../../testdata/connectors/youtube/comments_replies.json");
const QUOTA_EXCEEDED: &str = include_str!("../../../../testdata/connectors/youtube/quota_exceeded.json");

const VIDEO: &str = "AcmeVid0001";
const THREAD_A: &str = "UgzAcmeRefund0001AaABAg";
const THREAD_B: &str = "UgxAcmeBattery002AaABAg";
const THREAD_C: &str = "UgwAcmeQueue0003AaABAg";
const PAGE2_TOKEN: &str = "QURTSl9pMlRfcGFnZTJfYWNtZQ";

fn ms(rfc3339: &str) -> i64 {
    parse_rfc3339_ms(rfc3339).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// An answer given instead of the API's: status, headers, body.
type Instead = (StatusCode, Vec<(&'static str, String)>, String);

/// One request the fake API answered: its path, query and API key header.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    query: HashMap<String, String>,
    key: Option<String>,
}

/// The fake Data API: its pages (set by the tests), the requests answered, and an answer to
/// give instead while set.
struct Api {
    page1: Mutex<Value>,
    page2: Mutex<Value>,
    replies: Mutex<Value>,
    requests: Mutex<Vec<Request>>,
    instead: Mutex<Option<Instead>>,
    /// When set, the threads listed instead of the pages, newest first, 100 a page
    /// (`pageToken` = the offset).
    paged: Mutex<Option<Vec<Value>>>,
}

struct Served {
    api: Arc<Api>,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Served {
    async fn start() -> Served {
        let api = Arc::new(Api {
            page1: Mutex::new(json(PAGE1)),
            page2: Mutex::new(json(PAGE2)),
            replies: Mutex::new(json(REPLIES)),
            requests: Mutex::new(Vec::new()),
            instead: Mutex::new(None),
            paged: Mutex::new(None),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}/youtube/v3", listener.local_addr().unwrap());
        async fn threads(
            State(api): State<Arc<Api>>,
            Query(q): Query<HashMap<String, String>>,
            headers: HeaderMap,
        ) -> Response {
            api.answer("/commentThreads", q, &headers)
        }
        async fn comments(
            State(api): State<Arc<Api>>,
            Query(q): Query<HashMap<String, String>>,
            headers: HeaderMap,
        ) -> Response {
            api.answer("/comments", q, &headers)
        }
        let router = axum::Router::new()
            .route("/youtube/v3/commentThreads", axum::routing::get(threads))
            .route("/youtube/v3/comments", axum::routing::get(comments))
            .with_state(api.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Served { api, base, task }
    }

    fn requests(&self) -> Vec<Request> {
        self.api.requests.lock().unwrap().clone()
    }

    fn instead(&self, status: StatusCode, headers: Vec<(&'static str, String)>, body: &str) {
        *self.api.instead.lock().unwrap() = Some((status, headers, body.to_string()));
    }

    fn answer_normally(&self) {
        *self.api.instead.lock().unwrap() = None;
    }

    /// Puts `thread` on top of the first page, as a new comment is.
    fn add_thread(&self, thread: Value) {
        let mut page = self.api.page1.lock().unwrap();
        page["items"].as_array_mut().unwrap().insert(0, thread);
    }

    fn edit_page1(&self, edit: impl FnOnce(&mut Value)) {
        edit(&mut self.api.page1.lock().unwrap());
    }

    /// The connector's settings against this server.
    fn config(&self, name: &str, extra: &str) -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"{name}\"\ntype = \"youtube\"\ntenant = \"acme\"\napi_key = \"test-key\"\n\
             api_base = \"{}\"\n{extra}",
            self.base
        ))
        .unwrap()
    }

    /// A poller for `video_ids = [VIDEO]` (or `extra`), reading the time from `clock`.
    fn poller(&self, extra: &str, clock: &Arc<AtomicI64>) -> YouTube {
        let extra = if extra.is_empty() {
            format!("video_ids = [\"{VIDEO}\"]")
        } else {
            extra.to_string()
        };
        let config = self.config("yt", &extra);
        let mut settings = Settings::new(0, &config);
        let yt = youtube(&mut settings).unwrap();
        settings.finish().unwrap();
        let clock = clock.clone();
        yt.with_clock(Arc::new(move || clock.load(Ordering::SeqCst)))
    }
}

impl Api {
    fn answer(&self, path: &str, q: HashMap<String, String>, headers: &HeaderMap) -> Response {
        let key = headers
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let token = q.get("pageToken").cloned();
        self.requests.lock().unwrap().push(Request {
            path: path.to_string(),
            query: q,
            key,
        });
        if let Some((status, headers, body)) = self.instead.lock().unwrap().clone() {
            let mut response = (status, body).into_response();
            for (k, v) in headers {
                response.headers_mut().insert(k, v.parse().unwrap());
            }
            return response;
        }
        if let (Some(all), "/commentThreads") = (self.paged.lock().unwrap().as_ref(), path) {
            let from: usize = token.as_deref().map_or(0, |t| t.parse().unwrap());
            let items: Vec<Value> = all.iter().skip(from).take(100).cloned().collect();
            let mut body = serde_json::json!({"kind": "youtube#commentThreadListResponse", "items": items});
            if from + 100 < all.len() {
                body["nextPageToken"] = (from + 100).to_string().into();
            }
            return axum::Json(body).into_response();
        }
        let body = match (path, token.as_deref()) {
            ("/comments", _) => self.replies.lock().unwrap().clone(),
            (_, Some(PAGE2_TOKEN)) => self.page2.lock().unwrap().clone(),
            _ => self.page1.lock().unwrap().clone(),
        };
        axum::Json(body).into_response()
    }
}

/// A clock at `rfc3339`, moved by the tests.
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

fn cursor_of(polled: &Polled) -> Cursor {
    Cursor::decode(polled.cursor.as_deref().expect("a cursor")).unwrap()
}

fn find<'a>(mentions: &[&'a Mention], native_id: &str) -> &'a Mention {
    mentions
        .iter()
        .find(|m| m.native_id == native_id)
        .copied()
        .unwrap_or_else(|| panic!("no mention {native_id}"))
}

/// A new top-level comment thread, as the API lists it.
fn new_thread(id: &str, text: &str, at: &str) -> Value {
    serde_json::json!({
        "kind": "youtube#commentThread",
        "id": id,
        "snippet": {
            "videoId": VIDEO,
            "topLevelComment": {
                "kind": "youtube#comment",
                "id": id,
                "snippet": {
                    "videoId": VIDEO,
                    "textDisplay": text,
                    "textOriginal": text,
                    "authorDisplayName": "@nouveau",
                    "authorChannelId": {"value": "UCNouveau000000000000001"},
                    "likeCount": 0,
                    "publishedAt": at,
                    "updatedAt": at
                }
            },
            "totalReplyCount": 0,
            "isPublic": true
        }
    })
}

#[tokio::test]
async fn a_first_page_is_mapped_field_by_field_with_the_replies_it_lacks() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller("", &clock);
    let polled = yt.poll(b"").await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(
        m.len(),
        7,
        "3 threads, 3 replies of A read with comments.list, 1 of B"
    );

    let a = find(&m, THREAD_A);
    assert_eq!(a.source, Source::Youtube as i32);
    assert_eq!(a.visibility, Visibility::Public as i32);
    assert_eq!(a.kind, Kind::Comment as i32);
    assert_eq!((a.parent_id.as_str(), a.thread_id.as_str()), (VIDEO, VIDEO));
    assert_eq!(
        a.text, "Still no refund after 3 weeks & support closes my tickets 😡 #acme",
        "textOriginal"
    );
    let author = a.author.as_ref().unwrap();
    assert_eq!(
        (
            author.id.as_str(),
            author.handle.as_str(),
            author.display_name.as_str()
        ),
        ("UCLeaConsomme00000000001", "@lea.consomme", "@lea.consomme")
    );
    let engagement = a.engagement.as_ref().unwrap();
    assert_eq!((engagement.likes, engagement.comments), (42, 3));
    assert_eq!(a.created_at_ms, ms("2026-11-30T09:00:00Z"));
    assert_eq!(
        a.url,
        "https://www.youtube.com/watch?v=AcmeVid0001&lc=UgzAcmeRefund0001AaABAg"
    );
    let original: Value = serde_json::from_slice(&polled.mapped.items[0].original).unwrap();
    assert!(original.get("id").is_some(), "the originals are the API's items");

    let reply = find(&m, "UgzAcmeRefund0001AaABAg.9zAcmeReply0003cccccc");
    assert_eq!(reply.kind, Kind::Reply as i32);
    assert_eq!(
        (reply.parent_id.as_str(), reply.thread_id.as_str()),
        (THREAD_A, VIDEO)
    );
    assert_eq!(reply.text, "Same problem here, 2 weeks and counting");
    assert_eq!(reply.created_at_ms, ms("2026-11-30T10:05:00Z"));
    assert_eq!(reply.engagement.as_ref().unwrap().likes, 2);
    assert_eq!(
        reply.url,
        "https://www.youtube.com/watch?v=AcmeVid0001&lc=UgzAcmeRefund0001AaABAg.9zAcmeReply0003cccccc"
    );
    assert_eq!(
        find(&m, "UgzAcmeRefund0001AaABAg.9zAcmeReply0001aaaaaa")
            .author
            .as_ref()
            .unwrap()
            .handle,
        "@AcmeSupport"
    );

    let b = find(&m, THREAD_B);
    assert_eq!(
        b.text, "Love the new Acme X2, battery lasts 2 days 10/10 would buy again",
        "no textOriginal: textDisplay with its HTML stripped"
    );
    assert_eq!(
        b.created_at_ms,
        ms("2026-11-30T08:30:00Z"),
        "edited before it was first seen: one mention, of its publication"
    );
    let b_reply = find(&m, "UgxAcmeBattery002AaABAg.9zAcmeReply0004dddddd");
    assert_eq!(b_reply.parent_id, THREAD_B);
    assert_eq!(find(&m, THREAD_C).engagement.as_ref().unwrap().comments, 0);

    // Oldest first.
    let times: Vec<i64> = m.iter().map(|m| m.created_at_ms).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    // Two calls: the first page only (the backfill), and A's replies; the key as a header.
    let requests = served.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let threads = &requests[0];
    assert_eq!(threads.path, "/commentThreads");
    for (k, v) in [
        ("part", "snippet,replies"),
        ("videoId", VIDEO),
        ("order", "time"),
        ("maxResults", "100"),
    ] {
        assert_eq!(threads.query.get(k).map(String::as_str), Some(v), "{k}");
    }
    assert!(!threads.query.contains_key("pageToken"));
    assert!(!threads.query.contains_key("key"), "never in the URL");
    assert_eq!(threads.key.as_deref(), Some("test-key"));
    assert_eq!(requests[1].path, "/comments");
    assert_eq!(
        requests[1].query.get("parentId").map(String::as_str),
        Some(THREAD_A)
    );
    assert_eq!(requests[1].query.get("part").map(String::as_str), Some("snippet"));

    let cursor = cursor_of(&polled);
    assert_eq!(
        cursor.quota,
        Quota {
            day: "2026-11-30".into(),
            used: 2
        }
    );
    let state = &cursor.targets["video:AcmeVid0001"];
    assert_eq!(state.newest_ms, ms("2026-11-30T09:20:00Z"), "A's carried reply");
    assert_eq!(
        state.floor_ms,
        ms("2026-11-30T07:00:00Z"),
        "the backfill stopped at the first page's oldest"
    );
    assert_eq!(state.known(THREAD_A).unwrap().replies, 3);
    assert_eq!(state.len(), 7);
}

#[tokio::test]
async fn a_comment_seen_again_with_a_newer_updated_at_is_an_edit_and_nothing_else_is_read_again() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller("", &clock);
    let first = yt.poll(b"").await.unwrap();
    let saved = first.cursor.clone().unwrap();

    advance(&clock, Duration::from_secs(300));
    let again = yt.poll(&saved).await.unwrap();
    assert!(again.mapped.items.is_empty(), "nothing new");
    let requests = served.requests();
    assert_eq!(
        requests.len(),
        3,
        "one call: the page reached the cursor, A's count did not change"
    );
    assert_eq!(cursor_of(&again).quota.used, 3);

    // C is edited at 11:00.
    served.edit_page1(|page| {
        let c = &mut page["items"][2]["snippet"]["topLevelComment"]["snippet"];
        c["textOriginal"] = "Is the Acme store in Lyon open on Sunday? EDIT: it is, thanks".into();
        c["updatedAt"] = "2026-11-30T11:00:00Z".into();
    });
    advance(&clock, Duration::from_secs(300));
    let edited = yt.poll(again.cursor.as_deref().unwrap()).await.unwrap();
    let m = mentions_of(&edited);
    assert_eq!(m.len(), 1);
    let at = ms("2026-11-30T11:00:00Z");
    assert_eq!(m[0].native_id, format!("{THREAD_C}:edit:{at}"));
    assert_eq!(m[0].native_id, map::edit_id(THREAD_C, Some(at), ""));
    assert_eq!(m[0].created_at_ms, at);
    assert_eq!(m[0].kind, Kind::Comment as i32);
    assert_eq!(
        m[0].text,
        "Is the Acme store in Lyon open on Sunday? EDIT: it is, thanks"
    );
    assert_eq!(
        m[0].url,
        format!("https://www.youtube.com/watch?v={VIDEO}&lc={THREAD_C}")
    );

    // Seen once more, the edit is not handed on twice.
    advance(&clock, Duration::from_secs(300));
    let later = yt.poll(edited.cursor.as_deref().unwrap()).await.unwrap();
    assert!(later.mapped.items.is_empty());

    // A's count grows: its replies are read again, only the new one handed on.
    served.edit_page1(|page| page["items"][0]["snippet"]["totalReplyCount"] = 4.into());
    served.api.replies.lock().unwrap()["items"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "kind": "youtube#comment",
            "id": "UgzAcmeRefund0001AaABAg.9zAcmeReply0009zzzzzz",
            "snippet": {
                "videoId": VIDEO,
                "textOriginal": "Refunded this morning!",
                "parentId": THREAD_A,
                "authorDisplayName": "@lea.consomme",
                "authorChannelId": {"value": "UCLeaConsomme00000000001"},
                "likeCount": 0,
                "publishedAt": "2026-11-30T11:30:00Z",
                "updatedAt": "2026-11-30T11:30:00Z"
            }
        }));
    advance(&clock, Duration::from_secs(300));
    let replied = yt.poll(later.cursor.as_deref().unwrap()).await.unwrap();
    let m = mentions_of(&replied);
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].native_id, "UgzAcmeRefund0001AaABAg.9zAcmeReply0009zzzzzz");
    assert_eq!(m[0].kind, Kind::Reply as i32);
    assert_eq!(served.requests().last().unwrap().path, "/comments");
}

#[tokio::test]
async fn paging_goes_on_until_a_page_reaches_the_cursor() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller("", &clock);
    // A cursor of a poll at 05:30: page 1 is all newer, page 2 reaches it.
    let mut cursor = Cursor::default();
    let mut state = TargetState::default();
    state.newest_ms = ms("2026-11-30T05:30:00Z");
    state.floor_ms = state.newest_ms;
    cursor.targets.insert("video:AcmeVid0001".into(), state);
    let polled = yt.poll(&cursor.encode()).await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 8, "page 1's seven and D; E is older than the cursor");
    find(&m, "UgyAcmeDelivery04AaABAg");
    assert!(m.iter().all(|m| m.native_id != "UgzAcmeEarly0005AaABAg"));
    let pages: Vec<Option<String>> = served
        .requests()
        .iter()
        .filter(|r| r.path == "/commentThreads")
        .map(|r| r.query.get("pageToken").cloned())
        .collect();
    assert_eq!(pages, [None, Some(PAGE2_TOKEN.to_string())]);
}

#[tokio::test]
async fn a_channel_is_read_with_all_threads_related_to_it() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller("channel_id = \"UCAcmeBrand0000000000001\"", &clock);
    assert_eq!(yt.targets(), [Target::Channel("UCAcmeBrand0000000000001".into())]);
    let polled = yt.poll(b"").await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 7);
    assert!(m.iter().all(|m| m.thread_id == VIDEO), "the video of each thread");
    let q = &served.requests()[0].query;
    assert_eq!(
        q.get("allThreadsRelatedToChannelId").map(String::as_str),
        Some("UCAcmeBrand0000000000001")
    );
    assert!(!q.contains_key("videoId"));
    assert!(cursor_of(&polled)
        .targets
        .contains_key("channel:UCAcmeBrand0000000000001"));
}

#[tokio::test]
async fn a_429_is_retried_after_its_wait_and_the_next_poll_recovers() {
    let served = Served::start().await;
    let clock = clock_at("2026-12-01T20:00:00Z");
    let yt = served.poller("", &clock);
    served.instead(
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "2".into())],
        "{}",
    );
    let e = yt.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(2)))
    );
    assert_eq!(
        collect::backoff(Duration::from_secs(1), 1, e.retry_after),
        Duration::from_secs(2)
    );
    served.answer_normally();
    advance(&clock, Duration::from_secs(300));
    let polled = yt.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&polled).len(), 7);
    assert_eq!(
        cursor_of(&polled).quota.used,
        3,
        "the refused call counted too (failed calls cost their unit)"
    );

    served.instead(
        StatusCode::FORBIDDEN,
        vec![],
        r#"{"error":{"code":403,"message":"rate","errors":[{"reason":"rateLimitExceeded"}]}}"#,
    );
    advance(&clock, Duration::from_secs(300));
    assert_eq!(yt.poll(b"").await.unwrap_err().kind, "rate_limited");
    served.instead(StatusCode::SERVICE_UNAVAILABLE, vec![], "");
    advance(&clock, Duration::from_secs(300));
    assert_eq!(yt.poll(b"").await.unwrap_err().kind, "status");
}

#[tokio::test]
async fn the_quota_counted_in_the_cursor_is_spread_then_waits_for_the_pacific_midnight() {
    let served = Served::start().await;
    // Noon PST: 12 hours to the reset.
    let clock = clock_at("2026-12-01T20:00:00Z");
    let yt = served.poller(&format!("video_ids = [\"{VIDEO}\"]\ndaily_quota = 3"), &clock);
    let first = yt.poll(b"").await.unwrap();
    let cursor = cursor_of(&first);
    assert_eq!(
        cursor.quota,
        Quota {
            day: "2026-12-01".into(),
            used: 2
        }
    );
    // One unit left, polls of two: the next poll is spread to the end of the day.
    assert_eq!(
        yt.budget(&cursor, ms("2026-12-01T20:00:00Z")),
        quota::Budget::After(Duration::from_secs(12 * 3600))
    );

    // A restart (a new poller) from a cursor that used the day's 3 units: no call, a quota
    // error until 08:00 UTC (midnight PST).
    let mut spent = cursor.clone();
    spent.quota.used = 3;
    let restarted = served.poller(&format!("video_ids = [\"{VIDEO}\"]\ndaily_quota = 3"), &clock);
    let calls = served.requests().len();
    let e = restarted.poll(&spent.encode()).await.unwrap_err();
    assert_eq!(e.kind, "quota");
    assert_eq!(e.retry_after, Some(Duration::from_secs(12 * 3600)));
    assert_eq!(served.requests().len(), calls, "nothing asked of the API");

    // The collect loop waits that long (the back-off never sooner than retry_after).
    assert_eq!(
        collect::backoff(DEFAULT_INTERVAL, 1, e.retry_after),
        Duration::from_secs(12 * 3600)
    );

    // After the reset, the count starts again from zero and the poll goes through.
    clock.store(ms("2026-12-02T08:00:01Z"), Ordering::SeqCst);
    let next = restarted.poll(&spent.encode()).await.unwrap();
    assert!(next.mapped.items.is_empty(), "nothing new since");
    assert_eq!(
        cursor_of(&next).quota,
        Quota {
            day: "2026-12-02".into(),
            used: 1
        }
    );
}

#[tokio::test]
async fn a_403_quota_exceeded_waits_for_the_reset_without_asking_again() {
    let served = Served::start().await;
    // 2026-07-01 09:00 PDT: midnight PDT is 07:00 UTC, 15 hours away.
    let clock = clock_at("2026-07-01T16:00:00Z");
    let yt = served.poller("", &clock);
    served.instead(StatusCode::FORBIDDEN, vec![], QUOTA_EXCEEDED);
    let e = yt.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "quota", "{e}");
    assert_eq!(e.retry_after, Some(Duration::from_secs(15 * 3600)));
    assert!(e.message.contains("quotaExceeded"), "{}", e.message);
    assert_eq!(served.requests().len(), 1);

    // The poller remembers the day is spent: the next poll does not call.
    advance(&clock, Duration::from_secs(3600));
    let e = yt.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("quota", Some(Duration::from_secs(14 * 3600)))
    );
    assert_eq!(served.requests().len(), 1);

    // The next Pacific day it recovers.
    served.answer_normally();
    clock.store(ms("2026-07-02T07:00:00Z"), Ordering::SeqCst);
    let polled = yt.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&polled).len(), 7);
    assert_eq!(cursor_of(&polled).quota.day, "2026-07-02");
}

#[tokio::test]
async fn a_refused_target_is_skipped_and_the_others_still_flow() {
    let served = Served::start().await;
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller(&format!("video_ids = [\"{VIDEO}\", \"NoComments1\"]"), &clock);
    // Every call refused: the poll fails.
    served.instead(
        StatusCode::FORBIDDEN,
        vec![],
        r#"{"error":{"code":403,"message":"disabled","errors":[{"reason":"commentsDisabled"}]}}"#,
    );
    assert_eq!(yt.poll(b"").await.unwrap_err().kind, "status");
    served.answer_normally();
    // A key refused fails the poll whole.
    served.instead(
        StatusCode::BAD_REQUEST,
        vec![],
        r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","errors":[{"reason":"badRequest"}]}}"#,
    );
    advance(&clock, Duration::from_secs(300));
    assert_eq!(yt.poll(b"").await.unwrap_err().kind, "auth");
    served.answer_normally();
    advance(&clock, Duration::from_secs(300));
    let polled = yt.poll(b"").await.unwrap();
    let cursor = cursor_of(&polled);
    assert_eq!(
        cursor.targets.len(),
        2,
        "both videos read (the fake serves the same page)"
    );
}

/// The in-process bus a collect loop runs over, as `vigie standalone` runs it.
struct Pipeline {
    bus: MemoryBus,
}

impl Pipeline {
    /// Runs the collect loop for `config` (a fresh process: new connector, new ingestor, its
    /// cursor read from the bus) until `done` holds, then stops it.
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

    fn cursors(&self) -> Vec<Cursor> {
        self.bus
            .snapshot(topics::CONNECTOR_STATE)
            .iter()
            .map(|r| Cursor::decode(r.payload.as_deref().unwrap()).unwrap())
            .collect()
    }
}

/// Settings of the collect tests: one video, polled every second, quota plenty (no pacing).
fn collect_settings() -> String {
    format!("video_ids = [\"{VIDEO}\"]\ninterval = \"1s\"\ndaily_quota = 1000000000")
}

#[tokio::test]
async fn after_a_restart_only_the_new_comment_is_published_without_gap_or_duplicate() {
    let served = Served::start().await;
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    let config = || served.config("yt", &collect_settings());
    p.collect_until(config(), |p| !p.cursors().is_empty()).await;
    let first = p.mentions();
    assert_eq!(first.len(), 7);
    assert!(first
        .iter()
        .all(|m| m.tenant == "acme" && m.source == Source::Youtube as i32));
    let calls = served.requests().len();
    let saved = p.cursors().len();

    // A new comment; the service starts again from its saved cursor.
    served.add_thread(new_thread(
        "UgzAcmeNew000006AaABAg",
        "Acme finally answered, refund on its way",
        "2026-11-30T11:15:00Z",
    ));
    p.collect_until(config(), |p| p.cursors().len() > saved).await;
    let all = p.mentions();
    assert_eq!(all.len(), 8, "exactly the new comment");
    assert_eq!(all[7].native_id, "UgzAcmeNew000006AaABAg");
    assert_eq!(all[7].text, "Acme finally answered, refund on its way");
    let ids: std::collections::HashSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 8, "no duplicate row");
    let after = &served.requests()[calls..];
    assert_eq!(
        after.first().map(|r| r.path.as_str()),
        Some("/commentThreads"),
        "the restart read the first page, and A's replies were not read again"
    );
    assert!(after.iter().all(|r| r.path == "/commentThreads"), "{after:?}");
    let cursors = p.cursors();
    assert!(
        cursors[saved].quota.used > cursors[0].quota.used,
        "the units counted on from the saved cursor"
    );
    assert!(p.dead_letters().is_empty());
}

#[tokio::test]
async fn a_malformed_thread_is_dead_lettered_once_and_the_others_still_flow() {
    let served = Served::start().await;
    served.edit_page1(|page| {
        let items = page["items"].as_array_mut().unwrap();
        items.insert(
            1,
            serde_json::json!({"kind": "youtube#commentThread", "id": "UgzBroken", "etag": "x"}),
        );
        items.insert(
            2,
            serde_json::json!({"kind": "youtube#commentThread", "snippet": {"videoId": VIDEO}}),
        );
    });
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    let config = || served.config("yt", &collect_settings());
    p.collect_until(config(), |p| !p.cursors().is_empty()).await;
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 2, "{letters:?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:yt" && l.tenant == "acme"));
    let refused: Vec<(&str, &str)> = letters
        .iter()
        .map(|l| (l.field.as_str(), l.reason.as_str()))
        .collect();
    for (field, reason) in [
        (".snippet", "a comment thread without snippet"),
        (".id", "a comment thread without id"),
    ] {
        assert!(
            refused.iter().any(|(f, r)| f.ends_with(field) && *r == reason),
            "{refused:?}"
        );
    }
    let original: Value = serde_json::from_slice(&letters[0].original).unwrap();
    assert_eq!(original["kind"], "youtube#commentThread");
    assert_eq!(p.mentions().len(), 7, "the rest flowed");

    // A restart reads the same page: not dead-lettered again.
    let saved = p.cursors().len();
    served.add_thread(new_thread(
        "UgzAcmeNew000007AaABAg",
        "Acme?",
        "2026-11-30T11:20:00Z",
    ));
    p.collect_until(config(), |p| p.cursors().len() > saved).await;
    assert_eq!(p.dead_letters().len(), 2);
    assert_eq!(p.mentions().len(), 8);
}

#[test]
fn the_settings_are_checked_and_name_the_key() {
    let config = |extra: &str| -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"yt\"\ntype = \"youtube\"\ntenant = \"acme\"\n{extra}"
        ))
        .unwrap()
    };
    let error = |extra: &str| match build_all(&[config(extra)]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{extra} accepted"),
    };
    let video = "video_ids = [\"AcmeVid0001\"]";
    assert!(
        error(video).contains("(yt).api_key: required"),
        "{}",
        error(video)
    );
    assert!(error("api_key = \"k\"").contains("(yt).video_ids: required"));
    assert!(error("api_key = \"k\"\nvideo_ids = [\"not an id\"]").contains("(yt).video_ids:"));
    assert!(
        error("api_key = \"k\"\nvideo_ids = \"AcmeVid0001\"\nchannel_id = \"a/b\"")
            .contains("(yt).channel_id:")
    );
    assert!(error(&format!("api_key = \"k\"\n{video}\ndaily_quota = 0")).contains("(yt).daily_quota:"));
    assert!(
        error(&format!("api_key = \"k\"\n{video}\ndaily_quota = \"lots\"")).contains("(yt).daily_quota:")
    );
    assert!(error(&format!("api_key = \"k\"\n{video}\ninterval = \"10ms\"")).contains("(yt).interval:"));
    assert!(error(&format!("api_key = \"k\"\n{video}\napi_base = \"ftp://x\"")).contains("(yt).api_base:"));
    assert!(error(&format!("api_key = \"k\"\n{video}\nvideo_id = \"typo\""))
        .contains("(yt).video_id: unknown key"));
    let many: Vec<String> = (0..=MAX_VIDEO_IDS).map(|i| format!("\"Video{i:06}\"")).collect();
    assert!(error(&format!("api_key = \"k\"\nvideo_ids = [{}]", many.join(","))).contains("at most"));

    let built = build_all(&[config(&format!("api_key = \"k\"\n{video}"))]).unwrap();
    match &built[0].built {
        Built::Pull(p) => assert_eq!(p.interval(), DEFAULT_INTERVAL),
        Built::Push(_) => panic!("youtube is pulled"),
    }
    std::env::set_var("VIGIE_TEST_YOUTUBE_KEY", "from-env");
    let c = config("api_key_env = \"VIGIE_TEST_YOUTUBE_KEY\"\nchannel_id = \"UCAcmeBrand0000000000001\"\nvideo_ids = [\"AcmeVid0001\", \"AcmeVid0001\"]\ninterval = \"10m\"\ndaily_quota = 50000");
    let mut settings = Settings::new(0, &c);
    let yt = youtube(&mut settings).unwrap();
    settings.finish().unwrap();
    assert_eq!(
        yt.targets(),
        [
            Target::Video("AcmeVid0001".into()),
            Target::Channel("UCAcmeBrand0000000000001".into())
        ],
        "the same video once"
    );
    assert_eq!(yt.interval(), Duration::from_secs(600));
    assert_eq!(yt.daily_quota, 50_000);
}

/// `n` threads, newest first, the newest `n` seconds after 2026-11-30T00:00:00Z.
fn many_threads(prefix: &str, n: i64) -> Vec<Value> {
    let t0 = ms("2026-11-30T00:00:00Z");
    (1..=n)
        .rev()
        .map(|i| {
            let at = vigie_core::model::format_rfc3339_ms(t0 + i * 1000);
            new_thread(&format!("{prefix}{i:05}"), &format!("comment {i}"), &at)
        })
        .collect()
}

#[tokio::test]
async fn a_poll_noting_more_than_the_bound_keeps_the_newest_and_a_floor_below_them() {
    let served = Served::start().await;
    *served.api.paged.lock().unwrap() = Some(many_threads("Ugz", 300));
    let clock = clock_at("2026-11-30T12:00:00Z");
    let videos: Vec<String> = (1..=MAX_VIDEO_IDS)
        .map(|i| format!("\"AcmeVid{i:04}\""))
        .collect();
    let yt = served.poller(&format!("video_ids = [{}]", videos.join(", ")), &clock);
    let bound = Cursor::bound(MAX_VIDEO_IDS);
    assert!(bound < 300);
    let t0 = ms("2026-11-30T00:00:00Z");
    let mut cursor = Cursor::default();
    for i in 1..=MAX_VIDEO_IDS {
        let mut state = TargetState::default();
        state.newest_ms = t0;
        state.floor_ms = t0;
        cursor.targets.insert(format!("video:AcmeVid{i:04}"), state);
    }
    let polled = yt.poll(&cursor.encode()).await.unwrap();
    assert_eq!(mentions_of(&polled).len(), 300 * MAX_VIDEO_IDS);
    let after = cursor_of(&polled);
    let state = &after.targets["video:AcmeVid0001"];
    assert_eq!(state.len(), bound);
    assert!(state.known("Ugz00300").is_some(), "the newest is kept");
    assert!(state.known(&format!("Ugz{:05}", 300 - bound + 1)).is_some());
    assert!(
        state.known(&format!("Ugz{:05}", 300 - bound)).is_none(),
        "the oldest forgotten"
    );
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
    *served.api.paged.lock().unwrap() = Some(many_threads("Ugz", total));
    let clock = clock_at("2026-11-30T12:00:00Z");
    let yt = served.poller("", &clock);
    let t0 = ms("2026-11-30T00:00:00Z");
    let mut cursor = Cursor::default();
    let mut state = TargetState::default();
    state.newest_ms = t0;
    state.floor_ms = t0;
    cursor.targets.insert(format!("video:{VIDEO}"), state);
    let first = yt.poll(&cursor.encode()).await.unwrap();
    let mut ids: Vec<String> = mentions_of(&first).iter().map(|m| m.native_id.clone()).collect();
    assert_eq!(ids.len(), MAX_PAGES * 100);
    let backlog = cursor_of(&first).targets[&format!("video:{VIDEO}")]
        .backlog
        .clone();
    assert_eq!(
        backlog,
        Some(cursor::Backlog {
            page_token: (MAX_PAGES * 100).to_string(),
            until_ms: t0
        })
    );
    advance(&clock, Duration::from_secs(300));
    let second = yt.poll(first.cursor.as_deref().unwrap()).await.unwrap();
    ids.extend(mentions_of(&second).iter().map(|m| m.native_id.clone()));
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), unique.len()), (total as usize, total as usize));
    assert!(cursor_of(&second).targets[&format!("video:{VIDEO}")]
        .backlog
        .is_none());
    advance(&clock, Duration::from_secs(300));
    let third = yt.poll(second.cursor.as_deref().unwrap()).await.unwrap();
    assert!(mentions_of(&third).is_empty(), "nothing again");
}
