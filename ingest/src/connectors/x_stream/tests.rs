//! The x_stream connector: the fixtures (written from X's API v2 filtered-stream docs, fake
//! ids) mapped field by field, and the poller and the collect loop against a fake X on
//! 127.0.0.1: rules read and changed, a chunked stream with keep-alives that stays open, ends,
//! goes silent or sends an error line, 429s.

use super::*;
use crate::collect;
use crate::connectors::{build_all, Connector};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::VecDeque;
use std::sync::Mutex as StdMutex;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::model::parse_rfc3339_ms;
use vigie_core::proto::{DeadLetter, Kind, Mention, Source, Visibility};
use vigie_core::topics;

const STREAM: &str = include_str!("../../../../testdata/connectors/x_stream/stream.ndjson");
const RULES_GET: &str = include_str!("../../../../testdata/connectors/x_stream/rules_get.json");
const RULES_POST: &str = include_str!("../../../../testdata/connectors/x_stream/rules_post_answer.json");
const TOKEN: &str = "AAAA-bearer";

fn rules() -> Vec<String> {
    vec![
        "acme -is:retweet".to_string(),
        "\"acme support\" lang:fr".to_string(),
    ]
}

/// The fixture's lines up to (not including) the error line, keep-alives included.
fn tweets_part() -> String {
    let end = STREAM.find("{\"errors\"").unwrap();
    STREAM[..end].to_string()
}

fn error_line() -> String {
    let start = STREAM.find("{\"errors\"").unwrap();
    STREAM[start..].to_string()
}

/// A tweet line of `id` saying `words`.
fn tweet_line(id: &str, words: &str) -> String {
    let first = STREAM.lines().next().unwrap();
    let mut v: Value = serde_json::from_str(first).unwrap();
    v["data"]["id"] = id.into();
    v["data"]["conversation_id"] = id.into();
    v["data"]["text"] = words.into();
    format!("{v}\r\n")
}

fn mentions_of(polled: &Polled) -> Vec<&Mention> {
    polled
        .mapped
        .items
        .iter()
        .filter_map(|m| m.item.as_ref().ok())
        .collect()
}

fn ms(rfc3339: &str) -> i64 {
    parse_rfc3339_ms(rfc3339).unwrap()
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    Stay,
    Close,
}

type Instead = Option<(StatusCode, Vec<(&'static str, String)>, String)>;

/// A fake X.
struct FakeX {
    /// What each next stream connection sends.
    scripts: StdMutex<VecDeque<(String, Then)>>,
    live: StdMutex<Option<tokio::sync::mpsc::UnboundedSender<Bytes>>>,
    /// The app's rules: id, value, tag.
    rules: StdMutex<Vec<(String, String, String)>>,
    next_rule: StdMutex<u64>,
    stream_instead: StdMutex<Instead>,
    rules_instead: StdMutex<Instead>,
    post_instead: StdMutex<Instead>,
    /// Every request: method, path and query, body; and whether each carried the token.
    requests: StdMutex<Vec<(String, String)>>,
    unauthorized: StdMutex<usize>,
}

impl Default for FakeX {
    fn default() -> Self {
        let got: Value = serde_json::from_str(RULES_GET).unwrap();
        let rules = got["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["value"].as_str().unwrap().to_string(),
                    r["tag"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        Self {
            scripts: StdMutex::default(),
            live: StdMutex::default(),
            rules: StdMutex::new(rules),
            next_rule: StdMutex::new(1870000000000000004),
            stream_instead: StdMutex::default(),
            rules_instead: StdMutex::default(),
            post_instead: StdMutex::default(),
            requests: StdMutex::default(),
            unauthorized: StdMutex::default(),
        }
    }
}

struct Served {
    x: Arc<FakeX>,
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
        let x = Arc::new(FakeX::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = x.clone();
        let router =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let x = state.clone();
                async move { x.answer(&method, &uri, &headers, &body) }
            });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Served { x, base, task }
    }

    fn script(&self, body: impl Into<String>, then: Then) {
        self.x.scripts.lock().unwrap().push_back((body.into(), then));
    }

    fn send(&self, text: &str) {
        let live = self.x.live.lock().unwrap();
        live.as_ref()
            .unwrap()
            .send(Bytes::from(text.to_string()))
            .unwrap();
    }

    fn requests(&self) -> Vec<(String, String)> {
        assert_eq!(
            *self.x.unauthorized.lock().unwrap(),
            0,
            "every request carries the token"
        );
        self.x.requests.lock().unwrap().clone()
    }

    fn stream_requests(&self) -> Vec<String> {
        self.requests()
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| r.starts_with("GET /2/tweets/search/stream?"))
            .collect()
    }

    fn rule_changes(&self) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|(r, _)| r.starts_with("POST "))
            .map(|(_, body)| serde_json::from_str(&body).unwrap())
            .collect()
    }

    fn rules(&self) -> Vec<(String, String, String)> {
        self.x.rules.lock().unwrap().clone()
    }
}

