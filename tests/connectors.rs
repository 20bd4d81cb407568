//! Issue 13's "done when", on one machine: `vigie standalone --config FILE` with a WhatsApp
//! webhook and a Google Alerts feed answers the WhatsApp handshake, accepts a correctly signed
//! delivery and refuses a tampered one, polls the feed served here, and both mentions are found
//! by `MentionService/Search`. No broker, no ClickHouse, no internet.

use std::io::{BufRead, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use vigie_ingest::connectors::signature::{hex, hmac_sha256};

/// The process, killed when the test ends, passed or not.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A feed server: answers every request with `feed` (an Atom document); counts requests.
fn serve_feed(feed: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                head.push(byte[0]);
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/atom+xml; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{feed}",
                feed.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (addr, requests)
}

/// A blocking HTTP/1.1 request: (status, body).
fn http(method: &str, addr: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut answer = Vec::new();
    let _ = s.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

const GOOGLE_ALERTS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">
  <id>tag:google.com,2005:reader/user/00000000000000000000/state/com.google/alerts/1111111111111111111</id>
  <title>Google Alert - verdier site:tiktok.com</title>
  <link href="https://www.google.com/alerts/feeds/00000000000000000000/1111111111111111111" rel="self"></link>
  <updated>2026-11-30T08:15:00Z</updated>
  <entry>
    <id>tag:google.com,2013:googlealerts/feed:2222222222222222222</id>
    <title type="html">&lt;b&gt;Verdier&lt;/b&gt; yaourt rappel : ma vidéo sur le goût bizarre</title>
    <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://www.tiktok.com/%40claire.m/video/7300000000000000001&amp;ct=ga&amp;cd=CAIyGjAwMDAwMDAwMDAwMDAwMDA6Y29tOmZyOlVT&amp;usg=AOvVaw0000000000000000000000"></link>
    <published>2026-11-30T08:10:00Z</published>
    <updated>2026-11-30T08:10:00Z</updated>
    <content type="html">Le yaourt &lt;b&gt;Verdier&lt;/b&gt; a un goût bizarre depuis la semaine dernière, qui d&amp;#39;autre ?</content>
    <author><name></name></author>
  </entry>
</feed>
"#;

#[test]
fn standalone_serves_a_signed_whatsapp_webhook_and_polls_a_google_alerts_feed() {
    let (feed_addr, feed_requests) = serve_feed(GOOGLE_ALERTS);
    let http_addr = format!("127.0.0.1:{}", free_port());
    let grpc = format!("127.0.0.1:{}", free_port());
    let dir = std::env::temp_dir().join(format!("vigie-connectors-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            r#"
[ingest]
http_listen = "{http_addr}"
[api]
grpc_listen = "{grpc}"
[collect]
metrics_listen = "127.0.0.1:{metrics}"

[[connectors]]
name = "verdier-whatsapp"
type = "whatsapp"
tenant = "verdier"
app_secret_env = "VIGIE_TEST_WHATSAPP_SECRET"
verify_token = "the-verify-token"

[[connectors]]
name = "verdier-alerts-tiktok"
type = "rss"
tenant = "verdier"
url = "http://{feed_addr}/alerts/feeds/0/1"
interval = "1s"
"#,
            metrics = free_port()
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["--config", config.to_str().unwrap(), "standalone"])
        .env("VIGIE_TEST_WHATSAPP_SECRET", "app-secret-of-verdier")
        .stdout(Stdio::piped())
        .spawn()
        .expect("vigie runs");
    let stdout = child.stdout.take().unwrap();
    let _serving = Serving(child);
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut verdier = None;
    for line in printed.iter() {
        if let Some(list) = line.split("to read their alerts and mentions: ").nth(1) {
            verdier = list
                .split(", ")
                .find_map(|t| t.strip_prefix("verdier: "))
                .map(str::to_string);
        }
        if line.contains("token (admin): ") {
            break;
        }
    }
    let verdier = verdier.expect("standalone prints a token for tenant verdier");
    let wait_http = Instant::now();
    while TcpStream::connect(&http_addr).is_err() {
        assert!(
            wait_http.elapsed() < Duration::from_secs(60),
            "HTTP ingest listens"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // The handshake: the right verify token gets the challenge back, a wrong one 403.
    let path = "/v1/webhooks/verdier-whatsapp?hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=1158201444";
    assert_eq!(
        http("GET", &http_addr, path, &[], b""),
        (200, "1158201444".to_string())
    );
    let wrong = "/v1/webhooks/verdier-whatsapp?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1";
    assert_eq!(http("GET", &http_addr, wrong, &[], b"").0, 403);

    // A delivery signed with the app secret is accepted; the same bytes with one changed are not.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let body = format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"102290129340398","changes":[{{"value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"33612345678","phone_number_id":"106540352242922"}},"contacts":[{{"profile":{{"name":"Camille"}},"wa_id":"33698765432"}}],"messages":[{{"from":"33698765432","id":"wamid.HBgLMzM2OTg3NjU0MzIVAgASGBQzQUNCMDAwMDAwMDAwMDAwMDAwMAA=","timestamp":"{now}","type":"text","text":{{"body":"Ma commande de yaourts Verdier est arrivée périmée, je veux être remboursée"}}}}]}},"field":"messages"}}]}}]}}"#
    );
    let signature = format!(
        "sha256={}",
        hex(&hmac_sha256(b"app-secret-of-verdier", body.as_bytes()))
    );
    let mut tampered = body.clone().into_bytes();
    let at = body.find("remboursée").unwrap();
    tampered[at] = b'R';
    let (status, answer) = http(
        "POST",
        &http_addr,
        "/v1/webhooks/verdier-whatsapp",
        &[
            ("X-Hub-Signature-256", &signature),
            ("Content-Type", "application/json"),
        ],
        &tampered,
    );
    assert_eq!(status, 401, "a tampered delivery is refused: {answer}");
    let (status, answer) = http(
        "POST",
        &http_addr,
        "/v1/webhooks/verdier-whatsapp",
        &[
            ("X-Hub-Signature-256", &signature),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"accepted\":1"), "{answer}");

    // Both mentions are found through the API, within seconds.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        use vigie_core::proto::mention_service_client::MentionServiceClient;
        use vigie_core::proto::SearchMentionsRequest;
        let mut client = None;
        for _ in 0..400 {
            if let Ok(c) = MentionServiceClient::connect(format!("http://{grpc}")).await {
                client = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut client = client.expect("standalone serves gRPC");
        let search = |source: &str, text: &str| {
            let mut r = tonic::Request::new(SearchMentionsRequest {
                source: source.into(),
                text: text.into(),
                ..Default::default()
            });
            r.metadata_mut()
                .insert("authorization", format!("Bearer {verdier}").parse().unwrap());
            r
        };
        let started = Instant::now();
        let (mut whatsapp, mut tiktok) = (Vec::new(), Vec::new());
        while started.elapsed() < Duration::from_secs(30) {
            whatsapp = client
                .search(search("whatsapp", "remboursée"))
                .await
                .unwrap()
                .into_inner()
                .mentions;
            tiktok = client
                .search(search("tiktok", "goût bizarre"))
                .await
                .unwrap()
                .into_inner()
                .mentions;
            if !whatsapp.is_empty() && !tiktok.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert_eq!(whatsapp.len(), 1, "the signed WhatsApp message is found once");
        assert_eq!(whatsapp[0].visibility, "private");
        assert_eq!(whatsapp[0].author_handle.trim_start_matches('@'), "33698765432");
        assert_eq!(
            tiktok.len(),
            1,
            "the Google Alerts entry is found once, polled every second"
        );
        assert_eq!(
            tiktok[0].url,
            "https://www.tiktok.com/@claire.m/video/7300000000000000001"
        );
        assert!(
            !tiktok[0].text.contains("<b>") && tiktok[0].text.contains("qui d'autre"),
            "HTML stripped: {}",
            tiktok[0].text
        );
    });
    assert!(feed_requests.load(Ordering::SeqCst) >= 1);
    let _ = std::fs::remove_dir_all(&dir);
}
