//! HTTPS for HTTP ingest: a rustls acceptor from PEM files (`ingest.tls_cert`,
//! `ingest.tls_key`), used by the accept loop of [`crate::server`]. Platform webhooks
//! require HTTPS, and bearer tokens must not cross a network in clear.

use std::sync::Arc;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Why the TLS settings cannot be used; each names the setting and the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Only one of the certificate and the key is set.
    #[error(transparent)]
    Pair(#[from] vigie_core::config::SettingError),
    /// The certificate file cannot be read as PEM certificates.
    #[error("{section}.tls_cert {path:?}: {reason}")]
    Certificate {
        /// The configuration section ("ingest").
        section: String,
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The key file cannot be read as a PEM private key.
    #[error("{section}.tls_key {path:?}: {reason}")]
    Key {
        /// The configuration section.
        section: String,
        /// The file.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// rustls refused the pair (a key that does not match the certificate, say).
    #[error("{section}.tls_cert/{section}.tls_key: {reason}")]
    Refused {
        /// The configuration section.
        section: String,
        /// What rustls said.
        reason: String,
    },
}

/// The TLS acceptor for `cert` and `key` (PEM files), `None` when both are empty (plaintext).
/// `section` names the configuration section in errors (e.g. "ingest").
pub fn acceptor(section: &str, cert: &str, key: &str) -> Result<Option<TlsAcceptor>, TlsError> {
    let Some((cert, key)) = vigie_core::config::tls_files(section, cert, key)? else {
        return Ok(None);
    };
    let certs = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError::Certificate {
            section: section.to_string(),
            path: cert.to_string(),
            reason: e.to_string(),
        })?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Key {
        section: section.to_string(),
        path: key.to_string(),
        reason: e.to_string(),
    })?;
    let refused = |e: rustls::Error| TlsError::Refused {
        section: section.to_string(),
        reason: e.to_string(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(refused)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(refused)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Some(TlsAcceptor::from(Arc::new(config))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_util::sync::CancellationToken;
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
            tokio::spawn(async move {
                crate::service::serve(
                    &config,
                    ingestor,
                    std::sync::Arc::new(crate::connectors::webhook::Webhooks::none()),
                    cancel,
                )
                .await
            })
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
