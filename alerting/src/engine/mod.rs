//! The alerting engine: routes each enriched mention to the rules of the watches it matched,
//! keeps every rule's detector and alert book, moves each tenant's event-time clock, applies
//! operators' commands, and exports its state as checkpoint pieces.
//!
//! Pure stage logic: no clock (wall time is passed in, only to stamp `raised_at`), no transport.
//! The same engine runs the service, `vigie standalone` and `vigie backtest`. It knows rules only
//! through [`crate::rules::Detector`]: a new rule type changes nothing here.
//!
//! - `state`: what is kept per tenant, watch and rule, and how it follows watch definitions;
//! - `route`: [`Engine::observe`], a mention to its watches' rules, a reply to the rules
//!   awaiting it;
//! - `clock`: each tenant's event-time clock and its sweeps ([`Engine::advance`],
//!   [`Engine::quiet_tenants`]);
//! - `commands`: [`Engine::command`] (acknowledge, resolve, silences, clock);
//! - `checkpoint`: [`Engine::take_checkpoint`], [`Engine::restore`] and the stored form.

mod checkpoint;
mod clock;
mod commands;
mod route;
mod state;
#[cfg(test)]
mod tests;

pub use checkpoint::{compress_piece, decompress_piece, Checkpoint, CheckpointError, Piece, PieceError};
pub use commands::CommandError;
pub use route::ObserveError;

use crate::detector::Signal;
use state::TenantState;
use std::collections::HashMap;

/// Where a record sits in its input: (partition, offset). A state piece remembers the last
/// position it applied, so a redelivered record never counts twice after a restore.
pub type Position = (i32, i64);

/// Whether a piece that applied up to `piece` already applied the record at `record`.
fn applied(record: Option<Position>, piece: Option<Position>) -> bool {
    matches!((record, piece), (Some((p, o)), Some((pp, oo))) if p == pp && o <= oo)
}

/// Counters the service turns into metrics (`vigie_alerting_ignored_total`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct EngineStats {
    /// Mentions ignored because they came later than the lateness allowance.
    pub late: u64,
    /// Records skipped because the restored state had already applied them.
    pub replayed: u64,
}

/// The engine's whole state.
#[derive(Debug, Default)]
pub struct Engine {
    tenants: HashMap<String, TenantState>,
    stats: EngineStats,
    /// Scratch buffer for what detectors report, reused across calls.
    signals: Vec<Signal>,
}

impl Engine {
    /// Counters since start.
    pub fn stats(&self) -> EngineStats {
        self.stats
    }

    /// Newest event time seen for `tenant`.
    pub fn watermark(&self, tenant: &str) -> Option<i64> {
        self.tenants.get(tenant).map(|t| t.watermark_ms)
    }
}
