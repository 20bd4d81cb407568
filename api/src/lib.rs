//! Vigie's gRPC API for internal services. Every call is authenticated by a bearer token and
//! scoped to the token's tenant (see [`auth`]); services: [`watches::WatchApi`],
//! [`alerts::AlertApi`], [`mentions::MentionApi`] and the ingest crate's `IngestService`, with
//! standard health checking and server reflection, on one port. The services read mentions
//! through [`store::MentionStore`] (ClickHouse, or an in-memory window for `vigie standalone`).

pub mod alerts;
pub mod auth;
pub mod mentions;
pub mod observe;
pub mod request;
mod status;
pub mod store;
pub mod watches;

use std::net::SocketAddr;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vigie_core::config::ApiConfig;
use vigie_core::proto::alert_service_server::AlertServiceServer;
use vigie_core::proto::ingest_service_server::IngestServiceServer;
use vigie_core::proto::mention_service_server::MentionServiceServer;
use vigie_core::proto::watch_service_server::WatchServiceServer;
use vigie_ingest::grpc::GrpcIngest;

/// What the API process serves.
pub struct Services {
    /// `vigie.v1.WatchService`.
    pub watches: watches::WatchApi,
    /// `vigie.v1.AlertService`.
    pub alerts: alerts::AlertApi,
    /// `vigie.v1.MentionService`.
    pub mentions: mentions::MentionApi,
    /// `vigie.v1.IngestService`: the same ingest path as HTTP.
    pub ingest: Arc<vigie_ingest::Ingestor>,
}

impl Services {
    /// Every service: watch writes and alert commands through `publisher`, watches read from
    /// `registry`, alerts from `log`, mentions from `mentions`, calls checked against `tokens`.
    pub fn new(
        registry: vigie_core::watches::WatchRegistry,
        publisher: vigie_core::bus::Publisher,
        tokens: vigie_core::tokens::TokenStore,
        mentions: Arc<dyn store::MentionStore>,
        log: alerts::AlertLog,
        ingest: Arc<vigie_ingest::Ingestor>,
    ) -> Self {
        Self {
            watches: watches::WatchApi::new(registry, publisher.clone(), tokens.clone(), mentions.clone()),
            alerts: alerts::AlertApi::new(log, publisher, tokens.clone()),
            mentions: mentions::MentionApi::new(mentions, tokens),
            ingest,
        }
    }
}

/// The listener's TLS identity from `api.tls_cert` and `api.tls_key` (PEM files), or `None`
/// when both are empty (plaintext, for loopback and development).
pub fn tls_identity(config: &ApiConfig) -> anyhow::Result<Option<tonic::transport::Identity>> {
    let Some((cert, key)) = vigie_core::config::tls_files("api", &config.tls_cert, &config.tls_key)
        .map_err(anyhow::Error::msg)?
    else {
        return Ok(None);
    };
    let read = |path: &str, setting: &str| {
        std::fs::read(path).map_err(|e| anyhow::anyhow!("api.{setting} {path:?}: cannot read: {e}"))
    };
    Ok(Some(tonic::transport::Identity::from_pem(
        read(cert, "tls_cert")?,
        read(key, "tls_key")?,
    )))
}

/// Server reflection over Vigie's services, health checking and reflection itself, in both
/// versions of the protocol: `grpc.reflection.v1`, and `grpc.reflection.v1alpha`, the only one
/// some clients in use know (grpcurl 1.8.6, Python's `grpc_reflection` client). Both list the
/// same services.
fn reflection() -> tonic_reflection::server::Builder<'static> {
    tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(vigie_core::proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET)
        .include_reflection_service(false)
}

