//! Scenario `api_happy_paths`: the gRPC API on the full stack. An admin of tenant 1 creates a
//! watch (enrich matches new mentions against it within seconds and the BI table lists it);
//! TestQuery, ListAlerts, an acknowledgement seen on StreamAlerts, Search with keyset pages and a
//! deadline, Stats, every remaining call's happy path, StreamAlerts resumed from its cursor, and
//! IngestService on the API's port.

use crate::fixture::*;
use crate::World;
use std::time::Duration;

/// Runs the scenario.
pub fn run(w: &mut World) {
    let stack = &w.stack;
    let (database, http_addr) = (&stack.database, &stack.http);
    let [t1, t2, t3] = w.tenants.clone();
    let [k1, k2, _] = w.tokens.clone();
    let t1_accepted = w.accepted[0];
    w.api = Some(stack.spawn("api"));
    let api_addr = stack.api.clone();
    let admin1 = stack.run(&["token", "create", "--tenant", &t1, "--role", "admin"]);
    let admin2 = stack.run(&["token", "create", "--tenant", &t2, "--role", "admin"]);
    let operator3 = stack.run(&["token", "create", "--tenant", &t3, "--role", "operator"]);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (id, t3_watch) = runtime.block_on(async {
        use vigie_core::proto::watch_service_client::WatchServiceClient;
        use vigie_core::proto::{Watch, WatchRequest};
        let mut client = None;
        for _ in 0..100 {
            match WatchServiceClient::connect(format!("http://{api_addr}")).await {
                Ok(c) => {
                    client = Some(c);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let mut client = client.expect("the API listens");

        let watch = Watch {
            id: "api-made".into(),
            query: "acme AND livraison".into(),
            ..Default::default()
        };
        // The API follows the tokens topic too: retry while it has not seen the new token.
        let mut made = None;
        for _ in 0..100 {
            match client.create_watch(auth(&admin1, watch.clone())).await {
                Ok(w) => {
                    made = Some(w.into_inner());
                    break;
                }
                Err(s) if s.code() == tonic::Code::Unauthenticated => {
                    tokio::time::sleep(Duration::from_millis(200)).await
                }
                Err(s) => panic!("CreateWatch: {s}"),
            }
        }
        assert_eq!(made.expect("created").tenant, t1);
        let other = client
            .get_watch(auth(
                &admin2,
                WatchRequest {
                    id: "api-made".into(),
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(
            other.code(),
            tonic::Code::NotFound,
            "tenant 2 must not see tenant 1's watch"
        );
        // A query tried on the tenant's recent mentions before saving a watch.
        let tried = client
            .test_query(auth(
                &admin1,
                vigie_core::proto::TestQueryRequest {
                    query: "acme AND panne".into(),
                    recent: 10_000,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(tried.scanned as u64 >= t1_accepted, "{} scanned", tried.scanned);
        assert_eq!(tried.matched, 200);
        assert!(tried.mentions.iter().all(|m| m.id.starts_with(&format!("{t1}:"))));
        let broken = client
            .test_query(auth(
                &admin1,
                vigie_core::proto::TestQueryRequest {
                    query: "acme AND (".into(),
                    recent: 0,
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(broken.code(), tonic::Code::InvalidArgument);

        // Alerts of tenant 3 (phase 3): listed with their current state; an operator
        // acknowledges the one still firing, the running alerting service applies it, and the
        // new state arrives on the stream. Tenant 1's token sees none of it.
        use vigie_core::proto::alert_service_client::AlertServiceClient;
        use vigie_core::proto::{AlertRequest, ListAlertsRequest, StreamAlertsRequest};
        let mut alerts = AlertServiceClient::connect(format!("http://{api_addr}"))
            .await
            .unwrap();
        let mut list = None;
        for _ in 0..150 {
            match alerts
                .list_alerts(auth(&operator3, ListAlertsRequest::default()))
                .await
            {
                Ok(l) if l.get_ref().alerts.len() == 8 => {
                    list = Some(l.into_inner());
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let list = list.expect("tenant 3's eight alerts listed within 30 s");
        let firing: Vec<_> = list
            .alerts
            .iter()
            .filter(|a| a.state() == vigie_core::proto::AlertState::Firing)
            .collect();
        assert_eq!(firing.len(), 1, "the last wave's alert is still firing");
        let id = firing[0].id.clone();
        let hidden = alerts
            .get_alert(auth(&k1, AlertRequest { id: id.clone() }))
            .await
            .unwrap_err();
        assert_eq!(hidden.code(), tonic::Code::NotFound);
        let mut stream = alerts
            .stream_alerts(auth(
                &operator3,
                StreamAlertsRequest {
                    state: "acknowledged".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        alerts
            .acknowledge_alert(auth(&operator3, AlertRequest { id: id.clone() }))
            .await
            .unwrap();
        let acked_message = tokio::time::timeout(Duration::from_secs(60), stream.message())
            .await
            .expect("the acknowledgement within a minute")
            .unwrap()
            .unwrap();
        // The client goes away; it resumes from this cursor below.
        drop(stream);
        let cursor = acked_message.cursor.clone();
        let acked = acked_message.alert.unwrap();
        assert_eq!((acked.id.as_str(), acked.version), (id.as_str(), 2));
        let t3_watch = acked.watch_id.clone();

        // Mentions: search with keyset pagination and stats, from ClickHouse, tenant-scoped.
        use vigie_core::proto::mention_service_client::MentionServiceClient;
        use vigie_core::proto::{SearchMentionsRequest, StatsRequest};
        let mut mentions = MentionServiceClient::connect(format!("http://{api_addr}"))
            .await
            .unwrap();
        let search = |watch: &str, text: &str, size: u32, token: &str| SearchMentionsRequest {
            watch_id: watch.into(),
            text: text.into(),
            page_size: size,
            page_token: token.into(),
            ..Default::default()
        };
        let first = mentions
            .search(auth(&k1, search("outage", "", 150, "")))
            .await
            .unwrap()
            .into_inner();
        let second = mentions
            .search(auth(&k1, search("outage", "", 150, &first.next_page_token)))
            .await
            .unwrap()
            .into_inner();
        let mut ids: Vec<String> = first
            .mentions
            .iter()
            .chain(&second.mentions)
            .map(|m| m.id.clone())
            .collect();
        assert_eq!((first.mentions.len(), second.mentions.len()), (150, 50));
        assert!(second.next_page_token.is_empty());
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 200, "two pages, no overlap");
        assert!(ids.iter().all(|i| i.starts_with(&format!("{t1}:"))));
        // With a deadline, passed on to ClickHouse as the query's max_execution_time (a setting
        // ClickHouse 18.16 did not know would fail the call).
        let mut with_deadline = auth(&k1, search("", "PANNE", 500, ""));
        with_deadline.set_timeout(Duration::from_secs(30));
        let text = mentions.search(with_deadline).await.unwrap().into_inner();
        assert_eq!(text.mentions.len(), 200, "case-insensitive text search");
        let stats = mentions
            .stats(auth(
                &k1,
                StatsRequest {
                    watch_id: "outage".into(),
                    bucket: "minute".into(),
                    from_ms: vigie_core::now_ms() - 86_400_000,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(stats.buckets.iter().map(|b| b.mentions).sum::<u64>(), 200);
        let whole = mentions
            .stats(auth(&k1, StatsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(whole.buckets.iter().map(|b| b.mentions).sum::<u64>() >= t1_accepted);
        // Tenant 2 has a watch with the same id: it sees its own mentions, never tenant 1's.
        let theirs = mentions
            .search(auth(&k2, search("outage", "", 500, "")))
            .await
            .unwrap()
            .into_inner();
        assert!(!theirs.mentions.is_empty());
        assert!(theirs
            .mentions
            .iter()
            .all(|m| m.id.starts_with(&format!("{t2}:"))));
        // Tenant 2's mentions were enriched twice in part (phase 2's crash): two versions of
        // 200 of them are stored. Paging through in small pages still shows each once, all of
        // them; its stats count each once, sentiments included.
        let (mut seen, mut token) = (Vec::new(), String::new());
        loop {
            let page = mentions
                .search(auth(&k2, search("outage", "", 7, &token)))
                .await
                .unwrap()
                .into_inner();
            seen.extend(page.mentions.into_iter().map(|m| m.id));
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        let shown = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(shown, seen.len(), "a mention shown twice across pages");
        let stored = count(
            database,
            &format!("SELECT count() FROM mentions FINAL WHERE tenant = '{t2}' AND has(matched_watches, '{t2}/outage')"),
        );
        assert_eq!(shown as u64, stored, "every matching mention of tenant 2, once");
        let whole2 = mentions
            .stats(auth(&k2, StatsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        let total: u64 = whole2.buckets.iter().map(|b| b.mentions).sum();
        let by_sentiment: u64 = whole2.buckets.iter().map(|b| b.negative + b.neutral + b.positive).sum();
        assert_eq!(total, count(database, &format!("SELECT count() FROM mentions FINAL WHERE tenant = '{t2}'")));
        assert_eq!(by_sentiment, total, "each mention in one sentiment");
        let bad = mentions
            .search(auth(
                &k1,
                SearchMentionsRequest {
                    sentiment: "angry".into(),
                    ..Default::default()
                },
            ))
            .await;
        assert_eq!(bad.unwrap_err().code(), tonic::Code::InvalidArgument);

        // The remaining RPCs' happy paths, on the full stack.
        use vigie_core::proto::ingest_service_client::IngestServiceClient;
        use vigie_core::proto::{
            ListWatchesRequest, Mention, PublishRequest, SilenceRequest, ValidateQueryRequest,
        };
        let renamed = client
            .update_watch(auth(
                &admin1,
                Watch {
                    name: "Made through the API".into(),
                    ..watch.clone()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(renamed.name, "Made through the API");
        let listed = client
            .list_watches(auth(&admin1, ListWatchesRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(listed.watches.iter().any(|w| w.id == "api-made"));
        assert!(listed.watches.iter().all(|w| w.tenant == t1));
        let scratch = Watch {
            id: "scratch".into(),
            query: "acme".into(),
            ..Default::default()
        };
        client.create_watch(auth(&admin1, scratch)).await.unwrap();
        client
            .delete_watch(auth(&admin1, WatchRequest { id: "scratch".into() }))
            .await
            .unwrap();
        let gone = client
            .get_watch(auth(&admin1, WatchRequest { id: "scratch".into() }))
            .await
            .unwrap_err();
        assert_eq!(gone.code(), tonic::Code::NotFound);
        let checked = client
            .validate_query(auth(
                &k1,
                ValidateQueryRequest {
                    query: "acme AND (panne".into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!checked.valid && checked.error.is_some(), "{checked:?}");
        let silence = alerts
            .silence_alerts(auth(
                &operator3,
                SilenceRequest {
                    watch_id: t3_watch.clone(),
                    duration_seconds: 60,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(silence.tenant, t3);
        alerts
            .resolve_alert(auth(&operator3, AlertRequest { id: id.clone() }))
            .await
            .unwrap();
        // Resumed from the cursor it had: the resolution (made while it was away) arrives, and
        // nothing it already received comes again.
        let mut resumed = alerts
            .stream_alerts(auth(
                &operator3,
                StreamAlertsRequest {
                    cursor,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        let resolved = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let a = resumed.message().await.unwrap().expect("open").alert.unwrap();
                assert!(
                    !(a.id == id && a.version <= acked.version),
                    "a change received before the disconnect came again: {a:?}"
                );
                if a.id == id && a.state() == vigie_core::proto::AlertState::Resolved {
                    return a;
                }
            }
        })
        .await
        .expect("the resolution arrives on the resumed stream");
        assert_eq!(resolved.version, acked.version + 1, "no change in between missed");
        // IngestService on the API's port: a mention without a tenant is the token's.
        let mut ingest = IngestServiceClient::connect(format!("http://{api_addr}"))
            .await
            .unwrap();
        let via_grpc = Mention {
            source: vigie_core::proto::Source::Forum as i32,
            native_id: "grpc-1".into(),
            text: "Acme : livraison reçue, commandé via gRPC".into(),
            ..Default::default()
        };
        let published = ingest
            .publish(auth(
                &k1,
                PublishRequest {
                    mentions: vec![via_grpc.clone()],
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(published.accepted, 1);

        (id, t3_watch)
    });
    wait_until(
        "the API-made watch in the BI table",
        Duration::from_secs(30),
        || {
            count(
                database,
                &format!("SELECT count() FROM watches FINAL WHERE tenant = '{t1}' AND id = 'api-made'"),
            ) == 1
        },
    );
    // Enrich picked the new watch up: a new mention matches it.
    std::thread::sleep(Duration::from_secs(2));
    let fresh = mention(&t1, 5_001, vigie_core::now_ms(), false);
    assert_eq!(
        http_as(Some(&k1), "POST", http_addr, "/v1/mentions", fresh.as_bytes())
            .unwrap()
            .0,
        200
    );
    wait_until(
        "a new mention matched by the API-made watch",
        Duration::from_secs(60),
        || {
            count(
            database,
            &format!("SELECT count() FROM mentions FINAL WHERE tenant = '{t1}' AND has(matched_watches, '{t1}/api-made')"),
        ) >= 1
        },
    );
    w.api_tokens = [admin1, admin2, operator3];
    w.alert_id = id;
    w.alert_watch = t3_watch;
}
