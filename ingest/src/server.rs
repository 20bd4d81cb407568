//! The HTTP(S) server of ingest: one accept loop, plain or TLS, with the limits a port open to
//! the Internet needs. A client cannot hold the server with a connection that never finishes its
//! headers (slowloris), never sends its body, or sits idle: each is closed after its timeout;
//! and no more than `max_connections` are served at once (further clients wait in the kernel's
//! accept queue until one closes).

use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// The limits of the ingest HTTP port (`[ingest]` settings).
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// Connections served at once; the next waits until one closes.
    pub max_connections: usize,
    /// Longest a client may take to send a request's headers, counted from the connection's
    /// start or from the end of the previous response: an idle kept-alive connection is closed
    /// after it too.
    pub header_timeout: Duration,
    /// Longest a client may take to send a request's body once its headers arrived (408 after).
    pub body_timeout: Duration,
    /// Longest a TLS handshake may take.
    pub handshake_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            handshake_timeout: Duration::from_secs(10),
        }
    }
}

impl HttpLimits {
    /// The limits set in `[ingest]`.
    pub fn from_config(config: &vigie_core::config::IngestConfig) -> Self {
        Self {
            max_connections: config.max_connections.max(1),
            header_timeout: Duration::from_millis(config.header_timeout_ms.max(1)),
            body_timeout: Duration::from_millis(config.body_timeout_ms.max(1)),
            ..Self::default()
        }
    }
}

/// Serves `router` on `listener` (over TLS when `tls` is set) until `cancel`, then lets open
/// connections finish their requests (the caller bounds how long).
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: axum::Router,
    limits: HttpLimits,
    cancel: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = tokio::task::JoinSet::new();
    loop {
        // A free slot first: at the cap, new clients wait in the accept queue.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            _ = cancel.cancelled() => break,
        };
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
        let (tls, router, cancel) = (tls.clone(), router.clone(), cancel.clone());
        connections.spawn(async move {
            let _slot = slot;
            match tls {
                None => connection(tcp, router, limits, &cancel, peer).await,
                Some(acceptor) => {
                    match tokio::time::timeout(limits.handshake_timeout, acceptor.accept(tcp)).await {
                        Ok(Ok(stream)) => connection(stream, router, limits, &cancel, peer).await,
                        // Visible: a webhook provider failing the handshake must be seen.
                        Ok(Err(e)) => tracing::info!("ingest: TLS handshake with {peer} failed: {e}"),
                        Err(_) => tracing::debug!("ingest: TLS handshake with {peer} timed out"),
                    }
                }
            }
        });
        // Forget finished connections as we go.
        while connections.try_join_next().is_some() {}
    }
    while connections.join_next().await.is_some() {}
}

/// Serves one connection's requests until it closes, times out, or shutdown starts (then the
/// request in hand finishes).
async fn connection<S>(
    stream: S,
    router: axum::Router,
    limits: HttpLimits,
    cancel: &CancellationToken,
    peer: std::net::SocketAddr,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper_util::service::TowerToHyperService::new(router);
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;

    /// Bounds every wait below: far above the timeouts under test, so only a server that never
    /// closes (or never answers) fails.
    const PATIENCE: Duration = Duration::from_secs(20);

    async fn start(limits: HttpLimits) -> (String, CancellationToken) {
        let ingestor = Arc::new(crate::Ingestor::new(
            Publisher::Memory(MemoryBus::default()),
            Default::default(),
            100,
            100,
        ));
        let router = crate::http::router(ingestor, 1 << 16, limits.body_timeout);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cancel = CancellationToken::new();
        tokio::spawn(serve(listener, None, router, limits, cancel.clone()));
        (addr, cancel)
    }

    /// Reads until the server closes the connection; returns what it sent.
    async fn until_closed(stream: &mut TcpStream) -> String {
        let mut got = Vec::new();
        tokio::time::timeout(PATIENCE, stream.read_to_end(&mut got))
            .await
            .expect("the server closes the connection")
            .ok();
        String::from_utf8_lossy(&got).to_string()
    }

    const REQUEST: &str = "POST /v1/mentions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n[]";

    #[tokio::test]
    async fn a_client_trickling_its_headers_is_cut_off() {
        let (addr, _cancel) = start(HttpLimits {
            header_timeout: Duration::from_millis(200),
            ..HttpLimits::default()
        })
        .await;
        let mut slow = TcpStream::connect(&addr).await.unwrap();
        slow.write_all(b"POST /v1/mentions HTTP/1.1\r\nhost: x\r\n")
            .await
            .unwrap();
        // Never finishes its headers: closed, without a response to a request never made.
        let got = until_closed(&mut slow).await;
        assert!(!got.contains("200 OK"), "{got}");
    }

    #[tokio::test]
    async fn an_idle_kept_alive_connection_is_closed() {
        let (addr, _cancel) = start(HttpLimits {
            header_timeout: Duration::from_millis(200),
            ..HttpLimits::default()
        })
        .await;
        let mut client = TcpStream::connect(&addr).await.unwrap();
        client.write_all(REQUEST.as_bytes()).await.unwrap();
        // Answered, then closed once the connection sat idle past the timeout.
        let got = until_closed(&mut client).await;
        assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    }

    #[tokio::test]
    async fn a_body_that_never_arrives_gets_408() {
        let (addr, _cancel) = start(HttpLimits {
            body_timeout: Duration::from_millis(200),
            ..HttpLimits::default()
        })
        .await;
        let mut client = TcpStream::connect(&addr).await.unwrap();
        client
            .write_all(b"POST /v1/mentions HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n[{\"a\"")
            .await
            .unwrap();
        let mut got = vec![0u8; 512];
        let n = tokio::time::timeout(PATIENCE, client.read(&mut got))
            .await
            .expect("an answer")
            .unwrap();
        let got = String::from_utf8_lossy(&got[..n]);
        assert!(got.starts_with("HTTP/1.1 408"), "{got}");
        assert!(got.contains("ingest.body_timeout_ms"), "{got}");
    }

    #[tokio::test]
    async fn past_the_connection_cap_a_client_waits_until_one_closes() {
        let (addr, _cancel) = start(HttpLimits {
            max_connections: 2,
            ..HttpLimits::default()
        })
        .await;
        let mut held: Vec<TcpStream> = Vec::new();
        for _ in 0..2 {
            // A served connection answers a request.
            let mut c = TcpStream::connect(&addr).await.unwrap();
            let request = "POST /v1/mentions HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n[]";
            c.write_all(request.as_bytes()).await.unwrap();
            let mut buf = vec![0u8; 512];
            let n = tokio::time::timeout(PATIENCE, c.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
            held.push(c);
        }
        // The third connects (the kernel queues it) but is not served while both are held...
        let mut third = TcpStream::connect(&addr).await.unwrap();
        third.write_all(REQUEST.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 512];
        let early = tokio::time::timeout(Duration::from_millis(300), third.read(&mut buf)).await;
        assert!(early.is_err(), "served past the cap: {early:?}");
        // ... and is served as soon as one closes.
        drop(held.pop());
        let n = tokio::time::timeout(PATIENCE, third.read(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    }
}
