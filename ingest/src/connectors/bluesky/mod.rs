//! The `bluesky` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `bluesky` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the bluesky connector is not built yet"))
}
