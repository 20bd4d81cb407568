//! Platform APIs for the pull connectors: one JSON request with its limits ([`Api::call`]:
//! a timeout, a bounded body, `429` and `5xx` as retryable [`PollError`]s carrying the
//! `Retry-After` wait, or on a `429` the platform's rate-limit reset: [`rate_limit_reset`]), and
//! a long-lived response read line by line ([`Api::open`] and [`Lines`]: the body of a chunked
//! HTTP stream or of server-sent events), each line bounded.

use super::poll::PollError;
use bytes::{Buf, Bytes, BytesMut};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, StatusCode};
use std::time::{Duration, SystemTime};
use vigie_core::http_client::{client, with_sources, HttpClient};

/// Largest answer of one call read (8 MiB).
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;
/// Longest wait for one call, answer and body.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest line of a stream (1 MiB): a longer one is an error, not an allocation.
pub const MAX_LINE_BYTES: usize = 1024 * 1024;

/// An API at `base` (`https://www.googleapis.com/youtube/v3`, or a local server in tests).
#[derive(Clone)]
pub struct Api {
    client: HttpClient,
    base: String,
}

/// A call's answer: its status, headers and body (a success, or a client error other than
/// `429`, which the connector interprets).
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers (rate-limit counters…).
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON, or a `parse` error naming the call.
    pub fn json(&self, what: &str) -> Result<serde_json::Value, PollError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| error("parse", format!("{what}: the answer is not JSON: {e}")))
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A [`PollError`] of `kind` saying `message`, with no wait asked.
pub fn error(kind: &'static str, message: impl Into<String>) -> PollError {
    PollError {
        kind,
        message: message.into(),
        retry_after: None,
    }
}

impl Api {
    /// The API at `base` (no trailing slash needed); an `https://` base needs the system's root
    /// certificates.
    pub fn new(base: &str) -> Result<Self, String> {
        let base = base.trim_end_matches('/').to_string();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(format!("{base:?} is not an http:// or https:// URL"));
        }
        let client = client(&base).map_err(|e| e.to_string())?;
        Ok(Self { client, base })
    }

    /// The base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `path` (starting with `/`, query included).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// One call: `method` on `path` with `headers` and `body`, within [`CALL_TIMEOUT`], its
    /// body at most [`MAX_ANSWER_BYTES`]. `429` is a `rate_limited` error and `5xx` a `status`
    /// error, both with the `Retry-After` wait when the server gave one; other statuses are
    /// answered for the connector to read.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Answer, PollError> {
        let url = self.url(path);
        let exchange = async {
            let response = self.send(method, &url, headers, body).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        error(
                            "too_large",
                            format!("{url}: the answer is over {MAX_ANSWER_BYTES} bytes"),
                        )
                    } else {
                        error(
                            "fetch",
                            format!("{url}: reading the answer: {}", with_sources(&*e)),
                        )
                    }
                })?
                .to_bytes();
            Ok::<_, PollError>(Answer {
                status,
                headers,
                body,
            })
        };
        let answer = tokio::time::timeout(CALL_TIMEOUT, exchange).await.map_err(|_| {
            error(
                "fetch",
                format!("{url}: no complete answer within {CALL_TIMEOUT:?}"),
            )
        })??;
        refuse_retryable(&url, answer.status, &answer.headers)?;
        Ok(answer)
    }

    /// Opens a long-lived `GET` of `path` (a stream): the response once its headers arrived
    /// (within [`CALL_TIMEOUT`]) with a success status; its body is read with [`Lines`].
    pub async fn open(&self, path: &str, headers: &[(&str, &str)]) -> Result<Lines, PollError> {
        let url = self.url(path);
        let response = tokio::time::timeout(CALL_TIMEOUT, self.send(Method::GET, &url, headers, None))
            .await
            .map_err(|_| error("fetch", format!("{url}: no answer within {CALL_TIMEOUT:?}")))??;
        refuse_retryable(&url, response.status(), response.headers())?;
        if !response.status().is_success() {
            return Err(error("status", format!("{url}: HTTP {}", response.status())));
        }
        Ok(Lines {
            body: response.into_body(),
            buffer: BytesMut::new(),
            url,
        })
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<hyper::Response<Incoming>, PollError> {
        let mut request = hyper::Request::builder().method(method).uri(url);
        // The caller's User-Agent (a platform asking for a descriptive one) replaces the default.
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("user-agent"))
        {
            request = request.header(
                header::USER_AGENT,
                concat!("vigie-collect/", env!("CARGO_PKG_VERSION")),
            );
        }
        for (name, value) in headers {
            let (Ok(name), Ok(value)) = (HeaderName::try_from(*name), HeaderValue::from_str(value)) else {
                return Err(error("fetch", format!("{url}: header {name:?} cannot be sent")));
            };
            request = request.header(name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| error("fetch", format!("{url}: {e}")))?;
        self.client
            .request(request)
            .await
            .map_err(|e| error("fetch", format!("{url}: {}", with_sources(&e))))
    }
}

