//! The bluesky connector against a Jetstream played on 127.0.0.1 by the test: a WebSocket
//! server replaying the recorded session `testdata/connectors/bluesky/session.jsonl` from the
//! `cursor` asked for (every event with `time_us >= cursor`), which can pause half-way, drop
//! the first connection, or send nothing at all.
//!
//! The session (times `T0 + i s`, keywords `acme` and `#panne`): 0 identity (alice's handle),
//! 1 alice's post "Acme's new app…" (kept), 2 bob's lunch (filtered), 3 "acmecorp is hiring"
//! (filtered: not a whole word), 4 "La panne d'hier" (filtered: a word, not the hashtag), 5
//! dave's reply to alice "…reinstalling ACME?" (kept), 6 a frame cut short (dead-lettered), 7
//! account (ignored), 8 alice's post updated (kept, an edit), 9 a delete (ignored), 10 a like
//! (ignored: collection), 11 "Tout est en #PANNE…" (kept: hashtag in the text and a tag facet),
//! 12 a tag facet `panne` only (kept), 13 an outline tag `Panne` only (kept), 14 "Merci ACME…"
//! dated a year ahead (kept, dated by its event), 15 "Rien à voir" (filtered), 16 images only,
//! no text (filtered), 17 jane's "Acme—again?" (kept, no langs).

use super::event::post_uri;
use super::*;
use crate::connectors::map::Mapping;
use crate::connectors::{build_all, Connector};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::proto::{DeadLetter, Kind, Mention, Source, Visibility};
use vigie_core::topics;

const SESSION: &str = include_str!("../../../../testdata/connectors/bluesky/session.jsonl");
const T0: i64 = 1_796_025_600_000_123;
const ALICE: &str = "did:plc:4vq3k6r2dzq7a2yjsamlq5cd";
const DAVE: &str = "did:plc:dq5ma3xvk7wlr2ebn4tcy6hu";

fn lines() -> Vec<String> {
    SESSION.lines().map(str::to_string).collect()
}

/// The `time_us` of line `i` of the session.
fn t(i: i64) -> i64 {
    T0 + i * 1_000_000
}

/// The `time_us` written in a frame (read as text: the cut frame has one too).
fn time_in(line: &str) -> Option<i64> {
    let rest = line.split_once("\"time_us\":")?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn keywords() -> Keywords {
    Keywords::new(&["acme".to_string(), "#panne".to_string()]).unwrap()
}

/// The native ids of the posts the session's keywords keep, in order.
fn kept_ids() -> Vec<String> {
    [
        (ALICE, "3m4alice00001"),
        (DAVE, "3m4dave000005"),
        (ALICE, "3m4alice00001"),
        ("did:plc:e3nfo7zb4hqk2uy6ltvxmw5d", "3m4erin000011"),
        ("did:plc:fk6ryd2m7owq4nbx3acsl5ve", "3m4frank00012"),
        ("did:plc:fk6ryd2m7owq4nbx3acsl5ve", "3m4frank00013"),
        ("did:plc:g2lwu5xrhcy7dq3mkfv4bn6o", "3m4grace00014"),
        ("did:web:jane.example.com", "3m4jane000017"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (did, rkey))| {
        let uri = post_uri(did, rkey);
        if i == 2 {
            format!("{uri}:edit:{}", t(8) / 1000)
        } else {
            uri
        }
    })
    .collect()
}

/// How a played Jetstream behaves.
#[derive(Default, Clone, Copy)]
struct Plan {
    /// Wait before line `n` until told to go on (every connection).
    pause_at: Option<usize>,
    /// Drop the first connection after sending this many lines.
    drop_first_after: Option<usize>,
    /// Send nothing.
    silent: bool,
}

/// A Jetstream played on 127.0.0.1.
struct Jetstream {
    url: String,
    /// The `cursor` each connection asked for (`None`: live).
    asked: Arc<Mutex<Vec<Option<i64>>>>,
    go_on: Arc<AtomicBool>,
    connections: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Jetstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Jetstream {
    async fn start(session: Vec<String>, plan: Plan) -> Jetstream {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}", listener.local_addr().unwrap());
        let asked = Arc::new(Mutex::new(Vec::new()));
        let go_on = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(AtomicUsize::new(0));
        let (a, g, c) = (asked.clone(), go_on.clone(), connections.clone());
        let session = Arc::new(session);
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let number = c.fetch_add(1, Ordering::SeqCst);
                let (asked, go_on, session) = (a.clone(), g.clone(), session.clone());
                tokio::spawn(async move {
                    let cursor = Arc::new(Mutex::new(None));
                    let seen = cursor.clone();
                    // The handshake's callback type is tungstenite's (its error is a response).
                    #[allow(clippy::result_large_err)]
                    let callback = move |request: &Request, response: Response| {
                        let uri = request.uri().to_string();
                        assert!(
                            uri.starts_with("/subscribe?wantedCollections=app.bsky.feed.post"),
                            "{uri}"
                        );
                        *seen.lock().unwrap() = uri
                            .split_once("&cursor=")
                            .and_then(|(_, c)| c.parse::<i64>().ok());
                        Ok(response)
                    };
                    let Ok(mut ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await else {
                        return;
                    };
                    let from = *cursor.lock().unwrap();
                    asked.lock().unwrap().push(from);
                    if !plan.silent {
                        let start = session
                            .iter()
                            .position(|l| time_in(l).is_some_and(|t| t >= from.unwrap_or(0)))
                            .unwrap_or(session.len());
                        for (sent, i) in (start..session.len()).enumerate() {
                            if number == 0 && plan.drop_first_after == Some(sent) {
                                return; // dropped without a closing handshake
                            }
                            if plan.pause_at == Some(i) {
                                while !go_on.load(Ordering::SeqCst) {
                                    tokio::time::sleep(Duration::from_millis(20)).await;
                                }
                            }
                            let frame = Message::text(session[i].clone());
                            if futures::SinkExt::send(&mut ws, frame).await.is_err() {
                                return;
                            }
                        }
                    }
                    // Then idle, until the client goes.
                    while let Some(Ok(_)) = ws.next().await {}
                });
            }
        });
        Jetstream {
            url,
            asked,
            go_on,
            connections,
            task,
        }
    }

    fn asked(&self) -> Vec<Option<i64>> {
        self.asked.lock().unwrap().clone()
    }
}

