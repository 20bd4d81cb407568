//! The Kafka transport (librdkafka through `rdkafka`): an idempotent producer with `acks=all`,
//! consumers in groups with manual commits, and topic creation.
//!
//! Nothing here relies on a broker-specific behaviour: it runs on Apache Kafka, Redpanda and
//! Tansu. Transactions are deliberately not used; delivery is at least once and every sink is
//! idempotent by record id.

use super::{BusError, InRecord, OutRecord};
use crate::config::KafkaConfig;
use crate::metrics::StageMetrics;
use crate::topics;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::statistics::Statistics;
use rdkafka::{Message, Offset, TopicPartitionList};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const METADATA_TIMEOUT: Duration = Duration::from_secs(10);
/// Creation requests per missing topic before giving up.
const TOPIC_ATTEMPTS: u32 = 5;

/// Connection settings shared by the publishers and subscriptions of one process.
#[derive(Clone)]
pub struct KafkaBus {
    config: KafkaConfig,
}

impl KafkaBus {
    /// A bus over the brokers of `config`.
    pub fn new(config: KafkaConfig) -> Self {
        Self { config }
    }

    fn base(&self, role: &str) -> ClientConfig {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", &self.config.brokers)
            .set("client.id", format!("{}-{role}", self.config.client_id));
        c
    }

    /// An idempotent producer that waits for all in-sync replicas.
    pub fn publisher(&self) -> Result<KafkaPublisher, BusError> {
        Ok(KafkaPublisher {
            producer: Arc::new(std::sync::RwLock::new(self.producer()?)),
            fenced: Arc::new(std::sync::atomic::AtomicBool::new(false)),
            bus: self.clone(),
            timeout: Duration::from_millis(self.config.delivery_timeout_ms),
        })
    }

    fn producer(&self) -> Result<FutureProducer, BusError> {
        let mut config = self.base("producer");
        config
            .set("acks", "all")
            .set("enable.idempotence", self.config.idempotence.to_string())
            .set("compression.type", &self.config.compression)
            .set("linger.ms", "5")
            .set("message.timeout.ms", self.config.delivery_timeout_ms.to_string());
        if !self.config.idempotence {
            // Without sequence numbers, only one request in flight keeps a retry in order.
            config.set("max.in.flight.requests.per.connection", "1");
        }
        config
            .create()
            .map_err(|e| BusError::Setup(format!("cannot create producer for {}: {e}", self.config.brokers)))
    }