impl FakeX {
    fn answer(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer AAAA-bearer") {
            *self.unauthorized.lock().unwrap() += 1;
        }
        self.requests.lock().unwrap().push((
            format!("{method} {path}"),
            String::from_utf8_lossy(body).into_owned(),
        ));
        let instead = |answer: &StdMutex<Instead>| {
            answer.lock().unwrap().clone().map(|(status, headers, body)| {
                let mut response = (status, body).into_response();
                for (k, v) in headers {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response
            })
        };
        match (method.as_str(), uri.path()) {
            ("GET", "/2/tweets/search/stream") => {
                if let Some(r) = instead(&self.stream_instead) {
                    return r;
                }
                let (body, then) = self
                    .scripts
                    .lock()
                    .unwrap()
                    .pop_front()
                    .unwrap_or((String::new(), Then::Stay));
                let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
                tx.send(Bytes::from(body)).unwrap();
                if then == Then::Stay {
                    *self.live.lock().unwrap() = Some(tx);
                }
                let stream = futures::stream::unfold(rx, |mut rx| async move {
                    rx.recv()
                        .await
                        .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
                });
                axum::body::Body::from_stream(stream).into_response()
            }
            ("GET", "/2/tweets/search/stream/rules") => {
                if let Some(r) = instead(&self.rules_instead) {
                    return r;
                }
                let rules = self.rules.lock().unwrap().clone();
                let data: Vec<Value> = rules
                    .iter()
                    .map(|(id, value, tag)| serde_json::json!({"id": id, "value": value, "tag": tag}))
                    .collect();
                let mut answer = serde_json::json!({"meta": {"sent": "2026-11-30T08:00:00.000Z", "result_count": data.len()}});
                if !data.is_empty() {
                    answer["data"] = Value::Array(data);
                }
                axum::Json(answer).into_response()
            }
            ("POST", "/2/tweets/search/stream/rules") => {
                if let Some(r) = instead(&self.post_instead) {
                    return r;
                }
                let change: Value = serde_json::from_slice(body).unwrap();
                let mut rules = self.rules.lock().unwrap();
                if let Some(ids) = change["delete"]["ids"].as_array() {
                    let before = rules.len();
                    rules.retain(|(id, ..)| !ids.iter().any(|i| i.as_str() == Some(id)));
                    let deleted = before - rules.len();
                    return axum::Json(serde_json::json!({"meta": {"sent": "2026-11-30T08:00:01.000Z", "summary": {"deleted": deleted, "not_deleted": ids.len() - deleted}}})).into_response();
                }
                for add in change["add"].as_array().unwrap() {
                    let mut next = self.next_rule.lock().unwrap();
                    rules.push((
                        next.to_string(),
                        add["value"].as_str().unwrap().to_string(),
                        add["tag"].as_str().unwrap().to_string(),
                    ));
                    *next += 1;
                }
                // As X answers the addition of the one rule the tests add.
                (StatusCode::CREATED, RULES_POST).into_response()
            }
            _ => StatusCode::NOT_FOUND.into_response(),
        }
    }
}

fn secret() -> Secret {
    let config: ConnectorConfig = toml::from_str(&format!(
        "name = \"s\"\ntype = \"x_stream\"\ntenant = \"t\"\nbearer_token = \"{TOKEN}\""
    ))
    .unwrap();
    Settings::new(0, &config).secret("bearer_token").unwrap()
}