fn poller(name: &str, url: &str, stall: Duration) -> Bluesky {
    Bluesky::new(name, url, keywords(), DEFAULT_REWIND, stall).unwrap()
}

fn mentions_of(items: &[Mapping]) -> Vec<&Mention> {
    items.iter().filter_map(|m| m.item.as_ref().ok()).collect()
}

/// The value of a metric line (`name{labels}`), 0 when absent.
fn metric(line: &str) -> u64 {
    vigie_core::metrics::render()
        .lines()
        .find_map(|l| l.strip_prefix(line)?.trim().parse().ok())
        .unwrap_or(0)
}

/// Polls `bluesky` as the collect loop does (each cursor saved), until the cursor reaches
/// `time_us`; every item, the errors' kinds.
async fn poll_until(bluesky: &Bluesky, time_us: i64) -> (Vec<Mapping>, Vec<&'static str>, Vec<u8>) {
    let (mut items, mut errors, mut cursor) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..30 {
        match bluesky.poll(&cursor).await {
            Ok(polled) => {
                items.extend(polled.mapped.items);
                if let Some(c) = polled.cursor {
                    cursor = c;
                }
            }
            Err(e) => errors.push(e.kind),
        }
        if Cursor::decode(&cursor).unwrap().time_us >= time_us {
            return (items, errors, cursor);
        }
    }
    panic!("the cursor did not reach {time_us}: errors {errors:?}");
}

