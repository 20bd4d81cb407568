//! Platform connectors: the `[[connectors]]` of the configuration, each turning one platform's
//! payloads into [`Mention`](vigie_core::proto::Mention)s handed to the same
//! [`Ingestor`](crate::Ingestor) as `/v1/mentions` (same validation, idempotent ids and
//! dead-letter topic), under the connector's configured tenant.
//!
//! Two kinds:
//! - push connectors ([`webhook::Webhook`]): served by ingest at `GET|POST /v1/webhooks/{name}`,
//!   authenticated by the platform's signature, answered only once the broker acknowledged;
//! - pull connectors ([`poll::Poller`]): run by `vigie collect`, each keeping its cursor on
//!   [`topics::CONNECTOR_STATE`](vigie_core::topics::CONNECTOR_STATE).
//!
//! Each type lives in a folder of its own and is registered by one line in [`TYPES`]; what a
//! type needs from the configuration it reads through [`settings::Settings`], which refuses
//! unknown keys and reads secrets from `KEY` or `KEY_env`.

pub mod api;
pub mod html;
pub mod map;
/// Meta's webhook hub (handshake and signature) shared by `meta` and `whatsapp`.
pub mod meta_hub;
pub mod poll;
pub mod settings;
pub mod signature;
#[cfg(test)]
pub(crate) mod testing;
pub mod webhook;

pub mod bluesky;
pub mod linkedin;
pub mod mastodon;
pub mod meta;
pub mod reddit;
pub mod rss;
pub mod telegram;
pub mod trustpilot;
pub mod whatsapp;
pub mod x_activity;
pub mod x_stream;
pub mod youtube;

use settings::Settings;
use std::sync::Arc;
use vigie_core::config::ConnectorConfig;

/// A connector built from its configuration.
pub enum Built {
    /// Served at `/v1/webhooks/{name}` by ingest.
    Push(Arc<dyn webhook::Webhook>),
    /// Run by `vigie collect`.
    Pull(Arc<dyn poll::Poller>),
}

/// How one connector type is built from its settings.
pub type Build = fn(&mut Settings) -> Result<Built, ConnectorError>;

/// Which service runs a connector type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Webhooks, served by ingest.
    Push,
    /// Polled sources, run by collect.
    Pull,
}

/// The connector types: the name written as `type = "…"`, the service that runs it, and how it
/// is built. Adding a platform adds its folder and one line here.
pub const TYPES: &[(&str, Side, Build)] = &[
    ("meta", Side::Push, meta::build),
    ("whatsapp", Side::Push, whatsapp::build),
    ("x_activity", Side::Push, x_activity::build),
    ("linkedin", Side::Push, linkedin::build),
    ("telegram", Side::Push, telegram::build),
    ("trustpilot", Side::Push, trustpilot::build),
    ("rss", Side::Pull, rss::build),
    ("youtube", Side::Pull, youtube::build),
    ("reddit", Side::Pull, reddit::build),
    ("mastodon", Side::Pull, mastodon::build),
    ("bluesky", Side::Pull, bluesky::build),
    ("x_stream", Side::Pull, x_stream::build),
];

/// A connector's configuration that cannot be run, naming the connector and the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectorError {
    /// `type` names no known connector type.
    #[error("connectors[{index}] ({name}).type {kind:?}: unknown connector type; expected one of {known}")]
    UnknownType {
        /// Position in `[[connectors]]`, from 0.
        index: usize,
        /// The connector's name.
        name: String,
        /// The type as written.
        kind: String,
        /// The known types.
        known: String,
    },
    /// A key of the type is missing, unknown, or has a value the connector cannot use.
    #[error("connectors[{index}] ({name}).{key}: {reason}")]
    Setting {
        /// Position in `[[connectors]]`, from 0.
        index: usize,
        /// The connector's name.
        name: String,
        /// The key at fault.
        key: String,
        /// What is wrong, and what is expected.
        reason: String,
    },
}

/// One configured connector, built.
pub struct Connector {
    /// Its unique name.
    pub name: String,
    /// Its type.
    pub kind: String,
    /// The tenant its mentions belong to.
    pub tenant: String,
    /// What it is.
    pub built: Built,
}

/// Builds every configured connector, or says which one cannot be run and why (`vigie
/// standalone` runs both sides).
pub fn build_all(configs: &[ConnectorConfig]) -> Result<Vec<Connector>, ConnectorError> {
    build(configs, None)
}

/// Builds the connectors `side` runs (ingest the webhooks, collect the polled sources), so that
/// a service never needs the other side's secrets; every connector's type is still checked.
pub fn build_side(configs: &[ConnectorConfig], side: Side) -> Result<Vec<Connector>, ConnectorError> {
    build(configs, Some(side))
}

fn build(configs: &[ConnectorConfig], side: Option<Side>) -> Result<Vec<Connector>, ConnectorError> {
    let mut connectors = Vec::new();
    for (index, config) in configs.iter().enumerate() {
        let Some((_, runs_on, build)) = TYPES.iter().find(|(kind, ..)| *kind == config.kind) else {
            return Err(ConnectorError::UnknownType {
                index,
                name: config.name.clone(),
                kind: config.kind.clone(),
                known: TYPES.iter().map(|(k, ..)| *k).collect::<Vec<_>>().join(", "),
            });
        };
        if side.is_some_and(|side| side != *runs_on) {
            continue;
        }
        let mut settings = Settings::new(index, config);
        let built = build(&mut settings)?;
        settings.finish()?;
        connectors.push(Connector {
            name: config.name.clone(),
            kind: config.kind.clone(),
            tenant: config.tenant.clone(),
            built,
        });
    }
    Ok(connectors)
}

/// The webhooks among `connectors`, served with `config`'s body limits and deadline and handing
/// their mentions to `ingestor`.
pub fn webhooks(
    connectors: &[Connector],
    ingestor: &Arc<crate::Ingestor>,
    config: &vigie_core::config::IngestConfig,
) -> webhook::Webhooks {
    let endpoints = connectors
        .iter()
        .filter_map(|c| match &c.built {
            Built::Push(hook) => Some((
                c.name.clone(),
                webhook::Endpoint::new(&c.name, &c.tenant, hook.clone(), ingestor.clone()),
            )),
            Built::Pull(_) => None,
        })
        .collect();
    webhook::Webhooks::new(
        endpoints,
        config.max_body_bytes,
        std::time::Duration::from_millis(config.body_timeout_ms),
        std::time::Duration::from_millis(config.webhook_deadline_ms.max(1)),
    )
}
