//! Vigie's gRPC API for internal services. Every call is authenticated by a bearer token and
//! scoped to the token's tenant (see [`auth`]); services: [`watches::WatchApi`], [`alerts::AlertApi`] and [`mentions::MentionApi`].

pub mod alerts;
pub mod auth;
pub mod mentions;
pub mod request;
pub mod watches;

use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// Serves the API on `addr` until `cancel`.
pub async fn serve(
    addr: SocketAddr,
    watches: watches::WatchApi,
    alerts: alerts::AlertApi,
    mentions: mentions::MentionApi,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for the gRPC API on {addr} (api.grpc_listen): {e}"))?;
    tracing::info!("api: gRPC on {addr}");
    // Standard health checking ("" and each service report SERVING) and server reflection; both
    // answer without a token.
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<vigie_core::proto::watch_service_server::WatchServiceServer<watches::WatchApi>>()
        .await;
    health
        .set_serving::<vigie_core::proto::alert_service_server::AlertServiceServer<alerts::AlertApi>>()
        .await;
    health
        .set_serving::<vigie_core::proto::mention_service_server::MentionServiceServer<mentions::MentionApi>>(
        )
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(vigie_core::proto::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|e| anyhow::anyhow!("gRPC reflection: {e}"))?;
    let stop = cancel.clone();
    let server = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(reflection)
        .add_service(watches.into_server())
        .add_service(alerts.into_server())
        .add_service(mentions.into_server())
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            async move { stop.cancelled().await },
        );
    // In-flight calls get the shutdown grace period; an idle client keeping its connection open
    // (or a stream) does not keep the process alive.
    let deadline = async {
        cancel.cancelled().await;
        tokio::time::sleep(vigie_core::stage::SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        r = server => r?,
        _ = deadline => tracing::warn!("api: connections still open after the grace period; stopping anyway"),
    }
    tracing::info!("api: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::tokens::TokenStore;
    use vigie_core::watches::WatchRegistry;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn health_and_reflection_answer_without_a_token_and_shutdown_is_clean() {
        let bus = MemoryBus::default();
        let tokens = TokenStore::default();
        let publisher = Publisher::Memory(bus);
        let watches =
            watches::WatchApi::new(WatchRegistry::default(), publisher.clone(), tokens.clone(), None);
        let alerts = alerts::AlertApi::new(alerts::AlertLog::default(), publisher, tokens);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let cancel = CancellationToken::new();
        let mentions = mentions::MentionApi::new(None, TokenStore::default());
        let server = tokio::spawn(serve(addr, watches, alerts, mentions, cancel.clone()));
        let mut client = None;
        let mut reflection = None;
        for _ in 0..50 {
            let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap();
            if let Ok(channel) = endpoint.connect().await {
                client = Some(tonic_health::pb::health_client::HealthClient::new(
                    channel.clone(),
                ));
                reflection = Some(
                    tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient::new(channel),
                );
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let mut client = client.expect("the API listens");
        for service in ["", "vigie.v1.WatchService", "vigie.v1.AlertService"] {
            let r = client
                .check(tonic_health::pb::HealthCheckRequest {
                    service: service.into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(
                r.status,
                tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
                "{service}"
            );
        }
        // Reflection lists Vigie's services (what grpcurl and Postman use).
        use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
        use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
        let request = tonic_reflection::pb::v1::ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut reflection = reflection.expect("connected");
        let mut answers = reflection
            .server_reflection_info(futures_util::stream::iter(vec![request]))
            .await
            .unwrap()
            .into_inner();
        let answer = answers.message().await.unwrap().unwrap();
        let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
            panic!("not a service list: {answer:?}")
        };
        let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
        for service in [
            "vigie.v1.WatchService",
            "vigie.v1.AlertService",
            "vigie.v1.MentionService",
        ] {
            assert!(names.iter().any(|n| n == service), "{names:?}");
        }
        drop((client, reflection, answers));
        cancel.cancel();
        server.await.unwrap().unwrap();
    }
}
