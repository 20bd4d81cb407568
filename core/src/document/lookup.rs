//! Finding words in a [`Document`]: a word, a prefix or a wildcard through the sorted index of
//! the considered tokens (or a scan of short texts), phrases verified in one pass, every step
//! counted against the operation bound.

use super::Document;
use crate::text::{normalize, Token};
use crate::vocabulary::{accented, Pattern, Scope, Term, Words};
use std::cmp::Ordering;
use std::ops::ControlFlow;

/// What a probe accepts after its key.
#[derive(Clone, Copy)]
enum Shape<'a> {
    /// The whole word is the key.
    Word,
    /// Any word starting with the key.
    Prefix,
    /// Words starting with the key that match the pattern.
    Pattern(&'a Pattern),
}

/// What to look for in the tokens: a normalised `key` (the whole word, or its start), for
/// exact words the text as written (`exact`, compared with the token's as-written form), and
/// for accent-sensitive words ([`Words::accents`]) the term (`accents`, compared with the
/// token's normalised text or, failing that, its [`accented`] form).
struct Probe<'a> {
    key: &'a str,
    exact: Option<&'a str>,
    accents: Option<&'a str>,
    shape: Shape<'a>,
}

impl Probe<'_> {
    #[inline(always)]
    fn accepts(&self, t: &Token) -> bool {
        match self.shape {
            Shape::Word => {
                t.text == self.key
                    && self.exact.is_none_or(|w| t.raw() == w)
                    && self.accents.is_none_or(|w| t.text == w || accented(t.raw()) == w)
            }
            Shape::Prefix => {
                t.text.starts_with(self.key)
                    && self.exact.is_none_or(|w| t.raw().starts_with(w))
                    && self
                        .accents
                        .is_none_or(|w| t.text.starts_with(w) || accented(t.raw()).starts_with(w))
            }
            Shape::Pattern(p) => {
                t.text.starts_with(self.key)
                    && if self.exact.is_some() {
                        p.matches(t.raw())
                    } else {
                        p.matches(&t.text) || (self.accents.is_some() && p.matches(&accented(t.raw())))
                    }
            }
        }
    }

    /// Where `t` is in the index order relative to the first token the probe accepts.
    #[inline(always)]
    fn before(&self, t: &Token) -> bool {
        match t.text.as_str().cmp(self.key) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => matches!(self.shape, Shape::Word) && self.exact.is_some_and(|w| t.raw() < w),
        }
    }

    /// Whether no token after `t` in the index order can be accepted.
    #[inline(always)]
    fn past(&self, t: &Token) -> bool {
        match self.shape {
            Shape::Word => t.text != self.key || self.exact.is_some_and(|w| t.raw() != w),
            Shape::Prefix | Shape::Pattern(_) => !t.text.starts_with(self.key),
        }
    }
}

/// Steps of a binary search over `n` entries.
fn log2(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros())
}

impl Document {
    /// Spans (first, last position) where `w` occurs, in order.
    pub fn positions(&self, w: &Words) -> Vec<(u32, u32)> {
        self.spans(w, &mut 0)
    }

    /// The considered token slices, and their indexes, of `scope`: title, then text.
    fn parts(&self, scope: Scope) -> [(&[Token], &[u32]); 2] {
        let none = (&[][..], &[][..]);
        let title = match scope {
            Scope::Any | Scope::Title => (&self.tokens[..self.title_end], &self.title_index[..]),
            Scope::Text => none,
        };
        let text = match scope {
            Scope::Any | Scope::Text => (&self.tokens[self.title_len..self.text_end], &self.text_index[..]),
            Scope::Title => none,
        };
        [title, text]
    }

