//! The consuming-stage skeleton shared by enrich, alerting, the receivers and the watch mirror:
//! take a batch, let the stage compute its outputs, write them while the next batches are
//! taken, and commit each batch once it and every earlier batch are durable.
//!
//! Two halves per batch, given by the stage's `handle`:
//!
//! - the **compute** half runs in the loop, one batch at a time and in input order (scoring,
//!   the alerting engine), and hands its records to the bus in that order;
//! - the **write** half (awaiting acknowledgements, ClickHouse inserts, checkpoints) runs as a
//!   task of its own, with up to [`Pipeline::in_flight`] batches' writes at once.
//!
//! Offsets are committed in input order, a batch only after its write finished and every
//! earlier batch was committed, so a crash redelivers at most the in-flight batches and never
//! skips one. When the bound is reached the loop stops taking input (back-pressure) and asks
//! the stage's buffering sinks to write what they hold ([`Flush`]): a full pipeline is waiting
//! on them. Before a batch that follows a rebalance, every in-flight batch is finished first, so
//! state restored for the new assignment includes this member's own last writes.
//!
//! At shutdown no new batch is taken; the in-flight ones are finished and committed (when some
//! left their commit to a later batch, the stage gets one last, empty batch to write what
//! covers them). A write that keeps failing past the grace period is abandoned and its batch,
//! left uncommitted, is redelivered after restart.

use crate::bus::{positions_after, InRecord, Positions, Subscriber, WritesInFlight};
use crate::config::StageConfig;
use crate::metrics::StageMetrics;
use crate::retry::Abandoned;
use futures::stream::{FuturesOrdered, StreamExt};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Failpoint for crash tests: when this environment variable holds N, the process aborts after
/// writing the outputs of its N-th batch and before committing it — the worst moment to crash,
/// which forces a redelivery (of that batch and of the ones in flight behind it). Never set in
/// production.
pub const ABORT_BEFORE_COMMIT_ENV: &str = "VIGIE_FAILPOINT_ABORT_BEFORE_COMMIT";

/// How long a stage whose finished batches left their commit to a later one waits for more
/// input before writing what covers them (see [`Written::commit`]).
pub const IDLE_COMMIT: Duration = Duration::from_millis(500);

/// How long in-flight writes may keep retrying after shutdown was requested.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

/// The token a stage gives up its writes on: `cancel`, then [`SHUTDOWN_GRACE`].
pub fn drain_token(cancel: &CancellationToken) -> CancellationToken {
    crate::shutdown::with_grace(cancel, SHUTDOWN_GRACE)
}

/// Batching settings of a consuming loop.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Most records per batch.
    pub max: usize,
    /// How long a batch waits to fill.
    pub linger: Duration,
}

/// A sink that gathers writes before sending them (a ClickHouse table writer): told to send
/// what it holds now when the pipeline is full and waiting on it.
pub trait Flush: Send + Sync {
    /// Sends what is buffered without waiting for its size or time bound (returns at once).
    fn flush(&self);
}

/// How a consuming loop batches and overlaps its batches.
#[derive(Clone)]
pub struct Pipeline {
    /// Batch size and linger.
    pub batching: Batching,
    /// Most batches computed and not yet committed; 1 handles one batch at a time.
    pub in_flight: usize,
    /// Sinks flushed when `in_flight` is reached.
    pub flush_when_full: Vec<Arc<dyn Flush>>,
}

impl Pipeline {
    /// A stage's pipeline as `[enrich]` or `[alerting]` configure it, flushing `sinks` when full.
    pub fn from_config(config: &StageConfig, sinks: Vec<Arc<dyn Flush>>) -> Self {
        Self {
            batching: Batching {
                max: config.batch_size,
                linger: Duration::from_millis(config.batch_linger_ms),
            },
            in_flight: config.max_in_flight,
            flush_when_full: sinks,
        }
    }

    /// One batch at a time (receivers, whose deliveries keep the alerts' order).
    pub fn sequential(batching: Batching) -> Self {
        Self {
            batching,
            in_flight: 1,
            flush_when_full: Vec::new(),
        }
    }
}

