//! The alerting service: windowed detectors over enriched mentions that raise alerts.
//!
//! [`engine::Engine`] is pure stage logic — enriched mentions in, alerts out, in event time —
//! and knows nothing about transport. [`service::run`] drives it over any bus and writes alerts
//! to `vigie.alerts` and ClickHouse before committing its input.

pub mod engine;
pub mod service;
pub mod threshold;