#[test]
fn keywords_match_whole_words_and_hashtags_whatever_the_case() {
    let k = Keywords::new(&["Acme".into(), "#Panne".into(), "acme bank".into()]).unwrap();
    let none = serde_json::json!({});
    for kept in [
        "acme",
        "ACME!",
        "I love Acme's app",
        "@acme.bsky.social hi",
        "#acme is down",
        "Acme—again?",
        "(acme)",
        "en #PANNE",
        "my ACME BANK card",
    ] {
        assert!(k.keep(kept, &none), "{kept}");
    }
    for dropped in ["acmecorp", "notacme", "acme2", "panne", "#pannes", "acmé", ""] {
        assert!(!k.keep(dropped, &none), "{dropped}");
    }
    let facet = serde_json::json!({"facets": [{"features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://panne.example"},
        {"$type": "app.bsky.richtext.facet#tag", "tag": "PANNE"}]}]});
    assert!(k.keep("rien", &facet));
    assert!(k.keep("rien", &serde_json::json!({"tags": ["#panne"]})));
    assert!(
        !k.keep("rien", &serde_json::json!({"tags": ["acme"]})),
        "tags are for hashtags"
    );
    let words_only = Keywords::new(&["acme".into()]).unwrap();
    assert!(!words_only.keep("rien", &facet));

    assert!(Keywords::new(&[]).is_err());
    assert!(Keywords::new(&["#".into()]).is_err());
    assert!(Keywords::new(&["  ".into()]).is_err());
    assert!(Keywords::new(&["#two words".into()]).is_err());
}

#[test]
fn the_settings_are_checked() {
    let config = |extra: &str| -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"sky\"\ntype = \"bluesky\"\ntenant = \"acme\"\n{extra}"
        ))
        .unwrap()
    };
    let error = |extra: &str| match build_all(&[config(extra)]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{extra} accepted"),
    };
    let url = "jetstream_url = \"ws://127.0.0.1:1\"";
    assert!(
        error(url).contains("(sky).keywords: at least one keyword"),
        "{}",
        error(url)
    );
    assert!(error(&format!("{url}\nkeywords = []")).contains("at least one keyword"));
    assert!(error(&format!("{url}\nkeywords = [\"#\"]")).contains("no letter or digit"));
    assert!(error("keywords = \"acme\"\njetstream_url = \"https://x.example\"").contains("ws:// or wss://"));
    assert!(
        error("keywords = \"acme\"\njetstream_url = \"ws://x.example/subscribe?cursor=1\"")
            .contains("without a query")
    );
    assert!(error(&format!("{url}\nkeywords = \"acme\"\nrewind = \"soon\"")).contains("not a duration"));
    assert!(error(&format!("{url}\nkeywords = \"acme\"\ndids = [\"did:plc:x\"]")).contains("unknown key"));
    let built = build_all(&[config(
        "jetstream_url = \"ws://127.0.0.1:1/subscribe\"\nkeywords = [\"acme\"]\nrewind = \"0s\"",
    )])
    .unwrap();
    match &built[0].built {
        Built::Pull(p) => assert_eq!(p.interval(), Duration::ZERO, "a stream"),
        Built::Push(_) => panic!("a stream is pulled"),
    }
    let b = Bluesky::new("sky", "ws://127.0.0.1:1/", keywords(), DEFAULT_REWIND, STALL).unwrap();
    assert_eq!(
        b.subscribe_url(&Cursor::default()),
        "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post",
        "live"
    );
    let mut c = Cursor::default();
    c.advance(t(8));
    assert_eq!(
        b.subscribe_url(&c),
        format!(
            "ws://127.0.0.1:1/subscribe?wantedCollections=app.bsky.feed.post&cursor={}",
            t(3)
        ),
        "5 s before the last event"
    );
}

