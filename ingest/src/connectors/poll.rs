//! Pull connectors: what `vigie collect` runs. A [`Poller`] polls its source from its saved
//! cursor and says what it found and the cursor to save once that is published; the collect
//! service keeps the cursor on `vigie.connectors.state`, backs off on errors and honours
//! `Retry-After`.
//!
//! A stream (a long-lived connection: SSE, WebSocket, a chunked HTTP stream) is a [`Poller`]
//! too, with a zero interval: it keeps its connection between polls, and each `poll` returns
//! the items that arrived (a bounded batch, or what came within a short wait) with the cursor
//! after them. A dropped connection is a failed poll: the loop backs off and the next poll
//! reconnects from the cursor last saved.

use super::map::Mapped;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed future of a poll.
pub type PollFuture<'a> = Pin<Box<dyn Future<Output = Result<Polled, PollError>> + Send + 'a>>;

/// What one poll found.
#[derive(Debug, Default)]
pub struct Polled {
    /// The items to hand on (possibly none, as after a `304 Not Modified`).
    pub mapped: Mapped,
    /// The cursor to save once every item is published (ids seen, ETag, Last-Modified…);
    /// `None` keeps the saved one.
    pub cursor: Option<Vec<u8>>,
}

/// Why a poll failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}: {message}")]
pub struct PollError {
    /// The kind, as counted in `vigie_connector_errors_total{kind}` (`fetch`, `status`, `parse`,
    /// `rate_limited`…).
    pub kind: &'static str,
    /// What happened.
    pub message: String,
    /// How long the source asked to wait (`Retry-After`), if it said.
    pub retry_after: Option<Duration>,
}

/// A source polled by `vigie collect`.
pub trait Poller: Send + Sync {
    /// The time between two polls (zero for a stream, whose `poll` waits for its next items).
    fn interval(&self) -> Duration;

    /// The first wait after a failure, doubled with each failure in a row (see
    /// [`crate::collect::backoff`]); never less than [`interval`](Poller::interval). One second
    /// unless the source needs more.
    fn retry_base(&self) -> Duration {
        Duration::from_secs(1)
    }

    /// Polls once from `cursor` (the connector's saved cursor; empty the first time).
    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a>;
}
