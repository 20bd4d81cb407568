//! What the pull connectors' tests share: the collect loop run over the in-process bus as
//! `vigie standalone` runs it, and what reached its topics.

use crate::collect;
use crate::connectors::Connector;
use crate::Ingestor;
use prost::Message;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::bus::memory::MemoryBus;
use vigie_core::bus::{Bus, Publisher};
use vigie_core::config::CollectConfig;
use vigie_core::model::Limits;
use vigie_core::proto::{DeadLetter, Mention};
use vigie_core::topics;

/// Runs the collect loop over `bus` for `connectors` (a fresh process: new ingestor, cursors
/// read from the bus), handing on pieces of `max_items` (the default when `None`), until
/// `done(probe)` holds (within 30 s), then stops it.
pub(crate) async fn collect_until<P>(
    bus: &MemoryBus,
    connectors: Vec<Connector>,
    max_items: Option<usize>,
    probe: &P,
    done: impl Fn(&P) -> bool,
) {
    let ingestor = Arc::new(Ingestor::new(
        Publisher::Memory(bus.clone()),
        Limits::default(),
        100,
        1000,
    ));
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let on = Bus::Memory(bus.clone());
    let mut config = CollectConfig::default();
    if let Some(max_items) = max_items {
        config.max_items = max_items;
    }
    let run = tokio::spawn(async move { collect::run(&on, ingestor, &connectors, &config, stop).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done(probe) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the collect loop did not get there"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    run.await.unwrap().unwrap();
}

/// The mentions published on `bus` so far.
pub(crate) fn mentions(bus: &MemoryBus) -> Vec<Mention> {
    payloads(bus, topics::MENTIONS_RAW)
        .iter()
        .map(|p| Mention::decode(p.as_slice()).unwrap())
        .collect()
}

/// The dead letters written on `bus` so far.
pub(crate) fn dead_letters(bus: &MemoryBus) -> Vec<DeadLetter> {
    payloads(bus, topics::DEADLETTER)
        .iter()
        .map(|p| DeadLetter::decode(p.as_slice()).unwrap())
        .collect()
}

/// The payloads of `topic` on `bus` (cursors: the connector's own encoding).
pub(crate) fn payloads(bus: &MemoryBus, topic: &str) -> Vec<Vec<u8>> {
    bus.snapshot(topic)
        .into_iter()
        .map(|r| r.payload.unwrap_or_default())
        .collect()
}
