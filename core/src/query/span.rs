//! The occurrences that `NEAR` and proximity compare, as sets of word positions: for each
//! length of span (1 for a word, k for a phrase of k words), a bit set of the positions where
//! such a span starts. Groups are unions (`OR` of sets), and the conditions are shifts and
//! intersections of sets, so that the work is linear in the mention's considered positions
//! whatever the number of occurrences and however the operands nest:
//!
//! - `L NEAR/n R`: some span of `R` starts 1 to n+1 positions after some span of `L` ends (or
//!   the other way round unless ordered); overlapping spans are not near (between two words or
//!   phrases, the common case, a merge of their two sorted lists of spans instead);
//! - a `NEAR` inside a `NEAR` stands for its operands' spans that have a partner;
//! - a proximity of k one-word parts: a window of n+k positions holds a position of each part
//!   (the parser has checked that no word can belong to two parts, so they are distinct).
//!
//! Positions map to bits with the title first, then a gap wider than any distance, then the
//! text, so nothing is near across the two. Every set operation counts one step per 64 bits.

use super::{Near, Span, MAX_NEAR, MAX_PROXIMITY_PARTS};
use crate::document::{Document, TEXT_OFFSET};

/// Bits between the title's positions and the text's: more than any distance or window.
const GAP: u32 = 128;

const _: () = assert!(GAP > MAX_NEAR + MAX_PROXIMITY_PARTS as u32);

/// How a document's positions map to bits.
#[derive(Clone, Copy)]
struct Layout {
    title: u32,
    text_base: u32,
    words: usize,
}

impl Layout {
    fn of(doc: &Document) -> Layout {
        let (title, text) = doc.extents();
        let text_base = if title == 0 { 0 } else { title + GAP };
        let bits = text_base + text;
        Layout {
            title,
            text_base,
            words: bits.div_ceil(64) as usize,
        }
    }

    fn bit(&self, position: u32) -> usize {
        if position < TEXT_OFFSET {
            debug_assert!(position < self.title);
            position as usize
        } else {
            (self.text_base + position - TEXT_OFFSET) as usize
        }
    }
}

/// A set of bit positions.
#[derive(Clone, Debug, PartialEq)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(layout: &Layout) -> Bits {
        Bits(vec![0; layout.words])
    }

    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }

    fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    fn or(&mut self, other: &Bits, ops: &mut u64) {
        *ops += self.0.len() as u64;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a |= b;
        }
    }

    fn and(&mut self, other: &Bits, ops: &mut u64) {
        *ops += self.0.len() as u64;
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    fn intersects(&self, other: &Bits, ops: &mut u64) -> bool {
        *ops += self.0.len() as u64;
        self.0.iter().zip(&other.0).any(|(a, b)| a & b != 0)
    }

    /// The set moved `k` bits up (to higher positions; down when `k` is negative).
    fn shifted(&self, k: i64, ops: &mut u64) -> Bits {
        *ops += self.0.len() as u64;
        let n = self.0.len();
        let mut out = vec![0u64; n];
        let (words, bits) = ((k.unsigned_abs() / 64) as usize, (k.unsigned_abs() % 64) as u32);
        for (i, slot) in out.iter_mut().enumerate() {
            let get = |j: Option<usize>| j.and_then(|j| self.0.get(j)).copied().unwrap_or(0);
            *slot = if k >= 0 {
                let src = i.checked_sub(words);
                let low = get(src);
                let carry = if bits == 0 {
                    0
                } else {
                    get(src.and_then(|s| s.checked_sub(1))) >> (64 - bits)
                };
                (low << bits) | carry
            } else {
                let src = i + words;
                let high = get(Some(src));
                let carry = if bits == 0 {
                    0
                } else {
                    get(Some(src + 1)) << (64 - bits)
                };
                (high >> bits) | carry
            };
        }
        Bits(out)
    }

    /// The union of the set moved by every shift from `from` to `to` (`from <= to`, both
    /// up or both down): by doubling, a logarithmic number of shifts, in the direction of the
    /// range so that no bit leaves the set before it is moved back.
    fn spread(&self, from: i64, to: i64, ops: &mut u64) -> Bits {
        debug_assert!(from <= to && (from >= 0 || to <= 0));
        let width = to - from + 1;
        let up = from >= 0;
        let mut out = self.clone();
        let mut covered = 1;
        while covered < width {
            let step = covered.min(width - covered);
            let moved = out.shifted(if up { step } else { -step }, ops);
            out.or(&moved, ops);
            covered += step;
        }
        out.shifted(if up { from } else { to }, ops)
    }
}

