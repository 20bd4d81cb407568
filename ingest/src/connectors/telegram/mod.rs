//! The `telegram` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `telegram` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the telegram connector is not built yet"))
}
