//! Scenario `jetstream`: the recorded Jetstream session (`testdata/connectors/bluesky/`) played
//! by a WebSocket server here, through `vigie collect`'s bluesky connector into enrich and
//! ClickHouse. The server pauses half-way (after line 8, every connection) until told to go
//! on; meanwhile the first half's posts reach ClickHouse and the connector's cursor is saved
//! (`time_us` of line 8), and the collector is SIGKILLed. Started again, it asks from its
//! cursor minus the 5 s rewind (lines 3 to 8 come again), and gets the rest.
//!
//! Asserted: each of the 8 posts the keywords keep is in ClickHouse once (`count()` and
//! `uniqExact(native_id)` with `FINAL`, and `count()` without it: nothing was written twice)
//! and none is missing (the exact native ids); on `vigie.mentions.raw`, each appears exactly
//! once for the tenant (the replayed ones were not handed on again); the cut frame is
//! dead-lettered once with stage `connector:<name>`; every reconnection asked from the cursor
//! minus the rewind; the second collector counted the two posts it filtered (lines 15 and 16;
//! the replayed 3 and 4 are not counted again).
//!
//! The server speaks just enough WebSocket (RFC 6455: the handshake, unmasked text frames), so
//! the connector's client is checked against a second implementation.

use crate::fixture::*;
use crate::World;
use prost::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use vigie_core::proto::{DeadLetter, Mention};

const SESSION: &str = include_str!("../../testdata/connectors/bluesky/session.jsonl");
/// The `time_us` of the session's first line; line `i` is `i` seconds later.
const T0: i64 = 1_796_025_600_000_123;
/// The server waits before this line until told to go on.
const PAUSE_AT: usize = 9;
const REWIND_US: i64 = 5_000_000;

fn t(i: i64) -> i64 {
    T0 + i * 1_000_000
}

/// The native ids of the posts kept by `acme` and `#panne`, in the session's order.
fn kept() -> Vec<String> {
    let uri = |did: &str, rkey: &str| format!("at://{did}/app.bsky.feed.post/{rkey}");
    let alice = uri("did:plc:4vq3k6r2dzq7a2yjsamlq5cd", "3m4alice00001");
    vec![
        alice.clone(),
        uri("did:plc:dq5ma3xvk7wlr2ebn4tcy6hu", "3m4dave000005"),
        format!("{alice}:edit:{}", t(8) / 1000),
        uri("did:plc:e3nfo7zb4hqk2uy6ltvxmw5d", "3m4erin000011"),
        uri("did:plc:fk6ryd2m7owq4nbx3acsl5ve", "3m4frank00012"),
        uri("did:plc:fk6ryd2m7owq4nbx3acsl5ve", "3m4frank00013"),
        uri("did:plc:g2lwu5xrhcy7dq3mkfv4bn6o", "3m4grace00014"),
        uri("did:web:jane.example.com", "3m4jane000017"),
    ]
}

/// The `time_us` written in a frame (read as text: the cut frame has one too).
fn time_in(line: &str) -> Option<i64> {
    let rest = line.split_once("\"time_us\":")?.1;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// SHA-1 (FIPS 180-4), for the handshake's `Sec-WebSocket-Accept`.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&(data.len() as u64 * 8).to_be_bytes());
    for block in message.chunks(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let next = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*word);
            (e, d, c, b, a) = (d, c, b.rotate_left(30), a, next);
        }
        for (total, part) in h.iter_mut().zip([a, b, c, d, e]) {
            *total = total.wrapping_add(part);
        }
    }
    let mut out = [0u8; 20];
    for (bytes, word) in out.chunks_mut(4).zip(h) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The handshake's answer to `key` (RFC 6455 section 4.2.2).
fn accept(key: &str) -> String {
    base64(&sha1(
        format!("{key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11").as_bytes(),
    ))
}

/// One unmasked text frame.
fn text_frame(text: &str) -> Vec<u8> {
    let payload = text.as_bytes();
    let mut frame = vec![0x81];
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n < 65_536 => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}

/// The played Jetstream: its address, the cursors asked for, and the switch that ends the pause.
struct Jetstream {
    addr: String,
    asked: Arc<Mutex<Vec<Option<i64>>>>,
    go_on: Arc<AtomicBool>,
}

