//! The `bluesky` connector: Bluesky's posts from Jetstream (the AT Protocol firehose as JSON
//! over a WebSocket), kept when they contain one of the connector's keywords; a stream run by
//! `vigie collect`.
//!
//! ```toml
//! [[connectors]]
//! name = "acme-bluesky"
//! type = "bluesky"
//! tenant = "acme"
//! keywords = ["acme", "#acmefail", "acme bank"]   # required: words, phrases, #hashtags
//! jetstream_url = "wss://jetstream2.us-east.bsky.network"   # ws:// or wss://; this by default
//! rewind = "5s"    # how far before the last event a reconnection asks from; 5s by default
//! ```
//!
//! It subscribes to `<jetstream_url>/subscribe?wantedCollections=app.bsky.feed.post` (with
//! `&cursor=<time_us>` when resuming) and keeps the connection between polls (a [`Poller`] with
//! a zero interval): each poll returns what arrived, at most [`MAX_EVENTS`] events, and once
//! one came no more than [`BATCH_WAIT`] later, with the cursor after the last one. No frame for
//! [`STALL`] (Jetstream sends every post of the network, so this is a dead connection), a
//! closed or failed connection: it is dropped, what came before it is handed on, the poll after
//! fails with how it ended (so the collect loop backs off, from one second), and the next
//! connects again from the cursor it is given (the last saved), counted in
//! `vigie_connector_reconnects_total`.
//!
//! - Resume ([`cursor`]): the cursor is the `time_us` of the last event processed; a connection
//!   asks from `time_us - rewind` (Jetstream's times are its own: the rewind covers a switch of
//!   instance or a clock step), so delivery is at least once. The events replayed are not handed
//!   on again: the cursor keeps the keys of the recent events it handed on (mentions and dead
//!   letters), and what is still handed on twice is a duplicate by mention id. A first start
//!   (no cursor) subscribes live, from now.
//! - A connection is used only from the cursor it left: when the collect loop polls with another
//!   one (the last batch was not acknowledged, so not saved), it reconnects from that cursor
//!   rather than lose the batch.
//! - Prefilter ([`event::Keywords`]): a post is kept when its text contains a keyword as a
//!   whole word (no letter or digit just before or after; case-insensitive, accents as written;
//!   a word also matches its hashtag), or, for a `#hashtag`, when one of its tag facets or tags
//!   is that tag. The others are counted in `vigie_connector_filtered_total` (not counted again
//!   when a reconnection replays them).
//! - Mapping ([`event`]): native id the post's URI `at://<did>/app.bsky.feed.post/<rkey>`, source
//!   `bluesky`, public, author id the DID (its handle when an identity event named it since the
//!   process started: Jetstream's posts carry no handle), text, `createdAt` (the event's time
//!   when missing, before 2000 or more than 10 minutes past the event), language the first of
//!   `langs`; a reply is kind `reply` with parent the parent's URI and thread the root's, a post
//!   is its own thread; link `https://bsky.app/profile/<did>/post/<rkey>`. An `update` is a
//!   mention of its own, `<uri>:edit:<time_us / 1000>`, dated by its event.
//! - Ignored by design (`vigie_connector_ignored_total{event}`): `delete`, `identity`,
//!   `account`, `collection` (another collection than posts), `kind` (a kind Jetstream may add).
//!   Dead-lettered: frames that are not JSON, events without `did`, `time_us` or `kind`, commits
//!   without operation, collection or record key, a create or update without its record.

pub mod cursor;
pub mod event;
#[cfg(test)]
mod tests;

use super::map::Mapped;
use super::poll::{PollError, PollFuture, Polled, Poller};
use super::settings::Settings;
use super::{Built, ConnectorError};
use cursor::Cursor;
use event::{Handles, Keywords, Read};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use vigie_core::metrics::ConnectorMetrics;

/// Jetstream's instance when `jetstream_url` is not given.
pub const DEFAULT_URL: &str = "wss://jetstream2.us-east.bsky.network";
/// The rewind when `rewind` is not given.
pub const DEFAULT_REWIND: Duration = Duration::from_secs(5);
/// Most events read by one poll.
pub const MAX_EVENTS: usize = 200;
/// How long a poll keeps reading once its first event came.
pub const BATCH_WAIT: Duration = Duration::from_secs(1);
/// No frame for this long and the connection is taken for dead.
pub const STALL: Duration = Duration::from_secs(60);
/// Longest wait for a connection and its WebSocket handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Largest frame read (Jetstream's events are a few KB; a record is at most 1 MiB).
pub const MAX_FRAME_BYTES: usize = 2 * 1024 * 1024;

