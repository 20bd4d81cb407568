//! The `reddit` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `reddit` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the reddit connector is not built yet"))
}
