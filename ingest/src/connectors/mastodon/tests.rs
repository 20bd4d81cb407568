//! The mastodon connector: the fixtures (written from Mastodon's documented Status entity and
//! streaming events, fake ids) mapped field by field, and the poller and the collect loop
//! against a fake instance on 127.0.0.1: SSE streams that stay open, end or go silent, tag
//! timelines paged by `min_id`, 429s.

use super::*;
use crate::collect;
use crate::connectors::{build_all, Connector};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex as StdMutex;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::model::parse_rfc3339_ms;
use vigie_core::proto::{DeadLetter, Kind, Mention, Source, Visibility};
use vigie_core::topics;

const STREAM: &str = include_str!("../../../../testdata/connectors/mastodon/stream_update.sse");
const REPLY: &str = include_str!("../../../../testdata/connectors/mastodon/status_reply.json");
const TIMELINE: &str = include_str!("../../../../testdata/connectors/mastodon/timeline_tag.json");
const TOKEN: &str = "tok-123";
const TAG_STREAM: &str = "/api/v1/streaming/hashtag?tag=acme";

fn json(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

fn ms(rfc3339: &str) -> i64 {
    parse_rfc3339_ms(rfc3339).unwrap()
}

/// The fixture's `update` status (id …101).
fn first_status() -> Value {
    let line = STREAM
        .lines()
        .skip_while(|l| *l != "event: update")
        .nth(1)
        .unwrap();
    json(line.strip_prefix("data: ").unwrap())
}

/// A status of `id` saying `words` on #acme.
fn status(id: &str, words: &str) -> Value {
    let mut s = first_status();
    s["id"] = id.into();
    s["content"] = format!("<p>{words}</p>").into();
    s["url"] = format!("https://mastodon.example/@lea/{id}").into();
    s
}

/// `status` as the streaming API sends it.
fn update_event(status: &Value) -> String {
    format!("event: update\ndata: {status}\n\n")
}

fn mentions_of(polled: &Polled) -> Vec<&Mention> {
    polled
        .mapped
        .items
        .iter()
        .filter_map(|m| m.item.as_ref().ok())
        .collect()
}

#[test]
fn a_reply_with_a_content_warning_and_media_is_mapped_field_by_field() {
    let mut mapped = Mapped::default();
    let id = status::map(
        &json(REPLY),
        status::Version::New,
        "mastodon.example",
        &mut mapped,
    );
    assert_eq!(id.as_deref(), Some("113500000000000120"));
    let m = mapped.items[0].item.as_ref().unwrap();
    assert_eq!(m.source, Source::Mastodon as i32);
    assert_eq!(m.visibility, Visibility::Public as i32);
    assert_eq!(m.kind, Kind::Reply as i32);
    assert_eq!(m.native_id, "113500000000000120");
    assert_eq!(m.parent_id, "113500000000000101");
    assert_eq!(
        m.thread_id, "113500000000000101",
        "a reply's thread is its parent"
    );
    assert_eq!(m.title, "kettle rant", "the content warning");
    assert_eq!(m.text, "@lea same here with #Acme, the lid broke\ntwice.");
    assert_eq!(m.url, "https://fedi.example/@tom/113500000000000120");
    assert_eq!(m.language_hint, "fr");
    assert_eq!(m.created_at_ms, ms("2026-11-30T10:01:30Z"));
    let a = m.author.as_ref().unwrap();
    assert_eq!(
        (a.id.as_str(), a.handle.as_str(), a.display_name.as_str()),
        ("109000000000000022", "tom@fedi.example", "Tom B.")
    );
    assert_eq!((a.followers, a.verified), (87, false));
    let e = m.engagement.as_ref().unwrap();
    assert_eq!((e.likes, e.shares, e.comments), (3, 1, 0));
    assert!(m.tenant.is_empty(), "set at hand-over");

    // The timeline: a status that is only a video gets a placeholder, a boost is ignored.
    let mut mapped = Mapped::default();
    for s in json(TIMELINE).as_array().unwrap() {
        status::map(s, status::Version::New, "mastodon.example", &mut mapped);
    }
    assert_eq!(mapped.ignored, ["reblog"]);
    let texts: Vec<&str> = mapped
        .items
        .iter()
        .map(|m| m.item.as_ref().unwrap().text.as_str())
        .collect();
    assert_eq!(
        texts,
        [
            "Anyone else stuck with an #acme refund?",
            "[video]",
            "@lea same here with #Acme, the lid broke\ntwice."
        ]
    );

    // Neither public nor unlisted: not for listening; no id, no text: dead-lettered.
    let mut mapped = Mapped::default();
    let mut private = json(REPLY);
    private["visibility"] = "direct".into();
    status::map(&private, status::Version::New, "h", &mut mapped);
    let mut empty = json(REPLY);
    empty["content"] = "".into();
    empty["media_attachments"] = serde_json::json!([]);
    status::map(&empty, status::Version::New, "h", &mut mapped);
    status::map(
        &serde_json::json!({"content": "x"}),
        status::Version::New,
        "h",
        &mut mapped,
    );
    assert_eq!(mapped.ignored, ["not_public"]);
    let fields: Vec<String> = mapped
        .items
        .iter()
        .map(|m| m.item.as_ref().unwrap_err().field.clone())
        .collect();
    assert_eq!(fields, ["content", "id"]);
}

#[test]
fn settings_need_a_hashtag_or_the_public_timeline() {
    let build = |extra: &str| {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"m\"\ntype = \"mastodon\"\ntenant = \"acme\"\ninstance_url = \"https://mastodon.example\"\naccess_token = \"t\"\n{extra}"
        ))
        .unwrap();
        build_all(&[config]).map(|_| ()).map_err(|e| e.to_string())
    };
    assert_eq!(build("hashtags = [\"acme\", \"#AcmeSupport\"]"), Ok(()));
    assert_eq!(build("public = true"), Ok(()));
    assert_eq!(
        build("hashtags = \"acme\"\napi_base = \"https://streaming.mastodon.example\""),
        Ok(())
    );
    let e = build("").unwrap_err();
    assert!(e.contains("(m).hashtags:") && e.contains("public = true"), "{e}");
    let e = build("public = false").unwrap_err();
    assert!(e.contains("hashtags"), "{e}");
    let e = build("hashtags = [\"two words\"]").unwrap_err();
    assert!(e.contains("not a hashtag"), "{e}");
    let e = build("public = \"yes\"").unwrap_err();
    assert!(e.contains("(m).public:"), "{e}");
    let e = build("public = true\napi_base = \"ftp://x\"").unwrap_err();
    assert!(e.contains("(m).api_base:"), "{e}");
    let e = build("public = true\nhashtag = \"acme\"").unwrap_err();
    assert!(e.contains("unknown key"), "{e}");
}

