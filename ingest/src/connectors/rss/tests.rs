//! The rss connector: both fixture feeds mapped field by field, and the poller and the collect
//! loop against a feed served on 127.0.0.1 by the test (restart without gap or duplicate, a 304
//! that costs nothing, 429 and its Retry-After, a malformed feed dead-lettered once).

use super::cursor::Cursor;
use super::*;
use crate::collect;
use crate::connectors::{build_all, Built};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::config::ConnectorConfig;
use vigie_core::model::parse_rfc3339_ms;
use vigie_core::proto::{DeadLetter, Kind, Mention, Visibility};
use vigie_core::topics;

const ALERTS: &[u8] = include_bytes!("../../../../testdata/connectors/rss/google_alerts_tiktok.xml");
const NEWS: &[u8] = include_bytes!("../../../../testdata/connectors/rss/rss2_news.xml");

fn poller(source: Option<Source>) -> Rss {
    let url = "https://feeds.example/feed";
    Rss::new(
        url,
        DEFAULT_INTERVAL,
        source,
        vigie_core::http_client::client("http://x").unwrap(),
    )
}

fn mentions_of(polled: &Polled) -> Vec<&Mention> {
    polled
        .mapped
        .items
        .iter()
        .map(|m| m.item.as_ref().expect("a mention"))
        .collect()
}

fn ms(rfc3339: &str) -> i64 {
    parse_rfc3339_ms(rfc3339).unwrap()
}

#[test]
fn a_google_alerts_feed_is_mapped_with_its_links_unwrapped_and_its_html_stripped() {
    let polled = poller(None).read(&Cursor::default(), ALERTS, None, None).unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 3);
    // Oldest first.
    let (lyon, unboxing, refund) = (m[0], m[1], m[2]);
    assert_eq!(refund.source, Source::Tiktok as i32);
    assert_eq!(refund.kind, Kind::Post as i32);
    assert_eq!(refund.visibility, Visibility::Public as i32);
    assert_eq!(
        refund.native_id,
        "tag:google.com,2013:googlealerts/feed:10000000000000000001"
    );
    assert_eq!(
        refund.title,
        "Acme refund nightmare: 3 weeks and still nothing #acme"
    );
    assert_eq!(
        refund.text,
        "My Acme order never came and support keeps closing my ticket 'resolved' ... #acme #refund"
    );
    assert_eq!(
        refund.url,
        "https://www.tiktok.com/@lea.consomme/video/7440000000000000001"
    );
    assert_eq!(refund.created_at_ms, ms("2026-11-30T08:40:03Z"));
    assert!(refund.author.is_none(), "Google Alerts names no author");
    assert!(
        refund.tenant.is_empty(),
        "the tenant is the connector's, set at hand-over"
    );

    assert_eq!(unboxing.title, "Unboxing the new Acme X2 \"worth it?\"");
    assert_eq!(
        unboxing.text,
        "Unboxing the Acme X2 & first impressions. Battery test tomorrow!"
    );
    assert_eq!(
        unboxing.url, "https://www.tiktok.com/@techwithsam/video/7440000000000000002?lang=fr",
        "the target's own query, percent-decoded once"
    );
    assert_eq!(lyon.title, "acme store Lyon queue");
    assert_eq!(
        lyon.text, "acme store Lyon queue",
        "no content: the title is the text"
    );
    assert_eq!(lyon.created_at_ms, ms("2026-11-29T18:02:10Z"));

    // The originals are the entries as JSON, for their dead letters.
    let original: serde_json::Value = serde_json::from_slice(&polled.mapped.items[2].original).unwrap();
    assert_eq!(
        original["id"],
        "tag:google.com,2013:googlealerts/feed:10000000000000000001"
    );

    let cursor = Cursor::decode(polled.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.seen.len(), 3);
}