#[tokio::test]
async fn the_prefilter_keeps_exactly_the_posts_with_a_keyword_and_counts_the_others() {
    let served = Jetstream::start(lines(), Plan::default()).await;
    let bluesky = poller("bsky-filter", &served.url, STALL);
    let (items, errors, cursor) = poll_until(&bluesky, t(17)).await;
    assert!(errors.is_empty(), "{errors:?}");
    let m = mentions_of(&items);
    let ids: Vec<&str> = m.iter().map(|m| m.native_id.as_str()).collect();
    assert_eq!(ids, kept_ids());
    assert_eq!(
        metric("vigie_connector_filtered_total{connector=\"bsky-filter\"}"),
        5,
        "lines 2, 3, 4, 15 and 16"
    );
    assert_eq!(items.len(), 9, "the eight posts and the cut frame");

    // Field by field.
    let (post, reply, edit) = (m[0], m[1], m[2]);
    let uri = post_uri(ALICE, "3m4alice00001");
    assert_eq!(post.source, Source::Bluesky as i32);
    assert_eq!(post.visibility, Visibility::Public as i32);
    assert_eq!(post.kind, Kind::Post as i32);
    assert_eq!(post.text, "Acme's new app crashed again, third time today");
    let author = post.author.as_ref().unwrap();
    assert_eq!(
        (author.id.as_str(), author.handle.as_str()),
        (ALICE, "alice.bsky.social"),
        "the handle from the identity event before"
    );
    assert_eq!(
        post.url,
        format!("https://bsky.app/profile/{ALICE}/post/3m4alice00001")
    );
    assert_eq!(post.language_hint, "en");
    assert_eq!(post.created_at_ms, 1_796_025_600_870, "createdAt");
    assert_eq!(
        (post.parent_id.as_str(), post.thread_id.as_str()),
        ("", uri.as_str())
    );

    assert_eq!(reply.kind, Kind::Reply as i32);
    assert_eq!(reply.parent_id, uri);
    assert_eq!(reply.thread_id, uri, "the root's");
    assert_eq!(
        reply.author.as_ref().unwrap().handle,
        "",
        "no identity event named dave"
    );

    assert_eq!(edit.native_id, format!("{uri}:edit:{}", t(8) / 1000));
    assert_eq!(edit.created_at_ms, t(8) / 1000, "an edit is dated by its event");
    assert!(edit.text.ends_with("(edit: fixed by the update)"));
    assert_eq!(edit.thread_id, uri);

    assert_eq!(m[3].language_hint, "fr", "fr-FR");
    assert_eq!(
        m[6].created_at_ms,
        t(14) / 1000,
        "a createdAt a year ahead: the event's time"
    );
    assert_eq!(m[7].language_hint, "", "no langs");
    assert_eq!(m[7].author.as_ref().unwrap().id, "did:web:jane.example.com");

    // The originals are the events as JSON, for dead letters.
    let original: serde_json::Value = serde_json::from_slice(&items[0].original).unwrap();
    assert_eq!(original["commit"]["rkey"], "3m4alice00001");

    let cursor = Cursor::decode(&cursor).unwrap();
    assert_eq!(cursor.time_us, t(17));
    let kept_lately: Vec<i64> = cursor.recent.iter().map(|(at, _)| *at).collect();
    assert_eq!(
        kept_lately,
        [t(12), t(13), t(14), t(17)],
        "only what was handed on within the rewind of the last event"
    );
}

/// The in-process bus a collect loop runs over, as `vigie standalone` runs it.
struct Pipeline {
    bus: MemoryBus,
}

impl Pipeline {
    /// Runs the collect loop for bluesky connector `name` on `url` (a fresh process: new
    /// connector, new ingestor, its cursor read from the bus) until `done`, then stops it.
    async fn collect_until(&self, name: &str, url: &str, done: impl Fn(&Self) -> bool) {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"{name}\"\ntype = \"bluesky\"\ntenant = \"acme\"\njetstream_url = \"{url}\"\n\
             keywords = [\"acme\", \"#panne\"]"
        ))
        .unwrap();
        let connectors: Vec<Connector> = build_all(&[config]).unwrap();
        crate::connectors::testing::collect_until(&self.bus, connectors, Some(2), self, done).await;
    }

    fn mentions(&self) -> Vec<Mention> {
        crate::connectors::testing::mentions(&self.bus)
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        crate::connectors::testing::dead_letters(&self.bus)
    }

    /// The time of the last cursor saved.
    fn saved_time(&self) -> i64 {
        self.bus
            .snapshot(topics::CONNECTOR_STATE)
            .last()
            .map(|r| Cursor::decode(r.payload.as_deref().unwrap()).unwrap().time_us)
            .unwrap_or(0)
    }
}

