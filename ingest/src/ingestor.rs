//! The transport-independent heart of ingest: validate items, answer duplicates, publish valid
//! mentions and dead-letter invalid ones, and report per item.

use crate::recent::RecentIds;
use prost::Message;
use std::sync::Mutex;
use std::time::Instant;
use vigie_core::bus::{BusError, OutRecord, Publisher};
use vigie_core::metrics::StageMetrics;
use vigie_core::model::{validate_and_complete, FieldError, Limits, MentionJson};
use vigie_core::proto::Role;
use vigie_core::proto::{Mention, PublishResponse, PublishResult};
use vigie_core::tokens::{AuthError, Principal, TokenStore};
use vigie_core::{deadletter, topics};

/// Protobuf type name carried in the schema header of raw mentions.
pub const SCHEMA: &str = "vigie.v1.Mention";

/// Most rejected items an answer lists (per request, or per stream); further ones are counted
/// in `rejected_unlisted`. Accepted and duplicate items are only counted, so answers stay small.
pub const MAX_LISTED_REJECTIONS: usize = 1_000;

/// One submitted item: a mention to validate, or an item already refused while parsing.
#[derive(Debug)]
pub enum Item {
    /// A mention to validate (from JSON conversion or gRPC); boxed, as it is far larger than a
    /// refusal.
    Mention(Box<Mention>),
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
                    Ok(m) => Item::Mention(Box::new(m)),
                    Err(error) => Item::Refused { error, tenant },
                }
            }
        }
    }

    /// The item for a mention already read into its JSON form: validated, or refused keeping
    /// the tenant it names.
    pub fn from_form(json: MentionJson, limits: &Limits, now_ms: i64) -> Item {
        let tenant = json.tenant.clone().unwrap_or_default();
        match json.into_mention(limits, now_ms) {
            Ok(m) => Item::Mention(Box::new(m)),
            Err(error) => Item::Refused { error, tenant },
        }
    }
}

/// Who submits a request, as established by [`Ingestor::authorize`]: a token's principal, or
/// nobody when tokens are not required. [`Ingestor::submit`] takes one, so no front end can skip
/// authorization or the tenant binding that goes with it.
#[derive(Debug, Clone)]
pub struct Caller {
    principal: Option<Principal>,
    /// The stage named in the dead letters of its refused items.
    stage: String,
}

impl Caller {
    /// The process itself, submitting data it read (the bundled sample of `vigie standalone`):
    /// never a client's input, which goes through [`Ingestor::authorize`].
    pub fn trusted() -> Self {
        Self {
            principal: None,
            stage: "ingest".into(),
        }
    }

    /// Connector `name`, authenticated by its platform's signature (or polling its own source),
    /// writing for its configured `tenant` only: bound like a token's tenant, and its refused
    /// items dead-lettered with stage `connector:<name>`.
    pub fn connector(name: &str, tenant: &str) -> Self {
        Self {
            principal: Some(Principal {
                tenant: tenant.to_string(),
                role: Role::Operator,
                token_id: format!("connector:{name}"),
            }),
            stage: format!("connector:{name}"),
        }
    }

    /// The tenant the caller's token writes for; `None` when tokens are not required.
    pub fn tenant(&self) -> Option<&str> {
        self.principal.as_ref().map(|p| p.tenant.as_str())
    }