#[test]
fn an_rss2_feed_is_mapped_with_its_authors_and_fallback_ids() {
    let polled = poller(None).read(&Cursor::default(), NEWS, None, None).unwrap();
    let m = mentions_of(&polled);
    assert_eq!(m.len(), 3);
    let (strike, recall, undated) = (m[0], m[1], m[2]);
    assert_eq!(recall.source, Source::News as i32);
    assert_eq!(recall.kind, Kind::Article as i32);
    assert_eq!(recall.native_id, "quotidien-1234");
    assert_eq!(recall.title, "Acme rappelle 12 000 bouilloires défectueuses");
    assert_eq!(
        recall.text,
        "Le fabricant Acme rappelle ses bouilloires « K2 » après des cas de surchauffe."
    );
    assert_eq!(
        recall.url,
        "https://www.quotidien.example/economie/2026/11/30/acme-rappel-bouilloires_1234.html"
    );
    assert_eq!(recall.created_at_ms, ms("2026-11-30T07:15:00Z"));
    assert_eq!(recall.author.as_ref().unwrap().display_name, "Camille Martin");

    assert_eq!(
        strike.title,
        "Grève chez Acme : les livraisons perturbées & les clients inquiets"
    );
    assert_eq!(
        strike.text,
        "Les salariés de l’entrepôt de Lyon sont en grève depuis vendredi. Les livraisons prennent jusqu'à deux semaines de retard.",
        "content:encoded when there is no description"
    );
    assert_eq!(strike.created_at_ms, ms("2026-11-29T16:40:00Z"));
    assert!(
        strike.native_id.starts_with("https://www.quotidien.example/"),
        "the guid"
    );

    assert_eq!(
        undated.native_id, "https://www.quotidien.example/economie/acme-remboursements_1230.html",
        "no guid: the link"
    );
    assert_eq!(
        undated.created_at_ms, 0,
        "no date: ingest uses the reception time"
    );
    assert_eq!(undated.text, "Acme : le point sur les remboursements");

    // Forced: every entry of the connector's source, whatever the domain.
    let forced = poller(Some(Source::Blog))
        .read(&Cursor::default(), NEWS, None, None)
        .unwrap();
    assert!(mentions_of(&forced)
        .iter()
        .all(|m| m.source == Source::Blog as i32));
}

