//! `vigie.v1.AlertService`: list and read a tenant's alerts, act on them, and stream their state
//! changes live with a resumable cursor.
//!
//! The service follows `vigie.alerts` into an [`AlertLog`]: the latest state of every alert, and
//! the most recent records with their topic position. A cursor is the last position a client
//! received per partition ("p:offset,p:offset"): a reconnecting client gets exactly the records
//! after it — nothing missed, nothing repeated — as long as they are still in memory (otherwise
//! the stream ends with OUT_OF_RANGE and the client lists alerts to catch up). Actions go to
//! `vigie.alerts.commands`, applied by the alerting service that owns the tenant.

mod log;

pub use log::{AlertLog, Entry, KEEP_RESOLVED_MS, RECENT};

use crate::auth::caller;
use crate::request::{keyset, next_keyset, one_of, page_size};
use prost::Message;
use std::collections::HashMap;
use std::pin::Pin;
use tokio::sync::broadcast;
use tonic::{Request, Response, Status};
use vigie_core::bus::{OutRecord, Publisher};
use vigie_core::names::{severity_name, state_name};
use vigie_core::proto::alert_service_server::{AlertService, AlertServiceServer};
use vigie_core::proto::{
    alert_command, ActionAccepted, Alert, AlertCommand, AlertRequest, ListAlertsRequest, ListAlertsResponse,
    Role, Silence, SilenceRequest, StreamAlertsRequest, StreamAlertsResponse,
};
use vigie_core::rules::MAX_SILENCE_SECS;
use vigie_core::tokens::TokenStore;
use vigie_core::topics;

/// How often an open stream checks its token is still valid.
const TOKEN_RECHECK: std::time::Duration = std::time::Duration::from_secs(1);

/// A cursor: the last offset received per partition.
type Cursor = HashMap<i32, i64>;

/// Reads a client's cursor, `"p:offset,p:offset"`, against a topic of `partitions` partitions:
/// each partition at most once, one the topic has, at an offset that can exist (not negative).
/// Anything else is not from this service, and is refused naming `cursor` and why.
fn parse_cursor(s: &str, partitions: i32) -> Result<Cursor, Status> {
    let refuse = |part: &str, why: String| crate::request::invalid("cursor", &format!("{part:?}: {why}"));
    let mut c = Cursor::new();
    for part in s.split(',').filter(|p| !p.is_empty()) {
        let parsed = part
            .split_once(':')
            .and_then(|(p, o)| Some((p.parse::<i32>().ok()?, o.parse::<i64>().ok()?)));
        let (p, o) = parsed.ok_or_else(|| refuse(part, "is not partition:offset".into()))?;
        if !(0..partitions).contains(&p) {
            let has = match partitions {
                0 => "no partitions followed here".to_string(),
                1 => "one partition, 0".to_string(),
                n => format!("partitions 0 to {}", n - 1),
            };
            return Err(refuse(
                part,
                format!("no partition {p}: {} has {has}", topics::ALERTS),
            ));
        }
        if o < 0 {
            return Err(refuse(part, format!("offset {o} is negative")));
        }
        if c.insert(p, o).is_some() {
            return Err(refuse(part, format!("partition {p} is named twice")));
        }
    }
    Ok(c)
}

