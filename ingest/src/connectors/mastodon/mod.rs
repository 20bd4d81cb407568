//! The `mastodon` connector (being written).

use super::settings::Settings;
use super::{Built, ConnectorError};

/// Builds a `mastodon` connector from its settings.
pub fn build(settings: &mut Settings) -> Result<Built, ConnectorError> {
    Err(settings.error("type", "the mastodon connector is not built yet"))
}
