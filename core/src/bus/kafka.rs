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
        let producer: FutureProducer = self
            .base("producer")
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("compression.type", &self.config.compression)
            .set("linger.ms", "5")
            .set("message.timeout.ms", self.config.delivery_timeout_ms.to_string())
            .create()
            .map_err(|e| {
                BusError::Setup(format!("cannot create producer for {}: {e}", self.config.brokers))
            })?;
        Ok(KafkaPublisher {
            producer,
            timeout: Duration::from_millis(self.config.delivery_timeout_ms),
        })
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
            })
            .map_err(|e| BusError::Setup(format!("cannot create consumer for {topic}: {e}")))?;
        consumer.subscribe(topics).map_err(|e| BusError::Consume {
            topic: topic.clone(),
            message: format!("subscribe as group {group}: {e}"),
        })?;
        Ok(KafkaSubscriber {
            consumer,
            topic: topic.to_string(),
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
        })
    }

    /// Creates Vigie's topics when missing; `vigie.watches` is compacted.
    pub async fn ensure_topics(&self) -> Result<(), BusError> {
        let admin: AdminClient<DefaultClientContext> = self.base("admin").create().map_err(|e| {
            BusError::Setup(format!(
                "cannot create admin client for {}: {e}",
                self.config.brokers
            ))
        })?;
        let new_topics: Vec<NewTopic> = topics::ALL
            .iter()
            .map(|(name, compacted)| {
                let partitions = if *compacted { 1 } else { self.config.partitions };
                let t = NewTopic::new(
                    name,
                    partitions,
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
        for result in results {
            match result {
                Ok(name) => tracing::info!("created topic {name}"),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(BusError::Setup(format!("cannot create topic {name}: {code}")));
                }
            }
        }
        Ok(())
    }
}

/// Publishes to Kafka; cheap to clone.
#[derive(Clone)]
pub struct KafkaPublisher {
    producer: FutureProducer,
    timeout: Duration,
}

impl KafkaPublisher {
    /// Sends every record and waits until the broker acknowledged all of them.
    pub async fn publish(&self, topic: &str, records: Vec<OutRecord>) -> Result<(), BusError> {
        let sends = records.iter().map(|r| {
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
            self.producer.send(record, self.timeout)
        });
        let results = futures::future::join_all(sends).await;
        let failed: Vec<KafkaError> = results
            .into_iter()
            .filter_map(|r| r.err().map(|(e, _)| e))
            .collect();
        match failed.first() {
            None => Ok(()),
            Some(e) => Err(BusError::Publish {
                topic: topic.to_string(),
                message: format!(
                    "{} of {} records not acknowledged: {e}",
                    failed.len(),
                    records.len()
                ),
            }),
        }
    }

    /// Waits for outstanding deliveries.
    pub async fn flush(&self) {
        let producer = self.producer.clone();
        let timeout = self.timeout;
        let _ = tokio::task::spawn_blocking(move || producer.flush(timeout)).await;
    }
}

/// A Kafka consumer for one topic.
pub struct KafkaSubscriber {
    consumer: StreamConsumer<LagContext>,
    topic: String,
}

impl KafkaSubscriber {
    /// See [`super::Subscriber::next_batch`].
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<InRecord>, BusError> {
        let mut out = Vec::new();
        let first = tokio::select! {
            m = self.consumer.recv() => m,
            _ = cancel.cancelled() => return Ok(out),
        };
        out.push(self.owned(first)?);
        let deadline = tokio::time::Instant::now() + linger;
        while out.len() < max {
            match tokio::time::timeout_at(deadline, self.consumer.recv()).await {
                Ok(Ok(m)) => out.push(self.owned(Ok(m))?),
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
        Ok(out)
    }

    fn owned(
        &self,
        m: Result<rdkafka::message::BorrowedMessage<'_>, KafkaError>,
    ) -> Result<InRecord, BusError> {
        let m = m.map_err(|e| BusError::Consume {
            topic: self.topic.clone(),
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

    /// Commits the given next positions synchronously.
    pub async fn commit(&mut self, next: &HashMap<(String, i32), i64>) -> Result<(), BusError> {
        let mut tpl = TopicPartitionList::new();
        for ((topic, partition), offset) in next {
            tpl.add_partition_offset(topic, *partition, Offset::Offset(*offset))
                .map_err(|e| BusError::Commit {
                    topic: topic.clone(),
                    message: e.to_string(),
                })?;
        }
        tokio::task::block_in_place(|| self.consumer.commit(&tpl, CommitMode::Sync)).map_err(|e| {
            BusError::Commit {
                topic: self.topic.clone(),
                message: e.to_string(),
            }
        })
    }

    /// How many partition assignments this member received so far: a change means a rebalance
    /// may have moved partitions (and their state) here.
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

/// Consumer context that reports consumer lag from librdkafka statistics and logs rebalances.
pub struct LagContext {
    metrics: StageMetrics,
    /// Number of partition assignments received (rebalances that gave this member partitions).
    assignments: Arc<AtomicU64>,
}

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
            Rebalance::Revoke(tpl) => tracing::info!(
                stage = self.metrics.stage(),
                "partitions revoked: {}",
                tpl.count()
            ),
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
