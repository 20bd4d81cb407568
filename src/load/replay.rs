//! A replayable run (`vigie load --replay DIR`): mentions dated in the past (history, whose
//! alerting clock follows its data only, never the wall clock), each tenant's batches sent in
//! order by one sender, and every mention sent written down, so that `vigie backtest` over the
//! same mentions computes exactly the alerts the stack must raise — however many services were
//! killed, restarted or cut off from the broker or ClickHouse meanwhile.

use anyhow::Context;
use std::collections::{BTreeSet, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use vigie_core::proto::{Alert, Mention};

/// How far back the first mention is dated: history (older than the six hours within which
/// alerting treats a tenant as live), with room for the run's own span.
const BACK_MS: i64 = 30 * 3_600_000;
/// The watch of the probes (see `corpus::watches_toml`), left out of the comparison: its warm-up
/// alerts come from probes that are not replayed.
const PROBE_WATCH: &str = "probe";
/// A tenant's mentions per block (counted in the tenant's own sending order): in every
/// [`CYCLE`]th block they are all about one of its brands (a different one each time), a burst on
/// that brand's watch.
const BLOCK: u64 = 500;
/// Blocks per cycle of quiet blocks and one burst.
const CYCLE: u64 = 8;
/// One author in this many is verified: their negative mentions are risky (`risky_mention`).
const VERIFIED_ONE_IN: u64 = 97;
/// The window of the `threshold` rule the bursts set off.
const WINDOW_MS: i64 = 10_000;

/// The files of a replayable run and its event times.
pub struct Replay {
    mentions_path: PathBuf,
    watches_path: PathBuf,
    mentions: Mutex<std::io::BufWriter<std::fs::File>>,
    /// Event time of mention 0, Unix epoch milliseconds.
    base_ms: i64,
    /// Event time between consecutive mention numbers.
    step_ms: i64,
    /// The rules added to every brand watch (see [`Replay::extra_rules`]).
    extra_rules: String,
    /// Mentions per request and tenants: mention `n` is in request `n / batch`, which goes to
    /// tenant `(n / batch) % tenants`.
    batch: u64,
    tenants: u64,
}
/// What the comparison with the replay found.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct AlertCheck {
    /// Alert state changes the replay computed.
    pub expected: usize,
    /// Distinct (id, version, state) of the run's tenants on `vigie.alerts`.
    pub seen: usize,
    /// Records they came in (a republished state change counts once more).
    pub records: usize,
    /// Whether the two sets are equal.
    pub equal: bool,
}

