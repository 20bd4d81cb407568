//! One writer per table: stages submit each batch's rows and get a [`Ticket`] that resolves
//! once an insert holding them succeeded; the writer gathers the submissions into large inserts
//! (ClickHouse wants few big inserts, not a part per batch), sent when they reach
//! [`InsertBounds::max_rows`], when the oldest row waited [`InsertBounds::max_delay`], or when
//! the stage's pipeline is full and waiting on them ([`Flush`]).
//!
//! A failing insert is retried with back-off until it succeeds (a ClickHouse outage pauses the
//! stage, whose batches wait uncommitted, and resumes it), or given up at shutdown, when every
//! waiting batch learns it was abandoned and stays uncommitted. One insert runs at a time;
//! what arrives meanwhile joins the next one.

use super::ClickHouse;
use crate::config::ClickHouseConfig;
use crate::metrics::StageMetrics;
use crate::retry::{until_ok, Abandoned};
use crate::stage::Flush;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// When a table writer sends what it holds.
#[derive(Debug, Clone, Copy)]
pub struct InsertBounds {
    /// Rows that make an insert.
    pub max_rows: usize,
    /// Longest a row waits for its insert (unless ClickHouse is down).
    pub max_delay: Duration,
}

impl InsertBounds {
    /// The bounds of `[clickhouse]` (`insert_max_rows`, `insert_max_delay_ms`).
    pub fn from_config(config: &ClickHouseConfig) -> Self {
        Self {
            max_rows: config.insert_max_rows.max(1),
            max_delay: Duration::from_millis(config.insert_max_delay_ms),
        }
    }
}

enum Message<T> {
    Rows(Vec<T>, oneshot::Sender<Result<(), Abandoned>>),
    Flush,
}

/// Submits rows to one table's writer task; cheap to clone.
pub struct TableWriter<T> {
    table: &'static str,
    tx: mpsc::UnboundedSender<Message<T>>,
}

impl<T> Clone for TableWriter<T> {
    fn clone(&self) -> Self {
        Self {
            table: self.table,
            tx: self.tx.clone(),
        }
    }
}

/// The rows of one submission on their way: see [`Ticket::durable`].
pub struct Ticket {
    table: &'static str,
    rx: Option<oneshot::Receiver<Result<(), Abandoned>>>,
}

impl Ticket {
    /// Resolves once an insert holding the rows succeeded, or with [`Abandoned`] when the writer
    /// gave up at shutdown.
    pub async fn durable(self) -> Result<(), Abandoned> {
        match self.rx {
            None => Ok(()),
            Some(rx) => rx
                .await
                .unwrap_or_else(|_| Err(Abandoned(format!("insert into {}", self.table)))),
        }
    }
}

impl<T> TableWriter<T>
where
    T: clickhouse::RowWrite + for<'a> clickhouse::Row<Value<'a> = T> + Send + Sync + 'static,
{
    /// Starts the writer task of `table`; it retries failed inserts until `drain` fires (for
    /// a stage: its shutdown grace ended, see [`crate::stage::drain_token`]), counting failures
    /// on `metrics`, and ends once every handle is dropped and what it holds is written.
    pub fn spawn(
        clickhouse: &ClickHouse,
        table: &'static str,
        bounds: InsertBounds,
        metrics: StageMetrics,
        drain: CancellationToken,
    ) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(
            clickhouse.for_inserts(),
            table,
            bounds,
            metrics,
            drain,
            rx,
        ));
        Self { table, tx }
    }

    /// A stage's writer of `table` when it writes to ClickHouse at all, bounded by the
    /// client's `[clickhouse]` settings and giving up at the stage's shutdown grace.
    pub fn for_stage(
        clickhouse: Option<&ClickHouse>,
        table: &'static str,
        metrics: &StageMetrics,
        cancel: &CancellationToken,
    ) -> Option<Self> {
        clickhouse.map(|ch| {
            let bounds = InsertBounds::from_config(ch.config());
            Self::spawn(
                ch,
                table,
                bounds,
                metrics.clone(),
                crate::stage::drain_token(cancel),
            )
        })
    }

    /// Queues `rows` for the next insert.
    pub fn submit(&self, rows: Vec<T>) -> Ticket {
        if rows.is_empty() {
            return Ticket {
                table: self.table,
                rx: None,
            };
        }
        let (done, rx) = oneshot::channel();
        // A closed channel means the writer stopped: the dropped sender reports it as abandoned.
        let _ = self.tx.send(Message::Rows(rows, done));
        Ticket {
            table: self.table,
            rx: Some(rx),
        }
    }
}

impl<T: Send + Sync> Flush for TableWriter<T> {
    fn flush(&self) {
        let _ = self.tx.send(Message::Flush);
    }
}

impl<T: Send + Sync + 'static> TableWriter<T> {
    /// The stage's buffering sinks for [`crate::stage::Pipeline::from_config`]: this writer, if
    /// the stage has one, sent what it holds whenever the pipeline is full.
    pub fn sinks(writer: Option<&Self>) -> Vec<Arc<dyn Flush>> {
        writer
            .map(|w| Arc::new(w.clone()) as Arc<dyn Flush>)
            .into_iter()
            .collect()
    }
}

