//! Evaluation: whether a [`Query`] matches a [`Document`]. This is the exact verifier; the
//! matcher's presearcher ([`crate::matcher`]) only decides which queries to evaluate.
//!
//! Each leaf is evaluated at most once, with work bounded by the document's index and cap
//! ([`crate::document`]); the steps are counted ([`Query::matches_counting`]) so that a test
//! can hold the costliest accepted query to a fixed number of operations.

use super::{Compare, Query};
use crate::document::Document;

impl Query {
    /// Evaluates the query against a document. This is the exact verifier: the matcher's
    /// presearcher only decides which queries to evaluate.
    pub fn matches(&self, doc: &Document) -> bool {
        self.eval(doc, &mut 0)
    }

    /// [`Query::matches`], and the work it took in elementary operations (a token compared,
    /// a step of a binary search or of a merge), for tests and benches of the cost bound.
    pub fn matches_counting(&self, doc: &Document) -> (bool, u64) {
        let mut ops = 0;
        let matched = self.eval(doc, &mut ops);
        (matched, ops)
    }

    fn eval(&self, doc: &Document, ops: &mut u64) -> bool {
        *ops += 1;
        match self {
            Query::Words(w) => doc.contains(w, ops),
            Query::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                let l = doc.spans(left, ops);
                if l.is_empty() {
                    return false;
                }
                let r = doc.spans(right, ops);
                near(&l, &r, *distance, *ordered, ops)
            }
            Query::Field(field, value) => {
                *ops += doc.fields().len() as u64;
                doc.field_matches(*field, value)
            }
            Query::Followers(c) => c.holds(doc.followers()),
            Query::And(items) => items.iter().all(|q| q.eval(doc, ops)),
            Query::Or(items) => items.iter().any(|q| q.eval(doc, ops)),
            Query::Not(q) => !q.eval(doc, ops),
        }
    }
}

/// Whether a span of `l` and one of `r` (each sorted, of one length) have at most `distance`
/// words between them, `r` after `l` (or either way unless `ordered`); overlapping spans are
/// not "near". One merge of the two lists: for each span of `l`, the nearest span of `r` after
/// it and before it.
fn near(l: &[(u32, u32)], r: &[(u32, u32)], distance: u32, ordered: bool, ops: &mut u64) -> bool {
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

impl Compare {
    /// Whether a follower count `v` satisfies the comparison.
    fn holds(&self, v: u64) -> bool {
        match *self {
            Compare::Gt(n) => v > n,
            Compare::Ge(n) => v >= n,
            Compare::Lt(n) => v < n,
            Compare::Le(n) => v <= n,
            Compare::Eq(n) => v == n,
        }
    }
}
