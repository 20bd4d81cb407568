//! The collect loop over the in-process bus with a scripted poller, on paused time: back-offs
//! and intervals are asserted on the virtual clock, never on wall-clock speed.

use super::*;
use crate::connectors::poll::{PollError, PollFuture, Polled};
use std::collections::VecDeque;
use std::sync::Mutex;
use tokio::time::Instant;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::model::Limits;
use vigie_core::proto::{Mention, Source};

#[test]
fn the_back_off_doubles_from_the_interval_up_to_its_cap_and_honours_retry_after() {
    let m = |n: u64| Duration::from_secs(60 * n);
    let s = Duration::from_secs;
    assert_eq!(backoff(m(5), 0, None), m(5), "after a success: the interval");
    assert_eq!(backoff(m(5), 1, None), m(5));
    assert_eq!(backoff(m(5), 2, None), m(10));
    assert_eq!(backoff(m(5), 3, None), MAX_BACKOFF);
    assert_eq!(backoff(m(5), 40, None), MAX_BACKOFF, "no overflow");
    assert_eq!(backoff(s(1), 5, None), s(16));
    assert_eq!(backoff(m(60), 3, None), m(60), "never sooner than the interval");
    assert_eq!(backoff(s(1), 1, Some(s(2))), s(2), "Retry-After: 2");
    assert_eq!(backoff(m(5), 1, Some(s(2))), m(5), "nor sooner than the back-off");
    assert_eq!(backoff(s(1), 1, Some(s(3 * 86_400))), MAX_RETRY_AFTER);
}

#[test]
fn retry_after_is_read_as_seconds_or_an_http_date() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
    assert_eq!(retry_after("2", now), Some(Duration::from_secs(2)));
    assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
    let later = httpdate::fmt_http_date(now + Duration::from_secs(90));
    assert_eq!(retry_after(&later, now), Some(Duration::from_secs(90)), "{later}");
    let past = httpdate::fmt_http_date(now - Duration::from_secs(90));
    assert_eq!(retry_after(&past, now), Some(Duration::ZERO));
    assert_eq!(retry_after("soon", now), None);
    assert_eq!(retry_after("-1", now), None);
}

/// A poller answering from a script (then empty polls), noting when it was called and with
/// which cursor.
struct Scripted {
    interval: Duration,
    script: Mutex<VecDeque<Result<Polled, PollError>>>,
    calls: Mutex<Vec<(Instant, Vec<u8>)>>,
}

