//! Scenario `connectors`: a signed WhatsApp message, a signed Messenger message and the page's
//! echoed reply in the same conversation, and a Google Alerts feed served here, flow through a
//! webhook-serving `vigie ingest` and `vigie collect` into enrich and ClickHouse; the
//! `unanswered` alert opened by the Messenger message is resolved by the echo, the one opened by
//! the WhatsApp message fires at its deadline and stays open.

use crate::fixture::*;
use crate::World;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;
use vigie_ingest::connectors::signature::{hex, hmac_sha256};

const APP_SECRET: &str = "e2e-meta-app-secret";
const PAGE: &str = "104857600000001";
const CUSTOMER_PSID: &str = "6200000000000001";

/// Serves `feed` (an Atom document) to every request, on a thread of its own.
fn serve_feed(feed: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().map_while(Result::ok) {
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{feed}",
                    feed.len()
                )
                .as_bytes(),
            );
        }
    });
    addr
}

/// POSTs `body` to webhook `name`, signed as Meta signs it (or with `signature` as given).
fn deliver(addr: &str, name: &str, body: &str, signature: Option<&str>) -> (u16, String) {
    let signed = format!(
        "sha256={}",
        hex(&hmac_sha256(APP_SECRET.as_bytes(), body.as_bytes()))
    );
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!(
        "POST /v1/webhooks/{name} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Hub-Signature-256: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        signature.unwrap_or(&signed),
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let status = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (
        status,
        answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default(),
    )
}

fn messenger(sender: &str, recipient: &str, mid: &str, at_ms: i64, text: &str, echo: bool) -> String {
    let echo = if echo {
        r#""is_echo":true,"app_id":1517776481860111,"#
    } else {
        ""
    };
    format!(
        r#"{{"object":"page","entry":[{{"id":"{PAGE}","time":{at_ms},"messaging":[{{"sender":{{"id":"{sender}"}},"recipient":{{"id":"{recipient}"}},"timestamp":{at_ms},"message":{{{echo}"mid":"{mid}","text":"{text}"}}}}]}}]}}"#
    )
}

/// Runs the scenario.
pub fn run(w: &mut World) {
    let stack = &w.stack;
    let tenant = format!("e2e-d-{}", stack.run_id);
    let now = vigie_core::now_ms();
    // The watch: customers' messages about an order, answered within a minute by the page.
    let watches = stack.dir.join("connector-watches.toml");
    std::fs::write(
        &watches,
        format!(
            "[[watch]]\ntenant = \"{tenant}\"\nid = \"orders\"\nquery = \"commande\"\n\
             [[watch.rule]]\nname = \"answer\"\ntype = \"unanswered\"\nseverity = \"warning\"\n\
             sla = \"60s\"\nbrand_authors = [\"{PAGE}\"]\nprivate_messages = true\npublic_questions = false\n"
        ),
    )
    .unwrap();
    stack.run(&["watches", "publish", watches.to_str().unwrap()]);

    let feed_addr = serve_feed(format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>tag:google.com,2005:reader/user/00000000000000000000/state/com.google/alerts/{run}</id>
  <title>Google Alert - commande site:tiktok.com</title>
  <updated>{updated}</updated>
  <entry>
    <id>tag:google.com,2013:googlealerts/feed:{run}1</id>
    <title type="html">Ma &lt;b&gt;commande&lt;/b&gt; Verdier jamais livrée</title>
    <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.tiktok.com/%40e2e/video/{run}&amp;ct=ga&amp;cd=CAIy&amp;usg=AOvVaw0"></link>
    <published>{updated}</published>
    <updated>{updated}</updated>
    <content type="html">Troisième &lt;b&gt;commande&lt;/b&gt; perdue, la vidéo de mon déballage vide</content>
  </entry>
</feed>"#,
        run = stack.run_id,
        updated = vigie_core::model::format_rfc3339_ms(now - 200_000),
    ));

    // A second ingest serving the webhooks, and collect polling the feed, on their own config.
    let http = format!("127.0.0.1:{}", free_port());
    let config = stack.dir.join("connectors.toml");
    let base = std::fs::read_to_string(&stack.config).unwrap();
    std::fs::write(
        &config,
        format!(
            "{base}\n[collect]\nmetrics_listen = \"127.0.0.1:{metrics}\"\n\n\
             [[connectors]]\nname = \"e2e-whatsapp\"\ntype = \"whatsapp\"\ntenant = \"{tenant}\"\n\
             app_secret_env = \"E2E_META_APP_SECRET\"\nverify_token = \"e2e-verify\"\n\n\
             [[connectors]]\nname = \"e2e-messenger\"\ntype = \"meta\"\ntenant = \"{tenant}\"\n\
             app_secret_env = \"E2E_META_APP_SECRET\"\nverify_token = \"e2e-verify\"\n\n\
             [[connectors]]\nname = \"e2e-alerts\"\ntype = \"rss\"\ntenant = \"{tenant}\"\n\
             url = \"http://{feed_addr}/alerts/feeds/1/2\"\ninterval = \"1s\"\n",
            metrics = free_port()
        ),
    )
    .unwrap();
    let spawn = |service: &str, log: &str| {
        let log = std::fs::File::create(stack.dir.join(format!("{log}.log"))).unwrap();
        Service(
            Command::new(env!("CARGO_BIN_EXE_vigie"))
                .args(["--config", config.to_str().unwrap(), service])
                .env("VIGIE_LOG", "info")
                .env("E2E_META_APP_SECRET", APP_SECRET)
                .env("VIGIE_INGEST__HTTP_LISTEN", &http)
                .env("VIGIE_INGEST__GRPC_LISTEN", "")
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("vigie starts"),
        )
    };
    let webhooks = spawn("ingest", "webhooks");
    let collect = spawn("collect", "collect");
    wait_until("the webhooks to listen", Duration::from_secs(30), || {
        crate::fixture::http("GET", &http, "/healthz", b"")
            .map(|(s, _)| s == 200)
            .unwrap_or(false)
    });

    // The handshake, and a tampered delivery refused before anything is stored.
    let (status, body) = crate::fixture::http(
        "GET",
        &http,
        "/v1/webhooks/e2e-whatsapp?hub.mode=subscribe&hub.verify_token=e2e-verify&hub.challenge=4242",
        b"",
    )
    .unwrap();
    assert_eq!((status, body.as_str()), (200, "4242"));
    let question = messenger(
        CUSTOMER_PSID,
        PAGE,
        &format!("m_e2e_{}_1", stack.run_id),
        now - 300_000,
        "Bonjour, ma commande 4411 n'est jamais arrivée",
        false,
    );
    let forged = format!(
        "sha256={}",
        hex(&hmac_sha256(b"not the secret", question.as_bytes()))
    );
    assert_eq!(deliver(&http, "e2e-messenger", &question, Some(&forged)).0, 401);

    // The customer on Messenger (5 minutes ago), another on WhatsApp (2 minutes ago), then the
    // page's answer to the first, echoed back by Messenger (30 seconds ago).
    let (status, answer) = deliver(&http, "e2e-messenger", &question, None);
    assert_eq!(status, 200, "{answer}");
    let whatsapp = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"33612345678","phone_number_id":"106540352242922"}},"contacts":[{{"profile":{{"name":"Camille"}},"wa_id":"33698765432"}}],"messages":[{{"from":"33698765432","id":"wamid.E2E{run}","timestamp":"{ts}","type":"text","text":{{"body":"Ma commande de yaourts est arrivée périmée"}}}}]}},"field":"messages"}}]}}]}}"#,
        run = stack.run_id,
        ts = (now - 120_000) / 1000
    );
    let (status, answer) = deliver(&http, "e2e-whatsapp", &whatsapp, None);
    assert_eq!(status, 200, "{answer}");
    let echo = messenger(
        PAGE,
        CUSTOMER_PSID,
        &format!("m_e2e_{}_2", stack.run_id),
        now - 30_000,
        "Bonjour, nous sommes désolés : votre colis part aujourd'hui",
        true,
    );
    let (status, answer) = deliver(&http, "e2e-messenger", &echo, None);
    assert_eq!(status, 200, "{answer}");

    // All four reach ClickHouse, enriched: the three messages and the feed's entry.
    let database = &stack.database;
    wait_until(
        "the connectors' mentions in ClickHouse",
        Duration::from_secs(90),
        || {
            count(
                database,
                &format!("SELECT count() FROM mentions FINAL WHERE tenant = '{tenant}'"),
            ) >= 4
        },
    );
    let rows = clickhouse(
        database,
        &format!(
            "SELECT source, visibility, kind, thread_id != '' FROM mentions FINAL WHERE tenant = '{tenant}' ORDER BY created_at FORMAT TSV"
        ),
    );
    let rows: Vec<&str> = rows.lines().collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(
        rows.contains(&"messenger\tprivate\tdirect_message\t1"),
        "{rows:?}"
    );
    assert!(rows.contains(&"whatsapp\tprivate\tdirect_message\t1"), "{rows:?}");
    assert!(rows.iter().any(|r| r.starts_with("tiktok\tpublic\t")), "{rows:?}");

    // The Messenger customer's alert fired at its deadline and the echo resolved it; the WhatsApp
    // one fired (no answer: WhatsApp never echoes the business's messages) and stays open.
    let mut last = Vec::new();
    wait_until("the two unanswered alerts", Duration::from_secs(90), || {
        let mut by_id = std::collections::BTreeMap::new();
        for a in alerts_on_topic_for(&tenant) {
            let newer = by_id
                .get(&a.id)
                .is_none_or(|b: &vigie_core::proto::Alert| b.version < a.version);
            if newer {
                by_id.insert(a.id.clone(), a);
            }
        }
        last = by_id.into_values().collect();
        let state = |path: &str| {
            last.iter()
                .find(|a| a.summary.contains(path))
                .map(|a| vigie_core::names::state_name(a.state()))
        };
        state("private:messenger") == Some("resolved") && state("private:whatsapp") == Some("firing")
    });
    assert_eq!(last.len(), 2, "{last:?}");
    assert!(last
        .iter()
        .all(|a| a.rule_type == "unanswered" && a.watch_id == "orders"));

    terminate(collect, "collect", stack);
    terminate(webhooks, "webhooks", stack);
}