#[tokio::test]
async fn after_a_restart_the_rest_comes_without_gap_and_the_rewound_events_are_not_published_twice() {
    let served = Jetstream::start(
        lines(),
        Plan {
            pause_at: Some(9),
            ..Default::default()
        },
    )
    .await;
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    // The first half (lines 0 to 8), then the service stops.
    p.collect_until("bsky-restart", &served.url, |p| p.saved_time() == t(8))
        .await;
    let first: Vec<String> = p.mentions().into_iter().map(|m| m.native_id).collect();
    assert_eq!(first, kept_ids()[..3]);
    assert_eq!(p.dead_letters().len(), 1);

    // It starts again from its saved cursor; Jetstream replays from 5 s before it (lines 3 to
    // 8 again: the reply, the cut frame and the edit among them), then the rest.
    served.go_on.store(true, Ordering::SeqCst);
    p.collect_until("bsky-restart", &served.url, |p| p.saved_time() == t(17))
        .await;
    assert_eq!(served.asked(), [None, Some(t(8) - 5_000_000)]);
    let all = p.mentions();
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in &all {
        *count.entry(m.native_id.as_str()).or_default() += 1;
    }
    assert!(
        count.values().all(|n| *n == 1),
        "each post exactly once: {count:?}"
    );
    let ids: Vec<String> = all.iter().map(|m| m.native_id.clone()).collect();
    assert_eq!(ids, kept_ids(), "no gap, in order");
    assert!(all.iter().all(|m| m.tenant == "acme"));
    assert_eq!(p.dead_letters().len(), 1, "the cut frame dead-lettered once");
}

#[tokio::test]
async fn a_dropped_connection_reconnects_from_the_cursor_minus_the_rewind() {
    let served = Jetstream::start(
        lines(),
        Plan {
            drop_first_after: Some(6),
            ..Default::default()
        },
    )
    .await;
    let bluesky = poller("bsky-drop", &served.url, STALL);
    let (items, errors, _) = poll_until(&bluesky, t(17)).await;
    // The batch before the drop is handed on (the drop is seen right after it, or by the next
    // poll as a failure).
    assert!(
        errors.iter().all(|e| ["closed", "stream"].contains(e)),
        "{errors:?}"
    );
    assert_eq!(
        served.asked(),
        [None, Some(t(5) - 5_000_000)],
        "lines 0 to 5 came, then the drop"
    );
    assert_eq!(
        metric("vigie_connector_reconnects_total{connector=\"bsky-drop\"}"),
        1
    );
    let ids: Vec<&str> = mentions_of(&items).iter().map(|m| m.native_id.as_str()).collect();
    assert_eq!(
        ids,
        kept_ids(),
        "lines 1 and 5, replayed, are not handed on twice"
    );
    assert_eq!(
        metric("vigie_connector_filtered_total{connector=\"bsky-drop\"}"),
        5,
        "nor counted twice"
    );
}

#[tokio::test]
async fn a_silent_connection_is_dropped_and_made_again() {
    let served = Jetstream::start(
        lines(),
        Plan {
            silent: true,
            ..Default::default()
        },
    )
    .await;
    let bluesky = poller("bsky-stall", &served.url, Duration::from_millis(200));
    let e = bluesky.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "stalled", "{e}");
    let e = bluesky.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "stalled");
    assert_eq!(served.connections.load(Ordering::SeqCst), 2);
    assert_eq!(
        metric("vigie_connector_reconnects_total{connector=\"bsky-stall\"}"),
        1
    );

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}", closed.local_addr().unwrap());
    drop(closed);
    let e = poller("bsky-closed", &url, STALL).poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "connect", "{e}");
}

#[tokio::test]
async fn a_batch_not_saved_is_read_again_from_the_saved_cursor() {
    let served = Jetstream::start(
        lines(),
        Plan {
            pause_at: Some(9),
            ..Default::default()
        },
    )
    .await;
    let bluesky = poller("bsky-unsaved", &served.url, STALL);
    let first = bluesky.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&first.mapped.items).len(), 3);
    assert!(first.cursor.is_some());
    // The hand-over failed: the loop polls again with the cursor it had (none), so the poller
    // does not go on from its connection but subscribes again from that cursor.
    let again = bluesky.poll(b"").await.unwrap();
    assert_eq!(mentions_of(&again.mapped.items).len(), 3, "the same batch again");
    assert_eq!(served.asked(), [None, None]);
    // Saved this time: it goes on from the connection it has.
    served.go_on.store(true, Ordering::SeqCst);
    let rest = bluesky.poll(again.cursor.as_deref().unwrap()).await.unwrap();
    assert_eq!(mentions_of(&rest.mapped.items).len(), 5);
    assert_eq!(served.asked().len(), 2, "no new connection");
}