/// Serves `services` on `addr` (over TLS with `tls`) until `cancel`.
pub async fn serve(
    addr: SocketAddr,
    tls: Option<tonic::transport::Identity>,
    services: Services,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for gRPC on {addr} (api.grpc_listen): {e}"))?;
    tracing::info!(
        "api: gRPC on {addr} ({})",
        if tls.is_some() { "TLS" } else { "plaintext" }
    );
    // Standard health checking ("" and each service report SERVING) and server reflection; both
    // answer without a token.
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<WatchServiceServer<watches::WatchApi>>()
        .await;
    health.set_serving::<AlertServiceServer<alerts::AlertApi>>().await;
    health
        .set_serving::<MentionServiceServer<mentions::MentionApi>>()
        .await;
    health.set_serving::<IngestServiceServer<GrpcIngest>>().await;
    let reflection_error = |e: tonic_reflection::server::Error| anyhow::anyhow!("gRPC reflection: {e}");
    let reflection_v1 = reflection().build_v1().map_err(reflection_error)?;
    let reflection_v1alpha = reflection().build_v1alpha().map_err(reflection_error)?;
    let mut builder = tonic::transport::Server::builder();
    if let Some(identity) = tls {
        builder = builder
            .tls_config(tonic::transport::ServerTlsConfig::new().identity(identity))
            .map_err(|e| anyhow::anyhow!("api.tls_cert/api.tls_key: {e}"))?;
    }
    let stop = cancel.clone();
    // tonic honours each call's `grpc-timeout` (the client's deadline): a call still running
    // then ends with DEADLINE_EXCEEDED.
    let server = builder
        .layer(observe::ObserveLayer)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .add_service(services.watches.into_server())
        .add_service(services.alerts.into_server())
        .add_service(services.mentions.into_server())
        .add_service(GrpcIngest::server(services.ingest))
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
    use vigie_core::proto::ingest_service_client::IngestServiceClient;
    use vigie_core::proto::{Mention, PublishRequest, Role};
    use vigie_core::tokens::TokenStore;
    use vigie_core::watches::WatchRegistry;

    /// Every service over an in-process bus, checking `tokens`.
    fn services(bus: &MemoryBus, tokens: &TokenStore) -> Services {
        let publisher = Publisher::Memory(bus.clone());
        let store = Arc::new(store::MentionWindow::new(10));
        let ingest = vigie_ingest::Ingestor::new(publisher.clone(), Default::default(), 100, 100)
            .with_tokens(tokens.clone());
        Services::new(
            WatchRegistry::default(),
            publisher,
            tokens.clone(),
            store,
            alerts::AlertLog::default(),
            Arc::new(ingest),
        )
    }

    fn free_addr() -> SocketAddr {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        format!("127.0.0.1:{port}").parse().unwrap()
    }

    /// A channel to `endpoint`, retried while the server starts.
    async fn connect(endpoint: tonic::transport::Endpoint) -> tonic::transport::Channel {
        for _ in 0..100 {
            if let Ok(channel) = endpoint.connect().await {
                return channel;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the API does not answer at {}", endpoint.uri())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn over_tls_only_clients_trusting_the_certificate_get_in_and_ingest_is_served() {
        let bus = MemoryBus::default();
        let (tokens, keys) = auth::tokens_for(&[("acme", Role::Operator)]);
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/tls");
        let config = ApiConfig {
            tls_cert: format!("{dir}/server.pem"),
            tls_key: format!("{dir}/server.key"),
            ..Default::default()
        };
        let identity = tls_identity(&config).unwrap();
        assert!(identity.is_some());
        let addr = free_addr();
        let cancel = CancellationToken::new();
        let server = tokio::spawn(serve(addr, identity, services(&bus, &tokens), cancel.clone()));
        let ca = std::fs::read(format!("{dir}/ca.pem")).unwrap();
        let tls = tonic::transport::ClientTlsConfig::new()
            .ca_certificate(tonic::transport::Certificate::from_pem(ca))
            .domain_name("localhost");
        let endpoint = tonic::transport::Endpoint::from_shared(format!("https://{addr}"))
            .unwrap()
            .tls_config(tls)
            .unwrap();
        let channel = connect(endpoint).await;
        // IngestService on the API's port, with the API's tokens.
        let mut ingest = IngestServiceClient::new(channel);
        let accepted = ingest
            .publish(auth::with(
                &keys[0],
                PublishRequest {
                    mentions: vec![Mention {
                        source: vigie_core::proto::Source::X as i32,
                        native_id: "1".into(),
                        text: "bonjour".into(),
                        ..Default::default()
                    }],
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(accepted.accepted, 1);
        let published = bus.snapshot(vigie_core::topics::MENTIONS_RAW);
        assert_eq!(published.len(), 1);
        assert_eq!(
            published[0].key_str(),
            "acme",
            "the token's tenant fills a missing one"
        );
        // A plaintext client gets nowhere.
        let plain = tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap();
        let refused = match plain.connect().await {
            Err(_) => true,
            Ok(channel) => tonic_health::pb::health_client::HealthClient::new(channel)
                .check(tonic_health::pb::HealthCheckRequest::default())
                .await
                .is_err(),
        };
        assert!(refused, "plaintext must not be answered on a TLS listener");
        cancel.cancel();
        server.await.unwrap().unwrap();
        // Half a TLS configuration is refused, naming both settings.
        let half = ApiConfig {
            tls_cert: format!("{dir}/server.pem"),
            ..Default::default()
        };
        let e = tls_identity(&half).unwrap_err().to_string();
        assert!(e.contains("api.tls_cert") && e.contains("api.tls_key"), "{e}");
    }

    /// The services a client of reflection `$version` (`v1` or `v1alpha`, the modules of
    /// `tonic_reflection::pb`, one type each) is told of over `$channel`, sorted.
    macro_rules! listed {
        ($version:ident, $channel:expr) => {{
            use tonic_reflection::pb::$version::server_reflection_client::ServerReflectionClient;
            use tonic_reflection::pb::$version::server_reflection_request::MessageRequest;
            use tonic_reflection::pb::$version::server_reflection_response::MessageResponse;
            let request = tonic_reflection::pb::$version::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(MessageRequest::ListServices(String::new())),
            };
            let mut answers = ServerReflectionClient::new($channel)
                .server_reflection_info(futures_util::stream::iter(vec![request]))
                .await
                .unwrap()
                .into_inner();
            let answer = answers.message().await.unwrap().unwrap();
            let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
                panic!("not a service list: {answer:?}")
            };
            let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
            names.sort();
            names
        }};
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn health_and_reflection_answer_without_a_token_and_shutdown_is_clean() {
        let bus = MemoryBus::default();
        let tokens = TokenStore::default();
        let addr = free_addr();
        let cancel = CancellationToken::new();
        let server = tokio::spawn(serve(addr, None, services(&bus, &tokens), cancel.clone()));
        let channel =
            connect(tonic::transport::Endpoint::from_shared(format!("http://{addr}")).unwrap()).await;
        let mut client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
        for service in [
            "",
            "vigie.v1.WatchService",
            "vigie.v1.AlertService",
            "vigie.v1.MentionService",
            "vigie.v1.IngestService",
        ] {
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
        // Reflection lists Vigie's services (what grpcurl and Postman use), in both versions of
        // the protocol: v1alpha is all grpcurl 1.8.6 and Python's grpc_reflection ask for.
        let names = listed!(v1, channel.clone());
        assert_eq!(listed!(v1alpha, channel), names, "both versions list the same");
        // Every call is counted by method and status, health checks included.
        let metrics = vigie_core::metrics::render();
        assert!(
            metrics.contains(r#"vigie_api_requests_total{code="Ok",method="/grpc.health.v1.Health/Check"}"#),
            "{metrics}"
        );
        for service in [
            "vigie.v1.WatchService",
            "vigie.v1.AlertService",
            "vigie.v1.MentionService",
            "vigie.v1.IngestService",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ] {
            assert!(names.iter().any(|n| n == service), "{service} not in {names:?}");
        }
        drop(client);
        cancel.cancel();
        server.await.unwrap().unwrap();
    }
}