    /// A consumer in `group` subscribed to `topics`, committing only when told to. Topics keyed
    /// alike with equal partition counts are assigned partition by partition to the same member
    /// (range assignment), so one member sees all of a tenant's records across them.
    pub fn subscribe(
        &self,
        topics: &[&str],
        group: &str,
        stage: &'static str,
    ) -> Result<KafkaSubscriber, BusError> {
        let topic = topics.join(",");
        let consumer: StreamConsumer<LagContext> = self
            .base(stage)
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "10000")
            .set("partition.assignment.strategy", "range")
            .set("statistics.interval.ms", "5000")
            .create_with_context(LagContext {
                metrics: StageMetrics::new(stage),
                assignments: Arc::new(AtomicU64::new(0)),
                writes: Arc::default(),
            })
            .map_err(|e| BusError::Setup(format!("cannot create consumer for {topic}: {e}")))?;
        consumer.subscribe(topics).map_err(|e| BusError::Consume {
            topic: topic.clone(),
            message: format!("subscribe as group {group}: {e}"),
        })?;
        Ok(KafkaSubscriber {
            consumer,
            topic: topic.to_string(),
            taken: Vec::new(),
            taken_in: 0,
            deadline: None,
        })
    }

    /// A group-less consumer assigned every partition of `topic` from the beginning.
    pub fn read_from_start(&self, topic: &str) -> Result<KafkaSubscriber, BusError> {
        let group = format!("vigie-reader-{}-{}", std::process::id(), crate::now_ms());
        let consumer: StreamConsumer<LagContext> = self
            .base("reader")
            .set("group.id", group)
            .set("enable.auto.commit", "false")
            .set("auto.offset.reset", "earliest")
            .create_with_context(LagContext {
                metrics: StageMetrics::new("reader"),
                assignments: Arc::new(AtomicU64::new(0)),
                writes: Arc::default(),
            })
            .map_err(|e| BusError::Setup(format!("cannot create reader for {topic}: {e}")))?;
        let metadata = tokio::task::block_in_place(|| consumer.fetch_metadata(Some(topic), METADATA_TIMEOUT))
            .map_err(|e| BusError::Consume {
                topic: topic.to_string(),
                message: format!("metadata: {e}"),
            })?;
        let mut assignment = TopicPartitionList::new();
        for t in metadata.topics() {
            for p in t.partitions() {
                assignment
                    .add_partition_offset(topic, p.id(), Offset::Beginning)
                    .map_err(|e| BusError::Setup(e.to_string()))?;
            }
        }
        if assignment.count() == 0 {
            return Err(BusError::Consume {
                topic: topic.to_string(),
                message: "topic has no partitions (does it exist? run `vigie migrate` or start ingest first)"
                    .into(),
            });
        }
        consumer.assign(&assignment).map_err(|e| BusError::Consume {
            topic: topic.to_string(),
            message: format!("assign: {e}"),
        })?;
        Ok(KafkaSubscriber {
            consumer,
            topic: topic.to_string(),
            taken: Vec::new(),
            taken_in: 0,
            deadline: None,
        })
    }

    /// Creates Vigie's topics when missing; `vigie.watches` is compacted.
    pub async fn ensure_topics(&self) -> Result<(), BusError> {
        let topics: Vec<(&str, i32, bool)> = topics::ALL
            .iter()
            .map(|(name, compacted)| {
                let partitions = if *compacted { 1 } else { self.config.partitions };
                (*name, partitions, *compacted)
            })
            .collect();
        self.create_topics(&topics).await
    }

    /// Creates each (name, partitions, compacted) topic that is missing. Topics the broker
    /// already lists are not asked for (a broker may answer a request for an existing topic
    /// with another error than "already exists": Tansu on S3 storage did, under load); a
    /// failed creation is checked against the broker's topics again and retried a few times
    /// before it is an error.
    pub async fn create_topics(&self, wanted: &[(&str, i32, bool)]) -> Result<(), BusError> {
        // When the broker's topics cannot be listed, every topic is asked for.
        let existing = self.existing_topics().await.unwrap_or_default();
        let mut missing: Vec<&(&str, i32, bool)> = wanted
            .iter()
            .filter(|(name, ..)| !existing.contains(*name))
            .collect();
        for attempt in 1..=TOPIC_ATTEMPTS {
            if missing.is_empty() {
                return Ok(());
            }
            let failed = match self.create_once(&missing).await {
                Ok(failed) if failed.is_empty() => return Ok(()),
                Ok(failed) => failed,
                Err(e) if attempt == TOPIC_ATTEMPTS => return Err(e),
                // The whole request failed (the broker restarting, a timeout): every topic again.
                Err(e) => {
                    tracing::warn!("{e}; trying again");
                    tokio::time::sleep(Duration::from_millis(500 * attempt as u64)).await;
                    continue;
                }
            };
            let existing = self.existing_topics().await.unwrap_or_default();
            missing.retain(|(name, ..)| failed.iter().any(|(f, _)| f == name) && !existing.contains(*name));
            if let Some((name, code)) = failed.iter().find(|(f, _)| missing.iter().any(|(m, ..)| m == f)) {
                if attempt == TOPIC_ATTEMPTS {
                    return Err(BusError::Setup(format!(
                        "cannot create topic {name} on {}: {code} (after {TOPIC_ATTEMPTS} attempts)",
                        self.config.brokers
                    )));
                }
                tracing::warn!("cannot create topic {name} yet: {code}; trying again");
                tokio::time::sleep(Duration::from_millis(500 * attempt as u64)).await;
            }
        }
        Ok(())
    }

    /// One creation request for `topics`: the ones that failed, with why (an existing topic is
    /// not a failure).
    async fn create_once(
        &self,
        topics: &[&(&str, i32, bool)],
    ) -> Result<Vec<(String, RDKafkaErrorCode)>, BusError> {
        let admin: AdminClient<DefaultClientContext> = self.base("admin").create().map_err(|e| {
            BusError::Setup(format!(
                "cannot create admin client for {}: {e}",
                self.config.brokers
            ))
        })?;
        let new_topics: Vec<NewTopic> = topics
            .iter()
            .map(|(name, partitions, compacted)| {
                let t = NewTopic::new(
                    name,
                    *partitions,
                    TopicReplication::Fixed(self.config.replication_factor),
                );
                if *compacted {
                    t.set("cleanup.policy", "compact")
                } else {
                    t
                }
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(METADATA_TIMEOUT));
        let results = admin
            .create_topics(new_topics.iter(), &opts)
            .await
            .map_err(|e| BusError::Setup(format!("cannot create topics on {}: {e}", self.config.brokers)))?;
        let mut failed = Vec::new();
        for result in results {
            match result {
                Ok(name) => tracing::info!("created topic {name}"),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => failed.push((name, code)),
            }
        }
        Ok(failed)
    }

    /// The topics the broker lists with at least one partition.
    async fn existing_topics(&self) -> Result<std::collections::HashSet<String>, BusError> {
        let config = self.base("admin");
        let brokers = self.config.brokers.clone();
        tokio::task::spawn_blocking(move || {
            let consumer: BaseConsumer = config
                .create()
                .map_err(|e| BusError::Setup(format!("cannot create a client for {brokers}: {e}")))?;
            let metadata = consumer
                .fetch_metadata(None, METADATA_TIMEOUT)
                .map_err(|e| BusError::Setup(format!("cannot list the topics of {brokers}: {e}")))?;
            Ok(metadata
                .topics()
                .iter()
                .filter(|t| t.error().is_none() && !t.partitions().is_empty())
                .map(|t| t.name().to_string())
                .collect())
        })
        .await
        .map_err(|e| BusError::Setup(format!("listing topics panicked: {e}")))?
    }
}

