//! The README's first command, minus the build: `vigie standalone --exit` replays the bundled
//! sample through all three stages in one process and prints what it rejected and the alerts.

use std::process::Command;

#[test]
fn the_bundled_sample_raises_the_documented_alerts() {
    let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["standalone", "--exit"])
        // Ports are not opened with --exit; point them away from defaults anyway.
        .env("VIGIE_INGEST__HTTP_LISTEN", "127.0.0.1:0")
        .env("VIGIE_INGEST__GRPC_LISTEN", "127.0.0.1:0")
        .output()
        .expect("vigie runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains("replayed 1249 mentions (3 rejected and dead-lettered)"),
        "{stdout}"
    );
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("REJECTED")).count(),
        3,
        "{stdout}"
    );
    let fired: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT") && l.contains(" firing at "))
        .collect();
    let has = |watch_rule: &str, at: &str| fired.iter().any(|a| a.contains(watch_rule) && a.contains(at));
    assert_eq!(fired.len(), 7, "{stdout}");
    assert!(has("northwind/lost-luggage rule=cluster", "14:30:05"), "{stdout}");
    // The food-safety story is caught at 17:55, from private messages and the first public posts,
    // before the press articles (18:30 and later in the sample); the brand's volume spike nine
    // minutes later, against a baseline learned over the four ordinary days before.
    assert!(
        has("[CRITICAL] verdier/food-safety rule=burst", "17:55:25"),
        "{stdout}"
    );
    assert!(has("verdier/brand rule=spike", "18:04:05"), "{stdout}");
    assert!(has("verdier/brand rule=volume", "18:08:28"), "{stdout}");
    // The first press article is both a risky mention (410k followers) and the third stage of
    // the escalation private → public → press.
    assert!(has("verdier/brand rule=risky", "18:30:32"), "{stdout}");
    assert!(has("verdier/brand rule=risky", "18:35:37"), "{stdout}");
    assert!(has("verdier/food-safety rule=overflow", "18:30:32"), "{stdout}");
    assert!(fired
        .iter()
        .any(|a| a.contains("private:messenger → public:instagram → press:news")));
    // Every alert that fired also resolved once its condition cleared (or it aged out).
    let resolved = stdout
        .lines()
        .filter(|l| l.starts_with("ALERT") && l.contains(" resolved at "))
        .count();
    assert!(resolved >= 5, "{stdout}");
}