#[test]
fn entries_seen_are_skipped_and_an_unchanged_feed_keeps_its_cursor() {
    let rss = poller(None);
    let first = rss
        .read(&Cursor::default(), NEWS, Some("\"v1\"".into()), None)
        .unwrap();
    let cursor = Cursor::decode(first.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(cursor.etag.as_deref(), Some("\"v1\""));
    let again = rss.read(&cursor, NEWS, Some("\"v1\"".into()), None).unwrap();
    assert!(again.mapped.items.is_empty());
    assert_eq!(again.cursor, None, "nothing new, nothing to save");
    let new_etag = rss.read(&cursor, NEWS, Some("\"v2\"".into()), None).unwrap();
    assert!(new_etag.mapped.items.is_empty());
    assert!(new_etag.cursor.is_some(), "new validators are saved");
}

#[test]
fn entries_that_cannot_be_mapped_are_unmapped_with_their_json() {
    let feed = br#"<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
        <item><guid>only-an-id</guid></item>
        <item><description>no id no link</description></item>
        </channel></rss>"#;
    let polled = poller(None).read(&Cursor::default(), feed, None, None).unwrap();
    assert_eq!(polled.mapped.items.len(), 2);
    let unmapped = polled
        .mapped
        .items
        .iter()
        .find(|m| m.item.is_err())
        .expect("the entry without text");
    let e = unmapped.item.as_ref().unwrap_err();
    assert_eq!(
        (e.field.as_str(), e.reason.as_str()),
        ("entry", "no title and no text")
    );
    let json: serde_json::Value = serde_json::from_slice(&unmapped.original).unwrap();
    assert_eq!(json["id"], "only-an-id");
    let hashed = polled
        .mapped
        .items
        .iter()
        .find_map(|m| m.item.as_ref().ok())
        .unwrap();
    assert!(hashed.native_id.starts_with("sha256:"), "{}", hashed.native_id);
}

#[test]
fn the_settings_are_checked() {
    let config = |extra: &str| -> ConnectorConfig {
        toml::from_str(&format!(
            "name = \"feed\"\ntype = \"rss\"\ntenant = \"acme\"\n{extra}"
        ))
        .unwrap()
    };
    let error = |extra: &str| match build_all(&[config(extra)]) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("{extra} accepted"),
    };
    assert!(error("").contains("(feed).url: required"), "{}", error(""));
    assert!(error("url = \"ftp://x.example/f\"").contains("http:// or https://"));
    assert!(error("url = \"not a url\"").contains("not a URL"));
    assert!(error("url = \"http://x.example/f\"\ninterval = \"500ms\"").contains("shorter than"));
    assert!(error("url = \"http://x.example/f\"\nsource = \"myspace\"").contains("not a source"));
    assert!(error("url = \"http://x.example/f\"\nsource = \"whatsapp\"").contains("private channel"));
    assert!(error("url = \"http://x.example/f\"\nurll = \"typo\"").contains("unknown key"));
    let built = build_all(&[config(
        "url = \"http://x.example/f\"\ninterval = \"1s\"\nsource = \"twitter\"",
    )])
    .unwrap();
    match &built[0].built {
        Built::Pull(p) => assert_eq!(p.interval(), Duration::from_secs(1)),
        Built::Push(_) => panic!("a feed is pulled"),
    }
    let default = build_all(&[config("url = \"https://x.example/f\"")]).unwrap();
    match &default[0].built {
        Built::Pull(p) => assert_eq!(p.interval(), DEFAULT_INTERVAL),
        Built::Push(_) => panic!("a feed is pulled"),
    }
}

