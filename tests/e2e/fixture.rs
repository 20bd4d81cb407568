//! The stack every scenario shares: configuration, the `vigie` processes, and helpers to talk to
//! the broker, ClickHouse and the HTTP port.

use prost::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message as _, Offset, TopicPartitionList};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use vigie_core::proto::{Alert, DeadLetter, EnrichedMention};

pub const BROKERS: &str = "127.0.0.1:9092";
pub const CLICKHOUSE: &str = "127.0.0.1:8123";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// What a caught panic said (its message, when it has one).
pub fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "panicked".to_string())
}

/// A gRPC request carrying a bearer token.
pub fn auth<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

/// The status code of a call expected to be refused.
pub fn refused<T: std::fmt::Debug>(result: Result<T, tonic::Status>) -> tonic::Code {
    result.unwrap_err().code()
}

/// Minimal blocking HTTP/1.1 client: returns (status, body).
pub fn http(method: &str, addr: &str, path: &str, body: &[u8]) -> std::io::Result<(u16, String)> {
    http_as(None, method, addr, path, body)
}

/// [`http`] with a bearer token.
pub fn http_as(
    token: Option<&str>,
    method: &str,
    addr: &str,
    path: &str,
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Length: {}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp)?;
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let chunked = head.to_ascii_lowercase().contains("transfer-encoding: chunked");
    Ok((status, if chunked { dechunk(body) } else { body.to_string() }))
}

/// Decodes a chunked transfer-encoded body.
pub fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

pub fn clickhouse(database: &str, query: &str) -> String {
    let encoded: String = query
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let path = format!("/?database={database}&query={encoded}");
    let (status, body) = http("POST", CLICKHOUSE, &path, b"").expect("ClickHouse reachable");
    assert_eq!(status, 200, "ClickHouse refused {query}: {body}");
    body.trim().to_string()
}

pub fn count(database: &str, query: &str) -> u64 {
    clickhouse(database, query)
        .parse()
        .unwrap_or_else(|_| panic!("not a number from {query}"))
}

pub struct Stack {
    /// Where configuration, logs and scratch files go.
    pub dir: PathBuf,
    /// The configuration file every `vigie` process reads.
    pub config: PathBuf,
    /// The HTTP ingest address.
    pub http: String,
    /// The gRPC API's address.
    pub api: String,
    /// The API's metrics address.
    pub api_metrics: String,
    /// This run's ClickHouse database.
    pub database: String,
    /// What makes this run's names (database, consumer groups, tenants) unique.
    pub run_id: String,
}

