//! The `youtube` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `youtube` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the youtube connector is not built yet"))
}