fn poller(name: &str, base: &str, backfill: u8, stall: Duration) -> XStream {
    XStream::new(name, base, secret(), &rules(), backfill, stall).unwrap()
}

struct Pipeline {
    bus: MemoryBus,
}

impl Pipeline {
    fn new() -> Self {
        Self {
            bus: MemoryBus::default(),
        }
    }

    /// Runs the collect loop over a fresh `poller` (a new process: its cursor read from the
    /// bus) until `done` holds, then stops it.
    async fn collect_until(&self, name: &str, poller: XStream, done: impl Fn(&Self) -> bool) {
        let connectors = vec![Connector {
            name: name.to_string(),
            kind: "x_stream".to_string(),
            tenant: "acme".to_string(),
            built: Built::Pull(Arc::new(poller)),
        }];
        crate::connectors::testing::collect_until(&self.bus, connectors, None, self, done).await;
    }

    fn native_ids(&self) -> Vec<String> {
        crate::connectors::testing::mentions(&self.bus)
            .into_iter()
            .map(|m| m.native_id)
            .collect()
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        crate::connectors::testing::dead_letters(&self.bus)
    }

    fn last_cursor(&self) -> Option<Cursor> {
        self.bus
            .snapshot(topics::CONNECTOR_STATE)
            .last()
            .map(|r| Cursor::decode(r.payload.as_deref().unwrap()).unwrap())
    }
}

