//! gRPC front end: `vigie.v1.IngestService` (unary batch and client streaming).
//!
//! When any item is rejected the call fails with INVALID_ARGUMENT; the message names each
//! rejected item's field and reason and the status details carry the whole `PublishResponse`
//! (accepted items were published; resubmitting is safe).

use crate::ingestor::{Caller, IngestError, Ingestor, Item, Submitted};
use futures::StreamExt;
use prost::Message;
use std::sync::Arc;
use tonic::{Request, Response, Status, Streaming};
use vigie_core::proto::ingest_service_server::{IngestService, IngestServiceServer};
use vigie_core::proto::{Mention, PublishRequest, PublishResponse};
use vigie_core::tokens::AuthError;

/// The gRPC ingest service.
pub struct GrpcIngest {
    ingestor: Arc<Ingestor>,
}

impl GrpcIngest {
    /// A tonic service over `ingestor`.
    pub fn server(ingestor: Arc<Ingestor>) -> IngestServiceServer<Self> {
        IngestServiceServer::new(Self { ingestor })
    }
}

/// The items of a request; a mention leaving its tenant out is the caller's.
fn submitted(mentions: Vec<Mention>, caller: &Caller) -> Vec<Submitted> {
    mentions
        .into_iter()
        .map(|mut m| {
            if let (Some(tenant), true) = (caller.tenant(), m.tenant.is_empty()) {
                m.tenant = tenant.to_string();
            }
            m
        })
        .map(|m| Submitted {
            original: m.encode_to_vec(),
            item: Item::Mention(Box::new(m)),
        })
        .collect()
}

/// The caller, from the request's `authorization` metadata.
fn caller<T>(ingestor: &Ingestor, request: &Request<T>) -> Result<Caller, Status> {
    let header = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    ingestor.authorize(header).map_err(|e| match e {
        AuthError::Unauthenticated(m) => Status::unauthenticated(m),
        AuthError::PermissionDenied(m) => Status::permission_denied(m),
    })
}

fn to_status(e: IngestError) -> Status {
    match e {
        IngestError::TooMany { .. } => Status::resource_exhausted(e.to_string()),
        IngestError::Unavailable(_) => Status::unavailable(e.to_string()),
    }
}

/// Most rejected items described in a status's details.
const MAX_DETAILED: usize = 100;
/// Most mentions accepted on one client stream.
const MAX_STREAM_ITEMS: u32 = 1_000_000;

/// Turns a response with rejected items into INVALID_ARGUMENT, keeping the details.
fn finish(r: PublishResponse) -> Result<Response<PublishResponse>, Status> {
    if r.rejected == 0 {
        return Ok(Response::new(r));
    }
    let reasons: Vec<String> = r
        .results
        .iter()
        .take(20)
        .map(|x| format!("{}: {}", x.field, x.reason))
        .collect();
    let message = format!(
        "{} of {} mentions rejected ({} accepted): {}",
        r.rejected,
        r.accepted + r.duplicates + r.rejected,
        r.accepted,
        reasons.join("; ")
    );
    // Details travel in trailers (typically limited to 16 KiB): carry the counts and at most
    // MAX_DETAILED rejected items; the others are counted as unlisted.
    let unlisted = r.rejected_unlisted + r.results.len().saturating_sub(MAX_DETAILED) as u32;
    let details = PublishResponse {
        results: r.results.into_iter().take(MAX_DETAILED).collect(),
        rejected_unlisted: unlisted,
        ..r
    };
    Err(Status::with_details(
        tonic::Code::InvalidArgument,
        message,
        details.encode_to_vec().into(),
    ))
}

#[tonic::async_trait]
impl IngestService for GrpcIngest {
    async fn publish(&self, request: Request<PublishRequest>) -> Result<Response<PublishResponse>, Status> {
        let caller = caller(&self.ingestor, &request)?;
        let items = submitted(request.into_inner().mentions, &caller);
        let r = self
            .ingestor
            .submit(&caller, items, "grpc")
            .await
            .map_err(to_status)?;
        finish(r)
    }