/// Serves one connection: the handshake, then the session from the cursor asked for.
fn serve(mut stream: TcpStream, asked: &Mutex<Vec<Option<i64>>>, go_on: &AtomicBool) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let path = head.split(' ').nth(1).unwrap_or_default().to_string();
    assert!(
        path.starts_with("/subscribe?wantedCollections=app.bsky.feed.post"),
        "{path}"
    );
    let cursor = path
        .split_once("&cursor=")
        .and_then(|(_, c)| c.parse::<i64>().ok());
    let Some(key) = head.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_string())
    }) else {
        return;
    };
    asked.lock().unwrap().push(cursor);
    let answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        accept(&key)
    );
    if stream.write_all(answer.as_bytes()).is_err() {
        return;
    }
    let lines: Vec<&str> = SESSION.lines().collect();
    let start = lines
        .iter()
        .position(|l| time_in(l).is_some_and(|t| t >= cursor.unwrap_or(0)))
        .unwrap_or(lines.len());
    for (i, line) in lines.iter().enumerate().skip(start) {
        if i == PAUSE_AT {
            while !go_on.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if stream.write_all(&text_frame(line)).is_err() {
            return;
        }
    }
    // Then idle until the client goes (what it sends is not read for meaning).
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
}

impl Jetstream {
    fn start() -> Jetstream {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let asked = Arc::new(Mutex::new(Vec::new()));
        let go_on = Arc::new(AtomicBool::new(false));
        let (a, g) = (asked.clone(), go_on.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (asked, go_on) = (a.clone(), g.clone());
                std::thread::spawn(move || serve(stream, &asked, &go_on));
            }
        });
        Jetstream { addr, asked, go_on }
    }

    fn asked(&self) -> Vec<Option<i64>> {
        self.asked.lock().unwrap().clone()
    }
}

/// The latest record of each key of `topic`, read to its end.
fn latest_by_key(topic: &str) -> HashMap<String, Vec<u8>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .set("group.id", format!("e2e-state-reader-{}", vigie_core::now_ms()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut ends = HashMap::new();
    let mut tpl = TopicPartitionList::new();
    for p in metadata.topics()[0].partitions() {
        let (_, high) = consumer
            .fetch_watermarks(topic, p.id(), Duration::from_secs(10))
            .unwrap();
        if high > 0 {
            ends.insert(p.id(), high);
            tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
                .unwrap();
        }
    }
    let mut latest = HashMap::new();
    if ends.is_empty() {
        return latest;
    }
    consumer.assign(&tpl).unwrap();
    let mut done = std::collections::HashSet::new();
    let start = Instant::now();
    let mut last_record = Instant::now();
    while (done.len() < ends.len() || last_record.elapsed() < Duration::from_secs(2))
        && start.elapsed() < Duration::from_secs(60)
    {
        if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
            let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
            latest.insert(key, m.payload().unwrap_or_default().to_vec());
            last_record = Instant::now();
            if m.offset() + 1 >= ends[&m.partition()] {
                done.insert(m.partition());
            }
        }
    }
    latest
}

/// The `time_us` of connector `name`'s saved cursor (0 when none).
fn saved_time(name: &str) -> i64 {
    latest_by_key(vigie_core::topics::CONNECTOR_STATE)
        .get(name)
        .and_then(|c| serde_json::from_slice::<serde_json::Value>(c).ok())
        .and_then(|c| c["time_us"].as_i64())
        .unwrap_or(0)
}