impl Scripted {
    fn new(interval: Duration, script: Vec<Result<Polled, PollError>>) -> Arc<Self> {
        Arc::new(Self {
            interval,
            script: Mutex::new(script.into()),
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<(Instant, Vec<u8>)> {
        self.calls.lock().unwrap().clone()
    }
}

impl Poller for Scripted {
    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        self.calls.lock().unwrap().push((Instant::now(), cursor.to_vec()));
        let next = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| Ok(Polled::default()));
        Box::pin(async move { next })
    }
}

fn found(ids: &[&str], cursor: &str) -> Result<Polled, PollError> {
    let mut polled = Polled {
        cursor: Some(cursor.as_bytes().to_vec()),
        ..Default::default()
    };
    for id in ids {
        polled.mapped.items.push(Mapping {
            item: Ok(Mention {
                source: Source::News as i32,
                native_id: id.to_string(),
                text: format!("article {id}"),
                ..Default::default()
            }),
            original: Vec::new(),
        });
    }
    Ok(polled)
}

fn connector(name: &str, poller: Arc<Scripted>) -> Connector {
    Connector {
        name: name.into(),
        kind: "scripted".into(),
        tenant: "acme".into(),
        built: Built::Pull(poller),
    }
}

/// Runs the loop over `bus` in a task; returns its cancel token and handle.
fn start(
    bus: &MemoryBus,
    connectors: Vec<Connector>,
) -> (CancellationToken, tokio::task::JoinHandle<Result<(), BusError>>) {
    let ingestor = Arc::new(Ingestor::new(
        Publisher::Memory(bus.clone()),
        Limits::default(),
        100,
        1000,
    ));
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let bus = Bus::Memory(bus.clone());
    let task =
        tokio::spawn(async move { run(&bus, ingestor, &connectors, &CollectConfig::default(), stop).await });
    (cancel, task)
}

async fn wait_for(what: &str, cond: impl Fn() -> bool) {
    for _ in 0..100_000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("never got {what}");
}

fn cursors(bus: &MemoryBus) -> Vec<(String, Vec<u8>)> {
    bus.snapshot(topics::CONNECTOR_STATE)
        .iter()
        .map(|r| (r.key_str(), r.payload.clone().unwrap_or_default()))
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_poll_is_retried_no_sooner_than_asked_and_resumes_from_the_saved_cursor() {
    let bus = MemoryBus::default();
    // A cursor saved by an earlier run (and another connector's, and one forgotten).
    let publisher = Publisher::Memory(bus.clone());
    let saved = |key: &str, payload: Option<&[u8]>| OutRecord {
        key: key.into(),
        payload: payload.map(<[u8]>::to_vec),
        schema: CURSOR_SCHEMA,
    };
    publisher
        .publish(
            topics::CONNECTOR_STATE,
            vec![
                saved("scripted-429", Some(b"c0")),
                saved("other", Some(b"x")),
                saved("gone", Some(b"y")),
                saved("gone", None),
            ],
        )
        .await
        .unwrap();
    let poller = Scripted::new(
        Duration::from_secs(1),
        vec![
            Err(PollError {
                kind: "rate_limited",
                message: "HTTP 429".into(),
                retry_after: Some(Duration::from_secs(2)),
            }),
            found(&["a", "b", "c"], "c1"),
        ],
    );
    let (cancel, task) = start(&bus, vec![connector("scripted-429", poller.clone())]);
    wait_for("three polls", || poller.calls().len() >= 3).await;
    cancel.cancel();
    task.await.unwrap().unwrap();

    let calls = poller.calls();
    assert_eq!(calls[0].1, b"c0", "the saved cursor");
    assert!(
        calls[1].0 - calls[0].0 >= Duration::from_secs(2),
        "retried after {:?}",
        calls[1].0 - calls[0].0
    );
    assert_eq!(calls[1].1, b"c0", "a failed poll keeps the cursor");
    assert_eq!(calls[2].1, b"c1", "the next poll starts from the new cursor");
    assert!(
        calls[2].0 - calls[1].0 >= Duration::from_secs(1),
        "then the interval"
    );
    assert_eq!(bus.snapshot(topics::MENTIONS_RAW).len(), 3);
    let state = cursors(&bus);
    assert_eq!(
        state.last().unwrap(),
        &("scripted-429".to_string(), b"c1".to_vec())
    );
    let metrics = vigie_core::metrics::render();
    let line = "vigie_connector_errors_total{connector=\"scripted-429\",kind=\"rate_limited\"} 1";
    assert!(metrics.contains(line), "{line} in\n{metrics}");
    let line = "vigie_connector_published_total{connector=\"scripted-429\"} 3";
    assert!(metrics.contains(line), "{line} in\n{metrics}");
}

#[tokio::test(start_paused = true)]
async fn the_cursor_is_saved_only_once_the_broker_acknowledged_every_item() {
    // Two records fit the raw topic while its consumer has not committed: the third waits, and
    // after memory::FULL_WAIT the hand-over fails.
    let bus = MemoryBus::with_capacity(2);
    let mut enrich = bus.subscribe(topics::MENTIONS_RAW, Some("enrich"));
    let poller = Scripted::new(
        Duration::from_secs(1),
        vec![found(&["a", "b", "c"], "c1"), found(&["a", "b", "c"], "c1")],
    );
    let (cancel, task) = start(&bus, vec![connector("scripted-slow", poller.clone())]);
    wait_for("a second poll", || poller.calls().len() >= 2).await;
    assert!(cursors(&bus).is_empty(), "nothing acknowledged, no cursor");
    assert_eq!(
        poller.calls()[1].1,
        b"",
        "the failed poll is polled again from the old cursor"
    );
    let metrics = vigie_core::metrics::render();
    let line = "vigie_connector_errors_total{connector=\"scripted-slow\",kind=\"broker\"} 1";
    assert!(metrics.contains(line), "{line} in\n{metrics}");

    // The consumer catches up: the retry goes through and the cursor is saved after it.
    let read = Arc::new(Mutex::new(std::collections::HashSet::new()));
    let seen = read.clone();
    let drain = tokio::spawn(async move {
        use prost::Message;
        let never = CancellationToken::new();
        loop {
            let batch = enrich.next_batch(100, Duration::from_millis(1), &never).await;
            for r in &batch {
                let m = Mention::decode(r.payload.as_deref().unwrap()).unwrap();
                seen.lock().unwrap().insert(m.native_id);
            }
            enrich.commit(
                &batch
                    .iter()
                    .map(|r| ((r.topic.clone(), r.partition), r.offset + 1))
                    .collect(),
            );
        }
    });
    wait_for("the cursor", || !cursors(&bus).is_empty()).await;
    cancel.cancel();
    task.await.unwrap().unwrap();
    drain.abort();
    assert_eq!(cursors(&bus), vec![("scripted-slow".to_string(), b"c1".to_vec())]);
    let ids = read.lock().unwrap().clone();
    assert_eq!(
        ids.len(),
        3,
        "every item published (the overlap is duplicates by id)"
    );
}

#[tokio::test(start_paused = true)]
async fn without_pull_connectors_the_loop_waits_for_shutdown() {
    let bus = MemoryBus::default();
    let (cancel, task) = start(&bus, Vec::new());
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(!task.is_finished());
    cancel.cancel();
    task.await.unwrap().unwrap();
}