/// An answer given instead of the feed: status, headers, body.
type Instead = (StatusCode, Vec<(&'static str, String)>, Vec<u8>);

/// A feed served on 127.0.0.1: its body and ETag (set by the test), the requests it answered,
/// the `If-None-Match` of the last one, and an answer to give instead of the feed.
#[derive(Default)]
struct Feed {
    body: Mutex<Vec<u8>>,
    etag: Mutex<Option<String>>,
    requests: AtomicUsize,
    bodies: AtomicUsize,
    if_none_match: Mutex<Vec<Option<String>>>,
    instead: Mutex<Option<Instead>>,
}

struct Served {
    feed: Arc<Feed>,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Served {
    async fn start(body: &[u8], etag: Option<&str>) -> Served {
        let feed = Arc::new(Feed::default());
        feed.set(body, etag);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/feed.xml", listener.local_addr().unwrap());
        let state = feed.clone();
        let router = axum::Router::new()
            .route(
                "/feed.xml",
                axum::routing::get(move |headers: HeaderMap| {
                    let feed = state.clone();
                    async move { feed.answer(&headers) }
                }),
            )
            .route(
                "/moved",
                axum::routing::get(|| async { (StatusCode::MOVED_PERMANENTLY, [("location", "/feed.xml")]) }),
            );
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Served { feed, url, task }
    }
}

impl Feed {
    fn set(&self, body: &[u8], etag: Option<&str>) {
        *self.body.lock().unwrap() = body.to_vec();
        *self.etag.lock().unwrap() = etag.map(str::to_string);
    }

    fn answer(&self, headers: &HeaderMap) -> Response {
        self.requests.fetch_add(1, Ordering::SeqCst);
        let asked = headers
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        self.if_none_match.lock().unwrap().push(asked.clone());
        if let Some((status, headers, body)) = self.instead.lock().unwrap().clone() {
            let mut response = (status, body).into_response();
            for (k, v) in headers {
                response.headers_mut().insert(k, v.parse().unwrap());
            }
            return response;
        }
        let etag = self.etag.lock().unwrap().clone();
        if asked.is_some() && asked == etag {
            return StatusCode::NOT_MODIFIED.into_response();
        }
        self.bodies.fetch_add(1, Ordering::SeqCst);
        let mut response = (StatusCode::OK, self.body.lock().unwrap().clone()).into_response();
        response
            .headers_mut()
            .insert("content-type", "application/atom+xml".parse().unwrap());
        if let Some(etag) = etag {
            response.headers_mut().insert("etag", etag.parse().unwrap());
        }
        response
    }
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

    /// Runs the collect loop for one feed connector `name` at `url` (a fresh process: new
    /// connector, new ingestor, its cursor read from the bus) until `done` holds, then stops it.
    async fn collect_until(&self, name: &str, url: &str, done: impl Fn(&Self) -> bool) {
        let config: ConnectorConfig = toml::from_str(&format!(
            "name = \"{name}\"\ntype = \"rss\"\ntenant = \"acme\"\nurl = \"{url}\"\ninterval = \"1s\""
        ))
        .unwrap();
        let connectors = build_all(&[config]).unwrap();
        crate::connectors::testing::collect_until(&self.bus, connectors, Some(2), self, done).await;
    }

    fn mentions(&self) -> Vec<Mention> {
        crate::connectors::testing::mentions(&self.bus)
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        crate::connectors::testing::dead_letters(&self.bus)
    }

    fn cursors(&self) -> Vec<(String, Cursor)> {
        self.bus
            .snapshot(topics::CONNECTOR_STATE)
            .iter()
            .map(|r| {
                (
                    r.key_str(),
                    Cursor::decode(r.payload.as_deref().unwrap()).unwrap(),
                )
            })
            .collect()
    }
}

/// The Google Alerts fixture with one more entry on top, as the feed reads an hour later.
fn alerts_plus_one() -> Vec<u8> {
    let text = std::str::from_utf8(ALERTS).unwrap();
    let entry = r#"<entry><id>tag:google.com,2013:googlealerts/feed:10000000000000000004</id><title type="html">&lt;b&gt;Acme&lt;/b&gt; finally refunded me</title><link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.tiktok.com/%40lea.consomme/video/7440000000000000004&amp;ct=ga"></link><published>2026-11-30T09:05:00Z</published><updated>2026-11-30T09:05:00Z</updated><content type="html">Update: &lt;b&gt;Acme&lt;/b&gt; refunded me after the video</content><author><name></name></author></entry>"#;
    let at = text.find("<entry>").unwrap();
    format!("{}{entry}{}", &text[..at], &text[at..]).into_bytes()
}

#[tokio::test]
async fn after_a_restart_only_the_new_entry_is_published_without_gap_or_duplicate() {
    let served = Served::start(ALERTS, Some("\"v1\"")).await;
    let p = Pipeline::new();
    p.collect_until("alerts", &served.url, |p| p.cursors().len() == 1)
        .await;
    let first = p.mentions();
    assert_eq!(
        first.len(),
        3,
        "handed on in pieces of max_items = 2, all published"
    );
    assert!(first
        .iter()
        .all(|m| m.tenant == "acme" && m.source == Source::Tiktok as i32));
    assert_eq!(p.cursors()[0].0, "alerts", "keyed by connector name");
    assert_eq!(p.cursors()[0].1.etag.as_deref(), Some("\"v1\""));

    // An hour later the feed has one more entry; the service starts again from its cursor.
    served.feed.set(&alerts_plus_one(), Some("\"v2\""));
    p.collect_until("alerts", &served.url, |p| p.cursors().len() == 2)
        .await;
    let all = p.mentions();
    assert_eq!(all.len(), 4, "only the new entry is published again");
    assert_eq!(
        all[3].native_id,
        "tag:google.com,2013:googlealerts/feed:10000000000000000004"
    );
    assert_eq!(all[3].title, "Acme finally refunded me");
    let ids: std::collections::HashSet<&str> = all.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "no duplicate row");
    let asked = served.feed.if_none_match.lock().unwrap().clone();
    assert_eq!(asked.first(), Some(&None), "the first poll is unconditional");
    assert_eq!(
        asked.get(1),
        Some(&Some("\"v1\"".to_string())),
        "after the restart, the saved ETag"
    );
    assert_eq!(p.cursors()[1].1.seen.len(), 4);
    assert!(p.dead_letters().is_empty());
}

#[tokio::test]
async fn a_304_costs_nothing_and_keeps_the_cursor() {
    let served = Served::start(NEWS, Some("\"n1\"")).await;
    let p = Pipeline::new();
    // Three requests: the feed, then a 304 answered and handled in full before the third.
    p.collect_until("news", &served.url, |_| {
        served.feed.requests.load(Ordering::SeqCst) >= 3
    })
    .await;
    assert_eq!(
        served.feed.bodies.load(Ordering::SeqCst),
        1,
        "the feed was sent once"
    );
    assert_eq!(p.mentions().len(), 3);
    assert_eq!(p.cursors().len(), 1, "a 304 saves no cursor");
    let asked = served.feed.if_none_match.lock().unwrap().clone();
    assert_eq!(asked[1].as_deref(), Some("\"n1\""));

    // At the poller: a 304 is an empty poll that keeps the cursor.
    let rss = Rss::new(
        &served.url,
        MIN_INTERVAL,
        None,
        vigie_core::http_client::client(&served.url).unwrap(),
    );
    let saved = p.cursors()[0].1.encode();
    let polled = rss.poll(&saved).await.unwrap();
    assert!(polled.mapped.items.is_empty() && polled.cursor.is_none());
}

#[tokio::test]
async fn a_429_says_when_to_come_back_and_other_failures_are_classified() {
    let served = Served::start(NEWS, None).await;
    let client = vigie_core::http_client::client(&served.url).unwrap();
    let rss = Rss::new(&served.url, MIN_INTERVAL, None, client.clone());
    *served.feed.instead.lock().unwrap() = Some((
        StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "2".to_string())],
        b"slow down".to_vec(),
    ));
    let e = rss.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "rate_limited");
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(
        collect::backoff(MIN_INTERVAL, 1, e.retry_after),
        Duration::from_secs(2),
        "the next attempt is not before 2 s"
    );
    *served.feed.instead.lock().unwrap() = Some((StatusCode::SERVICE_UNAVAILABLE, vec![], vec![]));
    let e = rss.poll(b"").await.unwrap_err();
    assert_eq!((e.kind, e.retry_after), ("status", None));

    *served.feed.instead.lock().unwrap() =
        Some((StatusCode::OK, vec![], vec![b' '; fetch::MAX_BODY_BYTES + 1]));
    let e = rss.poll(b"").await.unwrap_err();
    assert_eq!(e.kind, "too_large", "{e}");

    *served.feed.instead.lock().unwrap() = None;
    let moved = served.url.replace("/feed.xml", "/moved");
    let rss = Rss::new(&moved, MIN_INTERVAL, None, client);
    assert_eq!(
        mentions_of(&rss.poll(b"").await.unwrap()).len(),
        3,
        "redirects are followed"
    );

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/feed", closed.local_addr().unwrap());
    drop(closed);
    let rss = Rss::new(
        &url,
        MIN_INTERVAL,
        None,
        vigie_core::http_client::client(&url).unwrap(),
    );
    assert_eq!(rss.poll(b"").await.unwrap_err().kind, "fetch");
}

