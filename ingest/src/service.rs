//! Running the ingest front ends: HTTP and gRPC servers until shutdown, then a producer flush.

use crate::grpc::GrpcIngest;
use crate::Ingestor;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vigie_core::config::IngestConfig;

/// Why the ingest front ends could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A listening address cannot be bound.
    #[error("cannot listen for {protocol} on {address} ({setting}): {source}")]
    Listen {
        /// "HTTP" or "gRPC".
        protocol: &'static str,
        /// The address.
        address: String,
        /// The setting that gave it.
        setting: &'static str,
        /// The system's error.
        source: std::io::Error,
    },
    /// `ingest.grpc_listen` is not host:port.
    #[error("ingest.grpc_listen {value:?} is not host:port: {reason}")]
    Address {
        /// The value given.
        value: String,
        /// What was wrong.
        reason: String,
    },
    /// The TLS settings cannot be used.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// A server failed while serving.
    #[error("{protocol} server: {reason}")]
    Server {
        /// "HTTP" or "gRPC".
        protocol: &'static str,
        /// What failed.
        reason: String,
    },
}

/// Serves HTTP and gRPC ingest until `cancel`; in-flight requests finish before it returns.
pub async fn serve(
    config: &IngestConfig,
    ingestor: Arc<Ingestor>,
    webhooks: Arc<crate::connectors::webhook::Webhooks>,
    cancel: CancellationToken,
) -> Result<(), ServeError> {
    let http_listener = tokio::net::TcpListener::bind(&config.http_listen)
        .await
        .map_err(|source| ServeError::Listen {
            protocol: "HTTP",
            address: config.http_listen.clone(),
            setting: "ingest.http_listen",
            source,
        })?;
    let limits = crate::server::HttpLimits::from_config(config);
    let router = if config.metrics_listen.is_empty() {
        crate::http::router(ingestor.clone(), config.max_body_bytes, limits.body_timeout)
    } else {
        // Metrics on their own address, off the port the webhooks reach.
        vigie_core::metrics::spawn(&config.metrics_listen, cancel.clone())
            .await
            .map_err(|source| ServeError::Listen {
                protocol: "HTTP",
                address: config.metrics_listen.clone(),
                setting: "ingest.metrics_listen",
                source,
            })?;
        crate::http::mentions_router(ingestor.clone(), config.max_body_bytes, limits.body_timeout)
    };
    if !webhooks.is_empty() {
        tracing::info!(
            "ingest: webhooks at /v1/webhooks/{{{}}}",
            webhooks.names().join(",")
        );
    }
    let router = router.merge(crate::connectors::webhook::router(webhooks));
    let tls = crate::tls::acceptor("ingest", &config.tls_cert, &config.tls_key)?;
    let http_cancel = cancel.clone();
    let http = async move {
        crate::server::serve(http_listener, tls, router, limits, http_cancel).await;
        Ok::<(), std::convert::Infallible>(())
    };
    let scheme = if config.tls_cert.is_empty() {
        "http"
    } else {
        "https"
    };
    tracing::info!("ingest: HTTP on {scheme}://{}/v1/mentions", config.http_listen);
    // gRPC ingest of its own only when asked: by default the API process serves `IngestService`.
    let grpc = if config.grpc_listen.is_empty() {
        None
    } else {
        let grpc_addr: std::net::SocketAddr =
            config
                .grpc_listen
                .parse()
                .map_err(|e: std::net::AddrParseError| ServeError::Address {
                    value: config.grpc_listen.clone(),
                    reason: e.to_string(),
                })?;
        let grpc_listener =
            tokio::net::TcpListener::bind(grpc_addr)
                .await
                .map_err(|source| ServeError::Listen {
                    protocol: "gRPC",
                    address: grpc_addr.to_string(),
                    setting: "ingest.grpc_listen",
                    source,
                })?;
        tracing::info!("ingest: gRPC on {grpc_addr}");
        let grpc_cancel = cancel.clone();
        Some(
            tonic::transport::Server::builder()
                .add_service(GrpcIngest::server(ingestor))
                .serve_with_incoming_shutdown(
                    tonic::transport::server::TcpIncoming::from(grpc_listener),
                    async move { grpc_cancel.cancelled().await },
                ),
        )
    };
    let grpc = async {
        match grpc {
            Some(server) => server.await,
            None => Ok(()),
        }
    };
    // In-flight requests get the shutdown grace period to finish; a client holding a stream
    // open past it does not keep the process alive.
    let servers = async { tokio::join!(http, grpc) };
    let deadline = async {
        cancel.cancelled().await;
        tokio::time::sleep(vigie_core::stage::SHUTDOWN_GRACE).await;
    };
    let (h, g) = tokio::select! {
        results = servers => results,
        _ = deadline => {
            tracing::warn!("ingest: requests still in flight after the grace period; stopping anyway");
            return Ok(());
        }
    };
    h.map_err(|e| ServeError::Server {
        protocol: "HTTP",
        reason: e.to_string(),
    })?;
    g.map_err(|e| ServeError::Server {
        protocol: "gRPC",
        reason: e.to_string(),
    })?;
    tracing::info!("ingest: stopped");
    Ok(())
}
