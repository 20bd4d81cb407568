//! Vigie's gRPC API for internal services. Every call is authenticated by a bearer token and
//! scoped to the token's tenant (see [`auth`]); services so far: [`watches::WatchApi`] and [`alerts::AlertApi`].

pub mod alerts;
pub mod auth;
pub mod watches;

use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;

/// Serves the API on `addr` until `cancel`.
pub async fn serve(
    addr: SocketAddr,
    watches: watches::WatchApi,
    alerts: alerts::AlertApi,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen for the gRPC API on {addr} (api.grpc_listen): {e}"))?;
    tracing::info!("api: gRPC on {addr}");
    tonic::transport::Server::builder()
        .add_service(watches.into_server())
        .add_service(alerts.into_server())
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            async move { cancel.cancelled().await },
        )
        .await?;
    Ok(())
}