#[tokio::test]
async fn a_malformed_feed_is_dead_lettered_once_and_the_next_poll_still_works() {
    let broken = b"<html><body>502 Bad Gateway</body></html>";
    let served = Served::start(broken, Some("\"broken\"")).await;
    let p = Pipeline::new();
    // The broken body, then the same again (an error, not a second dead letter).
    p.collect_until("news", &served.url, |_| {
        served.feed.requests.load(Ordering::SeqCst) >= 2
    })
    .await;
    let letters = p.dead_letters();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].stage, "connector:news");
    assert_eq!(letters[0].tenant, "acme");
    assert_eq!(letters[0].original, broken);
    assert!(
        letters[0].reason.starts_with("not an RSS or Atom feed"),
        "{}",
        letters[0].reason
    );
    let cursors = p.cursors();
    assert_eq!(
        cursors.len(),
        1,
        "the dead letter's hash, saved once it was acknowledged"
    );
    let hash = crate::connectors::signature::hex(&sha2::Sha256::digest(broken));
    assert_eq!(cursors[0].1.malformed.as_deref(), Some(hash.as_str()));
    assert_eq!(
        (cursors[0].1.etag.as_deref(), cursors[0].1.seen.len()),
        (None, 0),
        "otherwise the cursor did not move"
    );
    assert!(p.mentions().is_empty());

    // A restart (a new connector, its cursor read back) does not dead-letter it again: two
    // polls, the second after the first was handled in full.
    let before = served.feed.requests.load(Ordering::SeqCst);
    p.collect_until("news", &served.url, |_| {
        served.feed.requests.load(Ordering::SeqCst) >= before + 2
    })
    .await;
    assert_eq!(
        p.dead_letters().len(),
        1,
        "still one dead letter after the restart"
    );

    // The feed is fixed: the next poll reads it (its ETag was never saved), and forgets the hash.
    served.feed.set(NEWS, Some("\"n1\""));
    p.collect_until("news", &served.url, |p| p.cursors().len() == 2)
        .await;
    assert_eq!(p.mentions().len(), 3);
    assert_eq!(p.dead_letters().len(), 1);
    assert_eq!(p.cursors()[1].1.malformed, None);
    let asked = served.feed.if_none_match.lock().unwrap().clone();
    assert!(
        asked.iter().all(Option::is_none),
        "no ETag of the broken body was sent: {asked:?}"
    );
}