/// Publishes to Kafka; cheap to clone.
#[derive(Clone)]
pub struct KafkaPublisher {
    /// Shared by the clones, replaced when it hits a fatal error.
    producer: Arc<std::sync::RwLock<FutureProducer>>,
    /// Set when the broker refused a record of this producer's id for good (see `Acks::wait`).
    fenced: Arc<std::sync::atomic::AtomicBool>,
    bus: KafkaBus,
    timeout: Duration,
}

impl KafkaPublisher {
    /// The current producer. One that hit a fatal error, or whose id the broker fenced (an
    /// idempotent producer then has every later record refused), is replaced by a new one
    /// first — a new producer id — so the retries of the records it failed can succeed.
    fn current(&self) -> Result<FutureProducer, BusError> {
        let producer = self.producer.read().unwrap_or_else(|p| p.into_inner()).clone();
        let fatal = producer.client().fatal_error();
        if fatal.is_none() && !self.fenced.load(Ordering::SeqCst) {
            return Ok(producer);
        }
        let mut slot = self.producer.write().unwrap_or_else(|p| p.into_inner());
        // Another clone may have replaced it meanwhile.
        let fatal = slot.client().fatal_error();
        if fatal.is_some() || self.fenced.swap(false, Ordering::SeqCst) {
            let why = fatal.map_or_else(
                || "fenced by the broker".to_string(),
                |(c, r)| format!("{c}: {r}"),
            );
            tracing::warn!("producer unusable ({why}); replacing it");
            crate::metrics::producer_replaced();
            *slot = self.bus.producer()?;
        }
        Ok(slot.clone())
    }

    /// Sends every record and waits until the broker acknowledged all of them.
    pub async fn publish(&self, topic: &str, records: Vec<OutRecord>) -> Result<(), BusError> {
        self.send(topic, &records).await?.wait().await
    }

