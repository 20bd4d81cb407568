//! The engine's state as checkpoint pieces: one per watch (`<tenant>/<watch id>`, its rules'
//! detectors and alert books) and one per tenant (`<tenant>`, its clock and silences), each the
//! JSON of that state compressed with LZ4. Only pieces changed since the last checkpoint are
//! exported; a deleted watch's piece is a tombstone. Restoring reads them back, and also the
//! plain-JSON pieces written before compression.

use super::state::{TenantState, WatchState};
use super::Engine;

/// One checkpoint piece: its key and its stored bytes (see [`compress_piece`]), or `None` for
/// the tombstone of a deleted watch's piece.
pub type Piece = (String, Option<Vec<u8>>);

/// What [`Engine::take_checkpoint`] exported.
#[derive(Debug, Default)]
pub struct Checkpoint {
    /// Changed pieces, each watch's before its tenant's.
    pub pieces: Vec<Piece>,
    /// Pieces that could not be serialised. They stay changed (retried at the next checkpoint)
    /// and hold back their tenant's piece, which must never claim records its watches have not
    /// checkpointed.
    pub failed: Vec<CheckpointError>,
}

/// Why a stored piece could not be read back as JSON.
#[derive(Debug, thiserror::Error)]
pub enum PieceError {
    /// A compressed piece too short to hold its size header.
    #[error("corrupt compressed piece: no size")]
    NoSize,
    /// A size header no LZ4 block of this length can honour (refused before allocating).
    #[error("corrupt compressed piece: claims {claimed} bytes from {available}")]
    ImplausibleSize {
        /// Size the header claims.
        claimed: usize,
        /// Bytes of compressed data present.
        available: usize,
    },
    /// The LZ4 block does not decompress.
    #[error("corrupt compressed piece: {0}")]
    Lz4(#[from] lz4_flex::block::DecompressError),
}

/// Why a checkpoint piece could not be exported or restored, and which one.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The stored bytes do not decompress.
    #[error("checkpoint piece {key}: {reason}")]
    Corrupt {
        /// The piece's key.
        key: String,
        /// What was wrong with its bytes.
        #[source]
        reason: PieceError,
    },
    /// The JSON does not describe a tenant's or a watch's state.
    #[error("checkpoint piece {key}: {reason}")]
    Unreadable {
        /// The piece's key.
        key: String,
        /// Where the JSON did not fit.
        #[source]
        reason: serde_json::Error,
    },
    /// The state could not be serialised.
    #[error("checkpoint piece {key}: cannot serialise: {reason}")]
    Unserialisable {
        /// The piece's key.
        key: String,
        /// What serde_json refused.
        #[source]
        reason: serde_json::Error,
    },
}

impl CheckpointError {
    /// Short snake_case name of the failure, for the `error_type` label of
    /// `vigie_stage_errors_total`.
    pub fn error_type(&self) -> &'static str {
        match self {
            CheckpointError::Corrupt { .. } => "checkpoint_corrupt",
            CheckpointError::Unreadable { .. } => "checkpoint_unreadable",
            CheckpointError::Unserialisable { .. } => "checkpoint_unserialisable",
        }
    }
}

/// The stored form of `state` under `key`.
fn encode(key: &str, state: &impl serde::Serialize) -> Result<Vec<u8>, CheckpointError> {
    serde_json::to_vec(state)
        .map(|json| compress_piece(&json))
        .map_err(|reason| CheckpointError::Unserialisable {
            key: key.to_string(),
            reason,
        })
}

impl Engine {
    /// Exports the pieces changed since the last call (see [`Checkpoint`]): each tenant's
    /// tombstones and watch pieces, then its own piece.
    pub fn take_checkpoint(&mut self) -> Checkpoint {
        let mut out = Checkpoint::default();
        for (name, t) in self.tenants.iter_mut() {
            out.pieces.extend(t.deleted.drain(..).map(|key| (key, None)));
            let mut held_back = false;
            for (id, ws) in t.watches.iter_mut().filter(|(_, w)| w.dirty) {
                let key = vigie_core::topics::watch_key(name, id);
                match encode(&key, ws) {
                    Ok(bytes) => {
                        ws.dirty = false;
                        out.pieces.push((key, Some(bytes)));
                    }
                    Err(e) => {
                        held_back = true;
                        out.failed.push(e);
                    }
                }
            }
            if t.dirty && !held_back {
                match encode(name, t) {
                    Ok(bytes) => {
                        t.dirty = false;
                        out.pieces.push((name.clone(), Some(bytes)));
                    }
                    Err(e) => out.failed.push(e),
                }
            }
        }
        out
    }