/// What a batch's write half reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Records handed on durably.
    pub sent: usize,
    /// Whether the input up to this batch may be committed now; `false` leaves its positions
    /// to the next batch that says `true` (alerting commits only what a checkpoint covers).
    pub commit: bool,
}

impl Written {
    /// `sent` records handed on; commit.
    pub fn commit(sent: usize) -> Self {
        Self { sent, commit: true }
    }
}

/// A batch whose write half is running.
struct InFlight {
    task: tokio::task::JoinHandle<Result<Written, Abandoned>>,
    positions: Positions,
    started: Instant,
}

impl Future for InFlight {
    type Output = (
        Result<Result<Written, Abandoned>, tokio::task::JoinError>,
        Positions,
        Instant,
    );

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = &mut *self;
        std::pin::Pin::new(&mut this.task)
            .poll(cx)
            .map(|r| (r, std::mem::take(&mut this.positions), this.started))
    }
}

/// Runs `handle` on batches from `subscriber` until `cancel`. `handle` gets the batch (empty
/// only for the last call at shutdown, see the module's notes), a token
/// to give up retries on, and the subscription's assignment count (see
/// [`Subscriber::assignments`]: a change means partitions, and the state that follows them,
/// may have moved); its future is the compute half, which resolves to the write half (a future
/// giving what was [`Written`]), or to [`Abandoned`] to stop the loop. A write half
/// resolving to [`Abandoned`] stops the loop too, leaving its batch and later ones uncommitted.
pub async fn run_consumer<F, Fut, W>(
    mut subscriber: Subscriber,
    metrics: &StageMetrics,
    pipeline: Pipeline,
    cancel: &CancellationToken,
    mut handle: F,
) where
    F: FnMut(Vec<InRecord>, CancellationToken, u64) -> Fut,
    Fut: Future<Output = Result<W, Abandoned>>,
    W: Future<Output = Result<Written, Abandoned>> + Send + 'static,
{
    let drain = drain_token(cancel);
    let abort_at: Option<u64> = std::env::var(ABORT_BEFORE_COMMIT_ENV)
        .ok()
        .and_then(|v| v.parse().ok());
    let bound = pipeline.in_flight.max(1);
    let batching = pipeline.batching;
    let mut in_flight: FuturesOrdered<InFlight> = FuturesOrdered::new();
    let mut committer = Committer {
        metrics,
        abort_at,
        handled: 0,
        pending: Positions::new(),
    };
    let writes = subscriber.writes();
    let flush = || pipeline.flush_when_full.iter().for_each(|s| s.flush());
    let mut assignments: Option<u64> = None;
    let mut finished = false;
    loop {
        let stopping = cancel.is_cancelled();
        // Batches finished whose write left the commit to a later one, and no batch behind
        // them: one empty batch lets the stage write what covers them (alerting's checkpoint),
        // at shutdown or when the input pauses.
        let uncovered = in_flight.is_empty() && !committer.pending.is_empty();
        if stopping && in_flight.is_empty() && (finished || !uncovered) {
            break;
        }
        let batch = if stopping && uncovered {
            finished = true;
            Ok(Vec::new())
        } else if stopping || in_flight.len() >= bound {
            // A full pipeline waits on its buffering sinks, a stopping one on everything.
            flush();
            match in_flight.next().await {
                Some(done) => {
                    if committer.commit(&mut subscriber, done).await {
                        continue;
                    }
                    break;
                }
                None => break,
            }
        } else {
            // Every branch is cancellation-safe: a batch half taken when a write finishes
            // first is kept by the subscription and returned by the next call.
            tokio::select! {
                done = in_flight.next(), if !in_flight.is_empty() => match done {
                    Some(done) => {
                        if committer.commit(&mut subscriber, done).await {
                            continue;
                        }
                        break;
                    }
                    None => break,
                },
                batch = subscriber.next_batch(batching.max, batching.linger, cancel) => batch,
                _ = tokio::time::sleep(IDLE_COMMIT), if uncovered => Ok(Vec::new()),
            }
        };
        if uncovered && matches!(&batch, Ok(b) if b.is_empty()) {
            if assignments.is_some_and(|before| before != subscriber.assignments()) {
                // A rebalance meanwhile: the uncovered batches are read again from the commits,
                // and their state restored from the checkpoints; no checkpoint for them now.
                committer.pending.clear();
                continue;
            }
            match handle(Vec::new(), drain.clone(), assignments.unwrap_or(0)).await {
                Ok(write) => in_flight.push_back(spawn_write(&writes, write, Positions::new())),
                Err(e) => {
                    tracing::warn!(stage = metrics.stage(), "{e}");
                    break;
                }
            }
            continue;
        }
        let batch = match batch {
            Ok(b) if b.is_empty() => continue,
            Ok(b) => b,
            Err(e) => {
                metrics.error("consume");
                tracing::warn!(stage = metrics.stage(), "{e}");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
        };
        let now = subscriber.assignments();
        if assignments.is_some_and(|before| before != now) {
            // Partitions moved: finish what is in flight before the stage looks at its state.
            flush();
            let mut stopped = false;
            while let Some(done) = in_flight.next().await {
                if !committer.commit(&mut subscriber, done).await {
                    stopped = true;
                    break;
                }
            }
            if stopped {
                break;
            }
            // What those batches left uncommitted is read again from the committed positions
            // (and the state that went with it is restored from the last checkpoint): their
            // positions must not ride on a later commit.
            committer.pending.clear();
        }
        assignments = Some(now);
        let started = Instant::now();
        metrics.received(batch.len());
        metrics.batch(batch.len());
        let positions = positions_after(&batch);
        match handle(batch, drain.clone(), now).await {
            Ok(write) => {
                let mut write = spawn_write(&writes, write, positions);
                write.started = started;
                in_flight.push_back(write);
            }
            Err(e) => {
                // The compute half gave up (shutdown): the batches before it still count.
                tracing::warn!(stage = metrics.stage(), "{e}");
                flush();
                while let Some(done) = in_flight.next().await {
                    if !committer.commit(&mut subscriber, done).await {
                        break;
                    }
                }
                break;
            }
        }
    }
}

/// Runs a batch's write half as a task, counted on `writes` until it ends.
fn spawn_write<W>(writes: &Arc<WritesInFlight>, write: W, positions: Positions) -> InFlight
where
    W: Future<Output = Result<Written, Abandoned>> + Send + 'static,
{
    let guard = writes.started();
    InFlight {
        task: tokio::spawn(async move {
            let _counted = guard;
            write.await
        }),
        positions,
        started: Instant::now(),
    }
}

/// Commits finished batches, in order.
struct Committer<'a> {
    metrics: &'a StageMetrics,
    abort_at: Option<u64>,
    handled: u64,
    /// Positions of finished batches not committed yet (their write said not to).
    pending: Positions,
}

