//! The hostile cases, each named after what must hold, with the probe's reproduction as written
//! in issue 11 (item numbers in brackets).

use crate::fixture::*;
use crate::Hostile;
use prost::Message;
use std::time::Duration;
use vigie_core::proto::ingest_service_client::IngestServiceClient;
use vigie_core::proto::{DeadLetter, Mention, PublishRequest};

/// Every case, in the order they are listed.
pub const ALL: [(&str, crate::Case); 9] = [
    (
        "oversized_rejections_are_dead_lettered_not_503",
        oversized_rejections,
    ),
    (
        "dead_letters_are_filed_under_the_callers_tenant",
        dead_letters_tenant,
    ),
    ("a_future_dated_mention_does_not_silence_its_tenant", future_dated),
    (
        "questionable_times_and_keys_are_refused_with_a_reason",
        data_quality,
    ),
    ("a_publish_past_its_deadline_is_safe_to_retry", deadline_retry),
    ("a_slow_client_is_cut_off", slow_client),
    (
        "a_query_too_costly_to_match_is_refused_at_validation",
        costly_query,
    ),
    ("a_worst_case_phrase_watch_matches_exactly", worst_case_phrase),
    (
        "watches_are_not_dodged_by_invisible_fullwidth_or_lookalike_letters",
        dodges,
    ),
];

/// Starts ingest, enrich, alerting and the API with one watch per tenant (`outage`: threshold
/// 3 in 10 min), and makes a token per tenant.
pub fn start() -> Hostile {
    let stack = Stack::create("hostile", "");
    let run = &stack.run_id;
    let tenants = [format!("hostile-a-{run}"), format!("hostile-b-{run}")];
    let watches = stack.dir.join("watches.toml");
    let file: String = tenants
        .iter()
        .map(|t| {
            format!(
                "[[watch]]\ntenant = \"{t}\"\nid = \"outage\"\nquery = \"outage\"\n\
                 [[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nmin_count = 3\n\
                 window = \"10m\"\n\n"
            )
        })
        .collect();
    // [3] The probe's worst case, a 1,024-word phrase (valid), and [9] a brand to dodge.
    let phrase = vec!["x"; 1_024].join(" ");
    let file = format!(
        "{file}[[watch]]\ntenant = \"{a}\"\nid = \"phrase\"\nquery = '\"{phrase}\"'\n\n\
         [[watch]]\ntenant = \"{b}\"\nid = \"dodge\"\nquery = \"verdier\"\n",
        a = tenants[0],
        b = tenants[1]
    );
    std::fs::write(&watches, file).unwrap();
    stack.run(&["migrate"]);
    stack.run(&["watches", "publish", watches.to_str().unwrap()]);
    // Short header timeout: the slow-client case waits for it.
    let services = vec![
        stack.spawn_with("ingest", &[("VIGIE_INGEST__HEADER_TIMEOUT_MS", "1000")]),
        stack.spawn("enrich"),
        stack.spawn("alerting"),
        stack.spawn("api"),
    ];
    wait_until("ingest to listen", Duration::from_secs(30), || {
        http("GET", &stack.http, "/healthz", b"")
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    });
    let tokens = [stack.token(&tenants[0]), stack.token(&tenants[1])];
    for token in &tokens {
        wait_until("ingest to know the tokens", Duration::from_secs(30), || {
            http_as(Some(token), "POST", &stack.http, "/v1/mentions", b"[]")
                .map(|(s, _)| s != 401)
                .unwrap_or(false)
        });
    }
    Hostile {
        stack,
        tenants,
        tokens,
        services: std::sync::Mutex::new(services),
    }
}

fn post(h: &Hostile, tenant: usize, body: &[u8]) -> (u16, serde_json::Value) {
    let (status, body) = http_as(
        Some(&h.tokens[tenant]),
        "POST",
        &h.stack.http,
        "/v1/mentions",
        body,
    )
    .expect("ingest answers");
    let json = serde_json::from_str(&body).unwrap_or_else(|_| serde_json::json!({ "raw": body }));
    (status, json)
}

fn mention(native: &str, text: &str, created_at: serde_json::Value) -> String {
    serde_json::json!({"source": "forum", "native_id": native, "text": text, "created_at": created_at})
        .to_string()
}