/// Builds a `bluesky` connector from its settings: `keywords`, `jetstream_url`, `rewind`.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    let keywords = settings.string_list("keywords")?.unwrap_or_default();
    let keywords = Keywords::new(&keywords).map_err(|e| settings.error("keywords", e))?;
    let url = settings
        .optional_string("jetstream_url")?
        .unwrap_or_else(|| DEFAULT_URL.to_string());
    let rewind = settings.duration("rewind", DEFAULT_REWIND, Duration::ZERO)?;
    let name = settings.name().to_string();
    let bluesky =
        Bluesky::new(&name, &url, keywords, rewind, STALL).map_err(|e| settings.error("jetstream_url", e))?;
    Ok(Built::Pull(Arc::new(bluesky)))
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// An open subscription and where it is.
struct Connection {
    socket: Socket,
    /// The cursor the collect loop passes while this connection goes on from it (the last
    /// returned, or the one it connected from).
    at: Vec<u8>,
    /// That cursor, read.
    cursor: Cursor,
}

#[derive(Default)]
struct State {
    connection: Option<Connection>,
    /// Whether a connection was opened before (the next one is a reconnection).
    opened: bool,
    handles: Handles,
    /// How the last connection ended, after handing on what came before it: returned by the
    /// next poll, so the loop backs off before reconnecting (a stream that keeps ending right
    /// after its replayed events never reconnects in a tight loop).
    failed: Option<PollError>,
}

/// A Jetstream subscription filtered by keywords.
pub struct Bluesky {
    base: String,
    keywords: Keywords,
    rewind_us: i64,
    stall: Duration,
    tls: Connector,
    metrics: ConnectorMetrics,
    state: tokio::sync::Mutex<State>,
}

impl Bluesky {
    /// Connector `name`'s subscription to Jetstream at `url` (`ws://` or `wss://`, without
    /// `/subscribe`), keeping the posts with one of `keywords`, reconnecting `rewind` before the
    /// last event, and taking a connection without a frame for `stall` for dead. A `wss://`
    /// URL needs the system's root certificates.
    pub fn new(
        name: &str,
        url: &str,
        keywords: Keywords,
        rewind: Duration,
        stall: Duration,
    ) -> Result<Self, String> {
        let base = url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/subscribe").unwrap_or(base).to_string();
        let parsed = url::Url::parse(&base).map_err(|e| format!("{url:?} is not a URL: {e}"))?;
        if parsed.host_str().is_none() || parsed.query().is_some() {
            return Err(format!(
                "{url:?}: expected ws://host or wss://host, without a query"
            ));
        }
        let tls = match parsed.scheme() {
            "ws" => Connector::Plain,
            "wss" => Connector::Rustls(Arc::new(tls_config()?)),
            _ => return Err(format!("{url:?}: expected a ws:// or wss:// URL")),
        };
        Ok(Self {
            base,
            keywords,
            rewind_us: i64::try_from(rewind.as_micros()).unwrap_or(i64::MAX),
            stall,
            tls,
            metrics: ConnectorMetrics::new(name),
            state: tokio::sync::Mutex::new(State::default()),
        })
    }

    /// The subscription's URL from `cursor`.
    pub fn subscribe_url(&self, cursor: &Cursor) -> String {
        let mut url = format!("{}/subscribe?wantedCollections={}", self.base, event::POST);
        if let Some(from) = cursor.resume_from(self.rewind_us) {
            url.push_str(&format!("&cursor={from}"));
        }
        url
    }

