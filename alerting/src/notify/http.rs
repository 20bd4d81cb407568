//! HTTP(S) POST for the channels that speak HTTP ([`super::webhook`], [`super::slack`]): one
//! client per receiver ([`vigie_core::http_client`]: rustls with the system's root
//! certificates), one attempt per call, and the answer classified as a [`NotifyError`]
//! (connection errors, timeouts, 5xx and 429 are retryable; other statuses are not).

use super::NotifyError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::StatusCode;
use std::time::Duration;
use vigie_core::http_client::with_sources;
pub use vigie_core::http_client::{client, HttpClient, NoRootCertificates};

/// Longest wait for one POST.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

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