fn metric_value(series: &str) -> u64 {
    vigie_core::metrics::render()
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

#[tokio::test]
async fn tweets_are_mapped_field_by_field_and_retweets_ignored() {
    let served = Served::start().await;
    served.script(tweets_part(), Then::Stay);
    let x = poller("x-map", &served.base, 0, STALL_TIMEOUT);
    let polled = x.poll(b"").await.unwrap();
    assert_eq!(polled.mapped.ignored, ["retweet"]);
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 3, "{:?}", polled.mapped.items);
    let (post, reply, quote) = (m[0], m[1], m[2]);
    assert_eq!(post.source, Source::X as i32);
    assert_eq!(post.visibility, Visibility::Public as i32);
    assert_eq!(post.kind, Kind::Post as i32);
    assert_eq!(post.native_id, "1866000000000000001");
    assert_eq!(
        post.text,
        "My @Acme kettle died after 2 days and support won't answer. #acme #fail"
    );
    assert_eq!(post.created_at_ms, ms("2026-11-30T09:12:04Z"));
    assert_eq!(post.url, "https://x.com/acme_fan/status/1866000000000000001");
    assert_eq!(post.thread_id, "1866000000000000001");
    assert_eq!(post.parent_id, "");
    assert_eq!(post.language_hint, "en");
    let a = post.author.as_ref().unwrap();
    assert_eq!(
        (
            a.id.as_str(),
            a.handle.as_str(),
            a.display_name.as_str(),
            a.followers,
            a.verified
        ),
        ("2244994945", "acme_fan", "Sam 🚲", 2310, false)
    );
    assert_eq!(a.location, "Manchester, England", "the profile location");
    assert_eq!(
        (post.country.as_str(), post.city.as_str()),
        ("", ""),
        "not geotagged"
    );
    let e = post.engagement.as_ref().unwrap();
    assert_eq!((e.likes, e.shares, e.comments, e.views), (17, 5, 2, 1500));

    assert_eq!(reply.kind, Kind::Reply as i32);
    assert_eq!(reply.parent_id, "1866000000000000001");
    assert_eq!(reply.thread_id, "1866000000000000001", "the conversation");
    let a = reply.author.as_ref().unwrap();
    assert_eq!((a.handle.as_str(), a.verified), ("AcmeSupport", true));

    assert_eq!(quote.kind, Kind::Post as i32, "a quote adds words: a post");
    assert!(
        quote.text.starts_with(
            "Pareil pour moi avec Acme, la bouilloire a lâché en une semaine et le service client"
        ),
        "the note_tweet's whole text"
    );
    assert_eq!(quote.language_hint, "fr");
    // A geotagged tweet: the expanded place's country, and its name as it is a city.
    assert_eq!((quote.country.as_str(), quote.city.as_str()), ("FR", "Lyon"));
    // matching_rules is kept with the mention: the tags of the rules that selected it.
    assert_eq!(post.matched_rules, ["vigie:acme -is:retweet"]);
    assert_eq!(quote.matched_rules, ["vigie:\"acme support\" lang:fr"]);

    let cursor = Cursor::decode(polled.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(
        cursor.last_id.as_deref(),
        Some("1866000000000000004"),
        "the retweet counts"
    );
    assert_eq!(
        served.stream_requests(),
        [format!("GET {STREAM_PATH}")],
        "no backfill asked"
    );
}

#[tokio::test]
async fn rules_sync_adds_the_missing_and_deletes_only_stale_vigie_rules() {
    let served = Served::start().await;
    let x = poller("x-rules", &served.base, 0, STALL_TIMEOUT);
    served.script(tweet_line("1866000000000000010", "hello acme"), Then::Stay);
    x.poll(b"").await.unwrap();
    let changes = served.rule_changes();
    assert_eq!(
        changes,
        [
            serde_json::json!({"delete": {"ids": ["1870000000000000002"]}}),
            serde_json::json!({"add": [{"value": "\"acme support\" lang:fr", "tag": "vigie:\"acme support\" lang:fr"}]}),
        ]
    );
    let values: Vec<String> = served.rules().into_iter().map(|(_, v, _)| v).collect();
    assert_eq!(
        values,
        [
            "acme -is:retweet",
            "from:competitor -is:retweet",
            "\"acme support\" lang:fr"
        ],
        "the other tool's rule is left alone"
    );
    let order: Vec<String> = served.requests().into_iter().map(|(r, _)| r).collect();
    assert_eq!(order[0], "GET /2/tweets/search/stream/rules");
    assert!(order[3].starts_with("GET /2/tweets/search/stream?"), "{order:?}");

    // A rule X refuses fails the poll, named.
    let served = Served::start().await;
    *served.x.post_instead.lock().unwrap() = Some((
        StatusCode::OK,
        vec![("content-type", "application/json".to_string())],
        r#"{"errors":[{"value":"\"acme support\" lang:fr","details":["Rules must contain a non-negation term"],"title":"UnprocessableEntity","type":"https://api.twitter.com/2/problems/invalid-rules"}],"meta":{"sent":"2026-11-30T08:00:01.000Z","summary":{"created":0,"not_created":1,"valid":0,"invalid":1}}}"#.to_string(),
    ));
    let x = poller("x-rules-bad", &served.base, 0, STALL_TIMEOUT);
    let e = x.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "rules");
    assert!(
        e.message.contains("UnprocessableEntity") && e.message.contains("acme support"),
        "{e}"
    );
    assert!(
        served.stream_requests().is_empty(),
        "no stream before the rules are right"
    );
    // A duplicate is no refusal.
    *served.x.post_instead.lock().unwrap() = Some((
        StatusCode::OK,
        vec![("content-type", "application/json".to_string())],
        r#"{"errors":[{"id":"1870000000000000009","value":"\"acme support\" lang:fr","title":"DuplicateRule","type":"https://api.twitter.com/2/problems/duplicate-rules"}],"meta":{"sent":"2026-11-30T08:00:01.000Z","summary":{"created":0,"not_created":1,"valid":0,"invalid":1}}}"#.to_string(),
    ));
    served.script(tweet_line("1866000000000000011", "ok"), Then::Stay);
    assert_eq!(mentions_of(&x.poll(b"").await.unwrap()).len(), 1);
}