    async fn connect(&self, cursor: &Cursor) -> Result<Socket, PollError> {
        let url = self.subscribe_url(cursor);
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME_BYTES))
            .max_frame_size(Some(MAX_FRAME_BYTES));
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            url.as_str(),
            Some(config),
            true,
            Some(self.tls.clone()),
        );
        match timeout(CONNECT_TIMEOUT, connecting).await {
            Err(_) => Err(error(
                "connect",
                format!("{url}: no connection within {CONNECT_TIMEOUT:?}"),
            )),
            Ok(Err(tungstenite::Error::Http(response))) => {
                let status = response.status();
                let retry_after = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| crate::collect::retry_after(v, std::time::SystemTime::now()));
                Err(PollError {
                    kind: if status.as_u16() == 429 {
                        "rate_limited"
                    } else {
                        "status"
                    },
                    message: format!("{url}: HTTP {status}"),
                    retry_after,
                })
            }
            Ok(Err(e)) => Err(error("connect", format!("{url}: {e}"))),
            Ok(Ok((socket, _))) => Ok(socket),
        }
    }

    async fn poll_once(&self, saved: &[u8]) -> Result<Polled, PollError> {
        let mut state = self.state.lock().await;
        let state = &mut *state;
        if let Some(e) = state.failed.take() {
            return Err(e);
        }
        if state.connection.as_ref().is_some_and(|c| c.at != saved) {
            // The last batch was not saved: go on from the cursor that was.
            tracing::info!("bluesky {}: resuming from the saved cursor", self.metrics.name());
            state.connection = None;
        }
        let connection = match &mut state.connection {
            Some(connection) => connection,
            None => {
                let cursor = Cursor::decode(saved).unwrap_or_else(|e| {
                    tracing::warn!(
                        "bluesky {}: unreadable cursor ({e}); subscribing live",
                        self.metrics.name()
                    );
                    Cursor::default()
                });
                if state.opened {
                    self.metrics.reconnected();
                }
                state.opened = true;
                let socket = self.connect(&cursor).await?;
                tracing::info!(
                    "bluesky {}: subscribed to {}",
                    self.metrics.name(),
                    self.subscribe_url(&cursor)
                );
                state.connection.insert(Connection {
                    socket,
                    at: saved.to_vec(),
                    cursor,
                })
            }
        };
        let (batch, ended) = self.read_batch(connection, &mut state.handles).await;
        match ended {
            Some(e) if batch.events == 0 => {
                state.connection = None;
                Err(e)
            }
            ended => {
                if let Some(e) = ended {
                    // What came before the failure is handed on; the next poll reconnects.
                    tracing::warn!(
                        "bluesky {}: {e}; reconnecting after a back-off",
                        self.metrics.name()
                    );
                    state.connection = None;
                    state.failed = Some(e);
                }
                if batch.filtered > 0 {
                    self.metrics.filtered(batch.filtered);
                }
                let cursor = (batch.events > 0).then(|| batch.cursor.encode());
                if let (Some(connection), Some(bytes)) = (&mut state.connection, &cursor) {
                    connection.at.clone_from(bytes);
                    connection.cursor = batch.cursor;
                }
                Ok(Polled {
                    mapped: batch.mapped,
                    cursor,
                })
            }
        }
    }

    /// Reads what arrives on `connection` (see the module's doc), and how the connection ended
    /// if it did.
    async fn read_batch(
        &self,
        connection: &mut Connection,
        handles: &mut Handles,
    ) -> (Batch, Option<PollError>) {
        let mut batch = Batch {
            cursor: connection.cursor.clone(),
            ..Default::default()
        };
        // Events up to the cursor's time were seen before a reconnection (or come from another
        // instance): counted once only.
        let replayed_up_to = batch.cursor.time_us;
        let mut until: Option<Instant> = None;
        while batch.events < MAX_EVENTS {
            let wait = match until {
                None => self.stall,
                Some(at) => at.saturating_duration_since(Instant::now()),
            };
            let frame = match timeout(wait, connection.socket.next()).await {
                Err(_) if until.is_some() => break,
                Err(_) => {
                    let e = error("stalled", format!("no frame for {:?}", self.stall));
                    return (batch, Some(e));
                }
                Ok(None) => return (batch, Some(error("closed", "Jetstream closed the connection"))),
                Ok(Some(Err(e))) => return (batch, Some(error("stream", e.to_string()))),
                Ok(Some(Ok(frame))) => frame,
            };
            let bytes = match frame {
                Message::Text(text) => text.as_bytes().to_vec(),
                Message::Binary(bytes) => bytes.to_vec(),
                Message::Close(close) => {
                    let why = close
                        .map(|c| format!(" ({} {})", c.code, c.reason))
                        .unwrap_or_default();
                    return (
                        batch,
                        Some(error("closed", format!("Jetstream closed the connection{why}"))),
                    );
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
            };
            batch.events += 1;
            until.get_or_insert_with(|| Instant::now() + BATCH_WAIT);
            let event = event::read(&bytes, &self.keywords, handles);
            let replay = event.time_us.is_some_and(|t| t <= replayed_up_to);
            if event.handed_on() && batch.cursor.has(&event.key) {
                // Handed on before the reconnection that replays it.
            } else {
                let handed_on = event.handed_on();
                match event.read {
                    Read::Kept(mapping) | Read::Malformed(mapping) => batch.mapped.items.push(mapping),
                    Read::Filtered if !replay => batch.filtered += 1,
                    Read::Ignored(kind) if !replay => batch.mapped.ignore(kind),
                    Read::Filtered | Read::Ignored(_) => {}
                }
                if handed_on {
                    batch.cursor.remember(event.time_us, event.key);
                }
            }
            if let Some(t) = event.time_us {
                batch.cursor.advance(t);
            }
        }
        batch.cursor.prune(self.rewind_us);
        (batch, None)
    }
}

/// What one poll read.
#[derive(Default)]
struct Batch {
    mapped: Mapped,
    filtered: usize,
    events: usize,
    cursor: Cursor,
}

fn error(kind: &'static str, message: impl Into<String>) -> PollError {
    PollError {
        kind,
        message: message.into(),
        retry_after: None,
    }
}

/// TLS for `wss://`: rustls with ring, trusting the system's root certificates.
fn tls_config() -> Result<tokio_rustls::rustls::ClientConfig, String> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    let found = rustls_native_certs::load_native_certs();
    let (added, _) = roots.add_parsable_certificates(found.certs);
    if added == 0 {
        return Err(format!(
            "wss:// needs trusted root certificates, and the system's store has none usable ({:?})",
            found.errors
        ));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

impl Poller for Bluesky {
    fn interval(&self) -> Duration {
        Duration::ZERO
    }

    fn poll<'a>(&'a self, cursor: &'a [u8]) -> PollFuture<'a> {
        Box::pin(self.poll_once(cursor))
    }
}
