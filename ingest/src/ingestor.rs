//! The transport-independent heart of ingest: validate items, answer duplicates, publish valid
//! mentions and dead-letter invalid ones, and report per item.

use crate::recent::RecentIds;
use prost::Message;
use std::sync::Mutex;
use std::time::Instant;
use vigie_core::bus::{BusError, OutRecord, Publisher};
use vigie_core::metrics::StageMetrics;
use vigie_core::model::{validate_and_complete, FieldError, Limits};
use vigie_core::proto::Role;
use vigie_core::proto::{Mention, PublishResponse, PublishResult};
use vigie_core::tokens::{AuthError, Principal, TokenStore};
use vigie_core::{deadletter, topics};

/// Protobuf type name carried in the schema header of raw mentions.
pub const SCHEMA: &str = "vigie.v1.Mention";

/// One submitted item: a mention to validate, or an item already refused while parsing.
#[derive(Debug)]
pub enum Item {
    /// A mention to validate (from JSON conversion or gRPC).
    Mention(Mention),
    /// An item refused before validation.
    Refused {
        /// Why.
        error: FieldError,
        /// Its tenant when known (keys the dead letter).
        tenant: String,
    },
}

/// A submitted item with its original bytes (kept on the dead-letter topic if refused).
#[derive(Debug)]
pub struct Submitted {
    /// The item.
    pub item: Item,
    /// Original bytes as received.
    pub original: Vec<u8>,
}

impl Item {
    /// The item for one JSON value (or the reason it could not be parsed): a validated mention,
    /// or a refusal keeping the tenant when the JSON names one.
    pub fn from_json(value: Result<serde_json::Value, FieldError>, limits: &Limits, now_ms: i64) -> Item {
        match value {
            Err(error) => Item::Refused {
                error,
                tenant: String::new(),
            },
            Ok(v) => {
                let tenant = v.get("tenant").and_then(|t| t.as_str()).unwrap_or("").to_string();
                match vigie_core::model::mention_from_json(v, limits, now_ms) {
                    Ok(m) => Item::Mention(m),
                    Err(error) => Item::Refused { error, tenant },
                }
            }
        }
    }
}

