//! Alerts and receiver settings shared by the notify stage tests.

use vigie_core::config::ReceiverConfig;
use vigie_core::proto::{Alert, AlertState, Severity};

/// An alert of tenant `acme`, produced now, grouped by `watch`.
pub fn alert(id: &str, version: u64, watch: &str, severity: Severity, state: AlertState) -> Alert {
    Alert {
        id: id.into(),
        tenant: "acme".into(),
        watch_id: watch.into(),
        rule: "r".into(),
        severity: severity as i32,
        state: state as i32,
        version,
        group_key: format!("acme/{watch}"),
        raised_at_ms: vigie_core::now_ms(),
        summary: format!("alert {id}"),
        ..Default::default()
    }
}

/// Receiver `ops` at `url`: warnings and above, grouped within 50 ms.
pub fn receiver(url: &str) -> ReceiverConfig {
    ReceiverConfig {
        name: "ops".into(),
        url: url.into(),
        min_severity: "warning".into(),
        group_wait_ms: 50,
        ..Default::default()
    }
}
