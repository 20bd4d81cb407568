//! Scenario `cross_tenant`: tenant 2's admin tries every read and write on tenant 1's and
//! tenant 3's watch and alert ids. Each behaves as not found, or answers with tenant 2's own data
//! only, or is refused; afterwards tenant 1's watch and tenant 3's alert are as they were.

use crate::fixture::*;
use crate::World;
use std::time::Duration;
use vigie_core::proto::alert_service_client::AlertServiceClient;
use vigie_core::proto::ingest_service_client::IngestServiceClient;
use vigie_core::proto::mention_service_client::MentionServiceClient;
use vigie_core::proto::watch_service_client::WatchServiceClient;
use vigie_core::proto::{
    AlertRequest, ListAlertsRequest, ListWatchesRequest, Mention, PublishRequest, SearchMentionsRequest,
    SilenceRequest, StatsRequest, StreamAlertsRequest, Watch, WatchRequest,
};

/// Runs the scenario.
pub fn run(w: &mut World) {
    let [t1, t2, _] = w.tenants.clone();
    let [admin1, admin2, operator3] = w.api_tokens.clone();
    let (id, t3_watch) = (w.alert_id.clone(), w.alert_watch.clone());
    let api_addr = w.stack.api.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let endpoint = format!("http://{api_addr}");
        let mut client = WatchServiceClient::connect(endpoint.clone()).await.unwrap();
        let mut alerts = AlertServiceClient::connect(endpoint.clone()).await.unwrap();
        let mut mentions = MentionServiceClient::connect(endpoint.clone()).await.unwrap();
        let mut ingest = IngestServiceClient::connect(endpoint).await.unwrap();
        let search = |watch: &str, text: &str, size: u32, token: &str| SearchMentionsRequest {
            watch_id: watch.into(),
            text: text.into(),
            page_size: size,
            page_token: token.into(),
            ..Default::default()
        };
        // As published by `api_happy_paths`.
        let via_grpc = Mention {
            source: vigie_core::proto::Source::Forum as i32,
            native_id: "grpc-1".into(),
            text: "Acme : livraison reçue, commandé via gRPC".into(),
            ..Default::default()
        };
        // Cross-tenant: tenant 2's admin tries every read and write on tenant 1's and tenant
        // 3's watch and alert ids. Each behaves as not found, or answers with tenant 2's own
        // data only, or is refused; afterwards tenant 1's watch and tenant 3's alert are as
        // they were.
        for watch_id in ["api-made", t3_watch.as_str()] {
            let r = WatchRequest { id: watch_id.into() };
            assert_eq!(
                refused(client.get_watch(auth(&admin2, r.clone())).await),
                tonic::Code::NotFound
            );
            let hijack = Watch {
                id: watch_id.into(),
                query: "hijacked".into(),
                ..Default::default()
            };
            assert_eq!(
                refused(client.update_watch(auth(&admin2, hijack)).await),
                tonic::Code::NotFound
            );
            let deleted = client.delete_watch(auth(&admin2, r)).await;
            assert_eq!(refused(deleted), tonic::Code::NotFound);
            let found = mentions
                .search(auth(&admin2, search(watch_id, "", 500, "")))
                .await
                .unwrap()
                .into_inner();
            assert!(found.mentions.is_empty(), "tenant 2 found {watch_id}'s mentions");
            let counted = mentions
                .stats(auth(
                    &admin2,
                    StatsRequest {
                        watch_id: watch_id.into(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner();
            assert!(
                counted.buckets.is_empty(),
                "tenant 2 counted {watch_id}'s mentions"
            );
        }
        let theirs = client
            .list_watches(auth(&admin2, ListWatchesRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(theirs.watches.iter().all(|w| w.tenant == t2));
        let tried = client
            .test_query(auth(
                &admin2,
                vigie_core::proto::TestQueryRequest {
                    query: "acme".into(),
                    recent: 10_000,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(tried.mentions.iter().all(|m| m.id.starts_with(&format!("{t2}:"))));
        let alert_id = AlertRequest { id: id.clone() };
        assert_eq!(
            refused(alerts.get_alert(auth(&admin2, alert_id.clone())).await),
            tonic::Code::NotFound
        );
        assert_eq!(
            refused(alerts.acknowledge_alert(auth(&admin2, alert_id.clone())).await),
            tonic::Code::NotFound
        );
        assert_eq!(
            refused(alerts.resolve_alert(auth(&admin2, alert_id.clone())).await),
            tonic::Code::NotFound
        );
        let listed = alerts
            .list_alerts(auth(&admin2, ListAlertsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        assert!(listed.alerts.iter().all(|a| a.tenant == t2));
        let own_silence = alerts
            .silence_alerts(auth(
                &admin2,
                SilenceRequest {
                    watch_id: t3_watch.clone(),
                    duration_seconds: 60,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(own_silence.tenant, t2, "a silence is always the caller's own");
        let mut streamed = alerts
            .stream_alerts(auth(&admin2, StreamAlertsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(1_500), streamed.message())
            .await
            .map(|m| m.unwrap())
        {
            assert_eq!(
                m.alert.unwrap().tenant,
                t2,
                "tenant 2's stream carries only its own alerts"
            );
        }
        let foreign = ingest
            .publish(auth(
                &admin2,
                PublishRequest {
                    mentions: vec![Mention {
                        tenant: t1.clone(),
                        native_id: "grpc-2".into(),
                        ..via_grpc.clone()
                    }],
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(foreign.code(), tonic::Code::InvalidArgument);
        assert!(foreign.message().contains("tenant"), "{}", foreign.message());
        let kept = client
            .get_watch(auth(
                &admin1,
                WatchRequest {
                    id: "api-made".into(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (kept.query.as_str(), kept.name.as_str()),
            ("acme AND livraison", "Made through the API")
        );
        let still = alerts
            .get_alert(auth(&operator3, AlertRequest { id: id.clone() }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(still.state(), vigie_core::proto::AlertState::Resolved);
        assert!(still.actor.starts_with("token:"), "{}", still.actor);
    });
}