/// The spans of a span expression: for each length, the bits where such spans start.
#[derive(Clone, Debug)]
struct Occurrences {
    by_length: Vec<(u32, Bits)>,
}

impl Occurrences {
    fn is_empty(&self) -> bool {
        self.by_length.iter().all(|(_, b)| b.is_empty())
    }

    fn add(&mut self, length: u32, bits: Bits, ops: &mut u64) {
        match self.by_length.iter_mut().find(|(l, _)| *l == length) {
            Some((_, b)) => b.or(&bits, ops),
            None => self.by_length.push((length, bits)),
        }
    }

    fn starts(&self, layout: &Layout, ops: &mut u64) -> Bits {
        let mut out = Bits::empty(layout);
        for (_, b) in &self.by_length {
            out.or(b, ops);
        }
        out
    }

    fn ends(&self, layout: &Layout, ops: &mut u64) -> Bits {
        let mut out = Bits::empty(layout);
        for (length, b) in &self.by_length {
            out.or(&b.shifted(i64::from(*length) - 1, ops), ops);
        }
        out
    }

    /// The spans whose end is in `ends` (at their start's bit).
    fn ending_in(&self, ends: &Bits, ops: &mut u64) -> Occurrences {
        Occurrences {
            by_length: self
                .by_length
                .iter()
                .map(|(length, b)| {
                    let mut starts = ends.shifted(1 - i64::from(*length), ops);
                    starts.and(b, ops);
                    (*length, starts)
                })
                .collect(),
        }
    }

    /// The spans whose start is in `starts`.
    fn starting_in(&self, starts: &Bits, ops: &mut u64) -> Occurrences {
        Occurrences {
            by_length: self
                .by_length
                .iter()
                .map(|(length, b)| {
                    let mut s = b.clone();
                    s.and(starts, ops);
                    (*length, s)
                })
                .collect(),
        }
    }

    fn union(mut self, other: Occurrences, ops: &mut u64) -> Occurrences {
        for (length, b) in other.by_length {
            self.add(length, b, ops);
        }
        self
    }
}

/// The occurrences of `span` in `doc`.
fn occurrences(doc: &Document, layout: &Layout, span: &Span, ops: &mut u64) -> Occurrences {
    match span {
        Span::Words(w) => {
            let mut bits = Bits::empty(layout);
            let length = doc.starts(w, ops, |start| bits.set(layout.bit(start)));
            *ops += bits.0.len() as u64;
            Occurrences {
                by_length: vec![(length, bits)],
            }
        }
        Span::Or(items) => {
            let mut out = Occurrences {
                by_length: Vec::new(),
            };
            for item in items {
                let o = occurrences(doc, layout, item, ops);
                out = out.union(o, ops);
            }
            out
        }
        Span::Near(near) => matched(doc, layout, near, ops),
    }
}

/// Bits `p` such that a bit of `set` is 1 to `distance + 1` positions before `p`: where a span
/// may start to follow, with at most `distance` words between, a span ending in `set`.
fn after(set: &Bits, distance: u32, ops: &mut u64) -> Bits {
    set.spread(1, i64::from(distance) + 1, ops)
}

/// Bits `p` such that a bit of `set` is 1 to `distance + 1` positions after `p`.
fn before(set: &Bits, distance: u32, ops: &mut u64) -> Bits {
    set.spread(-(i64::from(distance) + 1), -1, ops)
}

/// Whether `near` holds in `doc`.
pub(super) fn near(doc: &Document, near: &Near, ops: &mut u64) -> bool {
    if let (Span::Words(l), Span::Words(r)) = (&near.left, &near.right) {
        // Two words or phrases (the common case): a merge of their sorted spans, each of one
        // length, without building sets.
        let l = doc.spans(l, ops);
        if l.is_empty() {
            return false;
        }
        let r = doc.spans(r, ops);
        return merge(&l, &r, near.distance, near.ordered, ops);
    }
    let layout = Layout::of(doc);
    let left = occurrences(doc, &layout, &near.left, ops);
    if left.is_empty() {
        return false;
    }
    let right = occurrences(doc, &layout, &near.right, ops);
    if right.is_empty() {
        return false;
    }
    let n = near.distance;
    if after(&left.ends(&layout, ops), n, ops).intersects(&right.starts(&layout, ops), ops) {
        return true;
    }
    !near.ordered && after(&right.ends(&layout, ops), n, ops).intersects(&left.starts(&layout, ops), ops)
}