/// What a streaming connection does once its script is sent.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Then {
    /// Stays open (the test may send more, or nothing: a silent connection).
    Stay,
    /// Ends the response.
    Close,
}

/// An answer given instead of the usual one: its status and headers.
type Instead = Option<(StatusCode, Vec<(&'static str, String)>)>;

/// A fake instance.
#[derive(Default)]
struct Instance {
    /// Per streaming path and query, what each next connection sends.
    scripts: StdMutex<HashMap<String, VecDeque<(String, Then)>>>,
    /// The open connections that stay, by path and query.
    live: StdMutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<Bytes>>>,
    /// The statuses the timelines hold.
    statuses: StdMutex<Vec<Value>>,
    /// An answer given instead, to streaming requests and to timeline requests.
    stream_instead: StdMutex<Instead>,
    /// Streaming paths (and queries) answered with this status.
    stream_refused: StdMutex<HashMap<String, StatusCode>>,
    timeline_instead: StdMutex<Instead>,
    /// Every request, path and query, and whether it carried the token.
    requests: StdMutex<Vec<(String, bool)>>,
}

struct Served {
    instance: Arc<Instance>,
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
        let instance = Arc::new(Instance::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = instance.clone();
        let router = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap| {
            let instance = state.clone();
            async move { instance.answer(&uri, &headers) }
        });
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Served { instance, base, task }
    }

    fn script(&self, path: &str, body: impl Into<String>, then: Then) {
        self.instance
            .scripts
            .lock()
            .unwrap()
            .entry(path.to_string())
            .or_default()
            .push_back((body.into(), then));
    }

    /// Sends `text` on the open connection of `path`.
    fn send(&self, path: &str, text: &str) {
        let live = self.instance.live.lock().unwrap();
        live.get(path)
            .unwrap()
            .send(Bytes::from(text.to_string()))
            .unwrap();
    }

    fn set_statuses(&self, statuses: Vec<Value>) {
        *self.instance.statuses.lock().unwrap() = statuses;
    }

    fn requests(&self) -> Vec<String> {
        let requests = self.instance.requests.lock().unwrap();
        assert!(
            requests.iter().all(|(_, auth)| *auth),
            "every request carries the token"
        );
        requests.iter().map(|(r, _)| r.clone()).collect()
    }

    fn connections(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| *r == path).count()
    }
}

