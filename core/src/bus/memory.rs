//! In-process topics: an append-only log per topic with offsets, consumer groups and committed
//! positions, like a one-partition Kafka topic. Publishers wait (back-pressure) while a topic
//! holds more than its capacity of records not yet committed by every group.

use super::{BusError, InRecord, OutRecord};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Longest a publisher waits for room in a full topic.
pub const FULL_WAIT: Duration = Duration::from_secs(30);

/// In-process bus; clones share the same topics.
#[derive(Clone)]
pub struct MemoryBus {
    inner: Arc<Inner>,
}

struct Inner {
    topics: Mutex<HashMap<String, Topic>>,
    capacity: usize,
    /// Woken on every append to any topic (subscribers may follow several topics).
    appended: Notify,
}

/// A stored record: key and payload (`None` payload: a tombstone).
type Stored = (Option<Vec<u8>>, Option<Vec<u8>>);

struct Topic {
    /// Offset of `records[0]`.
    base: i64,
    records: VecDeque<Stored>,
    /// Committed position of each group.
    groups: HashMap<String, i64>,
    /// Number of live readers without a group (see [`Topic::trim`]).
    readers: usize,
    trimmed: Arc<Notify>,
}

impl Topic {
    fn new() -> Self {
        Self {
            base: 0,
            records: VecDeque::new(),
            groups: HashMap::new(),
            readers: 0,
            trimmed: Arc::new(Notify::new()),
        }
    }

    fn end(&self) -> i64 {
        self.base + self.records.len() as i64
    }

    /// Drops records every group has committed; with no group at all, keeps the last `capacity`.
    /// While readers outside any group follow a topic that has groups, the last half
    /// `capacity` records are kept too, so a follower is not skipped past records it has not
    /// read unless it lags that far (half: publishers still wait only on lagging groups).
    fn trim(&mut self, capacity: usize) {
        let keep_from = if self.groups.is_empty() {
            if self.readers > 0 {
                return;
            }
            self.end() - capacity as i64
        } else if self.readers > 0 {
            (*self.groups.values().min().unwrap_or(&0)).min(self.end() - (capacity / 2) as i64)
        } else {
            *self.groups.values().min().unwrap_or(&0)
        };
        while self.base < keep_from && !self.records.is_empty() {
            self.records.pop_front();
            self.base += 1;
        }
    }
}

impl Default for MemoryBus {
    fn default() -> Self {
        Self::with_capacity(100_000)
    }
}

