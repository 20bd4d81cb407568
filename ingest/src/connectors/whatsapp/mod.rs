//! The `whatsapp` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `whatsapp` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the whatsapp connector is not built yet"))
}