/// Runs the scenario.
pub fn run(w: &mut World) {
    assert_eq!(
        accept("dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
        "RFC 6455's example"
    );
    let stack = &w.stack;
    let tenant = format!("e2e-j-{}", stack.run_id);
    // Cursors outlive a run on the broker: the name is this run's.
    let name = format!("e2e-bluesky-{}", stack.run_id);
    let jetstream = Jetstream::start();
    let metrics = format!("127.0.0.1:{}", free_port());
    let config = stack.dir.join("jetstream.toml");
    let base = std::fs::read_to_string(&stack.config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{base}\n[collect]\nmetrics_listen = \"{metrics}\"\n\n\
             [[connectors]]\nname = \"{name}\"\ntype = \"bluesky\"\ntenant = \"{tenant}\"\n\
             jetstream_url = \"ws://{addr}\"\nkeywords = [\"acme\", \"#panne\"]\nrewind = \"5s\"\n",
            addr = jetstream.addr
        ),
    )
    .unwrap();
    let spawn = || {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(stack.dir.join("jetstream-collect.log"))
            .unwrap();
        Service(
            Command::new(env!("CARGO_BIN_EXE_vigie"))
                .args(["--config", config.to_str().unwrap(), "collect"])
                .env("VIGIE_LOG", "info")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("vigie collect starts"),
        )
    };
    let database = &stack.database;
    let rows = |sql: &str| count(database, &sql.replace("$T", &tenant));
    let expected = kept();

    // The first half: lines 0 to 8, three posts kept, then the server pauses.
    let mut collect = spawn();
    wait_until(
        "the first half's posts in ClickHouse",
        Duration::from_secs(90),
        || rows("SELECT count() FROM mentions FINAL WHERE tenant = '$T'") >= 3,
    );
    wait_until("the cursor of line 8 saved", Duration::from_secs(90), || {
        saved_time(&name) == t(8)
    });
    collect.0.kill().unwrap();
    collect.0.wait().unwrap();
    drop(collect);

    // Started again: from the cursor minus the rewind, then the rest.
    jetstream.go_on.store(true, Ordering::SeqCst);
    let collect = spawn();
    wait_until("every kept post in ClickHouse", Duration::from_secs(90), || {
        rows("SELECT count() FROM mentions FINAL WHERE tenant = '$T'") >= expected.len() as u64
    });
    wait_until("the last cursor saved", Duration::from_secs(90), || {
        saved_time(&name) == t(17)
    });
    // Give a duplicate a chance to show up before asserting there is none.
    std::thread::sleep(Duration::from_secs(2));

    let n = expected.len() as u64;
    assert_eq!(
        (
            rows("SELECT count() FROM mentions FINAL WHERE tenant = '$T'"),
            rows("SELECT uniqExact(native_id) FROM mentions FINAL WHERE tenant = '$T'"),
            rows("SELECT count() FROM mentions WHERE tenant = '$T'"),
        ),
        (n, n, n),
        "each kept post once, and never written twice"
    );
    let ids = clickhouse(
        database,
        &format!(
            "SELECT native_id FROM mentions FINAL WHERE tenant = '{tenant}' ORDER BY native_id FORMAT TSV"
        ),
    );
    let mut sorted = expected.clone();
    sorted.sort();
    assert_eq!(ids.lines().collect::<Vec<_>>(), sorted, "none missing");
    assert_eq!(
        rows("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND source = 'bluesky' AND visibility = 'public' AND enriched_at > 0"),
        n,
        "all bluesky, public, enriched"
    );
    assert_eq!(
        rows("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND kind = 'reply' AND parent_id = thread_id AND parent_id LIKE 'at://did:plc:4vq3k6r2dzq7a2yjsamlq5cd/%'"),
        1,
        "dave's reply to alice"
    );

    // On the raw topic: each once (the rewound lines 3 to 8 were not handed on again).
    let mut on_topic: HashMap<String, usize> = HashMap::new();
    for payload in read_topic(vigie_core::topics::MENTIONS_RAW) {
        if let Ok(m) = Mention::decode(payload.as_slice()) {
            if m.tenant == tenant {
                *on_topic.entry(m.native_id).or_default() += 1;
            }
        }
    }
    assert_eq!(on_topic.len(), expected.len(), "{on_topic:?}");
    assert!(
        on_topic.values().all(|n| *n == 1),
        "each published once: {on_topic:?}"
    );
    let letters: Vec<DeadLetter> = read_topic(vigie_core::topics::DEADLETTER)
        .into_iter()
        .filter_map(|p| DeadLetter::decode(p.as_slice()).ok())
        .filter(|d| d.tenant == tenant)
        .collect();
    assert_eq!(letters.len(), 1, "the cut frame, once: {letters:?}");
    assert_eq!(letters[0].stage, format!("connector:{name}"));
    assert_eq!(letters[0].original, SESSION.lines().nth(6).unwrap().as_bytes());

    // The first connection was live; every later one (the restart, and any reconnection after a
    // stall during the pause) asked from line 8's time minus the rewind.
    let asked = jetstream.asked();
    assert!(asked.len() >= 2, "{asked:?}");
    assert_eq!(asked[0], None);
    assert!(
        asked[1..].iter().all(|c| *c == Some(t(8) - REWIND_US)),
        "{asked:?}"
    );
    let (status, text) = http("GET", &metrics, "/metrics", b"").unwrap();
    assert_eq!(status, 200);
    let filtered = format!("vigie_connector_filtered_total{{connector=\"{name}\"}} 2");
    assert!(
        text.lines().any(|l| l == filtered),
        "the restarted collector filtered lines 15 and 16 only: {}",
        text.lines()
            .filter(|l| l.contains("filtered"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    terminate(collect, "jetstream-collect", stack);
}