/// Dead letters of `tenant` whose origin bytes start like `prefix`, waiting for `n` of them.
fn dead_letters(tenant: &str, n: usize, what: impl Fn(&DeadLetter) -> bool) -> Vec<DeadLetter> {
    let mut found = Vec::new();
    wait_until(
        &format!("{n} dead letters of {tenant}"),
        Duration::from_secs(30),
        || {
            found = read_topic(vigie_core::topics::DEADLETTER)
                .into_iter()
                .filter_map(|p| DeadLetter::decode(p.as_slice()).ok())
                .filter(|d| d.tenant == tenant && what(d))
                .collect();
            found.len() >= n
        },
    );
    found
}

/// [4] A 1 MB unclosed `[`, a 3 MB malformed body and an item with a 1.2 MB text got a false
/// 503 (their dead letters exceeded the broker's message size) and were lost.
fn oversized_rejections(h: &Hostile) {
    let unclosed = vec![b'['; 1 << 20];
    let (status, body) = post(h, 0, &unclosed);
    assert_eq!(status, 400, "{body}");
    let mut malformed = b"{\"source\": \"forum\", \"text\": \"".to_vec();
    malformed.extend(std::iter::repeat_n(b'x', 3 << 20));
    let (status, body) = post(h, 0, &malformed);
    assert_eq!(status, 400, "{body}");
    let long = format!(
        "[{},{}]",
        mention("big-text", &"y".repeat(1_200_000), serde_json::Value::Null),
        mention("small-ok", "un message ordinaire", serde_json::Value::Null)
    );
    let (status, body) = post(h, 0, long.as_bytes());
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        (body["accepted"].as_u64(), body["rejected"].as_u64()),
        (Some(1), Some(1)),
        "{body}"
    );
    assert_eq!(body["results"][0]["field"], "items[0].text", "{body}");
    // All three are kept, cut to fit, with their whole size and hash.
    let letters = dead_letters(&h.tenants[0], 3, |d| d.original_size >= 1 << 20);
    for d in &letters {
        assert!(
            d.original_truncated,
            "{} bytes kept of {}",
            d.original.len(),
            d.original_size
        );
        assert_eq!(d.original.len(), vigie_core::deadletter::MAX_ORIGINAL_BYTES);
        assert_eq!(d.original_sha256.len(), 64);
    }
}

/// [6] An invalid item naming tenant B posted with tenant A's token was filed under B, and a
/// whole-body failure under an empty tenant.
fn dead_letters_tenant(h: &Hostile) {
    // Markers unique to this run: the dead-letter topic holds every run's letters.
    let (item, body) = (
        format!("dl-1-{}", h.stack.run_id),
        format!("{{broken json, marker-dl-2-{}", h.stack.run_id),
    );
    let theirs = serde_json::json!({
        "tenant": h.tenants[1], "source": "myspace", "native_id": item, "text": "x"
    });
    let (status, answer) = post(h, 0, theirs.to_string().as_bytes());
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = post(h, 0, body.as_bytes());
    assert_eq!(status, 400, "{answer}");
    let ours = |d: &DeadLetter| {
        let original = String::from_utf8_lossy(&d.original);
        original.contains(&format!("\"{item}\"")) || original == body
    };
    let mine = dead_letters(&h.tenants[0], 2, ours);
    assert_eq!(mine.len(), 2);
    let filed_elsewhere = read_topic(vigie_core::topics::DEADLETTER)
        .into_iter()
        .filter_map(|p| DeadLetter::decode(p.as_slice()).ok())
        .filter(|d| d.tenant != h.tenants[0] && ours(d))
        .count();
    assert_eq!(
        filed_elsewhere, 0,
        "a token's dead letters are filed under its own tenant"
    );
}

/// [2] One mention dated 20 h ahead moved tenant A's clock: every live mention after it was
/// dropped as late, and A never alerted while B did.
fn future_dated(h: &Hostile) {
    let now = vigie_core::now_ms();
    let ahead = mention("future-1", "rien à voir", serde_json::json!(now + 20 * 3_600_000));
    let (status, body) = post(h, 0, ahead.as_bytes());
    assert_eq!(status, 200, "{body}");
    std::thread::sleep(Duration::from_secs(2));
    for tenant in 0..2 {
        let burst: Vec<String> = (0..5)
            .map(|i| {
                mention(
                    &format!("burst-{i}"),
                    "outage chez nous",
                    serde_json::json!(now + i * 1000),
                )
            })
            .collect();
        let (status, body) = post(h, tenant, format!("[{}]", burst.join(",")).as_bytes());
        assert_eq!(status, 200, "{body}");
    }
    for tenant in &h.tenants {
        wait_until(
            &format!("the burst alert of {tenant}"),
            Duration::from_secs(90),
            || {
                count(
                    &h.stack.database,
                    &format!("SELECT count() FROM alerts FINAL WHERE tenant = '{tenant}' AND rule = 'burst'"),
                ) >= 1
            },
        );
    }
}