/// Whether a span of `l` and one of `r` (each sorted, of one length) have at most `distance`
/// words between them, `r` after `l` (or either way unless `ordered`); overlapping spans are
/// not "near". One merge of the two lists: for each span of `l`, the nearest span of `r` after
/// it and before it.
fn merge(l: &[(u32, u32)], r: &[(u32, u32)], distance: u32, ordered: bool, ops: &mut u64) -> bool {
    let mut after = 0; // first span of `r` starting after the current span of `l` ends
    let mut before = 0; // spans of `r` ending before the current span of `l` starts
    for &(ls, le) in l {
        *ops += 1;
        while after < r.len() && r[after].0 <= le {
            after += 1;
            *ops += 1;
        }
        if after < r.len() && r[after].0 - le - 1 <= distance {
            return true;
        }
        if !ordered {
            while before < r.len() && r[before].1 < ls {
                before += 1;
                *ops += 1;
            }
            if before > 0 && ls - r[before - 1].1 - 1 <= distance {
                return true;
            }
        }
    }
    false
}

/// The spans of `near`'s operands that have a partner (a `NEAR` inside a `NEAR`).
fn matched(doc: &Document, layout: &Layout, near: &Near, ops: &mut u64) -> Occurrences {
    let left = occurrences(doc, layout, &near.left, ops);
    let right = occurrences(doc, layout, &near.right, ops);
    if left.is_empty() || right.is_empty() {
        return Occurrences {
            by_length: Vec::new(),
        };
    }
    let n = near.distance;
    let (left_starts, left_ends) = (left.starts(layout, ops), left.ends(layout, ops));
    let (right_starts, right_ends) = (right.starts(layout, ops), right.ends(layout, ops));
    // A left span followed by a right one; a right span preceded by a left one.
    let mut out = left.ending_in(&before(&right_starts, n, ops), ops);
    out = out.union(right.starting_in(&after(&left_ends, n, ops), ops), ops);
    if !near.ordered {
        // A left span preceded by a right one; a right span followed by a left one.
        out = out.union(left.starting_in(&after(&right_ends, n, ops), ops), ops);
        out = out.union(right.ending_in(&before(&left_starts, n, ops), ops), ops);
    }
    out
}

/// Whether a window of `distance + parts.len()` positions holds a position of each part (each
/// part's spans are single words, and no word belongs to two parts).
pub(super) fn proximity(doc: &Document, parts: &[Span], distance: u32, ops: &mut u64) -> bool {
    let layout = Layout::of(doc);
    let width = i64::from(distance) + parts.len() as i64;
    let mut windows: Option<Bits> = None;
    for part in parts {
        let starts = occurrences(doc, &layout, part, ops).starts(&layout, ops);
        // Windows [a, a + width - 1] holding one of the part's positions.
        let holding = starts.spread(-(width - 1), 0, ops);
        match &mut windows {
            None => windows = Some(holding),
            Some(w) => w.and(&holding, ops),
        }
        if windows.as_ref().is_some_and(Bits::is_empty) {
            return false;
        }
    }
    windows.is_some_and(|w| !w.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(n: usize, set: &[usize]) -> Bits {
        let mut b = Bits(vec![0; n.div_ceil(64)]);
        for &i in set {
            b.set(i);
        }
        b
    }

    fn members(b: &Bits) -> Vec<usize> {
        (0..b.0.len() * 64)
            .filter(|i| b.0[i / 64] & (1 << (i % 64)) != 0)
            .collect()
    }

    #[test]
    fn shifts_cross_words_both_ways() {
        let b = bits(256, &[0, 63, 64, 130]);
        let ops = &mut 0;
        assert_eq!(members(&b.shifted(1, ops)), [1, 64, 65, 131]);
        assert_eq!(members(&b.shifted(70, ops)), [70, 133, 134, 200]);
        assert_eq!(members(&b.shifted(-64, ops)), [0, 66]);
        assert_eq!(members(&b.shifted(-1, ops)), [62, 63, 129]);
        assert_eq!(members(&b.shifted(200, ops)), [200]);
    }

    #[test]
    fn spreads_cover_every_shift_of_the_range() {
        let b = bits(512, &[200]);
        let ops = &mut 0;
        assert_eq!(members(&b.spread(1, 5, ops)), (201..=205).collect::<Vec<_>>());
        assert_eq!(members(&b.spread(-101, -1, ops)), (99..=199).collect::<Vec<_>>());
        assert_eq!(members(&b.spread(0, 0, ops)), [200]);
        // Near the top of the set, spreading down keeps every bit.
        let top = bits(256, &[250]);
        assert_eq!(
            members(&top.spread(-101, -1, ops)),
            (149..=249).collect::<Vec<_>>()
        );
        assert_eq!(members(&top.spread(-9, 0, ops)), (241..=250).collect::<Vec<_>>());
    }
}