impl Committer<'_> {
    /// Commits a finished batch; false when its write was abandoned (the loop must stop).
    async fn commit(
        &mut self,
        subscriber: &mut Subscriber,
        (result, positions, started): <InFlight as Future>::Output,
    ) -> bool {
        let written = match result {
            Ok(Ok(written)) => written,
            Ok(Err(e)) => {
                tracing::warn!(stage = self.metrics.stage(), "{e}");
                return false;
            }
            // A panicking write is a bug: let it take the stage down, as it would have inline.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => {
                tracing::warn!(stage = self.metrics.stage(), "write task: {e}");
                return false;
            }
        };
        self.metrics.sent(written.sent);
        // The failpoint counts batches of input, not the empty ones that only commit.
        if !positions.is_empty() {
            self.handled += 1;
        }
        if !positions.is_empty() && self.abort_at == Some(self.handled) {
            tracing::error!(
                stage = self.metrics.stage(),
                "failpoint {ABORT_BEFORE_COMMIT_ENV}: aborting before commit"
            );
            std::process::abort();
        }
        for (partition, next) in positions {
            let e = self.pending.entry(partition).or_insert(next);
            *e = (*e).max(next);
        }
        if !written.commit {
            self.metrics.processing(started.elapsed());
            return true;
        }
        let positions = std::mem::take(&mut self.pending);
        // A failed commit only means redelivery; every sink is idempotent by record id.
        if let Err(e) = subscriber.commit_positions(&positions).await {
            self.metrics.error("commit");
            tracing::warn!(stage = self.metrics.stage(), "{e}; the batch will be redelivered");
        }
        self.metrics.processing(started.elapsed());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::memory::MemoryBus;
    use crate::bus::{Bus, OutRecord};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::sync::Notify;

    fn records(n: usize) -> Vec<OutRecord> {
        (0..n)
            .map(|i| OutRecord::message(format!("k{i}"), "test", vec![i as u8]))
            .collect()
    }

    fn one_by_one(in_flight: usize) -> Pipeline {
        Pipeline {
            batching: Batching {
                max: 1,
                linger: Duration::from_millis(1),
            },
            in_flight,
            flush_when_full: Vec::new(),
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_overlap_up_to_the_bound_and_commit_in_input_order() {
        let bus = MemoryBus::default();
        bus.publish("in", records(6)).await.unwrap();
        let subscriber = Bus::Memory(bus.clone()).subscribe("in", "g", "test").unwrap();
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let first_done = Arc::new(Notify::new());
        let cancel = CancellationToken::new();
        let stage = {
            let (running, most, first_done, cancel) =
                (running.clone(), most.clone(), first_done.clone(), cancel.clone());
            tokio::spawn(async move {
                let metrics = StageMetrics::new("test");
                run_consumer(subscriber, &metrics, one_by_one(3), &cancel, |batch, _, _| {
                    let (running, most, first_done) = (running.clone(), most.clone(), first_done.clone());
                    async move {
                        let first = batch[0].offset == 0;
                        Ok(async move {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            if first {
                                // The oldest batch finishes last of its window.
                                first_done.notified().await;
                            } else {
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            running.fetch_sub(1, Ordering::SeqCst);
                            Ok(Written::commit(1))
                        })
                    }
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(most.load(Ordering::SeqCst), 3, "three batches in flight, no more");
        assert_eq!(
            bus.pending("in", "g"),
            6,
            "batches 2 and 3 are written, but nothing is committed before batch 1"
        );
        first_done.notify_one();
        for _ in 0..100 {
            if bus.pending("in", "g") == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            bus.pending("in", "g"),
            0,
            "everything committed once batch 1 is written"
        );
        cancel.cancel();
        stage.await.unwrap();
    }

    /// A sink that lets one write finish per flush.
    struct Gate(tokio::sync::Semaphore, AtomicUsize);

    impl Flush for Gate {
        fn flush(&self) {
            self.1.fetch_add(1, Ordering::SeqCst);
            self.0.add_permits(1);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_pipeline_flushes_its_sinks_and_an_abandoned_write_is_not_committed() {
        let bus = MemoryBus::default();
        bus.publish("in", records(5)).await.unwrap();
        let subscriber = Bus::Memory(bus.clone()).subscribe("in", "g", "test").unwrap();
        let gate = Arc::new(Gate(tokio::sync::Semaphore::new(0), AtomicUsize::new(0)));
        let mut pipeline = one_by_one(2);
        pipeline.flush_when_full.push(gate.clone());
        let cancel = CancellationToken::new();
        let metrics = StageMetrics::new("test");
        let run = run_consumer(subscriber, &metrics, pipeline, &cancel, |batch, _, _| {
            let gate = gate.clone();
            async move {
                let offset = batch[0].offset;
                Ok(async move {
                    if offset == 3 {
                        return Err(Abandoned("the fourth batch's write".into()));
                    }
                    // Nothing else lets a write finish: the loop must flush when it is full.
                    gate.0.acquire().await.map(|p| p.forget()).ok();
                    // The second batch leaves its commit to the third.
                    Ok(Written {
                        sent: 1,
                        commit: offset != 1,
                    })
                })
            }
        });
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .expect("the loop stops at the abandoned write");
        assert!(gate.1.load(Ordering::SeqCst) >= 1, "the sink was flushed");
        assert_eq!(
            bus.pending("in", "g"),
            2,
            "three batches committed; the abandoned one and the one after it are not"
        );
    }
}