#[tokio::test]
async fn after_a_restart_rules_are_not_added_again_and_backfill_repeats_are_skipped() {
    let served = Served::start().await;
    served.script(tweets_part(), Then::Stay);
    let p = Pipeline::new();
    p.collect_until(
        "x-restart",
        poller("x-restart", &served.base, 0, STALL_TIMEOUT),
        |p| {
            p.last_cursor()
                .is_some_and(|c| c.last_id.as_deref() == Some("1866000000000000004"))
        },
    )
    .await;
    assert_eq!(p.native_ids().len(), 3);
    assert_eq!(served.rule_changes().len(), 2, "the first start synced the rules");

    // Restart without backfill: what came meanwhile is lost (X cannot resume); only new tweets.
    served.script(
        tweet_line("1866000000000000020", "after the restart #acme"),
        Then::Stay,
    );
    p.collect_until(
        "x-restart",
        poller("x-restart", &served.base, 0, STALL_TIMEOUT),
        |p| p.native_ids().len() >= 4,
    )
    .await;
    assert_eq!(served.rule_changes().len(), 2, "the rules were not added again");
    assert_eq!(
        served.stream_requests().last().unwrap(),
        &format!("GET {STREAM_PATH}"),
        "no backfill asked"
    );

    // Restart with backfill_minutes = 5: X sends the last minutes again, the tweets already
    // handed on among them; only the newer ones are published.
    served.script(
        format!(
            "{}{}\r\n{}",
            tweet_line("1866000000000000001", "already handed on"),
            tweet_line("1866000000000000020", "already handed on too"),
            tweet_line("1866000000000000021", "during the restart #acme")
        ),
        Then::Stay,
    );
    p.collect_until(
        "x-restart",
        poller("x-restart", &served.base, 5, STALL_TIMEOUT),
        |p| p.native_ids().len() >= 5,
    )
    .await;
    assert_eq!(
        served.stream_requests().last().unwrap(),
        &format!("GET {STREAM_PATH}&backfill_minutes=5")
    );
    let ids = p.native_ids();
    assert_eq!(
        ids,
        [
            "1866000000000000001",
            "1866000000000000002",
            "1866000000000000004",
            "1866000000000000020",
            "1866000000000000021"
        ]
    );
    assert!(
        metric_value("vigie_connector_ignored_total{connector=\"x-restart\",event=\"backfill_repeat\"}") >= 2
    );
    assert_eq!(served.rule_changes().len(), 2);
    assert!(p.dead_letters().is_empty());
}

#[tokio::test]
async fn a_429_waits_for_the_rate_limit_reset_and_the_stream_recovers() {
    let served = Served::start().await;
    let x = poller("x-429", &served.base, 0, STALL_TIMEOUT);
    *served.x.rules_instead.lock().unwrap() = Some((
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "3".to_string())],
        String::new(),
    ));
    let e = x.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(3)))
    );
    *served.x.rules_instead.lock().unwrap() = None;

    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 120;
    *served.x.stream_instead.lock().unwrap() = Some((
        StatusCode::TOO_MANY_REQUESTS,
        vec![("x-rate-limit-reset", reset.to_string())],
        r#"{"title":"ConnectionException","detail":"This stream is currently at the maximum allowed connection limit.","connection_issue":"TooManyConnections","type":"https://api.twitter.com/2/problems/streaming-connection"}"#.to_string(),
    ));
    let e = x.poll(b"").await.unwrap_err();
    let wait = e.retry_after.unwrap();
    assert!(
        e.kind == "rate_limited" && wait > Duration::from_secs(110) && wait <= Duration::from_secs(120),
        "{e:?}"
    );
    assert_eq!(
        collect::backoff(x.retry_base(), 1, e.retry_after),
        wait,
        "the next attempt waits for the reset"
    );
    *served.x.stream_instead.lock().unwrap() = None;
    served.script(tweet_line("1866000000000000030", "back"), Then::Stay);
    let polled = x.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&polled)[0].native_id, "1866000000000000030");
    assert_eq!(served.rule_changes().len(), 2, "rules synced once");
}

#[tokio::test]
async fn a_malformed_line_is_dead_lettered_and_the_next_ones_still_flow() {
    let served = Served::start().await;
    served.script(
        format!(
            "not json at all\r\n{{\"meta\":{{}}}}\r\n{{\"data\":{{\"text\":\"no id\"}}}}\r\n{}",
            tweet_line("1866000000000000040", "still flowing #acme")
        ),
        Then::Stay,
    );
    let p = Pipeline::new();
    p.collect_until("x-bad", poller("x-bad", &served.base, 0, STALL_TIMEOUT), |p| {
        !p.native_ids().is_empty()
    })
    .await;
    assert_eq!(p.native_ids(), ["1866000000000000040"]);
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 3, "{letters:?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:x-bad" && l.tenant == "acme"));
    assert_eq!(letters[0].original, b"not json at all");
    assert!(
        letters[1].reason.contains("neither data nor errors"),
        "{}",
        letters[1].reason
    );
    assert!(letters[2].reason.contains("without id"), "{}", letters[2].reason);
}

