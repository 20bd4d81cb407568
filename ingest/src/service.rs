//! Running the ingest front ends: HTTP and gRPC servers until shutdown, then a producer flush.

use crate::grpc::GrpcIngest;
use crate::Ingestor;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use vigie_core::config::IngestConfig;

/// Serves HTTP and gRPC ingest until `cancel`; in-flight requests finish before it returns.
pub async fn serve(
    config: &IngestConfig,
    ingestor: Arc<Ingestor>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let http_listener = tokio::net::TcpListener::bind(&config.http_listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot listen for HTTP on {} (ingest.http_listen): {e}",
                config.http_listen
            )
        })?;
    let router = crate::http::router(ingestor.clone(), config.max_body_bytes);
    let tls = crate::tls::acceptor("ingest", &config.tls_cert, &config.tls_key)?;
    let http_cancel = cancel.clone();
    let http = async move {
        match tls {
            Some(acceptor) => {
                crate::tls::serve(http_listener, acceptor, router, http_cancel).await;
                Ok(())
            }
            None => {
                axum::serve(http_listener, router)
                    .with_graceful_shutdown(async move { http_cancel.cancelled().await })
                    .await
            }
        }
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
        let grpc_addr: std::net::SocketAddr = config.grpc_listen.parse().map_err(|e| {
            anyhow::anyhow!(
                "ingest.grpc_listen {:?} is not host:port: {e}",
                config.grpc_listen
            )
        })?;
        let grpc_listener = tokio::net::TcpListener::bind(grpc_addr).await.map_err(|e| {
            anyhow::anyhow!("cannot listen for gRPC on {grpc_addr} (ingest.grpc_listen): {e}")
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
    h.map_err(|e| anyhow::anyhow!("HTTP server: {e}"))?;
    g.map_err(|e| anyhow::anyhow!("gRPC server: {e}"))?;
    tracing::info!("ingest: stopped");
    Ok(())
}