/// `429` and `5xx` as errors with their `Retry-After`.
fn refuse_retryable(url: &str, status: StatusCode, headers: &HeaderMap) -> Result<(), PollError> {
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return Ok(());
    }
    let now = SystemTime::now();
    let retry_after = headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| crate::collect::retry_after(v, now))
        .or_else(|| {
            (status == StatusCode::TOO_MANY_REQUESTS)
                .then(|| rate_limit_reset(headers, now))
                .flatten()
        });
    Err(PollError {
        kind: if status == StatusCode::TOO_MANY_REQUESTS {
            "rate_limited"
        } else {
            "status"
        },
        message: format!("{url}: HTTP {status}"),
        retry_after,
    })
}

/// When a platform says its rate limit resets, read on a `429` without `Retry-After`: X's
/// `x-rate-limit-reset` (Unix seconds) or Mastodon's `x-ratelimit-reset` (an RFC 3339 time); the
/// time left from `now`, zero when past; `None` when neither header is there or readable.
pub fn rate_limit_reset(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    let at_ms = match value("x-rate-limit-reset") {
        Some(v) => v.parse::<u64>().ok()?.checked_mul(1000)?,
        None => u64::try_from(vigie_core::model::parse_rfc3339_ms(value("x-ratelimit-reset")?)?).ok()?,
    };
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(at_ms))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The body of a stream, line by line (`\n` or `\r\n`; an empty line is returned as such, as
/// keep-alives and SSE event ends are empty lines).
pub struct Lines {
    body: Incoming,
    buffer: BytesMut,
    url: String,
}

impl Lines {
    /// The next line without its end, `Ok(None)` when the stream ended, or an error when it
    /// broke or a line is over [`MAX_LINE_BYTES`]. Cancel-safe only between lines: callers
    /// wrap it in a timeout to notice a stalled stream and drop the connection.
    pub async fn next_line(&mut self) -> Result<Option<String>, PollError> {
        loop {
            if let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let mut line = self.buffer.split_to(end + 1);
                line.truncate(end);
                if line.last() == Some(&b'\r') {
                    line.truncate(end - 1);
                }
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buffer.len() > MAX_LINE_BYTES {
                return Err(error(
                    "too_large",
                    format!(
                        "{}: a line of the stream is over {MAX_LINE_BYTES} bytes",
                        self.url
                    ),
                ));
            }
            match self.body.frame().await {
                None if self.buffer.is_empty() => return Ok(None),
                None => {
                    let rest = self.buffer.split();
                    return Ok(Some(String::from_utf8_lossy(&rest).into_owned()));
                }
                Some(Err(e)) => {
                    return Err(error(
                        "stream",
                        format!("{}: the stream broke: {}", self.url, with_sources(&e)),
                    ))
                }
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            self.buffer.extend_from_slice(chunk);
                            let n = chunk.len();
                            data.advance(n);
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// Answers each connection with `answer` (raw HTTP), closing after it.
    fn serve(answer: &'static str) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                let _ = s.write_all(answer.as_bytes());
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn calls_read_json_and_refuse_429_with_its_wait() {
        let ok = serve("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"a\": 1}\n");
        let answer = Api::new(&ok)
            .unwrap()
            .call(Method::GET, "/x?y=1", &[("X-Test", "1")], None)
            .await
            .unwrap();
        assert_eq!(answer.json("x").unwrap()["a"], 1);
        let limited = serve("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        let e = Api::new(&limited)
            .unwrap()
            .call(Method::GET, "/", &[], None)
            .await
            .unwrap_err();
        assert_eq!(
            (e.kind, e.retry_after),
            ("rate_limited", Some(Duration::from_secs(7)))
        );
        let down =
            serve("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assert_eq!(
            Api::new(&down)
                .unwrap()
                .call(Method::GET, "/", &[], None)
                .await
                .unwrap_err()
                .kind,
            "status"
        );
        let bad = serve("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnot");
        let answer = Api::new(&bad)
            .unwrap()
            .call(Method::GET, "/", &[], None)
            .await
            .unwrap();
        assert_eq!(answer.json("x").unwrap_err().kind, "parse");
        assert!(Api::new("ftp://x").is_err());
    }

    #[test]
    fn rate_limit_resets_are_read_as_x_and_mastodon_write_them() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let headers = |name: &str, value: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                HeaderName::try_from(name).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
            h
        };
        let x = headers("x-rate-limit-reset", "1796000090");
        assert_eq!(rate_limit_reset(&x, now), Some(Duration::from_secs(90)));
        let past = headers("x-rate-limit-reset", "1795999000");
        assert_eq!(rate_limit_reset(&past, now), Some(Duration::ZERO));
        // 1_796_000_120 s, written as Mastodon writes it.
        let mastodon = headers("x-ratelimit-reset", "2026-11-30T00:55:20.000Z");
        assert_eq!(rate_limit_reset(&mastodon, now), Some(Duration::from_secs(120)));
        for (name, value) in [
            ("x-rate-limit-reset", "soon"),
            ("x-rate-limit-reset", "99999999999999999999"),
            ("x-ratelimit-reset", "60"),
        ] {
            assert_eq!(
                rate_limit_reset(&headers(name, value), now),
                None,
                "{name}: {value}"
            );
        }
        assert_eq!(rate_limit_reset(&HeaderMap::new(), now), None);
    }

    #[tokio::test]
    async fn a_429_without_retry_after_waits_for_x_rate_limit_reset() {
        let reset = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + 600;
        let answer = format!(
            "HTTP/1.1 429 Too Many Requests\r\nx-rate-limit-reset: {reset}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let limited = serve(Box::leak(answer.into_boxed_str()));
        let e = Api::new(&limited)
            .unwrap()
            .open("/2/tweets/search/stream", &[])
            .await
            .err()
            .unwrap();
        let wait = e.retry_after.unwrap();
        assert_eq!(e.kind, "rate_limited");
        // Computed from the header: 600 s from when the answer was read, give or take a second.
        assert!(
            wait > Duration::from_secs(590) && wait <= Duration::from_secs(600),
            "{wait:?}"
        );
    }

    #[tokio::test]
    async fn a_user_agent_given_by_the_caller_replaces_the_default() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for mut s in listener.incoming().map_while(Result::ok) {
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap_or(0);
                let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_lowercase());
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
            }
        });
        let api = Api::new(&base).unwrap();
        api.call(Method::GET, "/", &[], None).await.unwrap();
        let default = rx.recv().unwrap();
        assert_eq!(default.matches("user-agent:").count(), 1, "{default}");
        assert!(default.contains("user-agent: vigie-collect/"), "{default}");
        api.call(
            Method::GET,
            "/",
            &[("User-Agent", "linux:vigie:1.0 (by /u/acme)")],
            None,
        )
        .await
        .unwrap();
        let given = rx.recv().unwrap();
        assert_eq!(given.matches("user-agent:").count(), 1, "{given}");
        assert!(
            given.contains("user-agent: linux:vigie:1.0 (by /u/acme)"),
            "{given}"
        );
    }

    #[tokio::test]
    async fn a_stream_is_read_line_by_line_keep_alives_included() {
        let stream = serve(
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\
             6\r\n{\"a\":1\r\na\r\n}\r\n\r\nlast\n\r\n0\r\n\r\n",
        );
        let mut lines = Api::new(&stream).unwrap().open("/stream", &[]).await.unwrap();
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("{\"a\":1}"));
        assert_eq!(
            lines.next_line().await.unwrap().as_deref(),
            Some(""),
            "a keep-alive"
        );
        assert_eq!(lines.next_line().await.unwrap().as_deref(), Some("last"));
        assert_eq!(lines.next_line().await.unwrap(), None, "the end");
    }
}
