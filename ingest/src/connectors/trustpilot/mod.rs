//! The `trustpilot` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `trustpilot` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the trustpilot connector is not built yet"))
}