    /// Binds a request to the caller's tenant: an item naming another tenant is refused, and
    /// every refused item is dead-lettered under the caller's own tenant (a token for one client
    /// never writes for another, not even into its dead letters).
    fn bind(&self, items: &mut [Submitted]) {
        let Some(p) = &self.principal else { return };
        for s in items.iter_mut() {
            match &mut s.item {
                Item::Mention(m) if m.tenant != p.tenant => {
                    s.item = Item::Refused {
                        error: FieldError::new(
                            "tenant",
                            format!("{:?}: this token writes for tenant {:?} only", m.tenant, p.tenant),
                        ),
                        tenant: p.tenant.clone(),
                    };
                }
                Item::Mention(_) => {}
                Item::Refused { tenant, .. } => {
                    if *tenant != p.tenant {
                        tenant.clone_from(&p.tenant);
                    }
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

    /// Who may write with this `authorization` header: a caller without a principal when tokens
    /// are not required.
    pub fn authorize(&self, authorization: Option<&str>) -> Result<Caller, AuthError> {
        match &self.tokens {
            None => Ok(Caller::trusted()),
            Some(store) => store.authorize(authorization, Role::Operator).map(|p| Caller {
                principal: Some(p),
                stage: "ingest".into(),
            }),
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

    /// Handles one request's items from `origin` ("http" or "grpc"), bound to `caller`'s tenant.
    /// Returns once every accepted mention and every dead letter is acknowledged by the broker.
    pub async fn submit(
        &self,
        caller: &Caller,
        items: Vec<Submitted>,
        origin: &str,
    ) -> Result<PublishResponse, IngestError> {
        self.submit_from(caller, items, origin, 0).await
    }

    /// [`Self::submit`] for a slice of a longer stream whose first item has index `first_index`
    /// (item indexes in results and errors are then positions in the whole stream).
    pub async fn submit_from(
        &self,
        caller: &Caller,
        mut items: Vec<Submitted>,
        origin: &str,
        first_index: u32,
    ) -> Result<PublishResponse, IngestError> {
        let started = Instant::now();
        caller.bind(&mut items);
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
        let mut results = Vec::new();
        let mut duplicates = 0u32;
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
                        Ok(()) => Ok(*m),
                        Err(e) => Err((e, m.tenant.clone())),
                    },
                };
                match outcome {
                    Ok(m) if recent.contains(&m.id) || !in_request.insert(m.id.clone()) => {
                        duplicates += 1;
                    }
                    Ok(m) => accepted.push(m),
                    Err((e, tenant)) => {
                        let field = if e.field.is_empty() {
                            format!("items[{index}]")
                        } else {
                            format!("items[{index}].{}", e.field)
                        };
                        let e = FieldError::new(field, e.reason);
                        if results.len() < MAX_LISTED_REJECTIONS {
                            results.push(rejection(index, &e));
                        }
                        rejected.push(deadletter::record(
                            &caller.stage,
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
        Ok(PublishResponse {
            accepted: n_accepted as u32,
            duplicates,
            rejected: n_rejected as u32,
            rejected_unlisted: (n_rejected - results.len()) as u32,
            results,
        })
    }
}

fn rejection(index: u32, error: &FieldError) -> PublishResult {
    PublishResult {
        index,
        status: "rejected".to_string(),
        mention_id: String::new(),
        field: error.field.clone(),
        reason: error.reason.clone(),
    }
}

impl Ingestor {
    /// Adds the answer to one slice of a stream to the stream's answer so far, keeping the list
    /// of rejections within [`MAX_LISTED_REJECTIONS`].
    pub fn add_answer(total: &mut PublishResponse, part: PublishResponse) {
        total.accepted += part.accepted;
        total.duplicates += part.duplicates;
        total.rejected += part.rejected;
        total.rejected_unlisted += part.rejected_unlisted;
        let room = MAX_LISTED_REJECTIONS.saturating_sub(total.results.len());
        total.rejected_unlisted += part.results.len().saturating_sub(room) as u32;
        total.results.extend(part.results.into_iter().take(room));
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
            item: Item::Mention(Box::new(m)),
        }
    }

    #[tokio::test]
    async fn accepts_rejects_and_answers_duplicates() {
        let bus = MemoryBus::default();
        let ingestor = Ingestor::new(Publisher::Memory(bus.clone()), Limits::default(), 10, 100);
        let r = ingestor
            .submit(
                &Caller::trusted(),
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
        // Only the rejected item is listed, with its index in the request.
        assert_eq!(r.results.len(), 1);
        assert_eq!(
            (r.results[0].index, r.results[0].field.as_str()),
            (1, "items[1].text")
        );
        assert_eq!(bus.snapshot(topics::MENTIONS_RAW).len(), 1);
        let dead = bus.snapshot(topics::DEADLETTER);
        let letter = DeadLetter::decode(dead[0].payload.as_deref().unwrap()).unwrap();
        assert_eq!(letter.field, "items[1].text");
        assert_eq!(letter.tenant, "acme");
        assert!(!letter.original.is_empty());
        // A later request repeating an accepted mention is a duplicate, not republished.
        let r = ingestor
            .submit(&Caller::trusted(), vec![mention("1", "hello")], "test")
            .await
            .unwrap();
        assert_eq!(r.duplicates, 1);
        assert_eq!(bus.snapshot(topics::MENTIONS_RAW).len(), 1);
    }

    #[tokio::test]
    async fn too_many_items_is_refused_whole() {
        let ingestor = Ingestor::new(Publisher::Memory(MemoryBus::default()), Limits::default(), 1, 100);
        let e = ingestor
            .submit(
                &Caller::trusted(),
                vec![mention("1", "a"), mention("2", "b")],
                "test",
            )
            .await
            .unwrap_err();
        assert!(e.to_string().contains("limit is 1"));
    }

    #[tokio::test]
    async fn every_item_is_bound_to_the_callers_tenant_inside_submit() {
        let bus = MemoryBus::default();
        let store = TokenStore::default();
        let (token, record) = vigie_core::tokens::make("acme", Role::Operator, "test").unwrap();
        store.upsert(record);
        let ingestor =
            Ingestor::new(Publisher::Memory(bus.clone()), Limits::default(), 10, 100).with_tokens(store);
        let caller = ingestor.authorize(Some(&format!("Bearer {token}"))).unwrap();
        assert_eq!(caller.tenant(), Some("acme"));
        let mut other = mention("2", "hello");
        if let Item::Mention(m) = &mut other.item {
            m.tenant = "globex".into();
        }
        let refused_for_other = Submitted {
            item: Item::Refused {
                error: FieldError::new("source", "unknown"),
                tenant: "globex".into(),
            },
            original: b"{}".to_vec(),
        };
        let r = ingestor
            .submit(
                &caller,
                vec![mention("1", "hello"), other, refused_for_other],
                "test",
            )
            .await
            .unwrap();
        assert_eq!((r.accepted, r.rejected), (1, 2));
        assert_eq!(r.results[0].field, "items[1].tenant");
        // Both refusals are filed under the caller's tenant, never under the one they named.
        let dead = bus.snapshot(topics::DEADLETTER);
        assert_eq!(dead.len(), 2);
        for d in dead {
            let letter = DeadLetter::decode(d.payload.as_deref().unwrap()).unwrap();
            assert_eq!(letter.tenant, "acme", "{letter:?}");
        }
    }
}