impl Replay {
    /// Creates `dir` (if needed) with `mentions.jsonl` (filled as the run sends) and
    /// `watches.toml` (the run's watches: `per_tenant` brand watches per tenant), for a run
    /// starting now at `rate` mentions per second (0: flat out).
    ///
    /// Event time moves at about the pace of the sending (a millisecond per mention flat out):
    /// a batch published again after a failure lands behind later ones, which alerting absorbs
    /// within its lateness allowance as it would live traffic; history sent hundreds of times
    /// faster than real time would turn that reordering into mentions ignored as late.
    pub fn create(
        dir: &Path,
        tenants: &[String],
        per_tenant: usize,
        rate: u64,
        batch: usize,
    ) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let step_ms = if rate > 0 { (1_000 / rate as i64).max(1) } else { 1 };
        // A brand watch's share of the window: every mention of its tenant is about one of
        // `per_tenant` brands (a third of the watches also want a complaint word, and stay
        // below). A burst block adds a block's worth of the tenant's mentions on one brand.
        let per_watch = WINDOW_MS / step_ms / (tenants.len() * per_tenant.max(1)) as i64;
        let min_count = (per_watch + BLOCK as i64 / 2).max(2);
        let extra_rules = format!(
            "[[watch.rule]]\nname = \"burst\"\ntype = \"threshold\"\nmin_count = {min_count}\n\
             window = \"{}s\"\n",
            WINDOW_MS / 1_000
        );
        let watches_path = dir.join("watches.toml");
        std::fs::write(
            &watches_path,
            super::corpus::watches_toml(tenants, per_tenant, &extra_rules),
        )
        .with_context(|| format!("cannot write {}", watches_path.display()))?;
        let mentions_path = dir.join("mentions.jsonl");
        let file = std::fs::File::create(&mentions_path)
            .with_context(|| format!("cannot create {}", mentions_path.display()))?;
        let now = vigie_core::now_ms();
        Ok(Self {
            mentions_path,
            watches_path,
            mentions: Mutex::new(std::io::BufWriter::new(file)),
            base_ms: (now - BACK_MS) / 60_000 * 60_000,
            step_ms,
            extra_rules,
            batch: batch.max(1) as u64,
            tenants: tenants.len().max(1) as u64,
        })
    }

    /// The rules added to every brand watch: a `threshold` (stateful: a window of mention ids,
    /// kept in checkpoints) that each burst sets off on its brand's watch and the quiet blocks
    /// let resolve.
    pub fn extra_rules(&self) -> String {
        self.extra_rules.clone()
    }

    /// Event time of mention number `n`: increasing with `n`, so each tenant's mentions, sent in
    /// order, arrive in event-time order.
    pub fn created_at(&self, n: u64) -> i64 {
        self.base_ms + n as i64 * self.step_ms
    }

    /// Event time of the warm-up probes: before every mention of the run.
    pub fn warm_up_at(&self) -> i64 {
        self.base_ms - 60_000
    }

    /// Mention `n` of tenant number `t` in a replayable run: dated by [`Replay::created_at`],
    /// about one brand in a burst block, now and then from a verified author.
    pub fn mention(&self, run: &str, t: usize, tenant: &str, per_tenant: usize, n: u64) -> Mention {
        // The mention's place in its tenant's own sequence.
        let request = n / self.batch;
        let own = request / self.tenants * self.batch + n % self.batch;
        let block = own / BLOCK;
        let about = (block % CYCLE == CYCLE - 1).then_some((block / CYCLE) as usize);
        let mut m = super::corpus::mention(run, t, tenant, per_tenant, n, self.created_at(n), about);
        m.created_at_ms = self.created_at(n);
        if let Some(author) = m.author.as_mut() {
            author.verified = n.is_multiple_of(VERIFIED_ONE_IN);
        }
        m
    }

    /// Writes down a batch about to be sent (JSONL, the ingest format).
    pub fn record(&self, batch: &[Mention]) -> anyhow::Result<()> {
        let mut out = self
            .mentions
            .lock()
            .map_err(|_| anyhow::anyhow!("a sender panicked while recording"))?;
        for m in batch {
            serde_json::to_writer(&mut *out, &super::corpus::to_json(m))?;
            out.write_all(b"\n")?;
        }
        Ok(())
    }

    /// Compares the alerts of `tenants` on `vigie.alerts` with `vigie backtest` over the mentions
    /// sent, waiting up to `timeout` for the stack to raise them all.
    pub async fn check_alerts(
        &self,
        bus: &vigie_core::bus::Bus,
        tenants: &[String],
        timeout: Duration,
    ) -> anyhow::Result<AlertCheck> {
        self.mentions
            .lock()
            .map_err(|_| anyhow::anyhow!("a sender panicked while recording"))?
            .flush()
            .with_context(|| format!("cannot write {}", self.mentions_path.display()))?;
        let (mentions, watches) = (self.mentions_path.clone(), self.watches_path.clone());
        let replay =
            tokio::task::spawn_blocking(move || crate::backtest::replay_mentions(&mentions, Some(&watches)))
                .await
                .context("the replay panicked")??;
        let tenants: HashSet<&str> = tenants.iter().map(String::as_str).collect();
        let expected: BTreeSet<Change> = changes(&replay.alerts, &tenants).collect();
        let mut reader = bus.read_from_start(vigie_core::topics::ALERTS)?;
        let cancel = CancellationToken::new();
        let (mut seen, mut records) = (BTreeSet::new(), 0usize);
        let started = Instant::now();
        // Read until every expected change came and the topic gave nothing for two seconds (so
        // that a change the replay does not have is seen too), or until `timeout`. The caller
        // waits for alerting to have consumed everything first.
        let mut quiet_since: Option<Instant> = None;
        while started.elapsed() < timeout {
            // `next_batch` waits for a first record: an empty topic answers nothing.
            let batch = match tokio::time::timeout(
                Duration::from_millis(500),
                reader.next_batch(10_000, Duration::from_millis(200), &cancel),
            )
            .await
            {
                Ok(batch) => batch?,
                Err(_) => Vec::new(),
            };
            let decoded: Vec<Alert> = batch
                .iter()
                .filter_map(|r| prost::Message::decode(r.payload.as_deref().unwrap_or_default()).ok())
                .collect();
            for c in changes(&decoded, &tenants) {
                records += 1;
                seen.insert(c);
            }
            if !batch.is_empty() {
                quiet_since = None;
            } else if seen.is_superset(&expected) {
                let since = *quiet_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_secs(2) {
                    break;
                }
            }
        }
        let equal = seen == expected;
        if !equal {
            let missing: Vec<_> = expected.difference(&seen).take(5).collect();
            let extra: Vec<_> = seen.difference(&expected).take(5).collect();
            eprintln!(
                "[load] alerts differ from the replay: {} expected, {} seen; missing {missing:?}; not replayed {extra:?}",
                expected.len(),
                seen.len()
            );
        }
        Ok(AlertCheck {
            expected: expected.len(),
            seen: seen.len(),
            records,
            equal,
        })
    }
}

