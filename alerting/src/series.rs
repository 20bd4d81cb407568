//! Fixed event-time buckets with a bounded allowance for late data.
//!
//! A bucket `[start, start + size)` stays open until the watermark (the newest event time seen)
//! passes `start + size + LATENESS_MS`; then it closes, in order, and empty buckets in between
//! close too (as zero), so baselines learn silences as well as bursts.

use crate::detector::LATENESS_MS;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Longest silence closed bucket by bucket; after a longer gap the series restarts at the
/// watermark (a baseline learns nothing from weeks of zeros but would pay for each of them).
pub const MAX_GAP_MS: i64 = 8 * 86_400_000;

/// Open buckets of one series.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Buckets<T> {
    size_ms: i64,
    /// Open buckets by start, oldest first, without holes.
    open: VecDeque<(i64, T)>,
    /// Start of the next bucket to close (everything before it is closed); `None` before data.
    next_close: Option<i64>,
}

impl<T: Default> Buckets<T> {
    /// Buckets of `size_ms`.
    pub fn new(size_ms: i64) -> Self {
        Self {
            size_ms: size_ms.max(1),
            open: VecDeque::new(),
            next_close: None,
        }
    }

    /// Bucket size, ms.
    pub fn size_ms(&self) -> i64 {
        self.size_ms
    }

    /// Start of the bucket holding `at`.
    pub fn start_of(&self, at: i64) -> i64 {
        at.div_euclid(self.size_ms) * self.size_ms
    }

    /// The open bucket holding `at` (creating it and any hole before it), or `None` when that
    /// bucket already closed (data too late).
    pub fn slot(&mut self, at: i64) -> Option<(i64, &mut T)> {
        let start = self.start_of(at);
        let first = *self.next_close.get_or_insert(start);
        if start < first {
            return None;
        }
        let index = ((start - first) / self.size_ms) as usize;
        if index > (MAX_GAP_MS / self.size_ms) as usize {
            // A jump far ahead: restart at the new bucket.
            self.open.clear();
            self.next_close = Some(start);
            self.open.push_back((start, T::default()));
            return self.open.back_mut().map(|(s, t)| (*s, t));
        }
        while self.open.len() <= index {
            let s = first + self.open.len() as i64 * self.size_ms;
            self.open.push_back((s, T::default()));
        }
        self.open.get_mut(index).map(|(s, t)| (*s, t))
    }

    /// Closes every bucket that ended more than the lateness allowance before `watermark`,
    /// oldest first, handing each (with its start) to `close`.
    pub fn close_until(&mut self, watermark: i64, mut close: impl FnMut(i64, T)) {
        let Some(mut next) = self.next_close else { return };
        let limit = watermark - LATENESS_MS;
        if limit - next > MAX_GAP_MS {
            // Far behind: drop the silence beyond what a baseline can use.
            let skip_to = self.start_of(limit - MAX_GAP_MS);
            while self.open.front().is_some_and(|(s, _)| *s < skip_to) {
                if let Some((s, t)) = self.open.pop_front() {
                    close(s, t);
                }
            }
            next = next.max(skip_to);
        }
        while next + self.size_ms <= limit {
            match self.open.front() {
                Some((s, _)) if *s == next => {
                    if let Some((s, t)) = self.open.pop_front() {
                        close(s, t);
                    }
                }
                _ => close(next, T::default()),
            }
            next += self.size_ms;
        }
        self.next_close = Some(next);
    }

    /// The open buckets, oldest first.
    pub fn open(&self) -> impl Iterator<Item = &(i64, T)> {
        self.open.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn buckets_close_in_order_with_holes_as_zero_and_refuse_late_data() {
        let mut b: Buckets<u32> = Buckets::new(5 * MIN);
        *b.slot(0).unwrap().1 += 1;
        *b.slot(12 * MIN).unwrap().1 += 2;
        let mut closed = Vec::new();
        b.close_until(12 * MIN + LATENESS_MS, |s, v| closed.push((s / MIN, v)));
        assert_eq!(closed, [(0, 1), (5, 0)]);
        // The bucket at 0 closed: a mention for it is too late; the one at 10 is still open.
        assert!(b.slot(MIN).is_none());
        *b.slot(11 * MIN).unwrap().1 += 1;
        closed.clear();
        b.close_until(15 * MIN + LATENESS_MS, |s, v| closed.push((s / MIN, v)));
        assert_eq!(closed, [(10, 3)]);
    }

    #[test]
    fn a_long_silence_is_capped() {
        let mut b: Buckets<u32> = Buckets::new(60 * MIN);
        *b.slot(0).unwrap().1 += 1;
        let mut n = 0;
        b.close_until(100 * 86_400_000, |_, _| n += 1);
        assert!(n <= (MAX_GAP_MS / (60 * MIN)) as usize + 2, "{n}");
        *b.slot(100 * 86_400_000).unwrap().1 += 1;
    }
}