#[tokio::test]
async fn a_malformed_event_is_dead_lettered_and_the_next_ones_flow() {
    let served = Jetstream::start(lines(), Plan::default()).await;
    let p = Pipeline {
        bus: MemoryBus::default(),
    };
    p.collect_until("bsky-dead", &served.url, |p| p.saved_time() == t(17))
        .await;
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].stage, "connector:bsky-dead");
    assert_eq!(letters[0].tenant, "acme");
    assert_eq!(
        letters[0].original,
        lines()[6].as_bytes(),
        "the frame as received"
    );
    assert!(letters[0].reason.starts_with("not JSON"), "{}", letters[0].reason);
    assert_eq!(p.mentions().len(), 8, "the posts after it too");
    for (event, n) in [("identity", 1), ("account", 1), ("delete", 1), ("collection", 1)] {
        assert_eq!(
            metric(&format!(
                "vigie_connector_ignored_total{{connector=\"bsky-dead\",event=\"{event}\"}}"
            )),
            n,
            "{event}"
        );
    }
}

#[test]
fn events_of_the_wrong_shape_are_dead_lettered_with_their_field() {
    let mut handles = Handles::default();
    let k = keywords();
    let read = |frame: &str, handles: &mut Handles| event::read(frame.as_bytes(), &k, handles);
    let field = |e: event::Event| match e.read {
        Read::Malformed(m) => m.item.unwrap_err().field,
        other => panic!("{other:?}"),
    };
    assert_eq!(field(read("[1]", &mut handles)), "event");
    assert_eq!(
        field(read(r#"{"did":"did:plc:x","kind":"commit"}"#, &mut handles)),
        "time_us"
    );
    assert_eq!(
        field(read(
            r#"{"did":"alice","time_us":1,"kind":"commit"}"#,
            &mut handles
        )),
        "did"
    );
    assert_eq!(
        field(read(r#"{"did":"did:plc:x","time_us":1}"#, &mut handles)),
        "kind"
    );
    assert_eq!(
        field(read(
            r#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post"}}"#,
            &mut handles
        )),
        "commit.rkey"
    );
    assert_eq!(
        field(read(
            r#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"r"}}"#,
            &mut handles
        )),
        "commit.record"
    );
    assert_eq!(
        field(read(
            r#"{"did":"did:plc:x","time_us":1,"kind":"commit","commit":{"operation":"merge","collection":"app.bsky.feed.post","rkey":"r"}}"#,
            &mut handles
        )),
        "commit.operation"
    );
    let e = read(r#"{"did":"did:plc:x","time_us":1,"kind":"sync"}"#, &mut handles);
    assert!(
        matches!(e.read, Read::Ignored("kind")),
        "a kind Jetstream may add"
    );

    // Identity events name the handles, and forget one that is gone.
    read(
        r#"{"did":"did:plc:x","time_us":1,"kind":"identity","identity":{"handle":"x.bsky.social","seq":1}}"#,
        &mut handles,
    );
    assert_eq!(handles.get("did:plc:x"), Some("x.bsky.social"));
    read(
        r#"{"did":"did:plc:x","time_us":2,"kind":"identity","identity":{"seq":2}}"#,
        &mut handles,
    );
    assert_eq!(handles.get("did:plc:x"), None);
    for i in 0..event::MAX_HANDLES + 5 {
        handles.set(&format!("did:plc:{i}"), Some("h"));
    }
    assert_eq!(handles.len(), event::MAX_HANDLES, "bounded");
    assert_eq!(handles.get("did:plc:0"), None, "the oldest forgotten");

    // A commit has the same key from any instance (its time is not in it).
    let line = &lines()[1];
    let moved = line.replace(&t(1).to_string(), &(t(1) + 7).to_string());
    assert_eq!(read(line, &mut handles).key, read(&moved, &mut handles).key);
    assert_ne!(read(line, &mut handles).key, read(&lines()[5], &mut handles).key);
}

#[test]
fn wss_uses_the_system_roots_or_says_there_are_none() {
    match Bluesky::new("bsky-tls", DEFAULT_URL, keywords(), DEFAULT_REWIND, STALL) {
        Ok(b) => {
            assert!(matches!(b.tls, tokio_tungstenite::Connector::Rustls(_)));
            assert!(b
                .subscribe_url(&Cursor::default())
                .starts_with("wss://jetstream2.us-east.bsky.network/subscribe?"));
        }
        Err(e) => assert!(e.contains("root certificates"), "{e}"),
    }
}