/// [8] Silent data-quality surprises: epoch seconds read as milliseconds, the epoch as "no
/// date", 31 February, offset +99:99, duplicate keys; a UTF-8 BOM rejected the whole body.
fn data_quality(h: &Hostile) {
    let now_s = vigie_core::now_ms() / 1000;
    let refused = [
        (
            mention("dq-1", "x", serde_json::json!(now_s)),
            "looks like epoch seconds",
        ),
        (
            mention("dq-2", "x", serde_json::json!("1970-01-01T00:00:00Z")),
            "before 2000-01-01",
        ),
        (
            mention("dq-3", "x", serde_json::json!("2026-02-31T10:00:00Z")),
            "cannot read",
        ),
        (
            mention("dq-4", "x", serde_json::json!("2026-03-01T10:00:00+99:99")),
            "cannot read",
        ),
        (
            r#"{"source":"forum","native_id":"dq-5","text":"a","text":"b"}"#.to_string(),
            "appears twice",
        ),
    ];
    for (body, why) in refused {
        let (status, answer) = post(h, 0, body.as_bytes());
        assert_eq!(status, 400, "{body} -> {answer}");
        let reason = answer["results"][0]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains(why), "{body}: {reason:?} does not say {why:?}");
    }
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend(mention("dq-6", "avec BOM", serde_json::Value::Null).as_bytes());
    let (status, answer) = post(h, 0, &bom);
    assert_eq!((status, answer["accepted"].as_u64()), (200, Some(1)), "{answer}");
}

