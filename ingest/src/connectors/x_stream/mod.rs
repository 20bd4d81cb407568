//! The `x_stream` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `x_stream` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the x_stream connector is not built yet"))
}
