//! Learned models of the scoring stage: hashed text features, a compact linear classifier, and
//! the reproducible training that produces the embedded model files (`enrich/models/*.bin`,
//! rebuilt by `vigie train`).

pub mod data;
pub mod features;
pub mod linear;
pub mod splits;
pub mod train;
