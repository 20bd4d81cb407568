//! The channel interface: a [`Notification`] (what one message to a receiver holds) and the
//! [`Notifier`] trait every channel implements (webhook, Slack, and the in-memory double), with
//! [`NotifyError`] saying whether a failed send is worth retrying.

use futures::future::BoxFuture;
use vigie_core::proto::{Alert, AlertState};

/// The group named by a rate-limited digest (alerts of several groups in one notification).
pub const DIGEST_GROUP: &str = "several groups (rate-limited digest)";
/// The group named by a reminder of alerts still firing.
pub const REMINDER_GROUP: &str = "reminder";

/// One message to a receiver: the alerts of one group (or a digest of several), or a reminder
/// of alerts still firing.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Group key of the alerts (tenant and watch), [`DIGEST_GROUP`] or [`REMINDER_GROUP`].
    pub group: String,
    /// The alerts, in arrival order (oldest first for a reminder).
    pub alerts: Vec<Alert>,
    /// Whether this reminds of alerts already sent and still firing.
    pub reminder: bool,
}

impl Notification {
    /// The alerts of `group`.
    pub fn group(group: impl Into<String>, alerts: Vec<Alert>) -> Self {
        Self {
            group: group.into(),
            alerts,
            reminder: false,
        }
    }

    /// Everything in `notifications` as one digest.
    pub fn digest(notifications: impl IntoIterator<Item = Notification>) -> Self {
        let alerts = notifications.into_iter().flat_map(|n| n.alerts).collect();
        Self::group(DIGEST_GROUP, alerts)
    }

    /// A reminder that `alerts` are still firing.
    pub fn reminder(alerts: Vec<Alert>) -> Self {
        Self {
            group: REMINDER_GROUP.into(),
            alerts,
            reminder: true,
        }
    }

    /// How many of the alerts are firing.
    pub fn firing(&self) -> usize {
        self.alerts
            .iter()
            .filter(|a| a.state() == AlertState::Firing)
            .count()
    }

    /// "firing" when any alert is, "resolved" otherwise.
    pub fn status(&self) -> &'static str {
        if self.firing() > 0 {
            "firing"
        } else {
            "resolved"
        }
    }

    /// The tenant of the first alert (the key of its dead letter), empty when there is none.
    pub fn tenant(&self) -> &str {
        self.alerts.first().map(|a| a.tenant.as_str()).unwrap_or_default()
    }
}

/// Why one send of a notification failed, and whether trying again may help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotifyError {
    /// The destination could not be reached or did not answer in time: retryable.
    #[error("unreachable: {reason}")]
    Unreachable {
        /// What the transport reported.
        reason: String,
    },
    /// The destination answered and refused the notification; `retryable` when its answer says
    /// it may accept later (HTTP 5xx, 429).
    #[error("refused: {reason}")]
    Refused {
        /// The answer, e.g. "HTTP 503 Service Unavailable".
        reason: String,
        /// Whether trying again may succeed.
        retryable: bool,
    },
    /// The notification cannot be sent as configured (invalid address or request): permanent.
    #[error("cannot be sent: {reason}")]
    Invalid {
        /// What is wrong.
        reason: String,
    },
}

impl NotifyError {
    /// Whether sending again may succeed.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Refused { retryable, .. } => *retryable,
            Self::Invalid { .. } => false,
        }
    }
}

/// A channel: sends one notification, once. Retries, rate limits and dead letters are stages
/// around it; a new channel (email, Telegram, Teams) is one implementation of this trait.
pub trait Notifier: Send + Sync {
    /// The bytes this channel sends for `notification`; what its dead letter keeps when it
    /// cannot be delivered.
    fn payload(&self, notification: &Notification) -> Vec<u8>;

    /// Sends `notification` once.
    fn notify<'a>(&'a self, notification: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>>;
}