    /// Enqueues every record in order (waiting only while librdkafka's queue is full) and
    /// returns their pending acknowledgements.
    pub async fn send(&self, topic: &str, records: &[OutRecord]) -> Result<Acks, BusError> {
        let producer = self.current()?;
        let mut pending = Vec::with_capacity(records.len());
        for r in records {
            let headers = OwnedHeaders::new().insert(Header {
                key: topics::SCHEMA_HEADER,
                value: Some(r.schema),
            });
            let mut record = FutureRecord::<str, [u8]>::to(topic)
                .key(r.key.as_str())
                .headers(headers);
            if let Some(p) = &r.payload {
                record = record.payload(p.as_slice());
            }
            let queued_at = tokio::time::Instant::now();
            loop {
                match producer.send_result(record) {
                    Ok(delivery) => {
                        pending.push(delivery);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                        if queued_at.elapsed() < self.timeout =>
                    {
                        record = back;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    Err((e, _)) => {
                        return Err(BusError::Publish {
                            topic: topic.to_string(),
                            message: format!("cannot enqueue: {e}"),
                        })
                    }
                }
            }
        }
        Ok(Acks {
            topic: topic.to_string(),
            pending,
            fenced: self.fenced.clone(),
        })
    }

    /// Waits for outstanding deliveries.
    pub async fn flush(&self) {
        let producer = self.producer.read().unwrap_or_else(|p| p.into_inner()).clone();
        let timeout = self.timeout;
        let _ = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
    }
}

/// Acknowledgements still to come for records enqueued by [`KafkaPublisher::send`].
pub struct Acks {
    topic: String,
    pending: Vec<rdkafka::producer::DeliveryFuture>,
    fenced: Arc<std::sync::atomic::AtomicBool>,
}

impl Acks {
    /// Waits for every acknowledgement; fails naming how many were not acknowledged.
    pub async fn wait(self) -> Result<(), BusError> {
        let total = self.pending.len();
        let results = futures::future::join_all(self.pending).await;
        let mut failed = 0;
        let mut first: Option<String> = None;
        for r in results {
            let error = match r {
                Ok(Ok(_)) => continue,
                Ok(Err((e, _))) => {
                    if let KafkaError::MessageProduction(code) = &e {
                        if matches!(
                            code,
                            RDKafkaErrorCode::ProducerFenced
                                | RDKafkaErrorCode::InvalidProducerEpoch
                                | RDKafkaErrorCode::OutOfOrderSequenceNumber
                                | RDKafkaErrorCode::UnknownProducerId
                        ) {
                            self.fenced.store(true, Ordering::SeqCst);
                        }
                    }
                    e.to_string()
                }
                Err(_) => "the producer was dropped".to_string(),
            };
            failed += 1;
            first.get_or_insert(error);
        }
        match first {
            None => Ok(()),
            Some(e) => Err(BusError::Publish {
                topic: self.topic,
                message: format!("{failed} of {total} records not acknowledged: {e}"),
            }),
        }
    }
}

/// A Kafka consumer for one topic.
pub struct KafkaSubscriber {
    consumer: StreamConsumer<LagContext>,
    topic: String,
    /// Records received by a `next_batch` call dropped before it returned (see there).
    taken: Vec<InRecord>,
    /// The assignment count when `taken` was received: records taken before a rebalance are
    /// dropped (their partition's owner fetches them again from the committed position).
    taken_in: u64,
    /// When the batch being filled is due.
    deadline: Option<tokio::time::Instant>,
}

impl KafkaSubscriber {
    /// See [`super::Subscriber::next_batch`]; cancellation-safe: records received by a call
    /// dropped before it returned are kept and returned by the next call (with the same
    /// deadline), unless a rebalance happened since.
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<InRecord>, BusError> {
        if self.taken_in != self.assignments() {
            self.taken.clear();
        }
        if self.taken.is_empty() {
            let first = tokio::select! {
                m = self.consumer.recv() => m,
                _ = cancel.cancelled() => return Ok(Vec::new()),
            };
            let first = owned(&self.topic, first)?;
            // After `recv`, which runs the rebalance callbacks.
            self.taken_in = self.assignments();
            self.taken.push(first);
            self.deadline = Some(tokio::time::Instant::now() + linger);
        }
        let deadline = *self
            .deadline
            .get_or_insert_with(|| tokio::time::Instant::now() + linger);
        while self.taken.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(m)) => {
                    let record = owned(&self.topic, Ok(m))?;
                    let now = self.assignments();
                    if now != self.taken_in {
                        self.taken.clear();
                        self.taken_in = now;
                    }
                    self.taken.push(record);
                }
                // Never drop what was already received: the consumer's position is past it, so
                // losing it here would skip it at the next commit. Return it; the error, if it
                // persists, comes back on the next call.
                Ok(Err(e)) => {
                    tracing::warn!(topic = %self.topic, "while filling a batch: {e}");
                    break;
                }
                Err(_) => break,
            }
        }
        self.deadline = None;
        // A rebalance during the last wait (a revocation discards the partitions' queued
        // records, so none may have come since): what was taken before it is not ours to hand on.
        if self.taken_in != self.assignments() {
            self.taken.clear();
        }
        Ok(std::mem::take(&mut self.taken))
    }

    /// See [`super::Subscriber::writes`].
    pub fn writes(&self) -> Arc<super::WritesInFlight> {
        self.consumer.context().writes.clone()
    }

    /// Commits the given next positions synchronously, for the partitions this member still
    /// owns (a revoked partition's position is its new owner's to commit; between a revocation
    /// and the next assignment nothing is owned, and the uncommitted batches are read again).
    pub async fn commit(&mut self, next: &HashMap<(String, i32), i64>) -> Result<(), BusError> {
        let owned = self.consumer.assignment().ok();
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            if let Some(owned) = &owned {
                if owned.find_partition(topic, *partition).is_none() {
                    continue;
                }
            }
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))
                .map_err(|e| BusError::Commit {
                    topic: topic.clone(),
                    message: e.to_string(),
                })?;
        }
        if tpl.count() == 0 {
            return Ok(());
        }
        tokio::task::block_in_place(|| self.consumer.commit(&tpl, CommitMode::Sync)).map_err(|e| {
            BusError::Commit {
                topic: self.topic.clone(),
                message: e.to_string(),
            }
        })
    }

    /// How many rebalance events (revocations and assignments) this member went through: a
    /// change means partitions (and their state) may have moved here or away.
    pub fn assignments(&self) -> u64 {
        self.consumer.context().assignments.load(Ordering::SeqCst)
    }

    /// High watermark of every partition of the topic; 0 for a partition holding nothing to read
    /// (empty, or every record deleted by retention).
    pub async fn end_offsets(&self) -> Result<HashMap<i32, i64>, BusError> {
        let err = |e: KafkaError| BusError::Consume {
            topic: self.topic.clone(),
            message: format!("watermarks: {e}"),
        };
        tokio::task::block_in_place(|| {
            let metadata = self
                .consumer
                .fetch_metadata(Some(&self.topic), METADATA_TIMEOUT)
                .map_err(err)?;
            let mut out = HashMap::new();
            for t in metadata.topics() {
                for p in t.partitions() {
                    let (low, high) = self
                        .consumer
                        .fetch_watermarks(&self.topic, p.id(), METADATA_TIMEOUT)
                        .map_err(err)?;
                    out.insert(p.id(), if low >= high { 0 } else { high });
                }
            }
            Ok(out)
        })
    }
}

