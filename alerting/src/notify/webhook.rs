//! The `json` channel: a generic webhook POSTed Vigie's alert JSON — the receiver's name, the
//! group, "firing" or "resolved", whether it is a reminder, and each alert as
//! [`crate::render::alert_json`] renders it.

use super::http::{HttpClient, HttpPost};
use super::{Notification, Notifier, NotifyError};
use futures::future::BoxFuture;
use serde_json::json;

/// The body of `notification` for the receiver named `receiver`.
pub fn body(receiver: &str, notification: &Notification) -> Vec<u8> {
    json!({
        "receiver": receiver,
        "group": notification.group,
        "status": notification.status(),
        "reminder": notification.reminder,
        "alerts": notification.alerts.iter().map(crate::render::alert_json).collect::<Vec<_>>(),
    })
    .to_string()
    .into_bytes()
}

/// A generic JSON webhook.
pub struct Webhook {
    receiver: String,
    http: HttpPost,
}

impl Webhook {
    /// The webhook of the receiver named `receiver`, POSTing to `url` through `client`.
    pub fn new(receiver: &str, url: &str, client: HttpClient) -> Self {
        Self {
            receiver: receiver.to_string(),
            http: HttpPost::new(url, client),
        }
    }
}

impl Notifier for Webhook {
    fn payload(&self, notification: &Notification) -> Vec<u8> {
        body(&self.receiver, notification)
    }

    fn notify<'a>(&'a self, notification: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        Box::pin(self.http.post(self.payload(notification)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::alert;
    use vigie_core::proto::{AlertState, Severity};

    #[test]
    fn the_body_is_vigie_alert_json() {
        let n = Notification::group(
            "acme/w1",
            vec![
                alert("a1", 1, "w1", Severity::Critical, AlertState::Firing),
                alert("a2", 2, "w1", Severity::Warning, AlertState::Resolved),
            ],
        );
        let v: serde_json::Value = serde_json::from_slice(&body("ops", &n)).unwrap();
        assert_eq!(v["receiver"], "ops");
        assert_eq!(v["group"], "acme/w1");
        assert_eq!(v["status"], "firing");
        assert_eq!(v["reminder"], false);
        assert_eq!(v["alerts"][1]["id"], "a2");
        let resolved = Notification::reminder(vec![n.alerts[1].clone()]);
        let v: serde_json::Value = serde_json::from_slice(&body("ops", &resolved)).unwrap();
        assert_eq!(
            (v["status"].as_str(), v["reminder"].as_bool()),
            (Some("resolved"), Some(true))
        );
    }
}