    /// Calls `f` with the tokens in `scope` that `probe` accepts, until `f` breaks: found in
    /// the index (in index order) or, when `scan` or there is no index, by reading every
    /// considered token (in position order). Adds the steps taken to `ops`.
    fn each(
        &self,
        probe: &Probe,
        scope: Scope,
        scan: bool,
        ops: &mut u64,
        mut f: impl FnMut(&Token) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for (tokens, index) in self.parts(scope) {
            if tokens.is_empty() {
                continue;
            }
            if scan || index.is_empty() {
                for t in tokens {
                    *ops += 1;
                    if probe.accepts(t) {
                        f(t)?;
                    }
                }
                continue;
            }
            let first = index.partition_point(|&i| probe.before(&self.tokens[i as usize]));
            *ops += log2(index.len());
            for &i in &index[first..] {
                *ops += 1;
                let t = &self.tokens[i as usize];
                if probe.past(t) {
                    break;
                }
                if probe.accepts(t) {
                    f(t)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// The probe for word `i` of `w`; `key` holds the normalised form of an exact word.
    #[inline]
    fn probe<'a>(w: &'a Words, i: usize, key: &'a mut String) -> Probe<'a> {
        let (word, shape) = match &w.words[i] {
            Term::Word(word) => (word.as_str(), Shape::Word),
            Term::Prefix(prefix) => (prefix.as_str(), Shape::Prefix),
            Term::Pattern(p) => {
                return Probe {
                    key: p.key(),
                    exact: w.exact.then_some(""),
                    accents: (w.accents && !w.exact).then_some(""),
                    shape: Shape::Pattern(p),
                }
            }
        };
        if w.exact {
            *key = normalize(word);
            Probe {
                key: key.as_str(),
                exact: Some(word),
                accents: None,
                shape,
            }
        } else if w.accents {
            *key = normalize(word);
            Probe {
                key: key.as_str(),
                exact: None,
                accents: Some(word),
                shape,
            }
        } else {
            Probe {
                key: word,
                exact: None,
                accents: None,
                shape,
            }
        }
    }

    /// Whether word `i` of `w` occurs in its scope.
    fn occurs(&self, w: &Words, i: usize, ops: &mut u64) -> bool {
        let mut key = String::new();
        let probe = Self::probe(w, i, &mut key);
        self.each(&probe, w.scope, false, ops, |_| ControlFlow::Break(()))
            .is_break()
    }

    /// Whether `w` occurs (the evaluation of a word query), adding the steps taken to `ops`.
    pub(crate) fn contains(&self, w: &Words, ops: &mut u64) -> bool {
        if w.words.len() == 1 {
            return self.occurs(w, 0, ops);
        }
        (0..w.words.len()).all(|i| self.occurs(w, i, ops)) && !self.phrase(w, true, ops).is_empty()
    }

    /// Calls `f` with the start of each span of `w` (in no particular order), adding the steps
    /// taken to `ops`; returns the length of the spans (the number of words of `w`).
    pub(crate) fn starts(&self, w: &Words, ops: &mut u64, mut f: impl FnMut(u32)) -> u32 {
        if w.words.len() > 1 {
            if (0..w.words.len()).all(|i| self.occurs(w, i, ops)) {
                for (start, _) in self.phrase(w, false, ops) {
                    f(start);
                }
            }
            return w.words.len() as u32;
        }
        let mut key = String::new();
        let probe = Self::probe(w, 0, &mut key);
        let _ = self.each(&probe, w.scope, false, ops, |t| {
            f(t.position);
            ControlFlow::Continue(())
        });
        1
    }

    /// The spans of `w`, in order, adding the steps taken to `ops`.
    pub(crate) fn spans(&self, w: &Words, ops: &mut u64) -> Vec<(u32, u32)> {
        if w.words.len() > 1 {
            if !(0..w.words.len()).all(|i| self.occurs(w, i, ops)) {
                return Vec::new();
            }
            return self.phrase(w, false, ops);
        }
        let mut key = String::new();
        let probe = Self::probe(w, 0, &mut key);
        let mut out = Vec::new();
        let mut push = |t: &Token| {
            out.push((t.position, t.position));
            ControlFlow::Continue(())
        };
        let _ = self.each(&probe, w.scope, false, ops, &mut push);
        *ops += out.len() as u64;
        if !out.is_sorted() {
            // The index gives a prefix's words, or a word's spellings, one after the other:
            // read the tokens in position order instead (no more than sorting would cost).
            out.clear();
            let _ = self.each(&probe, w.scope, true, ops, |t| {
                out.push((t.position, t.position));
                ControlFlow::Continue(())
            });
        }
        out
    }

    /// The spans of a phrase of several words, found in one pass over the considered word
    /// tokens of its scope (Knuth–Morris–Pratt: at most two comparisons per token); only the
    /// first when `first`. A last word that is a prefix or a wildcard is checked on the token
    /// after the others; a phrase with a wildcard before its last word, or whose words keep
    /// their accents ([`Words::accents`]: a token may then match two different words of the
    /// phrase, which the failure table does not allow for), is checked from each place its
    /// first word occurs instead (at most 8 comparisons per token).
    fn phrase(&self, w: &Words, first: bool, ops: &mut u64) -> Vec<(u32, u32)> {
        let k = w.words.len();
        let literal: Vec<&str> = w
            .words
            .iter()
            .map_while(|t| match t {
                Term::Word(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if literal.len() + 1 < k || (w.accents && !w.exact) {
            return self.anchored_phrase(w, first, ops);
        }
        let (pattern, last) = if literal.len() == k {
            (&literal[..], None)
        } else {
            (&literal[..], Some(&w.words[k - 1]))
        };
        let m = pattern.len();
        // fail[j]: length of the longest proper border of pattern[..=j].
        let mut fail = vec![0usize; m];
        let mut b = 0;
        for j in 1..m {
            while b > 0 && pattern[j] != pattern[b] {
                b = fail[b - 1];
                *ops += 1;
            }
            if pattern[j] == pattern[b] {
                b += 1;
            }
            fail[j] = b;
            *ops += 1;
        }
        let mut out = Vec::new();
        for (tokens, _) in self.parts(w.scope) {
            let (mut j, mut previous, mut pending) = (0usize, None::<u32>, None::<u32>);
            for t in tokens.iter().filter(|t| !t.is_tag()) {
                *ops += 1;
                if previous.is_none_or(|p| t.position != p + 1) {
                    (j, pending) = (0, None);
                }
                previous = Some(t.position);
                let s = compared(t, w.exact);
                if let (Some(start), Some(last)) = (pending.take(), last) {
                    if last.accepts(s) {
                        out.push((start, t.position));
                        if first {
                            return out;
                        }
                    }
                }
                while j > 0 && pattern[j] != s {
                    j = fail[j - 1];
                    *ops += 1;
                }
                if pattern[j] == s {
                    j += 1;
                }
                if j == m {
                    let start = t.position + 1 - m as u32;
                    match last {
                        Some(_) => pending = Some(start),
                        None => {
                            out.push((start, t.position));
                            if first {
                                return out;
                            }
                        }
                    }
                    j = fail[m - 1];
                }
            }
        }
        out
    }

    /// The spans of a phrase with a wildcard before its last word, or whose words keep their
    /// accents (at most [`MAX_WILDCARD_PHRASE`](crate::query::MAX_WILDCARD_PHRASE) words),
    /// checked from each considered word token of its scope.
    fn anchored_phrase(&self, w: &Words, first: bool, ops: &mut u64) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for (tokens, _) in self.parts(w.scope) {
            let words: Vec<&Token> = tokens.iter().filter(|t| !t.is_tag()).collect();
            for i in 0..words.len() {
                let start = words[i].position;
                let complete = (0..w.words.len()).all(|j| {
                    *ops += 1;
                    words
                        .get(i + j)
                        .is_some_and(|t| t.position == start + j as u32 && w.accepts_token(j, t))
                });
                if complete {
                    out.push((start, start + w.words.len() as u32 - 1));
                    if first {
                        return out;
                    }
                }
            }
        }
        out
    }
}

/// A token's text as a query compares it: normalised, or as written for an exact query.
#[inline]
fn compared(t: &Token, exact: bool) -> &str {
    if exact {
        t.raw()
    } else {
        &t.text
    }
}
