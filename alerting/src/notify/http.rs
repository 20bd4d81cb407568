//! HTTP(S) POST for the channels that speak HTTP ([`super::webhook`], [`super::slack`]): one
//! client per receiver over rustls with the system's root certificates, one attempt per call,
//! and the answer classified as a [`NotifyError`] (connection errors, timeouts, 5xx and 429 are
//! retryable; other statuses are not).

use super::NotifyError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use hyper_rustls::HttpsConnectorBuilder;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::sync::Arc;
use std::time::Duration;

/// Longest wait for one POST.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The HTTP(S) client of a receiver (connections are kept and reused between notifications).
pub type HttpClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The system's certificate store holds no usable root certificate, so `https://` receivers
/// could not verify anyone.
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

/// POSTs JSON bodies to one URL.
#[derive(Clone)]
pub struct HttpPost {
    client: HttpClient,
    url: String,
}

impl HttpPost {
    /// POSTs to `url` through `client`.
    pub fn new(url: &str, client: HttpClient) -> Self {
        Self {
            client,
            url: url.to_string(),
        }
    }

    /// POSTs `body` once, waiting at most [`REQUEST_TIMEOUT`] for the answer.
    pub async fn post(&self, body: Vec<u8>) -> Result<(), NotifyError> {
        let request = hyper::Request::post(self.url.as_str())
            .header("content-type", "application/json")
            .header("user-agent", "vigie-alerting")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| NotifyError::Invalid {
                reason: format!("invalid request: {e}"),
            })?;
        let response = match tokio::time::timeout(REQUEST_TIMEOUT, self.client.request(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                return Err(NotifyError::Unreachable {
                    reason: with_sources(&e),
                })
            }
            Err(_) => {
                return Err(NotifyError::Unreachable {
                    reason: format!("no answer within {REQUEST_TIMEOUT:?}"),
                })
            }
        };
        let status = response.status();
        // Drain the body so the connection can be reused.
        let _ = response.into_body().collect().await;
        classify(status)
    }
}

/// What an HTTP answer with `status` means for the notification.
pub fn classify(status: StatusCode) -> Result<(), NotifyError> {
    if status.is_success() {
        return Ok(());
    }
    Err(NotifyError::Refused {
        reason: format!("HTTP {status}"),
        retryable: status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS,
    })
}

/// `error` and its causes, as one line.
fn with_sources(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified() {
        assert_eq!(classify(StatusCode::OK), Ok(()));
        assert_eq!(classify(StatusCode::NO_CONTENT), Ok(()));
        for (status, retryable) in [
            (StatusCode::INTERNAL_SERVER_ERROR, true),
            (StatusCode::SERVICE_UNAVAILABLE, true),
            (StatusCode::TOO_MANY_REQUESTS, true),
            (StatusCode::NOT_FOUND, false),
            (StatusCode::BAD_REQUEST, false),
            (StatusCode::FORBIDDEN, false),
        ] {
            let error = classify(status).unwrap_err();
            assert_eq!(error.retryable(), retryable, "{status}");
            assert!(error.to_string().contains(&status.as_u16().to_string()));
        }
    }

    #[tokio::test]
    async fn https_urls_speak_tls() {
        use tokio::io::AsyncReadExt;
        // A listener that reads the client's first bytes and hangs up: a TLS handshake record.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("https://{}/hook", listener.local_addr().unwrap());
        let first = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut head = [0u8; 2];
            socket.read_exact(&mut head).await.unwrap();
            head
        });
        let post = HttpPost::new(&url, client(&url).unwrap());
        let e = post.post(b"{}".to_vec()).await.unwrap_err();
        assert!(e.retryable(), "{e}");
        assert_eq!(first.await.unwrap(), [0x16, 0x03], "a TLS handshake record");
    }
}