impl Instance {
    fn answer(&self, uri: &Uri, headers: &HeaderMap) -> Response {
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_default();
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer tok-123");
        self.requests.lock().unwrap().push((path.clone(), auth));
        let instead = |answer: &StdMutex<Instead>| {
            answer.lock().unwrap().clone().map(|(status, headers)| {
                let mut response = (status, "slow down").into_response();
                for (k, v) in headers {
                    response.headers_mut().insert(k, v.parse().unwrap());
                }
                response
            })
        };
        if uri.path().starts_with("/api/v1/streaming/") {
            if let Some(r) = instead(&self.stream_instead) {
                return r;
            }
            if let Some(status) = self.stream_refused.lock().unwrap().get(&path) {
                return (*status, "no such stream").into_response();
            }
            let (body, then) = self
                .scripts
                .lock()
                .unwrap()
                .get_mut(&path)
                .and_then(VecDeque::pop_front)
                .unwrap_or((String::new(), Then::Stay));
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
            tx.send(Bytes::from(body)).unwrap();
            if then == Then::Stay {
                self.live.lock().unwrap().insert(path, tx);
            }
            let stream = futures::stream::unfold(rx, |mut rx| async move {
                rx.recv()
                    .await
                    .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
            });
            let mut response = axum::body::Body::from_stream(stream).into_response();
            response
                .headers_mut()
                .insert("content-type", "text/event-stream".parse().unwrap());
            return response;
        }
        if uri.path().starts_with("/api/v1/timelines/") {
            if let Some(r) = instead(&self.timeline_instead) {
                return r;
            }
            let query: HashMap<String, String> =
                url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
                    .into_owned()
                    .collect();
            let limit: usize = query.get("limit").map_or(20, |l| l.parse().unwrap());
            let mut statuses = self.statuses.lock().unwrap().clone();
            statuses.sort_by(|a, b| compare_ids(a["id"].as_str().unwrap(), b["id"].as_str().unwrap()));
            let page: Vec<Value> = match query.get("min_id") {
                // Right after min_id, then listed newest first as Mastodon does.
                Some(min) => statuses
                    .into_iter()
                    .filter(|s| compare_ids(s["id"].as_str().unwrap(), min).is_gt())
                    .take(limit)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect(),
                None => statuses.into_iter().rev().take(limit).collect(),
            };
            return axum::Json(Value::Array(page)).into_response();
        }
        StatusCode::NOT_FOUND.into_response()
    }
}

fn poller(name: &str, base: &str, stall: Duration) -> Mastodon {
    Mastodon::new(name, base, base, secret(), &["#Acme".to_string()], false, stall).unwrap()
}

fn secret() -> Secret {
    let config: ConnectorConfig = toml::from_str(&format!(
        "name = \"s\"\ntype = \"mastodon\"\ntenant = \"t\"\naccess_token = \"{TOKEN}\""
    ))
    .unwrap();
    Settings::new(0, &config).secret("access_token").unwrap()
}

/// The in-process bus a collect loop runs over, as `vigie standalone` runs it.
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
    async fn collect_until(&self, name: &str, poller: Mastodon, done: impl Fn(&Self) -> bool) {
        let connectors = vec![Connector {
            name: name.to_string(),
            kind: "mastodon".to_string(),
            tenant: "acme".to_string(),
            built: Built::Pull(Arc::new(poller)),
        }];
        crate::connectors::testing::collect_until(&self.bus, connectors, None, self, done).await;
    }

    fn mentions(&self) -> Vec<Mention> {
        crate::connectors::testing::mentions(&self.bus)
    }

    fn native_ids(&self) -> Vec<String> {
        self.mentions().into_iter().map(|m| m.native_id).collect()
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

fn metric(line: &str) -> bool {
    vigie_core::metrics::render().contains(line)
}

/// The value of the series `series` (name and labels), 0 when absent.
fn metric_value(series: &str) -> u64 {
    vigie_core::metrics::render()
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0)
}

