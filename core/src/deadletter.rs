//! Dead letters: input a stage refuses is kept on `vigie.deadletter` with the stage, the field at
//! fault, the reason and the original bytes — never silently dropped.
//!
//! A dead letter always fits the broker's message size (Kafka's default is 1 MB): input larger
//! than [`MAX_ORIGINAL_BYTES`] keeps its first bytes, with its whole size and SHA-256, and a
//! reason too long for a message keeps its start.

use crate::bus::OutRecord;
use crate::model::FieldError;
use crate::proto::DeadLetter;
use prost::Message;
use sha2::{Digest, Sha256};

/// Most bytes of the refused input a dead letter keeps (256 KiB, well under the broker's
/// message size with the other fields).
pub const MAX_ORIGINAL_BYTES: usize = 256 * 1024;
/// Most bytes of a field path or reason a dead letter keeps.
const MAX_TEXT_BYTES: usize = 8 * 1024;

/// `s` cut at a character boundary to at most `max` bytes.
fn bounded(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// Protobuf type name carried in the schema header of dead letters.
pub const SCHEMA: &str = "vigie.v1.DeadLetter";

/// Builds the dead-letter record for refused input. The key is the tenant (when known) so one
/// tenant's rejects stay together.
pub fn record(stage: &str, origin: &str, tenant: &str, error: &FieldError, original: &[u8]) -> OutRecord {
    let truncated = original.len() > MAX_ORIGINAL_BYTES;
    let letter = DeadLetter {
        stage: stage.to_string(),
        field: bounded(&error.field, MAX_TEXT_BYTES),
        reason: bounded(&error.reason, MAX_TEXT_BYTES),
        original: original[..original.len().min(MAX_ORIGINAL_BYTES)].to_vec(),
        origin: bounded(origin, MAX_TEXT_BYTES),
        tenant: bounded(tenant, MAX_TEXT_BYTES),
        rejected_at_ms: crate::now_ms(),
        original_size: original.len() as u64,
        original_sha256: Sha256::digest(original)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        original_truncated: truncated,
    };
    OutRecord::message(tenant.to_string(), SCHEMA, letter.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(original: &[u8], reason: &str) -> (DeadLetter, usize) {
        let r = record(
            "ingest",
            "http",
            "acme",
            &FieldError::new("items[0]", reason),
            original,
        );
        let bytes = r.payload.expect("a payload");
        (DeadLetter::decode(bytes.as_slice()).unwrap(), bytes.len())
    }

    #[test]
    fn a_huge_input_keeps_its_start_size_and_hash_and_fits_a_broker_message() {
        let huge = vec![b'['; 3 << 20];
        let (d, size) = letter(&huge, &"é".repeat(1 << 20));
        assert!(size < 1_000_000, "{size} bytes");
        assert!(d.original_truncated);
        assert_eq!(d.original.len(), MAX_ORIGINAL_BYTES);
        assert_eq!(d.original_size, 3 << 20);
        assert_eq!(d.original_sha256.len(), 64);
        assert!(d.reason.len() <= MAX_TEXT_BYTES + "…".len() && d.reason.ends_with('…'));
        // A small input is kept whole, with the same bookkeeping.
        let (d, _) = letter(b"{broken", "invalid JSON");
        assert!(!d.original_truncated);
        assert_eq!((d.original.as_slice(), d.original_size), (&b"{broken"[..], 7));
        assert_eq!(
            d.original_sha256,
            "be302461cda285db3ed2d45fb767b23e08ca8808b35a638009937df22b332d73"
        );
    }
}
