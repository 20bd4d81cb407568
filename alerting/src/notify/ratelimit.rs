//! The rate-limit stage: at most `max_per_minute` notifications a minute per receiver (a token
//! bucket shared by its notifications and its reminders). When the bucket is empty, everything
//! still pending waits and goes out together, as one digest, when a token frees.

use super::Notification;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use vigie_core::retry::Abandoned;

/// A token bucket: `per_minute` notifications a minute, refilled continuously.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: f64,
    tokens: f64,
    at: tokio::time::Instant,
}

impl RateLimit {
    /// A full bucket.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute: per_minute.max(1) as f64,
            tokens: per_minute.max(1) as f64,
            at: tokio::time::Instant::now(),
        }
    }

    fn refill(&mut self) {
        let now = tokio::time::Instant::now();
        let gained = now.duration_since(self.at).as_secs_f64() * self.per_minute / 60.0;
        self.tokens = (self.tokens + gained).min(self.per_minute);
        self.at = now;
    }

    /// Takes a token if one is available.
    pub fn try_take(&mut self) -> bool {
        self.refill();
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// How long until a token is available.
    pub fn wait(&mut self) -> Duration {
        self.refill();
        Duration::from_secs_f64(((1.0 - self.tokens).max(0.0) * 60.0 / self.per_minute).max(0.001))
    }
}

/// A receiver's rate limit, shared by its notifications and its reminders; clones share the
/// bucket.
#[derive(Debug, Clone)]
pub struct Limiter {
    bucket: Arc<Mutex<RateLimit>>,
}

impl Limiter {
    /// `per_minute` notifications a minute.
    pub fn new(per_minute: u32) -> Self {
        Self {
            bucket: Arc::new(Mutex::new(RateLimit::new(per_minute))),
        }
    }

    /// Takes a token if one is available.
    pub fn try_take(&self) -> bool {
        self.bucket().try_take()
    }

    /// The next notification to send from `pending`: its first one if a token is free now;
    /// otherwise, once one frees, everything still pending as one digest. `None` when nothing
    /// is pending; [`Abandoned`] when `cancel` fires while waiting.
    pub async fn next(
        &self,
        pending: &mut VecDeque<Notification>,
        cancel: &CancellationToken,
    ) -> Result<Option<Notification>, Abandoned> {
        if pending.is_empty() {
            return Ok(None);
        }
        if self.try_take() {
            return Ok(pending.pop_front());
        }
        loop {
            let wait = self.bucket().wait();
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = cancel.cancelled() => return Err(Abandoned("notify: stopped while rate-limited".into())),
            }
            // Reminders may have taken the token meanwhile: then wait again.
            if self.try_take() {
                return Ok(Some(Notification::digest(pending.drain(..))));
            }
        }
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, RateLimit> {
        self.bucket.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::fixtures::alert;
    use crate::notify::notifier::DIGEST_GROUP;
    use vigie_core::proto::{AlertState, Severity};

    #[tokio::test]
    async fn the_rate_limit_spaces_notifications() {
        let mut limit = RateLimit::new(2);
        assert!(limit.try_take() && limit.try_take());
        assert!(!limit.try_take());
        let wait = limit.wait();
        assert!(
            wait > Duration::from_secs(25) && wait <= Duration::from_secs(30),
            "{wait:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn beyond_the_limit_what_waits_goes_out_as_one_digest() {
        let group = |id: &str, watch: &str| {
            Notification::group(
                format!("acme/{watch}"),
                vec![alert(id, 1, watch, Severity::Warning, AlertState::Firing)],
            )
        };
        let mut pending: VecDeque<_> = [group("a1", "w1"), group("a2", "w2"), group("a3", "w3")].into();
        let limiter = Limiter::new(1);
        let cancel = CancellationToken::new();
        let started = tokio::time::Instant::now();
        let first = limiter.next(&mut pending, &cancel).await.unwrap().unwrap();
        assert_eq!(first.group, "acme/w1");
        assert!(started.elapsed() < Duration::from_secs(1), "a token was free");
        let digest = limiter.next(&mut pending, &cancel).await.unwrap().unwrap();
        assert!(started.elapsed() >= Duration::from_secs(59), "waited for a token");
        assert_eq!(digest.group, DIGEST_GROUP);
        let ids: Vec<_> = digest.alerts.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["a2", "a3"]);
        assert_eq!(limiter.next(&mut pending, &cancel).await.unwrap(), None);
        // Stopping while waiting for a token gives the notification up to redelivery.
        pending.push_back(group("a4", "w4"));
        cancel.cancel();
        assert!(limiter.next(&mut pending, &cancel).await.is_err());
    }
}