#[test]
fn a_malformed_body_is_remembered_by_the_cursor_saved_after_its_dead_letter() {
    let broken = b"<html><body>502 Bad Gateway</body></html>";
    let rss = poller(None);
    let saved = Cursor {
        etag: Some("\"old\"".into()),
        ..Default::default()
    };
    let first = rss.read(&saved, broken, Some("\"broken\"".into()), None).unwrap();
    assert_eq!(first.mapped.items.len(), 1, "dead-lettered whole");
    assert_eq!(first.mapped.items[0].original, broken);
    let next = Cursor::decode(first.cursor.as_deref().expect("a cursor to save")).unwrap();
    assert!(next.malformed.is_some());
    assert_eq!(
        next.etag.as_deref(),
        Some("\"old\""),
        "the rest of the cursor is kept"
    );

    // The hand-over failed: the collect loop did not save that cursor and polls again from the
    // old one, which does not know the body: dead-lettered again, nothing lost.
    let again = rss.read(&saved, broken, None, None).unwrap();
    assert_eq!(again.mapped.items.len(), 1);

    // It went through and the cursor was saved; after a restart (a new poller), the same body is
    // an error, not another dead letter.
    let restarted = poller(None);
    let e = restarted.read(&next, broken, None, None).unwrap_err();
    assert_eq!(e.kind, "parse");
    // Another broken body is dead-lettered too.
    let other = restarted.read(&next, b"<html>503</html>", None, None).unwrap();
    assert_eq!(other.mapped.items.len(), 1);
    // The feed reads again: the hash is forgotten, so a later breakage is dead-lettered anew.
    let fixed = restarted.read(&next, NEWS, None, None).unwrap();
    let fixed = Cursor::decode(fixed.cursor.as_deref().unwrap()).unwrap();
    assert_eq!(fixed.malformed, None);
    assert_eq!(
        restarted
            .read(&fixed, broken, None, None)
            .unwrap()
            .mapped
            .items
            .len(),
        1
    );
}
