//! The message bus: topics of keyed records, consumer groups and committed positions, behind
//! one interface with two transports chosen at assembly:
//!
//! - [`kafka`]: the services, over a Kafka-protocol broker;
//! - [`memory`]: `vigie standalone` and unit tests, in process.
//!
//! Stage logic never sees which one it runs over. Delivery is at least once: a stage commits a
//! batch only after its own outputs are durable, and every sink is idempotent by record id.

pub mod kafka;
pub mod memory;
mod outgoing;

pub use outgoing::Outgoing;

use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A bus failure, naming the topic and the operation.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Publishing to a topic failed (after the producer's own retries).
    #[error("cannot publish to {topic}: {message}")]
    Publish {
        /// Topic name.
        topic: String,
        /// What the transport reported.
        message: String,
    },
    /// Reading from a topic failed.
    #[error("cannot consume from {topic}: {message}")]
    Consume {
        /// Topic name.
        topic: String,
        /// What the transport reported.
        message: String,
    },
    /// Committing consumed positions failed.
    #[error("cannot commit positions on {topic}: {message}")]
    Commit {
        /// Topic name.
        topic: String,
        /// What the transport reported.
        message: String,
    },
    /// Setting up a client or a topic failed.
    #[error("bus setup failed: {0}")]
    Setup(String),
}

