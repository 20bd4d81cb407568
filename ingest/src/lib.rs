//! The ingest service: accepts mentions over HTTP (`POST /v1/mentions`: a JSON object, a JSON
//! array or NDJSON) and gRPC (`IngestService.Publish`, unary and client streaming), validates
//! and normalises them, and publishes them to `vigie.mentions.raw`.
//!
//! A mention is acknowledged to the caller only after the broker acknowledged it. Invalid input
//! is answered with the field and the reason, and kept on `vigie.deadletter` with the original
//! bytes. The same (tenant, source, native id) is the same mention: repeats are answered as
//! duplicates and downstream sinks deduplicate by id.

pub mod body;
pub mod collect;
pub mod connectors;
pub mod grpc;
pub mod http;
pub mod ingestor;
pub mod recent;
pub mod server;
pub mod service;
pub mod tls;

pub use ingestor::{Caller, Ingestor, Item};
