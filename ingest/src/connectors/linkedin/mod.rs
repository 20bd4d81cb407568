//! The `linkedin` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `linkedin` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the linkedin connector is not built yet"))
}
