//! The README's first command, minus the build: `vigie standalone --exit` replays the bundled
//! sample through all three stages in one process and prints what it rejected and the alerts.
//! Then its session: `vigie standalone` serving, driven over gRPC as the README shows (by a Rust
//! client, and by grpcurl running the README's own commands); and the CLI's refusals that need
//! no broker.

use std::process::{Command, Output};
use std::sync::OnceLock;

/// What `vigie standalone --exit` printed, with logging left at its default (no `VIGIE_LOG`,
/// no `RUST_LOG`): run once, shared by the tests that read it.
fn replayed() -> &'static Output {
    static OUT: OnceLock<Output> = OnceLock::new();
    OUT.get_or_init(|| {
        Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["standalone", "--exit"])
            .env_remove("VIGIE_LOG")
            .env_remove("RUST_LOG")
            // Ports are not opened with --exit; point them away from defaults anyway.
            .env("VIGIE_INGEST__HTTP_LISTEN", "127.0.0.1:0")
            .env("VIGIE_INGEST__GRPC_LISTEN", "127.0.0.1:0")
            .output()
            .expect("vigie runs")
    })
}

#[test]
fn the_bundled_sample_raises_the_documented_alerts() {
    let out = replayed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = std::str::from_utf8(&out.stdout).unwrap();
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
    // before the press articles (18:30 and later in the sample); the brand's volume spike four
    // minutes later, against a baseline learned over the four ordinary days before (it fired at
    // 18:04 with the detector before issue 15).
    assert!(
        has("[CRITICAL] verdier/food-safety rule=burst", "17:55:25"),
        "{stdout}"
    );
    assert!(has("verdier/brand rule=spike", "17:59:02"), "{stdout}");
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

/// The README's first output block, line for line: `vigie standalone --exit` prints exactly its
/// lines in its order, a line written `…` standing for any number of lines (there: what serving
/// prints after the timeline). Stdout holds no log line and each alert state change once, in
/// event-time order; stderr is empty (logs are warnings only by default).
#[test]
fn standalone_prints_exactly_the_readme_output_one_timeline_and_no_logs() {
    let readme = include_str!("../README.md");
    let top = readme.split("\n## ").next().unwrap();
    // Fenced blocks of the top section, by their opening line: the output is the bare one.
    let (mut block, mut open): (Vec<&str>, Option<&str>) = (Vec::new(), None);
    for line in top.lines() {
        match open {
            None if line.starts_with("```") => open = Some(line),
            Some(_) if line == "```" => {
                if open == Some("```") {
                    break;
                }
                open = None;
            }
            Some("```") => block.push(line),
            _ => {}
        }
    }
    assert!(
        block.len() > 10 && block[0].starts_with("vigie standalone:"),
        "{block:?}"
    );
    let out = replayed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = std::str::from_utf8(&out.stdout).unwrap();
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "nothing logged by default"
    );
    assert!(
        matches_with_gaps(&block, &printed),
        "the README's block (lines written … stand for any lines) is not what standalone prints:\n\
         --- README ---\n{}\n--- printed ---\n{stdout}",
        block.join("\n")
    );
    // One timeline whatever the README says: each alert line once, times never going back.
    let alerts: Vec<&str> = printed
        .iter()
        .copied()
        .filter(|l| l.starts_with("ALERT "))
        .collect();
    let unique: std::collections::HashSet<&str> = alerts.iter().copied().collect();
    assert_eq!(unique.len(), alerts.len(), "{stdout}");
    let times: Vec<&str> = alerts
        .iter()
        .map(|l| l.split(" at ").nth(1).and_then(|t| t.split(' ').next()).unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    assert!(
        printed.iter().all(|l| l.starts_with("ALERT ")
            || l.starts_with("REJECTED ")
            || l.starts_with("vigie standalone: ")),
        "{stdout}"
    );
}

/// Whether `lines` is `pattern` with each `…` line of the pattern standing for any number of
/// lines.
fn matches_with_gaps(pattern: &[&str], lines: &[&str]) -> bool {
    match pattern.split_first() {
        None => lines.is_empty(),
        Some((&"…", rest)) => (0..=lines.len()).any(|skip| matches_with_gaps(rest, &lines[skip..])),
        Some((first, rest)) => lines
            .split_first()
            .is_some_and(|(line, more)| line == first && matches_with_gaps(rest, more)),
    }
}

#[test]
fn gaps_in_the_readme_block_stand_for_any_lines_and_nothing_else() {
    assert!(matches_with_gaps(&["a", "…", "d"], &["a", "b", "c", "d"]));
    assert!(matches_with_gaps(&["a", "…"], &["a"]));
    assert!(
        !matches_with_gaps(&["a", "b"], &["a", "b", "b"]),
        "a line printed twice"
    );
    assert!(!matches_with_gaps(&["a", "b"], &["b", "a"]), "out of order");
    assert!(!matches_with_gaps(&["a", "…", "c"], &["a", "b"]));
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
    use vigie_core::proto::alert_service_client::AlertServiceClient;
    use vigie_core::proto::ingest_service_client::IngestServiceClient;
    use vigie_core::proto::mention_service_client::MentionServiceClient;
    use vigie_core::proto::watch_service_client::WatchServiceClient;
    use vigie_core::proto::*;

    let (_serving, grpc, token, verdier) = start_standalone();
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
                ..Default::default()
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

/// Starts `vigie standalone` serving gRPC on a free port and reads what it prints until the
/// tokens: (the process, its gRPC address, the development tenant's admin token, the sample
/// tenant verdier's operator token). The rest of its output is read on (and dropped) so it
/// never writes to a closed pipe.
fn start_standalone() -> (Serving, String, String, String) {
    use std::io::BufRead;
    let grpc = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .arg("standalone")
        .env("VIGIE_INGEST__HTTP_LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("VIGIE_API__GRPC_LISTEN", &grpc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("vigie runs");
    let stdout = child.stdout.take().unwrap();
    let serving = Serving(child);
    let (lines, printed) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    // The sample tenants' tokens are on the line before the development tenant's.
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
    (serving, grpc, token, verdier)
}

/// The grpcurl the README's session runs with: `VIGIE_GRPCURL`, else the one
/// `deploy/local/install.sh` installs (`.local/bin/grpcurl`, or under `VIGIE_LOCAL_DIR`), else
/// one on the `PATH`.
fn grpcurl() -> Option<std::path::PathBuf> {
    let local = std::env::var_os("VIGIE_LOCAL_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/.local").into());
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::var_os("VIGIE_GRPCURL")
        .map(std::path::PathBuf::from)
        .into_iter()
        .chain([local.join("bin/grpcurl")])
        .chain(std::env::split_paths(&path).map(|d| d.join("grpcurl")))
        .find(|p| p.is_file())
}

/// The commands of the README's `### A session` block, in order: a command goes on over the
/// indented lines after it.
fn readme_session() -> Vec<String> {
    let readme = include_str!("../README.md");
    let section = readme
        .split("\n### A session\n")
        .nth(1)
        .expect("the README has a section \"### A session\"");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("the section has a ```sh block");
    let mut commands: Vec<String> = Vec::new();
    for line in block.lines() {
        match commands.last_mut() {
            Some(command) if line.starts_with(' ') => {
                command.push('\n');
                command.push_str(line);
            }
            _ => commands.push(line.to_string()),
        }
    }
    commands
}

/// What the README's session learns as it goes, as a reader copying answers into the next
/// commands would: the page token, the alert id, what the open stream printed.
#[derive(Default)]
struct Learnt {
    next_page_token: String,
    alert_id: String,
    stream: std::sync::Arc<std::sync::Mutex<String>>,
}

/// Each JSON message of a grpcurl answer (one per unary call, one per message of a stream; an
/// incomplete last one left out).
fn messages(out: &str) -> Vec<serde_json::Value> {
    serde_json::Deserializer::from_str(out)
        .into_iter::<serde_json::Value>()
        .map_while(Result::ok)
        .collect()
}

/// The one JSON answer of a unary call.
fn answer(out: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(out).map_err(|e| format!("not one JSON answer ({e}): {out}"))
}

/// How a step of the session is run.
#[derive(Clone, Copy, PartialEq)]
enum Run {
    /// Once; its check must pass.
    Once,
    /// Again until its check passes (a read of what the services are still working through).
    Until,
    /// In the background (`&`), its output collected in [`Learnt::stream`]; checked until it
    /// passes.
    Background,
}

/// A check of a step's output, with what the session learnt so far.
type Check = fn(&str, &mut Learnt) -> Result<(), String>;

/// The texts of the mentions of a `Search` answer.
fn texts(found: &serde_json::Value) -> Vec<&str> {
    found["mentions"]
        .as_array()
        .map(|m| m.iter().filter_map(|m| m["text"].as_str()).collect())
        .unwrap_or_default()
}

/// The README's session, each step with how it runs and what its answer must say, by the
/// start of its command.
const SESSION: [(&str, Run, Check); 11] = [
    ("g() {", Run::Once, |_, _| Ok(())),
    ("grpcurl -plaintext 127.0.0.1:50051 list", Run::Once, |out, _| {
        let listed: Vec<&str> = out.lines().collect();
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "vigie.v1.AlertService",
            "vigie.v1.IngestService",
            "vigie.v1.MentionService",
            "vigie.v1.WatchService",
        ]
        .iter()
        .all(|s| listed.contains(s))
        .then_some(())
        .ok_or_else(|| format!("not every service listed: {listed:?}"))
    }),
    ("g WatchService/CreateWatch", Run::Once, |out, _| {
        let watch = answer(out)?;
        (watch["tenant"] == "dev" && watch["id"] == "outage")
            .then_some(())
            .ok_or_else(|| format!("not the dev tenant's watch outage: {watch}"))
    }),
    ("g IngestService/Publish", Run::Once, |out, _| {
        let published = answer(out)?;
        (published["accepted"] == 4)
            .then_some(())
            .ok_or_else(|| format!("not 4 accepted: {published}"))
    }),
    (
        r#"g MentionService/Search '{"watch_id": "outage", "page_size": 2}'"#,
        Run::Until,
        |out, learnt| {
            let page = answer(out)?;
            if texts(&page) != ["outage again, furious", "Encore une panne ?!"] {
                return Err(format!("not the two newest matches, newest first: {page}"));
            }
            learnt.next_page_token = page["nextPageToken"].as_str().unwrap_or_default().to_string();
            (!learnt.next_page_token.is_empty())
                .then_some(())
                .ok_or_else(|| format!("no nextPageToken: {page}"))
        },
    ),
    (
        r#"g MentionService/Search '{"watch_id": "outage", "page_size": 2, "page_token""#,
        Run::Once,
        |out, _| {
            let page = answer(out)?;
            (texts(&page) == ["Grosse panne du site, impossible de payer"]
                && page.get("nextPageToken").is_none())
            .then_some(())
            .ok_or_else(|| format!("not the last match alone: {page}"))
        },
    ),
    ("g MentionService/Stats", Run::Until, |out, _| {
        let stats = answer(out)?;
        let sum = |field: &str| -> u64 {
            stats["buckets"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|b| b[field].as_str()?.parse::<u64>().ok())
                .sum()
        };
        ((sum("mentions"), sum("negative"), sum("positive")) == (4, 3, 1))
            .then_some(())
            .ok_or_else(|| format!("not 4 mentions, 3 negative and 1 positive: {stats}"))
    }),
    ("g WatchService/TestQuery", Run::Until, |out, _| {
        let tried = answer(out)?;
        (tried["scanned"] == 4 && tried["matched"] == 1)
            .then_some(())
            .ok_or_else(|| format!("not scanned 4, matched 1: {tried}"))
    }),
    ("g AlertService/ListAlerts", Run::Until, |out, learnt| {
        let listed = answer(out)?;
        let alert = &listed["alerts"][0];
        let id = alert["id"].as_str().unwrap_or_default();
        if !(id.starts_with("dev:outage:burst:") && alert["state"] == "ALERT_STATE_FIRING") {
            return Err(format!("not the watch's alert, firing: {listed}"));
        }
        learnt.alert_id = id.to_string();
        Ok(())
    }),
    ("g AlertService/StreamAlerts", Run::Background, |_, learnt| {
        let printed = learnt.stream.lock().unwrap().clone();
        messages(&printed)
            .iter()
            .any(|m| {
                m["alert"]["id"] == learnt.alert_id.as_str() && !m["cursor"].as_str().unwrap_or("").is_empty()
            })
            .then_some(())
            .ok_or_else(|| format!("the stream has not printed the alert: {printed}"))
    }),
    ("g AlertService/AcknowledgeAlert", Run::Once, |out, learnt| {
        let accepted = answer(out)?;
        if accepted["alertId"] != learnt.alert_id.as_str() {
            return Err(format!("not the alert's acknowledgement: {accepted}"));
        }
        // The stream prints the change within moments.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let printed = learnt.stream.lock().unwrap().clone();
            let acknowledged = messages(&printed).iter().any(|m| {
                m["alert"]["id"] == learnt.alert_id.as_str()
                    && m["alert"]["state"] == "ALERT_STATE_ACKNOWLEDGED"
            });
            if acknowledged {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("the stream did not print it acknowledged: {printed}"));
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }),
];

/// The README's grpcurl session, exactly as written there (its block is read from README.md),
/// against a real `vigie standalone` with the token it printed, by the grpcurl 1.8.6 that
/// `deploy/local/install.sh` installs: a client that knows gRPC reflection v1alpha only. The
/// README's address is replaced by the test's port, and `<nextPageToken>` and `<the alert id>`
/// by the answers before, as a reader would copy them. Skipped (saying so) without grpcurl,
/// except in CI (`CI` set), where it must be there.
#[test]
fn the_readme_grpcurl_session_runs_as_written() {
    let Some(grpcurl) = grpcurl() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "grpcurl is missing: deploy/local/install.sh installs it under .local/bin"
        );
        eprintln!("SKIPPED the_readme_grpcurl_session_runs_as_written: no grpcurl (deploy/local/install.sh installs it)");
        return;
    };
    let version = Command::new(&grpcurl)
        .arg("-version")
        .output()
        .expect("grpcurl runs");
    eprintln!(
        "grpcurl: {} ({})",
        grpcurl.display(),
        String::from_utf8_lossy(&[version.stdout, version.stderr].concat()).trim()
    );
    let commands = readme_session();
    let written: Vec<&str> = commands.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        written.len(),
        SESSION.len(),
        "each command of the README's session has its check here: {written:#?}"
    );
    for (command, (start, ..)) in written.iter().zip(&SESSION) {
        assert!(
            command.starts_with(start),
            "the README's {command:?} is checked as {start:?}"
        );
    }
    let (_serving, grpc, token, _) = start_standalone();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while std::net::TcpStream::connect(&grpc).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "standalone does not serve {grpc}"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut path = std::ffi::OsString::from(grpcurl.parent().unwrap());
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let prelude = commands[0].replace("127.0.0.1:50051", &grpc);
    let mut learnt = Learnt::default();
    let mut background = Vec::new();
    for (command, (_, run, check)) in commands.iter().zip(&SESSION).skip(1) {
        let command = command
            .replace("127.0.0.1:50051", &grpc)
            .replace("<nextPageToken>", &learnt.next_page_token)
            .replace("<the alert id>", &learnt.alert_id);
        let shell = |command: &str| {
            let mut shell = Command::new("bash");
            shell
                .arg("-c")
                .arg(format!("{prelude}\n{command}"))
                .env("TOKEN", &token)
                .env("PATH", &path);
            shell
        };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        if *run == Run::Background {
            // Its errors with its messages, to show in the check's failure.
            let foreground = format!("{} 2>&1", command.split(" &").next().unwrap());
            let mut child = shell(&foreground)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("bash runs");
            let mut stdout = child.stdout.take().unwrap();
            let printed = learnt.stream.clone();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = stdout.read(&mut chunk) {
                    printed
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&chunk[..n]));
                }
            });
            background.push(Serving(child));
            while let Err(e) = check("", &mut learnt) {
                assert!(std::time::Instant::now() < deadline, "{command}\n{e}");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            continue;
        }
        loop {
            let out = shell(&command).output().expect("bash runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let result = if out.status.success() {
                check(&stdout, &mut learnt)
            } else {
                Err(format!(
                    "failed: {}{stdout}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            };
            match result {
                Ok(()) => break,
                Err(_) if *run == Run::Until && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("{command}\n{e}"),
            }
        }
    }
}

/// The probe's 136-year silence through the CLI (`u32::MAX` seconds), and one day past the cap,
/// are refused before anything is sent, like `SilenceAlerts` refuses them (the broker named here
/// does not exist: reaching it would be a failure of another kind).
#[test]
fn the_cli_refuses_a_silence_past_the_longest() {
    for long in ["4294967295s", "91d"] {
        let out = Command::new(env!("CARGO_BIN_EXE_vigie"))
            .args(["alert", "silence", "--tenant", "acme", "--for", long])
            .env("VIGIE_KAFKA__BROKERS", "127.0.0.1:1")
            .output()
            .expect("vigie runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{long}: {stderr}");
        assert!(
            stderr.contains(&format!("--for \"{long}\": longer than the longest silence, 90d")),
            "{long}: {stderr}"
        );
    }
}