/// Why a whole request failed.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// More items than allowed in one request.
    #[error("items: {count} mentions in one request; the limit is {limit}")]
    TooMany {
        /// Items submitted.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The broker did not acknowledge every record; the request may be retried whole.
    #[error("broker unavailable, retry later: {0}")]
    Unavailable(#[from] BusError),
}

/// Validates and publishes mentions; shared by the HTTP and gRPC front ends.
pub struct Ingestor {
    publisher: Publisher,
    limits: Limits,
    max_batch: usize,
    recent: Mutex<RecentIds>,
    metrics: StageMetrics,
    /// Tokens to check; `None` accepts anonymous writes (development only).
    tokens: Option<TokenStore>,
}

impl Ingestor {
    /// An ingestor publishing through `publisher`.
    pub fn new(publisher: Publisher, limits: Limits, max_batch: usize, recent_ids: usize) -> Self {
        Self {
            publisher,
            limits,
            max_batch,
            recent: Mutex::new(RecentIds::new(recent_ids)),
            metrics: StageMetrics::new("ingest"),
            tokens: None,
        }
    }

    /// An ingestor publishing through `publisher` with the limits of `config`.
    pub fn from_config(publisher: Publisher, config: &vigie_core::config::IngestConfig) -> Self {
        Self::new(
            publisher,
            Limits {
                max_text_chars: config.max_text_chars,
            },
            config.max_batch_items,
            config.recent_ids,
        )
    }

    /// Requires a bearer token with the operator role on every request, and binds each request
    /// to the token's tenant.
    pub fn with_tokens(mut self, tokens: TokenStore) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Who may write with this `authorization` header: `None` when tokens are not required.
    pub fn authorize(&self, authorization: Option<&str>) -> Result<Option<Principal>, AuthError> {
        match &self.tokens {
            None => Ok(None),
            Some(store) => store.authorize(authorization, Role::Operator).map(Some),
        }
    }

    /// Refuses (keeping them for the dead-letter topic) the items of a request that name
    /// another tenant than the caller's token: a token for one client never writes for another.
    pub fn bind_tenant(principal: Option<&Principal>, items: &mut [Submitted]) {
        let Some(p) = principal else { return };
        for s in items.iter_mut() {
            if let Item::Mention(m) = &s.item {
                if m.tenant != p.tenant {
                    // Kept under the caller's own tenant: a token never writes into another
                    // tenant's dead letters either.
                    s.item = Item::Refused {
                        error: FieldError::new(
                            "tenant",
                            format!("{:?}: this token writes for tenant {:?} only", m.tenant, p.tenant),
                        ),
                        tenant: p.tenant.clone(),
                    };
                }
            }
        }
    }

    /// Most items accepted in one request.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Validation limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Handles one request's items from `origin` ("http" or "grpc"). Returns once every accepted
    /// mention and every dead letter is acknowledged by the broker.
    pub async fn submit(&self, items: Vec<Submitted>, origin: &str) -> Result<PublishResponse, IngestError> {
        self.submit_from(items, origin, 0).await
    }

    /// [`Self::submit`] for a slice of a longer stream whose first item has index `first_index`
    /// (item indexes in results and errors are then positions in the whole stream).
    pub async fn submit_from(
        &self,
        items: Vec<Submitted>,
        origin: &str,
        first_index: u32,
    ) -> Result<PublishResponse, IngestError> {
        let started = Instant::now();
        self.metrics.received(items.len());
        self.metrics.batch(items.len());
        if items.len() > self.max_batch {
            self.metrics.error("too_many_items");
            return Err(IngestError::TooMany {
                count: items.len(),
                limit: self.max_batch,
            });
        }
        let now = vigie_core::now_ms();
        let mut results = Vec::with_capacity(items.len());
        let mut accepted = Vec::new();
        let mut rejected = Vec::new();
        {
            let recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            let mut in_request = std::collections::HashSet::new();
            for (index, submitted) in items.into_iter().enumerate() {
                let index = first_index + index as u32;
                let outcome = match submitted.item {
                    Item::Refused { error, tenant } => Err((error, tenant)),
                    Item::Mention(mut m) => match validate_and_complete(&mut m, &self.limits, now) {
                        Ok(()) => Ok(m),
                        Err(e) => Err((e, m.tenant.clone())),
                    },
                };
                match outcome {
                    Ok(m) if recent.contains(&m.id) || !in_request.insert(m.id.clone()) => {
                        results.push(result(index, "duplicate", &m.id, None));
                    }
                    Ok(m) => {
                        results.push(result(index, "accepted", &m.id, None));
                        accepted.push(m);
                    }
                    Err((e, tenant)) => {
                        let field = if e.field.is_empty() {
                            format!("items[{index}]")
                        } else {
                            format!("items[{index}].{}", e.field)
                        };
                        let e = FieldError::new(field, e.reason);
                        results.push(result(index, "rejected", "", Some(&e)));
                        rejected.push(deadletter::record(
                            "ingest",
                            origin,
                            &tenant,
                            &e,
                            &submitted.original,
                        ));
                    }
                }
            }
        }
        let records: Vec<OutRecord> = accepted
            .iter()
            .map(|m| OutRecord::message(m.tenant.clone(), SCHEMA, m.encode_to_vec()))
            .collect();
        let (n_rejected, n_accepted) = (rejected.len(), accepted.len());
        let (dead, published) = tokio::join!(
            self.publisher.publish(topics::DEADLETTER, rejected),
            self.publisher.publish(topics::MENTIONS_RAW, records)
        );
        if let Err(e) = dead.and(published) {
            self.metrics.error("publish");
            return Err(e.into());
        }
        {
            let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
            for m in accepted {
                recent.insert(m.id);
            }
        }
        self.metrics.sent(n_accepted);
        self.metrics.deadlettered(n_rejected);
        if n_rejected > 0 {
            self.metrics.error("invalid_input");
        }
        self.metrics.processing(started.elapsed());
        let duplicates = results.iter().filter(|r| r.status == "duplicate").count() as u32;
        Ok(PublishResponse {
            accepted: n_accepted as u32,
            duplicates,
            rejected: n_rejected as u32,
            results,
        })
    }
}

fn result(index: u32, status: &str, id: &str, error: Option<&FieldError>) -> PublishResult {
    PublishResult {
        index,
        status: status.to_string(),
        mention_id: id.to_string(),
        field: error.map(|e| e.field.clone()).unwrap_or_default(),
        reason: error.map(|e| e.reason.clone()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vigie_core::bus::memory::MemoryBus;
    use vigie_core::proto::DeadLetter;

    fn mention(native: &str, text: &str) -> Submitted {
        let m = Mention {
            tenant: "acme".into(),
            source: 1,
            native_id: native.into(),
            text: text.into(),
            ..Default::default()
        };
        Submitted {
            original: m.encode_to_vec(),
            item: Item::Mention(m),
        }
    }

    #[tokio::test]
    async fn accepts_rejects_and_answers_duplicates() {
        let bus = MemoryBus::default();
        let ingestor = Ingestor::new(Publisher::Memory(bus.clone()), Limits::default(), 10, 100);
        let r = ingestor
            .submit(
                vec![
                    mention("1", "hello"),
                    mention("2", ""),
                    mention("1", "hello again"),
                ],
                "test",
            )
            .await
            .unwrap();
        assert_eq!((r.accepted, r.rejected, r.duplicates), (1, 1, 1));
        assert_eq!(r.results[1].field, "items[1].text");
        assert_eq!(bus.snapshot(topics::MENTIONS_RAW).len(), 1);
        let dead = bus.snapshot(topics::DEADLETTER);
        let letter = DeadLetter::decode(dead[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(letter.field, "items[1].text");
        assert_eq!(letter.tenant, "acme");
        assert!(!letter.original.is_empty());
        // A later request repeating an accepted mention is a duplicate, not republished.
        let r = ingestor
            .submit(vec![mention("1", "hello")], "test")
            .await
            .unwrap();
        assert_eq!(r.duplicates, 1);
        assert_eq!(bus.snapshot(topics::MENTIONS_RAW).len(), 1);
    }

    #[tokio::test]
    async fn too_many_items_is_refused_whole() {
        let ingestor = Ingestor::new(Publisher::Memory(MemoryBus::default()), Limits::default(), 1, 100);
        let e = ingestor
            .submit(vec![mention("1", "a"), mention("2", "b")], "test")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("limit is 1"));
    }
}