    async fn publish_stream(
        &self,
        request: Request<Streaming<Mention>>,
    ) -> Result<Response<PublishResponse>, Status> {
        let caller = caller(&self.ingestor, &request)?;
        let mut stream = request.into_inner();
        let chunk = self.ingestor.max_batch().clamp(1, 500);
        let mut total = PublishResponse::default();
        let mut pending = Vec::with_capacity(chunk);
        let mut offset = 0u32;
        loop {
            let next = stream.next().await;
            let done = next.is_none();
            if let Some(m) = next {
                if offset as usize + pending.len() >= MAX_STREAM_ITEMS as usize {
                    return Err(Status::resource_exhausted(format!(
                        "more than {MAX_STREAM_ITEMS} mentions on one stream; open a new stream"
                    )));
                }
                pending.push(m?);
            }
            if pending.len() >= chunk || (done && !pending.is_empty()) {
                let items = submitted(std::mem::take(&mut pending), &caller);
                let count = items.len() as u32;
                let r = self
                    .ingestor
                    .submit_from(&caller, items, "grpc", offset)
                    .await
                    .map_err(to_status)?;
                offset += count;
                Ingestor::add_answer(&mut total, r);
            }
            if done {
                break;
            }
        }
        finish(total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::bus::Publisher;
    use vigie_core::model::Limits;
    use vigie_core::proto::ingest_service_client::IngestServiceClient;
    use vigie_core::proto::PublishResult;

    fn m(native: &str, text: &str) -> Mention {
        Mention {
            tenant: "acme".into(),
            source: 1,
            native_id: native.into(),
            text: text.into(),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn unary_and_streaming_publish_over_a_real_connection() {
        let bus = MemoryBus::default();
        let ingestor = Arc::new(Ingestor::new(
            Publisher::Memory(bus.clone()),
            Limits::default(),
            10,
            100,
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(GrpcIngest::server(ingestor))
                .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
        );
        let mut client = IngestServiceClient::connect(format!("http://{addr}"))
            .await
            .unwrap();

        let ok = client
            .publish(PublishRequest {
                mentions: vec![m("1", "hello")],
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.accepted, 1);
        assert!(ok.results.is_empty(), "accepted items are counted, not listed");

        let err = client
            .publish(PublishRequest {
                mentions: vec![m("2", "fine"), m("3", "")],
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), tonic::Code::InvalidArgument);
        assert!(err.message().contains("items[1].text"), "{}", err.message());
        let details = PublishResponse::decode(err.details()).unwrap();
        assert_eq!((details.accepted, details.rejected), (1, 1));

        // Streaming: 25 mentions in chunks; the 23rd is invalid and reported at its stream index.
        let stream: Vec<Mention> = (0..25)
            .map(|i| m(&format!("s{i}"), if i == 22 { "" } else { "streamed" }))
            .collect();
        let err = client
            .publish_stream(futures::stream::iter(stream))
            .await
            .unwrap_err();
        let details = PublishResponse::decode(err.details()).unwrap();
        assert_eq!((details.accepted, details.rejected), (24, 1));
        assert_eq!(details.results.len(), 1, "details carry the rejected items only");
        assert_eq!(details.results[0].field, "items[22].text");
        assert_eq!(bus.snapshot(vigie_core::topics::MENTIONS_RAW).len(), 2 + 24);

        // A long stream's answer stays a few bytes: counts only.
        let long: Vec<Mention> = (0..5_000).map(|i| m(&format!("l{i}"), "streamed")).collect();
        let ok = client
            .publish_stream(futures::stream::iter(long))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ok.accepted, 5_000);
        assert!(ok.encoded_len() < 32, "{} bytes", ok.encoded_len());
        // Many rejections: the details list MAX_DETAILED and count the rest.
        let bad: Vec<Mention> = (0..1_500).map(|i| m(&format!("b{i}"), "")).collect();
        let err = client
            .publish_stream(futures::stream::iter(bad))
            .await
            .unwrap_err();
        let details = PublishResponse::decode(err.details()).unwrap();
        assert_eq!(details.rejected, 1_500);
        assert_eq!(details.results.len(), MAX_DETAILED);
        assert_eq!(details.rejected_unlisted as usize, 1_500 - MAX_DETAILED);
    }

    #[test]
    fn a_streams_answer_lists_at_most_max_listed_rejections() {
        let part = |n: usize| PublishResponse {
            rejected: n as u32,
            results: (0..n as u32)
                .map(|index| PublishResult {
                    index,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        };
        let mut total = PublishResponse::default();
        for _ in 0..3 {
            Ingestor::add_answer(&mut total, part(400));
        }
        assert_eq!(total.rejected, 1_200);
        assert_eq!(total.results.len(), crate::ingestor::MAX_LISTED_REJECTIONS);
        assert_eq!(total.rejected_unlisted, 200);
    }
}
