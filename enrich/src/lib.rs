//! The enrich service: the scoring stage.
//!
//! [`Scorer`] turns a raw `Mention` into an `EnrichedMention` — language, sentiment, risk,
//! extracted entities, reach and the ids of the watches it matches — and knows nothing about
//! transport. [`service::run`] drives it over any bus: consume raw mentions in batches, score,
//! publish enriched mentions, insert them into ClickHouse, and only then commit offsets.

pub mod cluster;
pub mod extract;
pub mod language;
pub mod model;
pub mod rescore;
pub mod risk;
pub mod scorer;
pub mod sentiment;
pub mod service;
pub mod toxicity;

pub use scorer::Scorer;
