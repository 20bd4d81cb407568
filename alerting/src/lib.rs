//! The alerting service: stateful, event-time detectors over enriched mentions that raise,
//! group, silence and resolve alerts, and survive restarts.
//!
//! - [`detector`]: what detectors share, including the interface each rule type implements;
//!   [`rules`]: one detector per rule type, and the dispatcher the engine calls;
//!   [`seasonal`] and [`series`]: the learned baseline every volume rule shares (forecasts,
//!   scale, sustained evidence, probation) and event-time buckets.
//! - [`book`]: the alert lifecycle (ids, cooldowns, silences, acknowledgement, resolution);
//!   [`silence`]: what a silence mutes and for how long.
//! - [`engine`]: routes mentions to rules, moves each tenant's clock, applies operators'
//!   commands, exports checkpoints. Pure stage logic, shared by the service, `vigie standalone`
//!   and `vigie backtest`; it knows rules only through [`rules::Detector`].
//! - [`service`]: drives the engine over any bus, checkpoints its state to
//!   `vigie.alerting.state` and writes alerts to `vigie.alerts` and ClickHouse.
//! - [`notify`]: webhook and Slack receivers fed from `vigie.alerts`, each on its own.

pub mod book;
pub mod detector;
pub mod engine;
pub mod notify;
pub mod render;
pub mod rules;
pub mod seasonal;
pub mod series;
pub mod service;
pub mod silence;
#[cfg(test)]
pub mod testkit;
