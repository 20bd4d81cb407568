//! HTTPS for HTTP ingest: a rustls acceptor from PEM files (`ingest.tls_cert`,
//! `ingest.tls_key`) and an accept loop serving the ingest router over it. Platform webhooks
//! require HTTPS, and bearer tokens must not cross a network in clear.

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// Longest a client may take to complete the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// The TLS acceptor for `cert` and `key` (PEM files), `None` when both are empty (plaintext).
/// `section` names the configuration section in errors (e.g. "ingest").
pub fn acceptor(section: &str, cert: &str, key: &str) -> anyhow::Result<Option<TlsAcceptor>> {
    let Some((cert, key)) = vigie_core::config::tls_files(section, cert, key).map_err(anyhow::Error::msg)?
    else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| anyhow::anyhow!("{section}.tls_cert {cert:?}: {e}"))?;
    let key =
        PrivateKeyDer::from_pem_file(key).map_err(|e| anyhow::anyhow!("{section}.tls_key {key:?}: {e}"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow::anyhow!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| anyhow::anyhow!("{section}.tls_cert/{section}.tls_key: {e}"))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

/// Serves `router` over TLS on `listener` until `cancel`, then lets open connections finish
/// their requests (the caller bounds how long).
pub async fn serve(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    router: axum::Router,
    cancel: CancellationToken,
) {
    let mut connections = tokio::task::JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors, typically: pause rather than spin.
                    tracing::warn!("ingest: accepting a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = cancel.cancelled() => break,
        };
        let (acceptor, router, cancel) = (acceptor.clone(), router.clone(), cancel.clone());
        connections.spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => tls,
                Ok(Err(e)) => {
                    // Visible: a webhook provider failing the handshake must be seen.
                    tracing::info!("ingest: TLS handshake with {peer} failed: {e}");
                    return;
                }
                Err(_) => {
                    tracing::debug!("ingest: TLS handshake with {peer} timed out");
                    return;
                }
            };
            let service = hyper_util::service::TowerToHyperService::new(router);
            // A client trickling its headers is cut off.
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .serve_connection(hyper_util::rt::TokioIo::new(tls), service);
            tokio::pin!(connection);
            let result = tokio::select! {
                r = connection.as_mut() => r,
                _ = cancel.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!("ingest: connection from {peer}: {e}");
            }
        });
        // Forget finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/tls");

    /// Sends one request over `stream` and returns the response's status line.
    async fn post<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin>(
        mut stream: S,
        body: &str,
    ) -> String {
        let request = format!(
            "POST /v1/mentions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(request.as_bytes()).await.is_err() {
            return String::new();
        }
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response).await;
        String::from_utf8_lossy(&response)
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn https_ingest_answers_clients_trusting_the_certificate_only() {
        let bus = MemoryBus::default();
        let ingestor = Arc::new(crate::Ingestor::new(
            Publisher::Memory(bus.clone()),
            Default::default(),
            100,
            100,
        ));
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = vigie_core::config::IngestConfig {
            http_listen: format!("127.0.0.1:{port}"),
            tls_cert: format!("{DIR}/server.pem"),
            tls_key: format!("{DIR}/server.key"),
            ..Default::default()
        };
        let cancel = CancellationToken::new();
        let server = {
            let (config, cancel) = (config.clone(), cancel.clone());
            tokio::spawn(async move { crate::service::serve(&config, ingestor, cancel).await })
        };
        let mut roots = rustls::RootCertStore::empty();
        for ca in CertificateDer::pem_file_iter(format!("{DIR}/ca.pem")).unwrap() {
            roots.add(ca.unwrap()).unwrap();
        }
        let client =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
        let mut tcp = None;
        for _ in 0..100 {
            if let Ok(s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
                tcp = Some(s);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector
            .connect(name, tcp.expect("ingest listens"))
            .await
            .unwrap();
        let mention = r#"{"tenant":"acme","source":"x","native_id":"1","text":"bonjour"}"#;
        let status = post(tls, mention).await;
        assert!(status.contains(" 200"), "{status}");
        assert_eq!(bus.snapshot(vigie_core::topics::MENTIONS_RAW).len(), 1);
        // Plain HTTP on the TLS port gets no HTTP answer.
        let plain = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        let status = post(plain, mention).await;
        assert!(!status.starts_with("HTTP/1.1 200"), "{status}");
        cancel.cancel();
        server.await.unwrap().unwrap();
        // Half a configuration is refused, naming both settings.
        let Err(e) = acceptor("ingest", &config.tls_cert, "") else {
            panic!("half a TLS configuration accepted")
        };
        let e = e.to_string();
        assert!(
            e.contains("ingest.tls_cert") && e.contains("ingest.tls_key"),
            "{e}"
        );
    }
}
