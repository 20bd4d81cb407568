//! The conditional GET of a feed: `If-None-Match` and `If-Modified-Since` from the cursor, a
//! `304` answered as [`Answer::NotModified`] (nothing read, nothing parsed), redirects followed
//! (at most [`MAX_REDIRECTS`]), the body refused past [`MAX_BODY_BYTES`], the whole exchange
//! bounded by [`REQUEST_TIMEOUT`], and `Retry-After` read on `429` and `503`.

use crate::connectors::poll::PollError;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;
use std::time::{Duration, SystemTime};
use vigie_core::http_client::{with_sources, HttpClient};

/// Largest feed read (10 MiB): a larger body is refused, not parsed.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// Longest wait for one feed, answer and body.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 5;

/// What the server answered.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// `304 Not Modified`: the feed is the one already read.
    NotModified,
    /// The feed, with the validators to send next time.
    Feed {
        /// The body as received (its encoding is the XML declaration's).
        body: Vec<u8>,
        /// Its `ETag`.
        etag: Option<String>,
        /// Its `Last-Modified`.
        last_modified: Option<String>,
    },
}

/// GETs `url`, conditionally on `etag` and `last_modified` when known.
pub async fn get(
    client: &HttpClient,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Answer, PollError> {
    match tokio::time::timeout(REQUEST_TIMEOUT, get_following(client, url, etag, last_modified)).await {
        Ok(answer) => answer,
        Err(_) => Err(error(
            "fetch",
            format!("no complete answer within {REQUEST_TIMEOUT:?}"),
        )),
    }
}

async fn get_following(
    client: &HttpClient,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Answer, PollError> {
    let mut target = url::Url::parse(url).map_err(|e| error("fetch", format!("{url:?}: {e}")))?;
    for _ in 0..=MAX_REDIRECTS {
        let mut request = hyper::Request::get(target.as_str())
            .header(
                header::USER_AGENT,
                concat!("vigie-collect/", env!("CARGO_PKG_VERSION")),
            )
            .header(
                header::ACCEPT,
                "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
            );
        for (name, value) in [
            (header::IF_NONE_MATCH, etag),
            (header::IF_MODIFIED_SINCE, last_modified),
        ] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) {
                request = request.header(name, value);
            }
        }
        let request = request
            .body(Full::new(Bytes::new()))
            .map_err(|e| error("fetch", format!("{target}: {e}")))?;
        let response = client
            .request(request)
            .await
            .map_err(|e| error("fetch", format!("{target}: {}", with_sources(&e))))?;
        let status = response.status();
        if status.is_redirection() && status != StatusCode::NOT_MODIFIED {
            let next = location(response.headers())
                .and_then(|l| target.join(l).ok())
                .filter(|u| matches!(u.scheme(), "http" | "https"))
                .ok_or_else(|| {
                    error(
                        "status",
                        format!("{target}: HTTP {status} without a usable Location"),
                    )
                })?;
            target = next;
            continue;
        }
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer::NotModified);
        }
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| crate::collect::retry_after(v, SystemTime::now()));
            let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                "rate_limited"
            } else {
                "status"
            };
            return Err(PollError {
                kind,
                message: format!("{target}: HTTP {status}"),
                retry_after,
            });
        }
        let text = |name: header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let etag = text(header::ETAG);
        let last_modified = text(header::LAST_MODIFIED);
        let declared = text(header::CONTENT_LENGTH).and_then(|l| l.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large(&target));
        }
        let body = Limited::new(response.into_body(), MAX_BODY_BYTES)
            .collect()
            .await
            .map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    too_large(&target)
                } else {
                    error(
                        "fetch",
                        format!("{target}: reading the feed: {}", with_sources(&*e)),
                    )
                }
            })?
            .to_bytes()
            .to_vec();
        return Ok(Answer::Feed {
            body,
            etag,
            last_modified,
        });
    }
    Err(error(
        "status",
        format!("{url}: more than {MAX_REDIRECTS} redirects"),
    ))
}

fn location(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::LOCATION)?.to_str().ok()
}

fn too_large(target: &url::Url) -> PollError {
    error(
        "too_large",
        format!("{target}: the feed is larger than {MAX_BODY_BYTES} bytes; not read"),
    )
}

fn error(kind: &'static str, message: String) -> PollError {
    PollError {
        kind,
        message,
        retry_after: None,
    }
}