#[tokio::test]
async fn the_stream_maps_updates_and_edits_and_ignores_deletes_and_heartbeats() {
    let served = Served::start().await;
    served.script(TAG_STREAM, STREAM, Then::Stay);
    let mastodon = poller("masto-map", &served.base, STALL_TIMEOUT);
    assert_eq!(mastodon.stream_keys(), ["hashtag:acme"]);
    let polled = mastodon.poll(b"").await.unwrap();
    assert_eq!(polled.mapped.ignored, ["delete"]);
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 2, "{:?}", polled.mapped.items);
    let (first, edit) = (m[0], m[1]);
    assert_eq!(first.native_id, "113500000000000101");
    assert_eq!(first.kind, Kind::Post as i32);
    assert_eq!(first.thread_id, "113500000000000101", "a root is its own thread");
    assert_eq!(first.parent_id, "");
    assert_eq!(
        first.text,
        "My #acme kettle stopped working after 2 days & support is silent. https://shop.example/orders/12345"
    );
    assert_eq!(first.title, "");
    assert_eq!(first.url, "https://mastodon.example/@lea/113500000000000101");
    assert_eq!(first.created_at_ms, ms("2026-11-30T09:12:04Z"));
    assert_eq!(first.language_hint, "en");
    let a = first.author.as_ref().unwrap();
    assert_eq!(
        (a.handle.as_str(), a.display_name.as_str(), a.followers),
        ("lea@mastodon.example", "Léa 🌱", 1520),
        "a local account's handle gets its instance"
    );
    let e = first.engagement.as_ref().unwrap();
    assert_eq!((e.likes, e.shares, e.comments), (11, 5, 2));

    let edited_at = ms("2026-11-30T09:20:00Z");
    assert_eq!(edit.native_id, format!("113500000000000101:edit:{edited_at}"));
    assert_eq!(edit.created_at_ms, edited_at);
    assert_eq!(
        edit.text,
        "My #acme kettle stopped working after 2 days & support is silent.\n\nEdit: they answered, refund on its way."
    );
    assert_eq!(edit.thread_id, "113500000000000101");
    let cursor = Cursor::decode(polled.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.last("hashtag:acme"), Some("113500000000000101"));
    let requests = served.requests();
    assert_eq!(
        requests,
        [TAG_STREAM, "/api/v1/timelines/tag/acme?limit=1"],
        "the stream opened, then its cursor started at the newest status (none yet)"
    );
}

#[tokio::test]
async fn after_a_restart_the_gap_is_filled_from_the_timeline_without_duplicates() {
    let served = Served::start().await;
    served.set_statuses(vec![status("113500000000000090", "an older status")]);
    served.script(TAG_STREAM, STREAM, Then::Stay);
    let p = Pipeline::new();
    p.collect_until(
        "masto-gap",
        poller("masto-gap", &served.base, STALL_TIMEOUT),
        |p| {
            p.last_cursor()
                .is_some_and(|c| c.last("hashtag:acme") == Some("113500000000000101"))
        },
    )
    .await;
    assert_eq!(p.native_ids().len(), 2, "the update and its edit");
    assert!(p.mentions().iter().all(|m| m.tenant == "acme"));

    // Collect is down while four statuses come (a boost among them); the timeline has them.
    let mut statuses = vec![status("113500000000000090", "an older status"), first_status()];
    statuses.extend(json(TIMELINE).as_array().unwrap().iter().cloned());
    served.set_statuses(statuses);
    // Once connected again, the stream repeats the newest of them (it came as the stream
    // opened) and brings a new one.
    let newer = status("113500000000000140", "and now a new one #acme");
    let repeated = json(TIMELINE)[0].clone();
    served.script(
        TAG_STREAM,
        format!("{}:thump\n\n{}", update_event(&repeated), update_event(&newer)),
        Then::Stay,
    );
    p.collect_until(
        "masto-gap",
        poller("masto-gap", &served.base, STALL_TIMEOUT),
        |p| p.native_ids().len() >= 6,
    )
    .await;
    let ids = p.native_ids();
    assert_eq!(
        ids[2..],
        [
            "113500000000000120",
            "113500000000000125",
            "113500000000000130",
            "113500000000000140"
        ],
        "the gap oldest first, then the stream; the boost ignored"
    );
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "no duplicate row: {ids:?}");
    let requests = served.requests();
    assert!(
        requests.contains(&"/api/v1/timelines/tag/acme?min_id=113500000000000101&limit=40".to_string()),
        "{requests:?}"
    );
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.starts_with("/api/v1/timelines/tag/acme?limit=1"))
            .count(),
        1,
        "only the very first connection started from the newest status"
    );
    assert_eq!(
        p.last_cursor().unwrap().last("hashtag:acme"),
        Some("113500000000000140")
    );
    assert!(p.dead_letters().is_empty());
}

