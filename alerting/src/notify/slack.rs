//! The `slack` channel: a Slack-compatible incoming webhook POSTed one `text` message — a
//! headline, then one line per alert as [`crate::render::alert_text`] renders it, at most
//! [`SLACK_LINES`] of them (chat messages have a size limit).

use super::http::{HttpClient, HttpPost};
use super::{Notification, Notifier, NotifyError};
use futures::future::BoxFuture;
use serde_json::json;

/// Most alerts listed in one Slack message.
pub const SLACK_LINES: usize = 50;

/// The body of `notification`: `{"text": …}`.
pub fn body(notification: &Notification) -> Vec<u8> {
    let (alerts, firing) = (&notification.alerts, notification.firing());
    let mut text = if notification.reminder {
        format!("*Vigie* — reminder: {firing} alert(s) still firing, not acknowledged")
    } else {
        format!(
            "*Vigie* — {} alert(s) for {} ({firing} firing)",
            alerts.len(),
            notification.group
        )
    };
    for a in alerts.iter().take(SLACK_LINES) {
        text.push_str("\n• ");
        text.push_str(&crate::render::alert_text(a));
    }
    if alerts.len() > SLACK_LINES {
        text.push_str(&format!("\n… and {} more", alerts.len() - SLACK_LINES));
    }
    json!({ "text": text }).to_string().into_bytes()
}

/// A Slack-compatible incoming webhook.
pub struct Slack {
    http: HttpPost,
}

impl Slack {
    /// The incoming webhook at `url`, POSTed through `client`.
    pub fn new(url: &str, client: HttpClient) -> Self {
        Self {
            http: HttpPost::new(url, client),
        }
    }
}

impl Notifier for Slack {
    fn payload(&self, notification: &Notification) -> Vec<u8> {
        body(notification)
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
    fn slack_payloads_carry_text() {
        let n = Notification::group(
            "acme/w1",
            vec![alert("a1", 1, "w1", Severity::Critical, AlertState::Firing)],
        );
        let v: serde_json::Value = serde_json::from_slice(&body(&n)).unwrap();
        assert!(v["text"].as_str().unwrap().contains("ALERT [CRITICAL] acme/w1"));
    }

    #[test]
    fn long_messages_are_cut_and_say_how_many_more() {
        let alerts = (0..SLACK_LINES + 3)
            .map(|i| alert(&format!("a{i}"), 1, "w1", Severity::Warning, AlertState::Firing))
            .collect();
        let v: serde_json::Value = serde_json::from_slice(&body(&Notification::reminder(alerts))).unwrap();
        let text = v["text"].as_str().unwrap();
        assert!(
            text.starts_with("*Vigie* — reminder: 53 alert(s) still firing"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + SLACK_LINES + 1);
        assert!(text.ends_with("… and 3 more"));
    }
}