#[tokio::test]
async fn an_error_line_a_drop_and_a_stall_each_reconnect() {
    let served = Served::start().await;
    // The fixture ends with X's operational disconnect; then a stream that ends; then one with
    // a keep-alive and then silence; then one that flows.
    served.script(STREAM, Then::Stay);
    served.script(tweet_line("1866000000000000050", "then it ends"), Then::Close);
    served.script("\r\n\r\n", Then::Stay);
    served.script(tweet_line("1866000000000000051", "flowing again"), Then::Stay);
    let p = Pipeline::new();
    let stall = Duration::from_millis(300);
    p.collect_until(
        "x-reconnect",
        poller("x-reconnect", &served.base, 0, stall),
        |p| p.native_ids().contains(&"1866000000000000051".to_string()),
    )
    .await;
    assert_eq!(
        p.native_ids(),
        [
            "1866000000000000001",
            "1866000000000000002",
            "1866000000000000004",
            "1866000000000000050",
            "1866000000000000051"
        ]
    );
    assert_eq!(served.stream_requests().len(), 4);
    let series = |kind: &str| {
        metric_value(&format!(
            "vigie_connector_errors_total{{connector=\"x-reconnect\",kind=\"{kind}\"}}"
        ))
    };
    assert_eq!(series("stream_error"), 1);
    assert_eq!(series("stream"), 1);
    assert!(series("stalled") >= 1);
    assert_eq!(
        metric_value("vigie_connector_reconnects_total{connector=\"x-reconnect\"}"),
        3
    );
    assert_eq!(served.rule_changes().len(), 2, "rules synced once per process");
    let _ = error_line();
}

#[tokio::test]
async fn lines_not_handed_on_are_handed_on_again() {
    let served = Served::start().await;
    served.script(tweet_line("1866000000000000060", "first"), Then::Stay);
    let x = poller("x-again", &served.base, 0, STALL_TIMEOUT);
    let first = x.poll(b"").await.unwrap();
    let next = first.cursor.unwrap();
    let again = x.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&again)[0].native_id, "1866000000000000060");
    assert_eq!(again.cursor.as_deref(), Some(next.as_slice()));
    served.send(&tweet_line("1866000000000000061", "second"));
    let then = x.poll(&next).await.unwrap();
    let ids: Vec<&str> = mentions_of(&then).iter().map(|m| m.native_id.as_str()).collect();
    assert_eq!(ids, ["1866000000000000061"]);
    assert_eq!(served.stream_requests().len(), 1);
}

#[test]
fn settings_need_rules_and_bound_the_backfill() {
    let build = |extra: &str| {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"x\"\ntype = \"x_stream\"\ntenant = \"acme\"\nbearer_token = \"t\"\n{extra}"
        ))
        .unwrap();
        build_all(&[config]).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(build("rules = [\"acme\"]"), Ok(()));
    assert_eq!(
        build("rules = \"acme\"\nbackfill_minutes = 5\napi_base = \"http://127.0.0.1:9\""),
        Ok(())
    );
    let e = build("").unwrap_err();
    assert!(e.contains("(x).rules:"), "{e}");
    let e = build("rules = []").unwrap_err();
    assert!(e.contains("(x).rules:"), "{e}");
    let e = build("rules = [\"acme\"]\nbackfill_minutes = 6").unwrap_err();
    assert!(
        e.contains("(x).backfill_minutes:") && e.contains("at most 5"),
        "{e}"
    );
    let e = build("rules = [\"acme\"]\nbackfill_minutes = -1").unwrap_err();
    assert!(e.contains("(x).backfill_minutes:"), "{e}");
    let e = build("rules = [\"acme\"]\napi_base = \"api.x.com\"").unwrap_err();
    assert!(e.contains("(x).api_base:"), "{e}");
    let e = build("rules = [\"acme\"]\nrule = \"x\"").unwrap_err();
    assert!(e.contains("unknown key"), "{e}");
    assert_eq!(compare_ids("999", "1000"), Ordering::Less);
    assert_eq!(rules::tag("acme"), "vigie:acme");
}