#[tokio::test]
async fn a_long_gap_is_read_page_by_page_and_resumed_at_the_next_poll() {
    let served = Served::start().await;
    let many: Vec<Value> = (0..(FILL_LIMIT * MAX_FILL_PAGES + 5))
        .map(|n| status(&format!("{}", 200_000 + n), &format!("status {n}")))
        .collect();
    served.set_statuses(many);
    let mastodon = poller("masto-pages", &served.base, STALL_TIMEOUT);
    let saved = br#"{"streams":{"hashtag:acme":"199999"}}"#;
    let polled = mastodon.poll(saved).await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(
        m.len(),
        FILL_LIMIT * MAX_FILL_PAGES,
        "a poll reads at most its pages"
    );
    assert_eq!(m[0].native_id, "200000");
    let next = polled.cursor.unwrap();
    assert_eq!(
        Cursor::decode(&next).unwrap().last("hashtag:acme"),
        Some("200399")
    );
    let polled = mastodon.poll(&next).await.unwrap();
    let m = mentions_of(&polled);
    assert_eq!(
        m.iter().map(|m| m.native_id.as_str()).collect::<Vec<_>>(),
        ["200400", "200401", "200402", "200403", "200404"]
    );
    let requests = served.requests();
    let pages: Vec<&String> = requests.iter().filter(|r| r.contains("min_id=")).collect();
    assert_eq!(pages.len(), MAX_FILL_PAGES + 1);
    assert_eq!(pages[1], "/api/v1/timelines/tag/acme?min_id=200039&limit=40");
    assert_eq!(
        served.connections(TAG_STREAM),
        2,
        "closed while behind, opened again to go on"
    );
    assert!(
        !metric("vigie_connector_reconnects_total{connector=\"masto-pages\"} 1"),
        "catching up is no reconnect"
    );
}

#[tokio::test]
async fn a_429_says_when_to_come_back_and_the_stream_recovers() {
    let served = Served::start().await;
    let mastodon = poller("masto-429", &served.base, STALL_TIMEOUT);
    *served.instance.stream_instead.lock().unwrap() = Some((
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "2".to_string())],
    ));
    let e = mastodon.poll(b"").await.unwrap_err();
    assert_eq!(
        (e.kind, e.retry_after),
        ("rate_limited", Some(Duration::from_secs(2)))
    );
    assert_eq!(
        collect::backoff(mastodon.retry_base(), 1, e.retry_after),
        Duration::from_secs(2),
        "the next attempt is not before 2 s"
    );
    // The timeline limited, as Mastodon says it: X-RateLimit-Reset, no Retry-After.
    *served.instance.stream_instead.lock().unwrap() = None;
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let reset = vigie_core::model::format_rfc3339_ms(i64::try_from(now_ms).unwrap() + 300_000);
    *served.instance.timeline_instead.lock().unwrap() =
        Some((StatusCode::TOO_MANY_REQUESTS, vec![("x-ratelimit-reset", reset)]));
    let saved = br#"{"streams":{"hashtag:acme":"113500000000000101"}}"#;
    let e = mastodon.poll(saved).await.unwrap_err();
    let wait = e.retry_after.unwrap();
    assert!(
        e.kind == "rate_limited" && wait > Duration::from_secs(290) && wait <= Duration::from_secs(300),
        "{e:?}"
    );
    // It recovers: the gap is read and the stream flows.
    *served.instance.timeline_instead.lock().unwrap() = None;
    served.set_statuses(vec![json(REPLY)]);
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000130", "back")),
        Then::Stay,
    );
    let polled = mastodon.poll(saved).await.unwrap();
    let ids: Vec<&str> = mentions_of(&polled)
        .iter()
        .map(|m| m.native_id.as_str())
        .collect();
    assert_eq!(ids, ["113500000000000120", "113500000000000130"]);
}

