//! The `rss` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `rss` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the rss connector is not built yet"))
}
