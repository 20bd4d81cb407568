//! The `meta` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `meta` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the meta connector is not built yet"))
}