#[tokio::test]
async fn malformed_events_are_dead_lettered_and_the_next_ones_still_flow() {
    let served = Served::start().await;
    served.script(
        TAG_STREAM,
        format!(
            "event: update\ndata: {{not json\n\nevent: update\ndata: {{\"content\":\"<p>no id</p>\"}}\n\nevent: announcement\ndata: {{}}\n\n{}",
            update_event(&status("113500000000000150", "still flowing #acme"))
        ),
        Then::Stay,
    );
    let p = Pipeline::new();
    p.collect_until(
        "masto-bad",
        poller("masto-bad", &served.base, STALL_TIMEOUT),
        |p| !p.mentions().is_empty(),
    )
    .await;
    assert_eq!(p.native_ids(), ["113500000000000150"]);
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 3, "{letters:?}");
    assert!(letters
        .iter()
        .all(|l| l.stage == "connector:masto-bad" && l.tenant == "acme"));
    assert_eq!(letters[0].original, b"event: update\ndata: {not json");
    assert!(
        letters[0].reason.contains("not a JSON object"),
        "{}",
        letters[0].reason
    );
    assert!(letters[1].reason.contains("id"), "{}", letters[1].reason);
    assert!(
        letters[2].reason.contains("\"announcement\""),
        "{}",
        letters[2].reason
    );
}

#[tokio::test]
async fn a_dropped_stream_reconnects_and_fills_what_it_missed() {
    let served = Served::start().await;
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000101", "before the drop")),
        Then::Close,
    );
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000130", "after the drop")),
        Then::Stay,
    );
    let p = Pipeline::new();
    p.collect_until(
        "masto-drop",
        poller("masto-drop", &served.base, STALL_TIMEOUT),
        |p| {
            if p.native_ids().len() == 1 {
                // Posted while the stream was down.
                served.set_statuses(vec![json(REPLY)]);
            }
            p.native_ids().len() >= 3
        },
    )
    .await;
    assert_eq!(
        p.native_ids(),
        ["113500000000000101", "113500000000000120", "113500000000000130"]
    );
    assert_eq!(served.connections(TAG_STREAM), 2);
    assert!(served
        .requests()
        .contains(&"/api/v1/timelines/tag/acme?min_id=113500000000000101&limit=40".to_string()));
    assert!(metric(
        "vigie_connector_reconnects_total{connector=\"masto-drop\"} 1"
    ));
    assert!(metric(
        "vigie_connector_errors_total{connector=\"masto-drop\",kind=\"stream\"} 1"
    ));
}

#[tokio::test]
async fn a_silent_stream_is_dropped_after_the_stall_timeout_and_reconnected() {
    let served = Served::start().await;
    // A heartbeat, then nothing at all.
    served.script(TAG_STREAM, ":thump\n\n", Then::Stay);
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000160", "hello again")),
        Then::Stay,
    );
    let p = Pipeline::new();
    let stall = Duration::from_millis(300);
    p.collect_until("masto-stall", poller("masto-stall", &served.base, stall), |p| {
        !p.mentions().is_empty()
    })
    .await;
    assert_eq!(p.native_ids(), ["113500000000000160"]);
    assert_eq!(served.connections(TAG_STREAM), 2);
    assert!(metric(
        "vigie_connector_reconnects_total{connector=\"masto-stall\"} 1"
    ));
    // The second connection, silent after its status, may have stalled too by the time the
    // loop stopped.
    assert!(metric_value("vigie_connector_errors_total{connector=\"masto-stall\",kind=\"stalled\"}") >= 1);
}

#[tokio::test]
async fn events_not_handed_on_are_handed_on_again_and_only_once_saved() {
    let served = Served::start().await;
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000170", "first")),
        Then::Stay,
    );
    let mastodon = poller("masto-again", &served.base, STALL_TIMEOUT);
    let saved = br#"{"streams":{"hashtag:acme":"113500000000000101"}}"#.to_vec();
    let first = mastodon.poll(&saved).await.unwrap();
    assert_eq!(mentions_of(&first)[0].native_id, "113500000000000170");
    let next = first.cursor.unwrap();
    // The broker failed: collect polls again from the cursor it had.
    let again = mastodon.poll(&saved).await.unwrap();
    assert_eq!(mentions_of(&again)[0].native_id, "113500000000000170");
    assert_eq!(again.cursor.as_deref(), Some(next.as_slice()));
    // Handed on this time: the next poll brings only what is new.
    served.send(TAG_STREAM, &update_event(&status("113500000000000171", "second")));
    let then = mastodon.poll(&next).await.unwrap();
    let ids: Vec<&str> = mentions_of(&then).iter().map(|m| m.native_id.as_str()).collect();
    assert_eq!(ids, ["113500000000000171"]);
    assert_eq!(served.connections(TAG_STREAM), 1, "one connection all along");
}