fn format_cursor(c: &Cursor) -> String {
    let mut parts: Vec<(i32, i64)> = c.iter().map(|(p, o)| (*p, *o)).collect();
    parts.sort_unstable();
    parts
        .iter()
        .map(|(p, o)| format!("{p}:{o}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// The filters of a list or a stream.
struct Filter {
    tenant: String,
    state: String,
    severity: String,
    watch_id: String,
}

impl Filter {
    fn new(tenant: String, state: String, severity: String, watch_id: String) -> Result<Self, Status> {
        one_of("state", &state, &["firing", "acknowledged", "resolved"])?;
        one_of("severity", &severity, &["info", "warning", "critical"])?;
        Ok(Self {
            tenant,
            state,
            severity,
            watch_id,
        })
    }

    fn keeps(&self, a: &Alert) -> bool {
        a.tenant == self.tenant
            && (self.state.is_empty() || state_name(a.state()) == self.state)
            && (self.severity.is_empty() || severity_name(a.severity()) == self.severity)
            && (self.watch_id.is_empty() || a.watch_id == self.watch_id)
    }
}

/// The alert service.
pub struct AlertApi {
    log: AlertLog,
    publisher: Publisher,
    tokens: TokenStore,
}

impl AlertApi {
    /// A service over `log`, sending commands through `publisher`, checking `tokens`.
    pub fn new(log: AlertLog, publisher: Publisher, tokens: TokenStore) -> Self {
        Self {
            log,
            publisher,
            tokens,
        }
    }

    /// The tonic server.
    pub fn into_server(self) -> AlertServiceServer<Self> {
        AlertServiceServer::new(self)
    }

    async fn command(&self, tenant: &str, actor: &str, action: alert_command::Action) -> Result<(), Status> {
        let cmd = AlertCommand {
            tenant: tenant.to_string(),
            actor: actor.to_string(),
            action: Some(action),
        };
        let record = OutRecord::message(tenant, "vigie.v1.AlertCommand", cmd.encode_to_vec());
        self.publisher
            .publish(topics::ALERT_COMMANDS, vec![record])
            .await
            .map_err(|e| Status::unavailable(e.to_string()))
    }

    async fn act(
        &self,
        request: Request<AlertRequest>,
        resolve: bool,
    ) -> Result<Response<ActionAccepted>, Status> {
        let p = caller(&self.tokens, &request, Role::Operator)?;
        let id = request.into_inner().id;
        if self.log.get(&p.tenant, &id).is_none() {
            return Err(Status::not_found(format!("no alert {id:?}")));
        }
        let actor = format!("token:{}", p.token_id);
        let action = if resolve {
            alert_command::Action::Resolve(id.clone())
        } else {
            alert_command::Action::Acknowledge(id.clone())
        };
        self.command(&p.tenant, &actor, action).await?;
        Ok(Response::new(ActionAccepted { alert_id: id }))
    }
}

type AlertStream = Pin<Box<dyn futures_core::Stream<Item = Result<StreamAlertsResponse, Status>> + Send>>;

#[tonic::async_trait]
impl AlertService for AlertApi {
    async fn list_alerts(
        &self,
        request: Request<ListAlertsRequest>,
    ) -> Result<Response<ListAlertsResponse>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let r = request.into_inner();
        let filter = Filter::new(p.tenant, r.state, r.severity, r.watch_id)?;
        let size = page_size(r.page_size, 100, 1_000);
        // Keyset pagination: (fired_at_ms, id) descending; the token is where the page ended.
        let after = keyset(&r.page_token)?;
        let newest_first = |a: &&Alert, b: &&Alert| (b.fired_at_ms, &b.id).cmp(&(a.fired_at_ms, &a.id));
        let (alerts, more) = {
            let inner = self
                .log
                .inner
                .lock()
                .map_err(|_| Status::internal("alert log poisoned"))?;
            let mut candidates: Vec<&Alert> = inner
                .latest
                .values()
                .map(|l| &l.alert)
                .filter(|a| {
                    filter.keeps(a)
                        && (r.from_ms == 0 || a.fired_at_ms >= r.from_ms)
                        && (r.to_ms == 0 || a.fired_at_ms < r.to_ms)
                        && after
                            .as_ref()
                            .is_none_or(|(t, id)| (a.fired_at_ms, &a.id) < (*t, id))
                })
                .collect();
            // Only the page is sorted and copied, not every alert of the tenant.
            let more = candidates.len() > size;
            if more {
                candidates.select_nth_unstable_by(size, newest_first);
                candidates.truncate(size);
            }
            candidates.sort_unstable_by(newest_first);
            let page: Vec<Alert> = candidates.into_iter().cloned().collect();
            (page, more)
        };
        let next_page_token = next_keyset(more, alerts.last().map(|a| (a.fired_at_ms, a.id.as_str())));
        Ok(Response::new(ListAlertsResponse {
            alerts,
            next_page_token,
        }))
    }

    async fn get_alert(&self, request: Request<AlertRequest>) -> Result<Response<Alert>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        let id = request.into_inner().id;
        self.log
            .get(&p.tenant, &id)
            .map(Response::new)
            .ok_or_else(|| Status::not_found(format!("no alert {id:?}")))
    }

    async fn acknowledge_alert(
        &self,
        request: Request<AlertRequest>,
    ) -> Result<Response<ActionAccepted>, Status> {
        self.act(request, false).await
    }

    async fn resolve_alert(
        &self,
        request: Request<AlertRequest>,
    ) -> Result<Response<ActionAccepted>, Status> {
        self.act(request, true).await
    }

    async fn silence_alerts(&self, request: Request<SilenceRequest>) -> Result<Response<Silence>, Status> {
        let p = caller(&self.tokens, &request, Role::Operator)?;
        let r = request.into_inner();
        if r.duration_seconds == 0 {
            return Err(crate::request::invalid("duration_seconds", "must be positive"));
        }
        if r.duration_seconds > MAX_SILENCE_SECS {
            return Err(crate::request::invalid(
                "duration_seconds",
                &format!(
                    "{} s is longer than the longest silence, {MAX_SILENCE_SECS} s ({} days)",
                    r.duration_seconds,
                    MAX_SILENCE_SECS / 86_400
                ),
            ));
        }
        let now = vigie_core::now_ms();
        let silence = Silence {
            id: format!("{}:{}:{}:{now}", p.tenant, r.watch_id, r.rule),
            tenant: p.tenant.clone(),
            watch_id: r.watch_id,
            rule: r.rule,
            starts_at_ms: now,
            ends_at_ms: now + r.duration_seconds as i64 * 1000,
            comment: r.comment,
            created_by: format!("token:{}", p.token_id),
        };
        self.command(
            &p.tenant,
            &silence.created_by,
            alert_command::Action::Silence(silence.clone()),
        )
        .await?;
        Ok(Response::new(silence))
    }

    type StreamAlertsStream = AlertStream;

    async fn stream_alerts(
        &self,
        request: Request<StreamAlertsRequest>,
    ) -> Result<Response<Self::StreamAlertsStream>, Status> {
        let p = caller(&self.tokens, &request, Role::Reader)?;
        // Checked again while the stream runs: revoking the token ends it.
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let tokens = self.tokens.clone();
        let r = request.into_inner();
        let mut cursor = parse_cursor(&r.cursor, self.log.partitions())?;
        let filter = Filter::new(p.tenant, r.state, r.severity, r.watch_id)?;
        // Subscribe before reading the backlog, so nothing falls between the two.
        let mut live = self.log.live.subscribe();
        let backlog: Vec<Entry> = {
            let inner = self
                .log
                .inner
                .lock()
                .map_err(|_| Status::internal("alert log poisoned"))?;
            // Every partition the cursor names must still hold what follows it.
            let gap = cursor
                .iter()
                .any(|(p, o)| inner.dropped_before.get(p).is_some_and(|first| *o + 1 < *first));
            if gap {
                return Err(Status::out_of_range(
                    "cursor: older than the alerts held in memory; list alerts to catch up, then stream from the newest",
                ));
            }
            inner.recent.iter().cloned().collect()
        };
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<StreamAlertsResponse, Status>>(256);
        tokio::spawn(async move {
            let send = |e: Entry, cursor: &mut Cursor| {
                if cursor.get(&e.partition).is_some_and(|o| e.offset <= *o) {
                    return None;
                }
                cursor.insert(e.partition, e.offset);
                filter.keeps(&e.alert).then(|| StreamAlertsResponse {
                    alert: Some(e.alert),
                    cursor: format_cursor(cursor),
                })
            };
            for e in backlog {
                if let Some(m) = send(e, &mut cursor) {
                    if tx.send(Ok(m)).await.is_err() {
                        return;
                    }
                }
            }
            let mut recheck = tokio::time::interval(TOKEN_RECHECK);
            loop {
                let next = tokio::select! {
                    r = live.recv() => r,
                    // The client went away: stop at once, even if nothing matched for a while.
                    _ = tx.closed() => return,
                    _ = recheck.tick() => {
                        if let Err(e) = tokens.authorize(authorization.as_deref(), Role::Reader) {
                            let _ = tx.send(Err(Status::unauthenticated(format!("{e}; stream ended")))).await;
                            return;
                        }
                        continue;
                    }
                };
                match next {
                    Ok(e) => {
                        if let Some(m) = send(e, &mut cursor) {
                            if tx.send(Ok(m)).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let _ = tx
                            .send(Err(Status::aborted(
                                "the stream fell behind; reconnect with the last cursor",
                            )))
                            .await;
                        return;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        let stream = tokio_stream_from(rx);
        Ok(Response::new(Box::pin(stream)))
    }
}

/// A stream over an mpsc receiver.
fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures_core::Stream<Item = T> + Send {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::with;
    use futures_util::StreamExt;
    use std::time::Duration;
    use tokio_util::sync::CancellationToken;
    use tonic::transport::Channel;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Bus;
    use vigie_core::proto::alert_service_client::AlertServiceClient;
    use vigie_core::proto::AlertState;

    use super::log::tests::alert;

    async fn publish(bus: &MemoryBus, alerts: &[Alert]) {
        let records = alerts
            .iter()
            .map(|a| OutRecord::message(a.tenant.clone(), "vigie.v1.Alert", a.encode_to_vec()))
            .collect();
        Publisher::Memory(bus.clone())
            .publish(topics::ALERTS, records)
            .await
            .unwrap();
    }

    #[test]
    fn cursors_name_each_partition_of_the_topic_once_at_a_real_offset() {
        assert_eq!(
            parse_cursor("0:5,2:7", 3).unwrap(),
            Cursor::from([(0, 5), (2, 7)])
        );
        assert!(parse_cursor("", 0).unwrap().is_empty());
        let why = |cursor: &str, partitions: i32| {
            let e = parse_cursor(cursor, partitions).unwrap_err();
            assert_eq!(e.code(), tonic::Code::InvalidArgument);
            e.message().to_string()
        };
        assert!(why("0:1,0:2", 3).contains("partition 0 is named twice"));
        assert!(why("3:0", 3).contains("no partition 3: vigie.alerts has partitions 0 to 2"));
        assert!(why("0:0", 0).contains("no partitions followed here"));
        assert!(why("0:x", 1).contains("is not partition:offset"));
        assert!(why("0:-2", 1).contains("offset -2 is negative"));
    }

    /// The probe's cursors `-1:-1` and `99:0` were accepted, and the stream replayed everything
    /// held as if there were no cursor; they are refused naming `cursor` and why, and a cursor
    /// the stream handed out is still taken.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stream_cursors_not_from_this_service_are_refused() {
        use tonic_types::StatusExt;
        let bus = MemoryBus::default();
        let (tokens, t) = crate::auth::tokens_for(&[("acme", Role::Reader)]);
        publish(&bus, &[alert("acme", "acme:w:r:1", 1, AlertState::Firing, 1_000)]).await;
        let cancel = CancellationToken::new();
        let log = AlertLog::default();
        log.follow(&Bus::Memory(bus.clone()), cancel.clone())
            .await
            .unwrap();
        let api = AlertApi::new(log, Publisher::Memory(bus.clone()), tokens);
        let stream = |cursor: &str| {
            api.stream_alerts(with(
                &t[0],
                StreamAlertsRequest {
                    cursor: cursor.into(),
                    ..Default::default()
                },
            ))
        };
        for (cursor, why) in [
            ("-1:-1", "no partition -1: vigie.alerts has one partition, 0"),
            ("99:0", "no partition 99: vigie.alerts has one partition, 0"),
            ("0:-1", "offset -1 is negative"),
        ] {
            let Err(e) = stream(cursor).await else {
                panic!("cursor {cursor:?} accepted")
            };
            assert_eq!(e.code(), tonic::Code::InvalidArgument, "{cursor}");
            assert!(e.message().contains(why), "{cursor}: {}", e.message());
            let violation = &e.get_details_bad_request().unwrap().field_violations[0];
            assert_eq!(violation.field, "cursor");
        }
        // Before the one record: it arrives.
        let mut from_start = stream("").await.unwrap().into_inner();
        let first = from_start.next().await.unwrap().unwrap();
        assert_eq!(first.cursor, "0:0");
        assert!(stream(&first.cursor).await.is_ok());
        cancel.cancel();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_get_act_and_stream_within_the_tenant() {
        let bus = MemoryBus::default();
        let (tokens, t) = crate::auth::tokens_for(&[
            ("acme", Role::Reader),
            ("acme", Role::Operator),
            ("globex", Role::Operator),
        ]);
        let (reader, operator, other) = (t[0].clone(), t[1].clone(), t[2].clone());
        publish(
            &bus,
            &[
                alert("acme", "acme:w:r:1", 1, AlertState::Firing, 1_000),
                alert("acme", "acme:w:r:2", 1, AlertState::Firing, 2_000),
                alert("globex", "globex:w:r:1", 1, AlertState::Firing, 1_500),
                alert("acme", "acme:w:r:1", 2, AlertState::Resolved, 1_000),
            ],
        )
        .await;
        let cancel = CancellationToken::new();
        let log = AlertLog::default();
        log.follow(&Bus::Memory(bus.clone()), cancel.clone())
            .await
            .unwrap();
        let api = AlertApi::new(log, Publisher::Memory(bus.clone()), tokens.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(api.into_server())
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let mut client: AlertServiceClient<Channel> = AlertServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        // Lists: current state, newest first, paginated, filtered, one tenant only.
        let list = |page_token: &str, state: &str| ListAlertsRequest {
            page_size: 1,
            page_token: page_token.into(),
            state: state.into(),
            ..Default::default()
        };
        let first = client
            .list_alerts(with(&reader, list("", "")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.alerts[0].id, "acme:w:r:2");
        let second = client
            .list_alerts(with(&reader, list(&first.next_page_token, "")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            (second.alerts[0].id.as_str(), second.alerts[0].version),
            ("acme:w:r:1", 2)
        );
        assert!(second.next_page_token.is_empty());
        let resolved = client
            .list_alerts(with(&reader, list("", "resolved")))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(resolved.alerts.len(), 1);
        let bad = client
            .list_alerts(with(&reader, list("", "sleeping")))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), tonic::Code::InvalidArgument);
        // Get, and another tenant's id as not found.
        let id = |id: &str| AlertRequest { id: id.into() };
        assert_eq!(
            client
                .get_alert(with(&reader, id("acme:w:r:2")))
                .await
                .unwrap()
                .into_inner()
                .version,
            1
        );
        assert_eq!(
            client
                .get_alert(with(&other, id("acme:w:r:2")))
                .await
                .unwrap_err()
                .code(),
            tonic::Code::NotFound
        );
        // Actions: operator only, own tenant only; they become commands for alerting.
        assert_eq!(
            client
                .acknowledge_alert(with(&reader, id("acme:w:r:2")))
                .await
                .unwrap_err()
                .code(),
            tonic::Code::PermissionDenied
        );
        assert_eq!(
            client
                .resolve_alert(with(&other, id("acme:w:r:2")))
                .await
                .unwrap_err()
                .code(),
            tonic::Code::NotFound
        );
        client
            .acknowledge_alert(with(&operator, id("acme:w:r:2")))
            .await
            .unwrap();
        let silence = SilenceRequest {
            duration_seconds: 3600,
            ..Default::default()
        };
        let s = client
            .silence_alerts(with(&operator, silence))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(s.tenant, "acme");
        // The probe's 136-year silence (u32::MAX seconds) is refused naming the field, and so is
        // one second past the cap; the cap itself is accepted. Refusals send no command.
        for (seconds, refused) in [
            (u32::MAX, true),
            (MAX_SILENCE_SECS + 1, true),
            (MAX_SILENCE_SECS, false),
        ] {
            let asked = SilenceRequest {
                duration_seconds: seconds,
                ..Default::default()
            };
            match client.silence_alerts(with(&operator, asked)).await {
                Err(e) if refused => {
                    use tonic_types::StatusExt;
                    assert_eq!(e.code(), tonic::Code::InvalidArgument);
                    let violation = &e.get_details_bad_request().unwrap().field_violations[0];
                    assert_eq!(violation.field, "duration_seconds");
                    assert!(violation.description.contains("(90 days)"), "{violation:?}");
                }
                Ok(s) if !refused => {
                    let s = s.into_inner();
                    assert_eq!(s.ends_at_ms - s.starts_at_ms, 90 * 86_400_000);
                }
                other => panic!("{seconds} s: {other:?}"),
            }
        }
        let commands: Vec<AlertCommand> = bus
            .snapshot(topics::ALERT_COMMANDS)
            .iter()
            .map(|r| AlertCommand::decode(r.payload.as_deref().unwrap()).unwrap())
            .collect();
        assert_eq!(
            commands.len(),
            3,
            "acknowledge, the hour's silence, the 90 days' one"
        );
        assert!(commands.iter().all(|c| c.tenant == "acme"));

        // Stream: the backlog, then a disconnect, then resume from the cursor: the two new
        // changes exactly once, never another tenant's.
        let mut stream = client
            .stream_alerts(with(&reader, StreamAlertsRequest::default()))
            .await
            .unwrap()
            .into_inner();
        let mut cursor = String::new();
        for _ in 0..3 {
            let m = stream.next().await.unwrap().unwrap();
            assert_eq!(m.alert.unwrap().tenant, "acme");
            cursor = m.cursor;
        }
        drop(stream);
        publish(
            &bus,
            &[
                alert("globex", "globex:w:r:2", 1, AlertState::Firing, 3_000),
                alert("acme", "acme:w:r:3", 1, AlertState::Firing, 3_000),
                alert("acme", "acme:w:r:2", 2, AlertState::Acknowledged, 2_000),
            ],
        )
        .await;
        let resume = StreamAlertsRequest {
            cursor: cursor.clone(),
            ..Default::default()
        };
        let mut stream = client
            .stream_alerts(with(&reader, resume))
            .await
            .unwrap()
            .into_inner();
        let a = stream.next().await.unwrap().unwrap().alert.unwrap();
        let b = stream.next().await.unwrap().unwrap().alert.unwrap();
        assert_eq!(
            (a.id.as_str(), b.id.as_str(), b.version),
            ("acme:w:r:3", "acme:w:r:2", 2)
        );
        let nothing_more = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
        assert!(nothing_more.is_err(), "no repeat after the resumed changes");
        // Revoking the reader's token ends its open stream.
        let mut record = tokens
            .all()
            .into_iter()
            .find(|t| t.tenant == "acme" && t.role == Role::Reader as i32)
            .unwrap();
        record.revoked_at_ms = 1;
        tokens.upsert(record);
        let ended = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("the stream ends within moments of the revocation")
            .expect("with a status");
        assert_eq!(ended.unwrap_err().code(), tonic::Code::Unauthenticated);
        cancel.cancel();
    }
}