/// `vigie standalone` serving: its process is killed when the test ends, passed or not.
struct Serving(std::process::Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `message` with `token` as its bearer token.
fn with<T>(token: &str, message: T) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The README's session, as a Rust client: with the development token `vigie standalone`
/// prints, a newcomer creates a watch, sends mentions over gRPC, finds them, counts them, tries
/// a query, sees the alert they raised, acknowledges it and watches the change arrive on the
/// stream; all on the one gRPC port, with no Kafka and no ClickHouse.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_can_drive_standalone_over_grpc_with_the_printed_token() {
    use std::io::BufRead;
    use vigie_core::proto::alert_service_client::AlertServiceClient;
    use vigie_core::proto::ingest_service_client::IngestServiceClient;
    use vigie_core::proto::mention_service_client::MentionServiceClient;
    use vigie_core::proto::watch_service_client::WatchServiceClient;
    use vigie_core::proto::*;

    let grpc = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("standalone")
        .env("VIGIE_INGEST__HTTP_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("VIGIE_API__GRPC_LISTEN", &grpc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("vigie runs");
    let stdout = child.stdout.take().unwrap();
    let _serving = Serving(child);
    // The token is on the line that names the development tenant; the rest of the output is
    // read on (and dropped) so standalone never writes to a closed pipe.
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut verdier = None;
    let token = printed
        .iter()
        .inspect(|l| {
            if let Some(list) = l.split("to read their alerts and mentions: ").nth(1) {
                verdier = list
                    .split(", ")
                    .find_map(|t| t.strip_prefix("verdier: "))
                    .map(str::to_string);
            }
        })
        .find_map(|l| l.split("token (admin): ").nth(1).map(str::to_string))
        .expect("standalone prints a development token");
    let verdier = verdier.expect("standalone prints a token for the sample's tenant verdier");
    let mut channel = None;
    for _ in 0..200 {
        if let Ok(c) = tonic::transport::Endpoint::from_shared(format!("http://{grpc}"))
            .unwrap()
            .connect()
            .await
        {
            channel = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let channel = channel.expect("standalone serves gRPC");
    let mut watches = WatchServiceClient::new(channel.clone());
    let mut ingest = IngestServiceClient::new(channel.clone());
    let mut mentions = MentionServiceClient::new(channel.clone());
    let mut alerts = AlertServiceClient::new(channel);

    // The sample's alerts, with the sample tenant's token: the replay was followed from the start.
    // (Alerting may still be working through the replay: wait for the story's alerts.)
    let mut sample = ListAlertsResponse::default();
    for _ in 0..200 {
        sample = alerts
            .list_alerts(with(&verdier, ListAlertsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        if sample.alerts.len() >= 5 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(sample.alerts.len() >= 5, "{:?}", sample.alerts.len());
    assert!(sample.alerts.iter().all(|a| a.tenant == "verdier"));
    assert!(sample
        .alerts
        .iter()
        .any(|a| a.watch_id == "food-safety" && a.rule == "burst"));
    let found = mentions
        .search(with(
            &verdier,
            SearchMentionsRequest {
                watch_id: "food-safety".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        !found.mentions.is_empty(),
        "the sample's mentions are in the window"
    );

    // Without a token: UNAUTHENTICATED.
    let anonymous = watches
        .list_watches(ListWatchesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);

    watches
        .create_watch(with(
            &token,
            Watch {
                id: "outage".into(),
                name: "Site outage".into(),
                query: "panne OR outage".into(),
                rules: vec![Rule {
                    name: "burst".into(),
                    severity: "critical".into(),
                    kind: Some(rule::Kind::Threshold(ThresholdRule {
                        min_count: 3,
                        window_seconds: 600,
                    })),
                    ..Default::default()
                }],
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let sent: Vec<Mention> = [
        "Grosse panne du site, impossible de payer",
        "Encore une panne ?!",
        "outage again, furious",
        "Merci pour la livraison",
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| Mention {
        source: Source::X as i32,
        native_id: format!("s{i}"),
        created_at_ms: now - 1_000 * (4 - i as i64),
        text: text.to_string(),
        ..Default::default()
    })
    .collect();
    let published = ingest
        .publish(with(&token, PublishRequest { mentions: sent }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(published.accepted, 4);

    // Enrich matches the new watch; search pages through its matches.
    let mut found = Vec::new();
    for _ in 0..200 {
        let page = mentions
            .search(with(
                &token,
                SearchMentionsRequest {
                    watch_id: "outage".into(),
                    page_size: 2,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        if page.mentions.len() == 2 && !page.next_page_token.is_empty() {
            let rest = mentions
                .search(with(
                    &token,
                    SearchMentionsRequest {
                        watch_id: "outage".into(),
                        page_size: 2,
                        page_token: page.next_page_token.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            found = page.mentions.into_iter().chain(rest.mentions).collect();
            if found.len() == 3 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let texts: Vec<&str> = found.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "outage again, furious",
            "Encore une panne ?!",
            "Grosse panne du site, impossible de payer"
        ],
        "newest first, the thank-you not matched"
    );
    let stats = mentions
        .stats(with(
            &token,
            StatsRequest {
                bucket: "minute".into(),
                from_ms: now - 3_600_000,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        stats.buckets.iter().map(|b| b.mentions).sum::<u64>(),
        4,
        "{stats:?}"
    );
    let tried = watches
        .test_query(with(
            &token,
            TestQueryRequest {
                query: "panne AND site".into(),
                recent: 0,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((tried.scanned, tried.matched), (4, 1));

    // The third matching mention raised the watch's alert.
    let mut alert = None;
    for _ in 0..200 {
        let listed = alerts
            .list_alerts(with(
                &token,
                ListAlertsRequest {
                    watch_id: "outage".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        if let Some(a) = listed.alerts.into_iter().next() {
            alert = Some(a);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let alert = alert.expect("the threshold alert is listed");
    assert_eq!(
        (alert.severity, alert.rule.as_str()),
        (Severity::Critical as i32, "burst")
    );
    let mut stream = alerts
        .stream_alerts(with(
            &token,
            StreamAlertsRequest {
                watch_id: "outage".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    alerts
        .acknowledge_alert(with(&token, AlertRequest { id: alert.id.clone() }))
        .await
        .unwrap();
    let acknowledged = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            let event = stream.message().await.unwrap().expect("the stream stays open");
            let a = event.alert.unwrap();
            if a.id == alert.id && a.state == AlertState::Acknowledged as i32 {
                return a;
            }
        }
    })
    .await
    .expect("the acknowledgement arrives on the stream");
    assert!(acknowledged.version > alert.version);
}