/// [8] A 1 ms gRPC deadline answered DEADLINE_EXCEEDED, yet the Publish was stored. Decided:
/// documented (the broker may have the mentions by then); a retry is safe — the mention is stored
/// once, and the retry answers it as a duplicate or accepts it.
fn deadline_retry(h: &Hostile) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let token = h.tokens[0].clone();
    let tenant = h.tenants[0].clone();
    runtime.block_on(async {
        let endpoint = format!("http://{}", h.stack.api);
        let mut client = None;
        for _ in 0..100 {
            match IngestServiceClient::connect(endpoint.clone()).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let mut client = client.expect("the API listens");
        let request = PublishRequest {
            mentions: vec![Mention {
                source: vigie_core::proto::Source::Forum as i32,
                native_id: "deadline-1".into(),
                text: "publié avec une échéance d'une milliseconde".into(),
                ..Default::default()
            }],
        };
        let mut hurried = auth(&token, request.clone());
        hurried.set_timeout(Duration::from_millis(1));
        let first = client.publish(hurried).await;
        // Retried until the API knows the token (it follows the tokens topic too).
        let mut retried = None;
        for _ in 0..100 {
            match client.publish(auth(&token, request.clone())).await {
                Ok(r) => {
                    retried = Some(r.into_inner());
                    break;
                }
                Err(s) if s.code() == tonic::Code::Unauthenticated => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(s) => panic!("retry: {s}"),
            }
        }
        let retried = retried.expect("the retry answered");
        assert_eq!(
            retried.accepted + retried.duplicates,
            1,
            "{first:?} then {retried:?}"
        );
    });
    let id = format!("{tenant}:forum:deadline-1");
    wait_until("the mention stored", Duration::from_secs(60), || {
        count(
            &h.stack.database,
            &format!("SELECT count() FROM mentions WHERE id = '{id}'"),
        ) >= 1
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        count(
            &h.stack.database,
            &format!("SELECT count() FROM mentions FINAL WHERE id = '{id}'")
        ),
        1,
        "stored once"
    );
}

/// [5] A slowloris client, idle connections and a slow body were never closed by the server.
/// The stack's ingest runs with a 1 s header timeout.
fn slow_client(h: &Hostile) {
    use std::io::{Read, Write};
    let mut slow = std::net::TcpStream::connect(&h.stack.http).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    slow.write_all(b"POST /v1/mentions HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    let mut got = Vec::new();
    // Returns when the server closes the connection (or fails after 30 s of waiting).
    let closed = slow.read_to_end(&mut got);
    assert!(
        closed.is_ok(),
        "the server kept a connection with unfinished headers: {closed:?}"
    );
    assert!(!String::from_utf8_lossy(&got).contains(" 200 "), "{got:?}");
}

/// [3] A query whose verification would cost too much (seventy phrases) is refused when the
/// watch is checked, with the reason and where.
fn costly_query(h: &Hostile) {
    let query = vec!["\"a b\""; 70].join(" OR ");
    let file = h.stack.dir.join("costly.toml");
    std::fs::write(
        &file,
        format!(
            "[[watch]]\ntenant = \"{}\"\nid = \"costly\"\nquery = '''{query}'''\n",
            h.tenants[0]
        ),
    )
    .unwrap();
    let out = h
        .stack
        .vigie(&["watches", "check", file.to_str().unwrap()])
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "accepted: {stderr}");
    assert!(
        stderr.contains("too costly") && stderr.contains("position"),
        "{stderr}"
    );
}

/// [3] One 1,024-word phrase against 20,000-character mentions of `x x x …` cost 244 ms each and
/// stalled every tenant; verification is now linear in the text. The mentions are matched exactly
/// (one holds the phrase, one breaks it every 1,023 words), and another tenant's mention posted
/// after them comes through.
fn worst_case_phrase(h: &Hostile) {
    let long = vec!["x"; 9_999].join(" ");
    let broken: Vec<String> = (0..9).map(|_| vec!["x"; 1_023].join(" ")).collect();
    let short = broken.join(" y ");
    let body = format!(
        "[{},{}]",
        mention("phrase-long", &long, serde_json::Value::Null),
        mention("phrase-short", &short, serde_json::Value::Null)
    );
    let (status, answer) = post(h, 0, body.as_bytes());
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post(
        h,
        1,
        mention("after-phrase", "bonjour", serde_json::Value::Null).as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    let (a, b) = (&h.tenants[0], &h.tenants[1]);
    wait_until("the other tenant's mention", Duration::from_secs(90), || {
        count(
            &h.stack.database,
            &format!("SELECT count() FROM mentions WHERE id = '{b}:forum:after-phrase'"),
        ) == 1
    });
    let matched = |native: &str| {
        count(
            &h.stack.database,
            &format!(
                "SELECT count() FROM mentions FINAL WHERE id = '{a}:forum:{native}' \
                 AND has(matched_watches, '{a}/phrase')"
            ),
        )
    };
    wait_until("the long mention matched", Duration::from_secs(60), || {
        matched("phrase-long") == 1
    });
    assert_eq!(
        matched("phrase-short"),
        0,
        "a phrase broken every 1,023 words does not match"
    );
}

/// [9] `verdier` did not match `ver\u{200b}dier` (zero-width space), `vеrdier` (Cyrillic е) or
/// fullwidth `ｖｅｒｄｉｅｒ`. Now each matches, and is stored as sent.
fn dodges(h: &Hostile) {
    let dodges = [
        "ver\u{200b}dier",
        "v\u{435}rdier",
        "\u{ff56}\u{ff45}\u{ff52}\u{ff44}\u{ff49}\u{ff45}\u{ff52}",
    ];
    let items: Vec<String> = dodges
        .iter()
        .enumerate()
        .map(|(i, d)| {
            mention(
                &format!("dodge-{i}"),
                &format!("encore {d} en retard"),
                serde_json::Value::Null,
            )
        })
        .collect();
    let (status, answer) = post(h, 1, format!("[{}]", items.join(",")).as_bytes());
    assert_eq!(status, 200, "{answer}");
    let b = &h.tenants[1];
    for (i, d) in dodges.iter().enumerate() {
        let id = format!("{b}:forum:dodge-{i}");
        wait_until(&format!("{id} matched"), Duration::from_secs(60), || {
            count(
                &h.stack.database,
                &format!("SELECT count() FROM mentions FINAL WHERE id = '{id}' AND has(matched_watches, '{b}/dodge')"),
            ) == 1
        });
        let stored = clickhouse(
            &h.stack.database,
            &format!("SELECT text FROM mentions FINAL WHERE id = '{id}' FORMAT TSVRaw"),
        );
        assert_eq!(stored, format!("encore {d} en retard"), "kept as sent");
    }
}