impl Stack {
    /// A fresh configuration for one run (`suite` names its directory, database and consumer
    /// groups; `extra` is appended to the TOML), against the local broker and ClickHouse.
    pub fn create(suite: &str, extra: &str) -> Stack {
        let run_id = format!("{}{}", std::process::id(), vigie_core::now_ms() % 1_000_000);
        let dir = std::env::temp_dir().join(format!("vigie-{suite}-{run_id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let http_addr = format!("127.0.0.1:{}", free_port());
        let database = format!("vigie_{suite}_{run_id}");
        let config = dir.join("vigie.toml");
        let api_port = free_port();
        let api_metrics = format!("127.0.0.1:{}", free_port());
        std::fs::write(
            &config,
            format!(
                r#"
[kafka]
brokers = "{BROKERS}"
[clickhouse]
url = "http://{CLICKHOUSE}"
database = "{database}"
validation = false
[ingest]
http_listen = "{http_addr}"
grpc_listen = "127.0.0.1:{grpc}"
[enrich]
group_id = "{suite}-enrich-{run_id}"
metrics_listen = "127.0.0.1:{m1}"
batch_size = 200
[api]
grpc_listen = "127.0.0.1:{api_port}"
metrics_listen = "{api_metrics}"
[alerting]
group_id = "{suite}-alerting-{run_id}"
metrics_listen = "127.0.0.1:{m2}"
batch_size = 50
{extra}
"#,
                grpc = free_port(),
                api_port = api_port,
                m1 = free_port(),
                m2 = free_port(),
            ),
        )
        .unwrap();
        Stack {
            dir,
            config,
            http: http_addr,
            api: format!("127.0.0.1:{api_port}"),
            api_metrics,
            database,
            run_id,
        }
    }

    pub fn vigie(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vigie"));
        c.args(["--config", self.config.to_str().unwrap()])
            .args(args)
            .env("VIGIE_LOG", "info");
        c
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = self.vigie(args).output().expect("vigie runs");
        assert!(
            out.status.success(),
            "vigie {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A new operator token for `tenant` (`vigie token create`).
    pub fn token(&self, tenant: &str) -> String {
        self.run(&[
            "token", "create", "--tenant", tenant, "--role", "operator", "--name", "e2e",
        ])
    }

    pub fn spawn(&self, service: &str) -> Service {
        self.spawn_with(service, &[])
    }

    pub fn spawn_with(&self, service: &str, env: &[(&str, &str)]) -> Service {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{service}.log")))
            .unwrap();
        let mut c = self.vigie(&[service]);
        c.stdout(Stdio::null()).stderr(log);
        for (k, v) in env {
            c.env(k, v);
        }
        Service(c.spawn().expect("service starts"))
    }

    pub fn log(&self, service: &str) -> String {
        std::fs::read_to_string(self.dir.join(format!("{service}.log"))).unwrap_or_default()
    }
}

/// A service process, killed if the test fails before stopping it.
pub struct Service(pub Child);

impl Drop for Service {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
}

pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

pub fn terminate(mut service: Service, name: &str, stack: &Stack) {
    let child = &mut service.0;
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(
                status.success(),
                "{name} exited with {status} on SIGTERM:\n{}",
                stack.log(name)
            );
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "{name} did not stop on SIGTERM:\n{}",
            stack.log(name)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One mention as JSON. Every 10th mentions the burst terms; `invalid` ones lack text.
pub fn mention(tenant: &str, i: usize, base_ms: i64, invalid: bool) -> String {
    let text = if invalid {
        String::new()
    } else if i.is_multiple_of(10) {
        format!("Encore une panne générale chez Acme, c'est inadmissible (#{i})")
    } else {
        format!("Message {i} : j'ai commandé chez Acme, livraison correcte")
    };
    let source = ["x", "facebook", "whatsapp", "news", "forum"][i % 5];
    let location = ["Lyon, France", "Bruxelles", ""][i % 3];
    serde_json::json!({
        "tenant": tenant,
        "source": source,
        "native_id": format!("n{i}"),
        "text": text,
        "created_at": base_ms + i as i64 * 100,
        "author": {
            "handle": format!("user{}", i % 37),
            "followers": (i * 13) % 5000,
            // Profile locations, for the places enrich infers (one author in three writes none).
            "location": location,
        },
    })
    .to_string()
}

/// Posts `n` mentions in batches of 50 (arrays and NDJSON alternately), invalid ones singly.
/// Calls `progress(i)` after item i. Returns (accepted, rejected) as reported by ingest and the
/// time the posting took.
pub fn post_all(
    stack: &Stack,
    token: &str,
    tenant: &str,
    n: usize,
    mut progress: impl FnMut(usize),
) -> (u64, u64, Duration) {
    let started = Instant::now();
    let base_ms = vigie_core::now_ms() - 5 * 60 * 1000;
    let (mut accepted, mut rejected) = (0u64, 0u64);
    let mut batch = Vec::new();
    for i in 0..n {
        if i % 50 == 7 {
            let (status, body) = http_as(
                Some(token),
                "POST",
                &stack.http,
                "/v1/mentions",
                mention(tenant, i, base_ms, true).as_bytes(),
            )
            .unwrap();
            assert_eq!(status, 400, "invalid mention must get 400: {body}");
            assert!(body.contains("\"field\":\"items[0].text\""), "{body}");
            rejected += 1;
        } else {
            batch.push(mention(tenant, i, base_ms, false));
        }
        if batch.len() == 50 || (i + 1 == n && !batch.is_empty()) {
            let body = if i % 100 < 50 {
                format!("[{}]", batch.join(","))
            } else {
                batch.join("\n")
            };
            let (status, resp) =
                http_as(Some(token), "POST", &stack.http, "/v1/mentions", body.as_bytes()).unwrap();
            assert_eq!(status, 200, "{resp}");
            let v: serde_json::Value = serde_json::from_str(&resp).unwrap();
            accepted += v["accepted"].as_u64().unwrap();
            batch.clear();
        }
        progress(i);
    }
    (accepted, rejected, started.elapsed())
}

pub fn dead_letters_for(tenant: &str) -> usize {
    read_topic(vigie_core::topics::DEADLETTER)
        .into_iter()
        .filter_map(|p| DeadLetter::decode(p.as_slice()).ok())
        .filter(|d| {
            d.tenant == tenant && d.stage == "ingest" && d.field.ends_with(".text") && !d.original.is_empty()
        })
        .count()
}

pub fn enriched_ids_for(tenant: &str) -> Vec<String> {
    read_topic(vigie_core::topics::MENTIONS_ENRICHED)
        .into_iter()
        .filter_map(|p| EnrichedMention::decode(p.as_slice()).ok())
        .filter_map(|e| e.mention)
        .filter(|m| m.tenant == tenant)
        .map(|m| m.id)
        .collect()
}

pub fn alerts_on_topic_for(tenant: &str) -> Vec<Alert> {
    read_topic(vigie_core::topics::ALERTS)
        .into_iter()
        .filter_map(|p| Alert::decode(p.as_slice()).ok())
        .filter(|a| a.tenant == tenant)
        .collect()
}

/// Reads every record of every partition of `topic` up to its current end, with a fresh
/// group-less consumer.
pub fn read_topic(topic: &str) -> Vec<Vec<u8>> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", BROKERS)
        .set("group.id", format!("e2e-reader-{}", vigie_core::now_ms()))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .unwrap();
    let mut ends = std::collections::HashMap::new();
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
    if ends.is_empty() {
        return Vec::new();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    let mut done = std::collections::HashSet::new();
    let start = Instant::now();
    // Tansu's high watermark can lag the last record batch (seen after producer restarts), so
    // reaching it is not the end: keep reading until nothing more arrives for two seconds.
    let mut last_record = Instant::now();
    while (done.len() < ends.len() || last_record.elapsed() < Duration::from_secs(2))
        && start.elapsed() < Duration::from_secs(60)
    {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                out.push(m.payload().unwrap_or_default().to_vec());
                last_record = Instant::now();
                if m.offset() + 1 >= ends[&m.partition()] {
                    done.insert(m.partition());
                }
            }
            Some(Err(e)) => eprintln!("reading {topic}: {e}"),
            None => {}
        }
    }
    assert_eq!(done.len(), ends.len(), "could not read {topic} to its end");
    out
}

/// Everything the end-to-end scenario checks for one tenant once ingest reported its counts.
pub fn assert_tenant_complete(database: &str, tenant: &str, accepted: u64, rejected: u64, matching: u64) {
    let q = |sql: &str| count(database, &sql.replace("$T", tenant));
    wait_until(
        &format!("{accepted} mentions of {tenant} in ClickHouse"),
        Duration::from_secs(120),
        || q("SELECT count() FROM mentions FINAL WHERE tenant = '$T'") >= accepted,
    );
    assert_eq!(
        q("SELECT count() FROM mentions FINAL WHERE tenant = '$T'"),
        accepted,
        "exactly once (FINAL)"
    );
    assert_eq!(
        q("SELECT uniqExact(id) FROM mentions WHERE tenant = '$T'"),
        accepted,
        "no mention lost"
    );
    assert_eq!(
        q("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND (language = '' OR sentiment_label = '' \
           OR scorer_version = '' OR enriched_at = 0 OR source = '')"),
        0,
        "every row enriched"
    );
    assert_eq!(
        q("SELECT count() FROM mentions FINAL WHERE tenant = '$T' AND has(matched_watches, '$T/outage')"),
        matching,
        "watch matches"
    );
    wait_until(
        &format!("{rejected} dead letters for {tenant}"),
        Duration::from_secs(30),
        || dead_letters_for(tenant) as u64 >= rejected,
    );
    assert_eq!(
        dead_letters_for(tenant) as u64,
        rejected,
        "each invalid post dead-lettered once"
    );
    wait_until(&format!("the alert of {tenant}"), Duration::from_secs(60), || {
        q("SELECT count() FROM alerts FINAL WHERE tenant = '$T'") >= 1
    });
    // Give a duplicate a chance to show up before asserting there is none.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        q("SELECT count() FROM alerts FINAL WHERE tenant = '$T' AND watch_id = 'outage'"),
        1
    );
    // One firing record (a later resolution of the same alert, same id, is another record).
    let on_topic: Vec<Alert> = alerts_on_topic_for(tenant)
        .into_iter()
        .filter(|a| a.state() == vigie_core::proto::AlertState::Firing)
        .collect();
    assert_eq!(
        on_topic.len(),
        1,
        "one firing record on vigie.alerts: {on_topic:?}"
    );
    assert_eq!(on_topic[0].evidence.as_ref().map(|e| e.count), Some(50));
}
