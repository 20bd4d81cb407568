//! The `x_activity` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `x_activity` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the x_activity connector is not built yet"))
}