/// One alert state change: (id, version, state).
type Change = (String, u64, &'static str);

/// The state changes of `alerts` for `tenants`, probes left out.
fn changes<'a>(alerts: &'a [Alert], tenants: &'a HashSet<&str>) -> impl Iterator<Item = Change> + 'a {
    alerts
        .iter()
        .filter(|a| tenants.contains(a.tenant.as_str()) && a.watch_id != PROBE_WATCH)
        .map(|a| (a.id.clone(), a.version, vigie_core::names::state_name(a.state())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_times_increase_and_bursts_are_about_one_brand() {
        let dir = std::env::temp_dir().join(format!("vigie-replay-{}", std::process::id()));
        let tenants: Vec<String> = (1..=4).map(|i| format!("t{i}")).collect();
        let r = Replay::create(&dir, &tenants, 10, 800, 200).unwrap();
        let now = vigie_core::now_ms();
        assert!(r.warm_up_at() < r.created_at(0));
        assert!((1..20_000).all(|n| r.created_at(n - 1) < r.created_at(n)));
        // The whole run stays history: older than six hours.
        assert!(r.created_at(1_000_000) < now - 6 * 3_600_000);
        // 10 s hold 10,000 mentions: 250 per brand watch, a burst 500 more on one brand.
        assert!(r.extra_rules().contains("min_count = 500"), "{}", r.extra_rules());
        // Tenant 2's mentions: requests 1, 5, 9, ... of 200 mentions.
        let own: Vec<u64> = (0..)
            .map(|j: u64| (4 * j + 1) * 200)
            .flat_map(|start| start..start + 200)
            .take(8 * BLOCK as usize)
            .collect();
        let brand_of = |n: u64| {
            let m = r.mention("r1", 1, "t2", 10, n);
            (10..20)
                .find(|b| m.text.contains(&super::super::corpus::brand(*b)))
                .unwrap()
        };
        let burst: std::collections::HashSet<usize> =
            own[7 * BLOCK as usize..].iter().map(|n| brand_of(*n)).collect();
        assert_eq!(burst.len(), 1, "a tenant's burst block is about one brand");
        let quiet: std::collections::HashSet<usize> =
            own[..BLOCK as usize].iter().map(|n| brand_of(*n)).collect();
        assert!(quiet.len() > 5, "quiet blocks are about every brand");
        r.record(&[r.mention("r1", 0, "t1", 10, 7)]).unwrap();
        r.mentions.lock().unwrap().flush().unwrap();
        let text = std::fs::read_to_string(dir.join("mentions.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 1);
        assert!(text.contains("r1-"), "{text}");
        let watches = std::fs::read_to_string(dir.join("watches.toml")).unwrap();
        assert_eq!(watches.matches("type = \"threshold\"").count(), 40);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