impl MemoryBus {
    /// A bus whose topics hold at most `capacity` uncommitted records before publishers wait.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                topics: Mutex::new(HashMap::new()),
                capacity: capacity.max(1),
                appended: Notify::new(),
            }),
        }
    }

    fn with_topic<R>(&self, topic: &str, f: impl FnOnce(&mut Topic) -> R) -> R {
        let mut topics = self.inner.topics.lock().unwrap_or_else(|p| p.into_inner());
        f(topics.entry(topic.to_string()).or_insert_with(Topic::new))
    }

    /// Appends records, waiting while the topic is full (at most [`FULL_WAIT`], then failing:
    /// a consumer that stopped must not hang its publishers forever).
    pub async fn publish(&self, topic: &str, records: Vec<OutRecord>) -> Result<(), BusError> {
        let capacity = self.inner.capacity;
        for record in records {
            let deadline = tokio::time::Instant::now() + FULL_WAIT;
            loop {
                let trimmed = self.with_topic(topic, |t| t.trimmed.clone());
                // Register for the wake-up before checking, so a trim in between is not missed.
                let notified = trimmed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                let appended = self.with_topic(topic, |t| {
                    if !t.groups.is_empty() && t.records.len() >= capacity {
                        return false;
                    }
                    t.records
                        .push_back((Some(record.key.clone().into_bytes()), record.payload.clone()));
                    t.trim(capacity);
                    true
                });
                if appended {
                    self.inner.appended.notify_waiters();
                    break;
                }
                if tokio::time::timeout_at(deadline, notified).await.is_err() {
                    return Err(BusError::Publish {
                        topic: topic.to_string(),
                        message: format!("topic full ({capacity} records not consumed) for {FULL_WAIT:?}"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Subscribes as `group` (resuming at its committed position) or as a group-less reader from
    /// the beginning of what the topic still holds.
    pub fn subscribe(&self, topic: &str, group: Option<&str>) -> MemorySubscriber {
        self.subscribe_many(&[topic], group)
    }

    /// Like [`MemoryBus::subscribe`], following several topics at once.
    pub fn subscribe_many(&self, topics: &[&str], group: Option<&str>) -> MemorySubscriber {
        let cursors = topics
            .iter()
            .map(|topic| {
                let position = self.with_topic(topic, |t| match group {
                    Some(g) => *t.groups.entry(g.to_string()).or_insert(t.base),
                    None => {
                        t.readers += 1;
                        t.base
                    }
                });
                (topic.to_string(), position)
            })
            .collect();
        MemorySubscriber {
            bus: self.clone(),
            cursors,
            group: group.map(str::to_string),
            taken: Vec::new(),
            deadline: None,
        }
    }

    /// Records of `topic` not yet committed by `group` (everything, for an unknown group).
    pub fn pending(&self, topic: &str, group: &str) -> i64 {
        self.with_topic(topic, |t| t.end() - t.groups.get(group).copied().unwrap_or(0))
    }

    /// Every record currently held by `topic`, for tests and inspection.
    pub fn snapshot(&self, topic: &str) -> Vec<InRecord> {
        self.with_topic(topic, |t| {
            t.records
                .iter()
                .enumerate()
                .map(|(i, (k, p))| InRecord {
                    topic: topic.to_string(),
                    partition: 0,
                    offset: t.base + i as i64,
                    key: k.clone(),
                    payload: p.clone(),
                })
                .collect()
        })
    }
}

/// A subscription to one or more in-process topics.
pub struct MemorySubscriber {
    bus: MemoryBus,
    /// (topic, next position) per followed topic.
    cursors: Vec<(String, i64)>,
    group: Option<String>,
    /// Records read by a call of `next_batch` that was cancelled before returning them: the
    /// next call returns them first, so dropping that future loses nothing.
    taken: Vec<InRecord>,
    /// When the batch in `taken` is due.
    deadline: Option<tokio::time::Instant>,
}

impl MemorySubscriber {
    /// See [`super::Subscriber::next_batch`]; cancellation-safe.
    pub async fn next_batch(
        &mut self,
        max: usize,
        linger: Duration,
        cancel: &CancellationToken,
    ) -> Vec<InRecord> {
        if self.taken.is_empty() {
            self.deadline = None;
        }
        let bus = self.bus.clone();
        let out = &mut self.taken;
        loop {
            // Register for the wake-up before reading, so an append in between is not missed.
            let notified = bus.inner.appended.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            for (topic, position) in self.cursors.iter_mut() {
                bus.with_topic(topic, |t| {
                    if *position < t.base {
                        *position = t.base;
                    }
                    let start = (*position - t.base) as usize;
                    let take = t
                        .records
                        .len()
                        .saturating_sub(start)
                        .min(max.saturating_sub(out.len()));
                    for (i, (k, p)) in t.records.iter().skip(start).take(take).enumerate() {
                        out.push(InRecord {
                            topic: topic.clone(),
                            partition: 0,
                            offset: *position + i as i64,
                            key: k.clone(),
                            payload: p.clone(),
                        });
                    }
                    *position += take as i64;
                });
            }
            if out.len() >= max {
                {
                    self.deadline = None;
                    return std::mem::take(out);
                }
            }
            if out.is_empty() {
                tokio::select! {
                    _ = notified => {}
                    _ = cancel.cancelled() => {
                        self.deadline = None;
                        return std::mem::take(out);
                    }
                }
            } else {
                // Linger from the first record taken, across cancelled calls.
                let deadline = *self
                    .deadline
                    .get_or_insert_with(|| tokio::time::Instant::now() + linger);
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep_until(deadline) => {
                        self.deadline = None;
                        return std::mem::take(out);
                    }
                }
            }
        }
    }

    /// Records the group's committed positions and trims what every group has consumed.
    pub fn commit(&mut self, next: &HashMap<(String, i32), i64>) {
        let Some(group) = &self.group else { return };
        let capacity = self.bus.inner.capacity;
        for (topic, _) in &self.cursors {
            self.bus.with_topic(topic, |t| {
                if let Some(&pos) = next.get(&(topic.clone(), 0)) {
                    let committed = t.groups.entry(group.clone()).or_insert(0);
                    *committed = (*committed).max(pos);
                }
                t.trim(capacity);
                t.trimmed.notify_waiters();
            });
        }
    }

    /// The (first) topic's end offset, as partition 0.
    pub fn end_offsets(&self) -> HashMap<i32, i64> {
        let topic = self.cursors.first().map(|(t, _)| t.as_str()).unwrap_or_default();
        // 0 when every record was trimmed: there is nothing to wait for.
        let end = self
            .bus
            .with_topic(topic, |t| if t.records.is_empty() { 0 } else { t.end() });
        HashMap::from([(0, end)])
    }
}

impl Drop for MemorySubscriber {
    fn drop(&mut self) {
        if self.group.is_none() {
            let capacity = self.bus.inner.capacity;
            for (topic, _) in &self.cursors {
                self.bus.with_topic(topic, |t| {
                    t.readers = t.readers.saturating_sub(1);
                    t.trim(capacity);
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str) -> OutRecord {
        OutRecord::message(key, "test", key.as_bytes().to_vec())
    }

    #[tokio::test]
    async fn a_group_resumes_at_its_committed_position() {
        let bus = MemoryBus::default();
        let cancel = CancellationToken::new();
        let mut sub = bus.subscribe("t", Some("g"));
        bus.publish("t", vec![rec("a"), rec("b"), rec("c")])
            .await
            .unwrap();
        let batch = sub.next_batch(2, Duration::from_millis(10), &cancel).await;
        assert_eq!(batch.len(), 2);
        let mut positions = HashMap::new();
        positions.insert(("t".to_string(), 0), batch[0].offset + 1);
        sub.commit(&positions);
        drop(sub);
        // A restarted member of the group re-reads what was not committed.
        let mut again = bus.subscribe("t", Some("g"));
        let batch = again.next_batch(10, Duration::from_millis(10), &cancel).await;
        let keys: Vec<_> = batch.iter().map(|r| r.key_str()).collect();
        assert_eq!(keys, vec!["b", "c"]);
    }

    #[tokio::test]
    async fn publishers_wait_when_the_topic_is_full_until_a_commit() {
        let bus = MemoryBus::with_capacity(2);
        let cancel = CancellationToken::new();
        let mut sub = bus.subscribe("t", Some("g"));
        let publisher = bus.clone();
        let handle =
            tokio::spawn(async move { publisher.publish("t", vec![rec("a"), rec("b"), rec("c")]).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!handle.is_finished(), "third record must wait for room");
        let batch = sub.next_batch(10, Duration::from_millis(10), &cancel).await;
        assert_eq!(batch.len(), 2);
        let mut positions = HashMap::new();
        positions.insert(("t".to_string(), 0), 2);
        sub.commit(&positions);
        handle.await.unwrap().unwrap();
        let batch = sub.next_batch(10, Duration::from_millis(10), &cancel).await;
        assert_eq!(batch[0].key_str(), "c");
    }

    #[tokio::test]
    async fn next_batch_returns_empty_on_cancel() {
        let bus = MemoryBus::default();
        let cancel = CancellationToken::new();
        let mut sub = bus.subscribe("t", Some("g"));
        cancel.cancel();
        assert!(sub
            .next_batch(10, Duration::from_millis(10), &cancel)
            .await
            .is_empty());
    }
}