fn owned(
    topic: &str,
    m: Result<rdkafka::message::BorrowedMessage<'_>, KafkaError>,
) -> Result<InRecord, BusError> {
    let m = m.map_err(|e| BusError::Consume {
        topic: topic.to_string(),
        message: e.to_string(),
    })?;
    Ok(InRecord {
        topic: m.topic().to_string(),
        partition: m.partition(),
        offset: m.offset(),
        key: m.key().map(<[u8]>::to_vec),
        payload: m.payload().map(<[u8]>::to_vec),
    })
}

/// Consumer context that reports consumer lag from librdkafka statistics, logs rebalances, and
/// holds a revocation until the stage's in-flight writes are done.
pub struct LagContext {
    metrics: StageMetrics,
    /// Number of rebalance events (revocations and assignments) seen.
    assignments: Arc<AtomicU64>,
    /// The stage's batches being written.
    writes: Arc<super::WritesInFlight>,
}

/// Longest a member losing partitions waits for its in-flight writes.
const REVOKE_WAIT: Duration = Duration::from_secs(15);

impl ClientContext for LagContext {
    fn stats(&self, statistics: Statistics) {
        for (topic, t) in &statistics.topics {
            for (partition, p) in &t.partitions {
                if *partition >= 0 && p.consumer_lag >= 0 {
                    self.metrics.lag(topic, *partition, p.consumer_lag);
                }
            }
        }
    }
}

impl ConsumerContext for LagContext {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(tpl) => {
                // The new owners restore state from the checkpoints and resume from the
                // commits: this member's batches in flight must land first, or a late
                // checkpoint would overwrite a newer one. Runs inside `recv`, on a runtime
                // worker: let the runtime move its other tasks (the writes) away meanwhile.
                let wait = || self.writes.wait_idle(REVOKE_WAIT);
                let multi = tokio::runtime::Handle::try_current()
                    .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
                let idle = if multi {
                    tokio::task::block_in_place(wait)
                } else {
                    wait()
                };
                if !idle {
                    self.metrics.error("revoke_wait");
                    tracing::warn!(
                        stage = self.metrics.stage(),
                        "partitions revoked while writes were still in flight after {REVOKE_WAIT:?}"
                    );
                }
                // Records taken before this are dropped by `next_batch` (see `taken_in`).
                self.assignments.fetch_add(1, Ordering::SeqCst);
                tracing::info!(
                    stage = self.metrics.stage(),
                    "partitions revoked: {}",
                    tpl.count()
                )
            }
            Rebalance::Assign(tpl) => {
                self.assignments.fetch_add(1, Ordering::SeqCst);
                tracing::info!(
                    stage = self.metrics.stage(),
                    "partitions assigned: {}",
                    tpl.count()
                )
            }
            Rebalance::Error(e) => tracing::warn!(stage = self.metrics.stage(), "rebalance error: {e}"),
        }
    }
}