#[tokio::test]
async fn hashtags_and_the_public_timeline_are_streamed_side_by_side() {
    let served = Served::start().await;
    let shared = status("113500000000000180", "on #acme, so public too");
    served.script(TAG_STREAM, update_event(&shared), Then::Stay);
    served.script("/api/v1/streaming/hashtag?tag=acmesupport", "", Then::Stay);
    served.script(
        "/api/v1/streaming/public",
        format!(
            "{}{}",
            update_event(&shared),
            update_event(&status("113500000000000181", "public only"))
        ),
        Then::Stay,
    );
    let mastodon = Mastodon::new(
        "masto-many",
        &served.base,
        &served.base,
        secret(),
        &["acme".to_string(), "AcmeSupport".to_string(), "ACME".to_string()],
        true,
        STALL_TIMEOUT,
    )
    .unwrap();
    assert_eq!(
        mastodon.stream_keys(),
        ["hashtag:acme", "hashtag:acmesupport", "public"]
    );
    let mut ids = Vec::new();
    let mut saved = Vec::new();
    while ids.len() < 2 {
        let polled = mastodon.poll(&saved).await.unwrap();
        ids.extend(mentions_of(&polled).iter().map(|m| m.native_id.clone()));
        saved = polled.cursor.unwrap_or(saved);
    }
    ids.sort();
    assert_eq!(
        ids,
        ["113500000000000180", "113500000000000181"],
        "the shared one once"
    );
    let cursor = Cursor::decode(&saved).unwrap();
    assert_eq!(cursor.last("public"), Some("113500000000000181"));
}

#[tokio::test]
async fn a_stream_that_cannot_be_opened_is_retried_apart_and_the_others_flow() {
    const BROKEN: &str = "/api/v1/streaming/hashtag?tag=gone";
    let served = Served::start().await;
    served
        .instance
        .stream_refused
        .lock()
        .unwrap()
        .insert(BROKEN.to_string(), StatusCode::NOT_FOUND);
    served.script(
        TAG_STREAM,
        update_event(&status("113500000000000190", "first")),
        Then::Stay,
    );
    let mastodon = Mastodon::new(
        "masto-broken",
        &served.base,
        &served.base,
        secret(),
        &["acme".to_string(), "gone".to_string()],
        false,
        STALL_TIMEOUT,
    )
    .unwrap();
    let polled = mastodon.poll(b"").await.unwrap();
    let ids: Vec<&str> = mentions_of(&polled)
        .iter()
        .map(|m| m.native_id.as_str())
        .collect();
    assert_eq!(ids, ["113500000000000190"], "the live stream is read");
    assert_eq!(served.connections(BROKEN), 1);
    let mut saved = polled.cursor.unwrap();

    // It is tried again after its own wait, in vain, while the events still flow (how many
    // tries fall within these polls depends on the machine's speed: only bounds are asserted).
    served.send(TAG_STREAM, &update_event(&status("113500000000000191", "second")));
    let polled = mastodon.poll(&saved).await.unwrap();
    let ids: Vec<&str> = mentions_of(&polled)
        .iter()
        .map(|m| m.native_id.as_str())
        .collect();
    assert_eq!(ids, ["113500000000000191"]);
    saved = polled.cursor.unwrap();
    served.send(TAG_STREAM, &update_event(&status("113500000000000192", "third")));
    let polled = mastodon.poll(&saved).await.unwrap();
    let ids: Vec<&str> = mentions_of(&polled)
        .iter()
        .map(|m| m.native_id.as_str())
        .collect();
    assert_eq!(ids, ["113500000000000192"]);
    let tries = served.connections(BROKEN);
    assert!(
        (1..=3).contains(&tries),
        "at most one try per poll, its own back-off apart: {tries}"
    );
    assert_eq!(
        served.connections(TAG_STREAM),
        1,
        "the live stream stayed connected"
    );
}
