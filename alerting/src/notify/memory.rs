//! The in-memory channel: a real [`Notifier`] that keeps what it was sent and answers each
//! attempt as told (deliver, fail retryably, fail permanently). The stage tests run on it, with
//! no network.

use super::{Notification, Notifier, NotifyError};
use futures::future::BoxFuture;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// How a [`MemoryNotifier`] answers one attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Answer {
    /// Accept the notification.
    #[default]
    Deliver,
    /// Fail in a way worth retrying (as an unreachable destination does).
    FailRetryably,
    /// Fail in a way retrying cannot fix (as a refused request does).
    FailPermanently,
}

#[derive(Default)]
struct State {
    script: VecDeque<Answer>,
    otherwise: Answer,
    delivered: Vec<Notification>,
    attempts: usize,
}

/// A channel in memory; clones share what was sent.
#[derive(Clone, Default)]
pub struct MemoryNotifier {
    state: Arc<Mutex<State>>,
}

impl MemoryNotifier {
    /// A channel that accepts every notification.
    pub fn new() -> Self {
        Self::default()
    }

    /// A channel that gives `answers` to the first attempts, in turn, then accepts.
    pub fn answering(answers: impl IntoIterator<Item = Answer>) -> Self {
        let n = Self::default();
        n.state().script = answers.into_iter().collect();
        n
    }

    /// A channel that gives `answer` to every attempt.
    pub fn always(answer: Answer) -> Self {
        let n = Self::default();
        n.state().otherwise = answer;
        n
    }

    /// The notifications accepted so far, in order.
    pub fn delivered(&self) -> Vec<Notification> {
        self.state().delivered.clone()
    }

    /// How many sends were attempted, accepted or not.
    pub fn attempts(&self) -> usize {
        self.state().attempts
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Notifier for MemoryNotifier {
    fn payload(&self, notification: &Notification) -> Vec<u8> {
        super::webhook::body("memory", notification)
    }

    fn notify<'a>(&'a self, notification: &'a Notification) -> BoxFuture<'a, Result<(), NotifyError>> {
        let mut state = self.state();
        state.attempts += 1;
        let answer = state.script.pop_front().unwrap_or(state.otherwise);
        let result = match answer {
            Answer::Deliver => {
                state.delivered.push(notification.clone());
                Ok(())
            }
            Answer::FailRetryably => Err(NotifyError::Unreachable {
                reason: "the in-memory channel was told to fail".into(),
            }),
            Answer::FailPermanently => Err(NotifyError::Refused {
                reason: "the in-memory channel was told to refuse".into(),
                retryable: false,
            }),
        };
        Box::pin(std::future::ready(result))
    }
}