/// Reads `reader` (a group-less reader from the start) until it reached the end every partition
/// had when called, handing each record to `apply`; fails after 60 s. Some brokers (Tansu)
/// report a high watermark that lags the last batch: past it, reading goes on until the topic
/// has been quiet for 300 ms.
pub async fn catch_up(
    reader: &mut Subscriber,
    topic: &str,
    cancel: &CancellationToken,
    mut apply: impl FnMut(&InRecord),
) -> Result<(), BusError> {
    let ends = reader.end_offsets().await?;
    let mut positions: HashMap<i32, i64> = HashMap::new();
    let caught_up = |positions: &HashMap<i32, i64>| {
        ends.iter()
            .all(|(p, end)| *end == 0 || positions.get(p).map(|pos| pos + 1 >= *end).unwrap_or(false))
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while !caught_up(&positions) {
        if tokio::time::Instant::now() > deadline {
            return Err(BusError::Consume {
                topic: topic.into(),
                message: "did not catch up with the topic within 60 s".into(),
            });
        }
        // Bounded by the deadline: a partition whose end cannot be reached must fail start-up
        // with a reason, not hang it.
        let batch = match tokio::time::timeout_at(
            deadline,
            reader.next_batch(1_000, Duration::from_millis(20), cancel),
        )
        .await
        {
            Ok(batch) => batch?,
            Err(_) => continue,
        };
        if cancel.is_cancelled() {
            return Ok(());
        }
        for r in &batch {
            apply(r);
            positions.insert(r.partition, r.offset);
        }
    }
    while !cancel.is_cancelled() {
        let quiet = Duration::from_millis(300);
        match tokio::time::timeout(quiet, reader.next_batch(1_000, Duration::from_millis(20), cancel)).await {
            Ok(Ok(batch)) if !batch.is_empty() => batch.iter().for_each(&mut apply),
            _ => break,
        }
    }
    Ok(())
}

/// Reads `topic` from the beginning until caught up (see [`catch_up`]), handing each record to
/// `apply`, then keeps applying later records in a task until `cancel`: how every service
/// materialises a topic it follows (watches, tokens, alerts).
pub async fn materialise(
    bus: &Bus,
    topic: &'static str,
    cancel: CancellationToken,
    mut apply: impl FnMut(&InRecord) + Send + 'static,
) -> Result<tokio::task::JoinHandle<()>, BusError> {
    let mut reader = bus.read_from_start(topic)?;
    catch_up(&mut reader, topic, &cancel, &mut apply).await?;
    Ok(tokio::spawn(async move {
        loop {
            match reader.next_batch(1_000, Duration::from_millis(20), &cancel).await {
                Ok(batch) if batch.is_empty() && cancel.is_cancelled() => break,
                Ok(batch) => batch.iter().for_each(&mut apply),
                Err(e) => {
                    tracing::warn!("following {topic}: {e}; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }))
}

/// A record to publish.
#[derive(Debug, Clone)]
pub struct OutRecord {
    /// Partitioning key.
    pub key: String,
    /// Encoded message; `None` is a tombstone (deletes the key on a compacted topic).
    pub payload: Option<Vec<u8>>,
    /// Protobuf message type of the payload, carried as the `vigie-schema` header.
    pub schema: &'static str,
}

impl OutRecord {
    /// A record carrying an encoded protobuf message.
    pub fn message(key: impl Into<String>, schema: &'static str, payload: Vec<u8>) -> Self {
        Self {
            key: key.into(),
            payload: Some(payload),
            schema,
        }
    }
}

/// A consumed record and its position.
#[derive(Debug, Clone)]
pub struct InRecord {
    /// Topic it was read from.
    pub topic: String,
    /// Partition it was read from.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// Partitioning key, when present.
    pub key: Option<Vec<u8>>,
    /// Payload; `None` for a tombstone.
    pub payload: Option<Vec<u8>>,
}

impl InRecord {
    /// The key as text (lossy), for logs and dead letters.
    pub fn key_str(&self) -> String {
        self.key
            .as_deref()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default()
    }
}

/// A transport: creates publishers and subscriptions.
#[derive(Clone)]
pub enum Bus {
    /// In-process topics.
    Memory(memory::MemoryBus),
    /// A Kafka-protocol broker.
    Kafka(kafka::KafkaBus),
}

impl Bus {
    /// A publisher; cheap to clone and share between tasks.
    pub fn publisher(&self) -> Result<Publisher, BusError> {
        Ok(match self {
            Bus::Memory(bus) => Publisher::Memory(bus.clone()),
            Bus::Kafka(bus) => Publisher::Kafka(bus.publisher()?),
        })
    }

    /// Joins consumer group `group` on `topic`, resuming from the group's committed positions
    /// (or from the beginning for a new group). `stage` labels the lag metric.
    pub fn subscribe(&self, topic: &str, group: &str, stage: &'static str) -> Result<Subscriber, BusError> {
        self.subscribe_many(&[topic], group, stage)
    }

    /// Like [`Bus::subscribe`] over several topics keyed alike (e.g. a stage's input and its
    /// commands): one member owns the same partitions of each.
    pub fn subscribe_many(
        &self,
        topics: &[&str],
        group: &str,
        stage: &'static str,
    ) -> Result<Subscriber, BusError> {
        Ok(match self {
            Bus::Memory(bus) => Subscriber::Memory(bus.subscribe_many(topics, Some(group))),
            Bus::Kafka(bus) => Subscriber::Kafka(bus.subscribe(topics, group, stage)?),
        })
    }

    /// Reads `topic` from the beginning without a group (to materialise a compacted topic).
    pub fn read_from_start(&self, topic: &str) -> Result<Subscriber, BusError> {
        Ok(match self {
            Bus::Memory(bus) => Subscriber::Memory(bus.subscribe(topic, None)),
            Bus::Kafka(bus) => Subscriber::Kafka(bus.read_from_start(topic)?),
        })
    }

    /// Creates Vigie's topics when missing (a no-op in memory).
    pub async fn ensure_topics(&self) -> Result<(), BusError> {
        match self {
            Bus::Memory(_) => Ok(()),
            Bus::Kafka(bus) => bus.ensure_topics().await,
        }
    }
}

/// Publishes records; `publish` returns only once every record is durable on the bus.
#[derive(Clone)]
pub enum Publisher {
    /// In-process topics.
    Memory(memory::MemoryBus),
    /// A Kafka producer (acks=all, idempotent).
    Kafka(kafka::KafkaPublisher),
}

impl Publisher {
    /// Publishes `records` to `topic` and waits for every acknowledgement.
    pub async fn publish(&self, topic: &str, records: Vec<OutRecord>) -> Result<(), BusError> {
        if records.is_empty() {
            return Ok(());
        }
        match self {
            Publisher::Memory(bus) => bus.publish(topic, records).await,
            Publisher::Kafka(p) => p.publish(topic, records).await,
        }
    }

    /// Hands `records` to the transport now, in call order, and returns what resolves once they
    /// are acknowledged: a stage calls this in its batch order and awaits the acknowledgements
    /// in the batch's write task, so batches overlap without reordering a partition. Waits only
    /// while the transport's queue is full.
    pub async fn send(&self, topic: &str, records: &[OutRecord]) -> Result<Sending, BusError> {
        if records.is_empty() {
            return Ok(Sending::Done);
        }
        match self {
            Publisher::Memory(bus) => {
                bus.publish(topic, records.to_vec()).await?;
                Ok(Sending::Done)
            }
            Publisher::Kafka(p) => p.send(topic, records).await.map(Sending::Kafka),
        }
    }

    /// Waits until everything published so far is acknowledged (used at shutdown).
    pub async fn flush(&self) {
        if let Publisher::Kafka(p) = self {
            p.flush().await;
        }
    }
}

/// Counts a stage's batches whose writes are in flight, so that a Kafka member losing
/// partitions in a rebalance can wait for them: their checkpoints must land before the
/// partitions' new owner reads them (see `kafka::LagContext`; their commits may not, and those
/// batches are then read again).
#[derive(Debug, Default)]
pub struct WritesInFlight {
    count: std::sync::Mutex<usize>,
    idle: std::sync::Condvar,
}

impl WritesInFlight {
    /// Counts one write until the returned guard is dropped (even by a panic).
    pub fn started(self: &std::sync::Arc<Self>) -> WriteGuard {
        *self.count.lock().unwrap_or_else(|p| p.into_inner()) += 1;
        WriteGuard(self.clone())
    }

    /// Waits until no write is in flight, at most `timeout`; false when some still are.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let count = self.count.lock().unwrap_or_else(|p| p.into_inner());
        let (count, _) = self
            .idle
            .wait_timeout_while(count, timeout, |n| *n > 0)
            .unwrap_or_else(|p| p.into_inner());
        *count == 0
    }
}

/// One write counted by [`WritesInFlight`].
#[derive(Debug)]
pub struct WriteGuard(std::sync::Arc<WritesInFlight>);

impl Drop for WriteGuard {
    fn drop(&mut self) {
        let mut count = self.0.count.lock().unwrap_or_else(|p| p.into_inner());
        *count = count.saturating_sub(1);
        if *count == 0 {
            self.0.idle.notify_all();
        }
    }
}

/// Next offset to read per (topic, partition): what a commit stores.
pub type Positions = HashMap<(String, i32), i64>;

/// The positions just after `batch`: per partition, one past its highest offset.
pub fn positions_after(batch: &[InRecord]) -> Positions {
    let mut next = Positions::new();
    for r in batch {
        let e = next.entry((r.topic.clone(), r.partition)).or_insert(r.offset + 1);
        *e = (*e).max(r.offset + 1);
    }
    next
}

/// Records handed to the transport by [`Publisher::send`], not yet acknowledged.
pub enum Sending {
    /// Already durable (in process).
    Done,
    /// Awaiting the broker's acknowledgements.
    Kafka(kafka::Acks),
}

impl Sending {
    /// Resolves once every record is acknowledged, or with the first failure.
    pub async fn acknowledged(self) -> Result<(), BusError> {
        match self {
            Sending::Done => Ok(()),
            Sending::Kafka(acks) => acks.wait().await,
        }
    }
}

/// A subscription to one topic: yields batches and commits positions.
pub enum Subscriber {
    /// In-process topics.
    Memory(memory::MemorySubscriber),
    /// A Kafka consumer.
    Kafka(kafka::KafkaSubscriber),
}

impl Subscriber {
    /// Waits for at least one record (or cancellation, returning an empty batch), then gathers up
    /// to `max` records for at most `linger`.
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
        cancel: &CancellationToken,
    ) -> Result<Vec<InRecord>, BusError> {
        match self {
            Subscriber::Memory(s) => Ok(s.next_batch(max, linger, cancel).await),
            Subscriber::Kafka(s) => s.next_batch(max, linger, cancel).await,
        }
    }

    /// The gauge this subscription's stage counts its in-flight writes on (waited for before
    /// partitions are given up in a rebalance).
    pub fn writes(&self) -> std::sync::Arc<WritesInFlight> {
        match self {
            Subscriber::Memory(_) => Default::default(),
            Subscriber::Kafka(s) => s.writes(),
        }
    }

    /// How many rebalance events this subscription went through (always 0 in memory, where one
    /// subscriber owns everything): a change means partitions may have moved here or away.
    pub fn assignments(&self) -> u64 {
        match self {
            Subscriber::Memory(_) => 0,
            Subscriber::Kafka(s) => s.assignments(),
        }
    }

    /// Commits the positions just after `batch` (per partition) for the group.
    pub async fn commit(&mut self, batch: &[InRecord]) -> Result<(), BusError> {
        self.commit_positions(&positions_after(batch)).await
    }

    /// Commits `next` (per topic and partition, the next offset to read) for the group.
    pub async fn commit_positions(&mut self, next: &Positions) -> Result<(), BusError> {
        if next.is_empty() {
            return Ok(());
        }
        match self {
            Subscriber::Memory(s) => {
                s.commit(next);
                Ok(())
            }
            Subscriber::Kafka(s) => s.commit(next).await,
        }
    }

    /// End offset (next offset to be written) of every partition of the topic, to detect when a
    /// reader has caught up; 0 for a partition with nothing left to read.
    pub async fn end_offsets(&self) -> Result<HashMap<i32, i64>, BusError> {
        match self {
            Subscriber::Memory(s) => Ok(s.end_offsets()),
            Subscriber::Kafka(s) => s.end_offsets().await,
        }
    }
}
