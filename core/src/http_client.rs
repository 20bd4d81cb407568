//! The outgoing HTTP(S) client shared by the services that call out: alerting's receivers
//! (webhooks, Slack) and ingest's pull connectors (feeds). TLS through rustls (ring) trusting
//! the system's root certificates; a plain `http://` URL works on a machine without a
//! certificate store.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;

/// An HTTP(S) client (connections are kept and reused between calls).
pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The system's certificate store holds no usable root certificate, so `https://` URLs could
/// not verify anyone.
#[derive(Debug, thiserror::Error)]
#[error("no trusted root certificates for HTTPS in the system's store: {0}")]
pub struct NoRootCertificates(std::io::Error);

/// A new HTTP(S) client for `url`: TLS through rustls (ring), trusting the system's root
/// certificates. A plain `http://` URL needs none, so it also works on a machine without a
/// certificate store.
pub fn client(url: &str) -> Result<HttpClient, NoRootCertificates> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = match HttpsConnectorBuilder::new().with_provider_and_native_roots(provider.clone()) {
        Ok(builder) => builder,
        Err(_) if !url.starts_with("https://") => {
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| NoRootCertificates(std::io::Error::other(e)))?
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth();
            HttpsConnectorBuilder::new().with_tls_config(config)
        }
        Err(e) => return Err(NoRootCertificates(e)),
    };
    let connector = builder.https_or_http().enable_http1().build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// `error` and its causes, as one line (a connection error's cause is where the reason is).
pub fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