async fn write_loop<T>(
    clickhouse: ClickHouse,
    table: &'static str,
    bounds: InsertBounds,
    metrics: StageMetrics,
    drain: CancellationToken,
    mut rx: mpsc::UnboundedReceiver<Message<T>>,
) where
    T: clickhouse::RowWrite + for<'a> clickhouse::Row<Value<'a> = T> + Send + Sync + 'static,
{
    let what = format!("insert into {table}");
    let mut held = Held {
        rows: Vec::new(),
        waiting: Vec::new(),
        oldest: None,
    };
    let mut open = true;
    while open || !held.rows.is_empty() {
        let mut flush = !open;
        if open {
            let deadline = held.oldest.map(|t| t + bounds.max_delay);
            tokio::select! {
                m = rx.recv() => match m {
                    Some(m) => flush |= held.take(m),
                    None => {
                        open = false;
                        flush = true;
                    }
                },
                _ = sleep_until(deadline), if deadline.is_some() => flush = true,
            }
            // Everything already queued joins this insert.
            while let Ok(m) = rx.try_recv() {
                flush |= held.take(m);
            }
        }
        if held.rows.is_empty() || !(flush || held.rows.len() >= bounds.max_rows) {
            continue;
        }
        let result = until_ok(&what, &metrics, "clickhouse", &drain, || {
            clickhouse.insert(table, &held.rows)
        })
        .await;
        let abandoned = result.is_err();
        for done in held.waiting.drain(..) {
            let _ = done.send(result.clone());
        }
        held.rows.clear();
        held.oldest = None;
        if abandoned {
            // Shutdown gave up on ClickHouse: later submissions learn it from the closed channel.
            return;
        }
    }
}

/// What a writer holds for its next insert.
struct Held<T> {
    rows: Vec<T>,
    waiting: Vec<oneshot::Sender<Result<(), Abandoned>>>,
    oldest: Option<Instant>,
}

impl<T> Held<T> {
    /// Takes a message in; true when it asks for a flush.
    fn take(&mut self, m: Message<T>) -> bool {
        match m {
            Message::Rows(rows, done) => {
                self.oldest.get_or_insert_with(Instant::now);
                self.rows.extend(rows);
                self.waiting.push(done);
                false
            }
            Message::Flush => true,
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[derive(Debug, Clone, clickhouse::Row, Serialize)]
    struct Row {
        id: u32,
    }

    /// An HTTP server answering like ClickHouse to inserts: the first `failures` requests fail
    /// with 500. Returns its client and the number of requests received.
    async fn server(failures: usize) -> (ClickHouse, Arc<AtomicUsize>) {
        let requests = Arc::new(AtomicUsize::new(0));
        let seen = requests.clone();
        let app = axum::Router::new().fallback(move |body: axum::body::Bytes| {
            let seen = seen.clone();
            async move {
                assert!(!body.is_empty(), "an insert with no rows");
                if seen.fetch_add(1, Ordering::SeqCst) < failures {
                    (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        "Code: 241. MEMORY_LIMIT_EXCEEDED",
                    )
                } else {
                    (axum::http::StatusCode::OK, "")
                }
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let config = ClickHouseConfig {
            url,
            validation: false,
            compression: false,
            ..Default::default()
        };
        (ClickHouse::new(&config), requests)
    }

    fn rows(from: u32, n: u32) -> Vec<Row> {
        (from..from + n).map(|id| Row { id }).collect()
    }

    fn writer(ch: &ClickHouse, max_rows: usize, max_delay_ms: u64) -> TableWriter<Row> {
        let bounds = InsertBounds {
            max_rows,
            max_delay: Duration::from_millis(max_delay_ms),
        };
        TableWriter::spawn(
            ch,
            "t",
            bounds,
            StageMetrics::new("test"),
            CancellationToken::new(),
        )
    }

    #[tokio::test]
    async fn batches_are_gathered_into_one_insert_at_the_row_bound() {
        let (ch, requests) = server(0).await;
        let w = writer(&ch, 25, 60_000);
        let written: Vec<Ticket> = (0..3).map(|i| w.submit(rows(i * 10, 10))).collect();
        let all = futures::future::join_all(written.into_iter().map(Ticket::durable));
        let results = tokio::time::timeout(Duration::from_secs(5), all).await.unwrap();
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        assert_eq!(
            requests.load(Ordering::SeqCst),
            1,
            "30 rows, bound 25: one insert"
        );
        w.submit(Vec::new()).durable().await.unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 1, "no rows, no insert");
    }

    #[tokio::test]
    async fn a_flush_or_the_time_bound_sends_a_small_insert() {
        let (ch, requests) = server(0).await;
        let w = writer(&ch, 1_000, 60_000);
        let written = w.submit(rows(0, 5));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(requests.load(Ordering::SeqCst), 0, "below both bounds: held");
        w.flush();
        tokio::time::timeout(Duration::from_secs(5), written.durable())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        let timed = writer(&ch, 1_000, 50);
        tokio::time::timeout(Duration::from_secs(5), timed.submit(rows(5, 5)).durable())
            .await
            .expect("sent once the oldest row waited 50 ms")
            .unwrap();
    }

    #[tokio::test]
    async fn a_failing_server_is_retried_and_rows_are_durable_only_after_success() {
        let (ch, requests) = server(2).await;
        let w = writer(&ch, 10, 60_000);
        let written = w.submit(rows(0, 10));
        tokio::time::timeout(Duration::from_secs(10), written.durable())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            requests.load(Ordering::SeqCst),
            3,
            "two failures, then the insert"
        );
    }

    #[tokio::test]
    async fn rows_of_a_writer_given_up_at_shutdown_are_abandoned_not_confirmed() {
        let (ch, _) = server(usize::MAX).await;
        let drain = CancellationToken::new();
        let bounds = InsertBounds {
            max_rows: 1,
            max_delay: Duration::from_millis(1),
        };
        let w = TableWriter::spawn(&ch, "t", bounds, StageMetrics::new("test"), drain.clone());
        let written = w.submit(rows(0, 1));
        tokio::time::sleep(Duration::from_millis(300)).await;
        drain.cancel();
        let outcome = tokio::time::timeout(Duration::from_secs(5), written.durable())
            .await
            .unwrap();
        assert!(outcome.is_err(), "{outcome:?}");
    }
}