    /// Restores one checkpoint piece (as produced by [`Engine::take_checkpoint`]); call
    /// [`Engine::restored`] once every piece is in.
    pub fn restore(&mut self, key: &str, bytes: &[u8]) -> Result<(), CheckpointError> {
        let json = decompress_piece(bytes).map_err(|reason| CheckpointError::Corrupt {
            key: key.to_string(),
            reason,
        })?;
        let unreadable = |reason| CheckpointError::Unreadable {
            key: key.to_string(),
            reason,
        };
        match key.split_once('/') {
            Some((tenant, watch)) => {
                let ws: WatchState = serde_json::from_slice(&json).map_err(unreadable)?;
                self.tenants
                    .entry(tenant.to_string())
                    .or_default()
                    .watches
                    .insert(watch.to_string(), ws);
            }
            None => {
                let restored: TenantState = serde_json::from_slice(&json).map_err(unreadable)?;
                let t = self.tenants.entry(key.to_string()).or_default();
                t.watermark_ms = restored.watermark_ms;
                t.swept_ms = restored.swept_ms;
                t.silences = restored.silences;
                t.position = restored.position;
            }
        }
        Ok(())
    }

    /// Rebuilds what checkpoints do not hold (the reply index) after restoring pieces.
    pub fn restored(&mut self) {
        for t in self.tenants.values_mut() {
            t.reindex_replies();
        }
    }

    /// Drops all state (before restoring from a checkpoint after a rebalance).
    pub fn clear(&mut self) {
        self.tenants.clear();
    }
}

/// Marks a compressed checkpoint piece; pieces written before compression are plain JSON
/// (starting with `{`) and still read.
const LZ4_MAGIC: &[u8; 4] = b"VLZ4";

/// A checkpoint piece as stored: `VLZ4`, then the JSON compressed with LZ4 (size prepended).
/// Busy watches' state (new terms, stories) is repetitive text: a fraction of its size on the
/// topic, far from the broker's message size limit.
pub fn compress_piece(json: &[u8]) -> Vec<u8> {
    let mut out = LZ4_MAGIC.to_vec();
    out.extend_from_slice(&lz4_flex::block::compress_prepend_size(json));
    out
}

/// The JSON of a stored checkpoint piece (compressed or, from before compression, plain).
pub fn decompress_piece(bytes: &[u8]) -> Result<Vec<u8>, PieceError> {
    match bytes.strip_prefix(LZ4_MAGIC) {
        Some(compressed) => {
            // The size header is checked before anything is allocated: LZ4 expands at most
            // 255 times, and no piece is anywhere near 64 MiB.
            let (size, body) = compressed
                .split_first_chunk::<4>()
                .map(|(size, body)| (u32::from_le_bytes(*size) as usize, body))
                .ok_or(PieceError::NoSize)?;
            if size > body.len().saturating_mul(255).max(16) || size > 64 << 20 {
                return Err(PieceError::ImplausibleSize {
                    claimed: size,
                    available: body.len(),
                });
            }
            Ok(lz4_flex::block::decompress(body, size)?)
        }
        None => Ok(bytes.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_pieces_are_compressed_and_old_plain_ones_still_read() {
        let json: Vec<u8> = serde_json::to_vec(&serde_json::json!({
            "terms": (0..2_000).map(|i| format!("#term{i}")).collect::<Vec<_>>()
        }))
        .unwrap();
        let stored = compress_piece(&json);
        assert!(stored.starts_with(b"VLZ4"));
        assert!(
            stored.len() * 2 < json.len(),
            "{} -> {}",
            json.len(),
            stored.len()
        );
        assert_eq!(decompress_piece(&stored).unwrap(), json);
        assert_eq!(
            decompress_piece(b"{\"a\":1}").unwrap(),
            b"{\"a\":1}",
            "plain JSON as written before"
        );
        let mut corrupt = stored.clone();
        corrupt.truncate(20);
        assert!(decompress_piece(&corrupt).is_err());
        // A hostile size header is refused before any allocation.
        let mut huge = b"VLZ4".to_vec();
        huge.extend_from_slice(&u32::MAX.to_le_bytes());
        huge.extend_from_slice(b"abc");
        assert!(decompress_piece(&huge)
            .unwrap_err()
            .to_string()
            .contains("claims"));
    }

    #[test]
    fn an_unreadable_piece_says_which_and_why() {
        let mut engine = Engine::default();
        let err = engine.restore("acme/w", b"VLZ4ab").unwrap_err();
        assert!(
            matches!(err, CheckpointError::Corrupt { ref key, reason: PieceError::NoSize } if key == "acme/w")
        );
        assert_eq!(
            err.to_string(),
            "checkpoint piece acme/w: corrupt compressed piece: no size"
        );
        let err = engine.restore("acme", b"{\"watermark_ms\":\"x\"}").unwrap_err();
        assert_eq!(err.error_type(), "checkpoint_unreadable");
        assert!(err.to_string().starts_with("checkpoint piece acme: "), "{err}");
    }
}
