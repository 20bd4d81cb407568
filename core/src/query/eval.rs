//! Evaluation: whether a [`Query`] matches a [`Document`]. This is the exact verifier; the
//! matcher's presearcher ([`crate::matcher`]) only decides which queries to evaluate.
//!
//! Each leaf is evaluated at most once, with work bounded by the document's index and cap
//! ([`crate::document`]), `NEAR` and proximity by sets of positions (`span`); the steps are
//! counted ([`Query::matches_counting`]) so that a test
//! can hold the costliest accepted query to a fixed number of operations.

use super::{span, Compare, Query};
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
            Query::Near(near) => span::near(doc, near, ops),
            Query::Proximity { parts, distance } => span::proximity(doc, parts, *distance, ops),
            Query::Field(field, value) => {
                *ops += doc.field_count(*field) as u64;
                doc.field_matches(*field, value)
            }
            Query::Followers(c) => c.holds(doc.followers()),
            Query::And(items) => items.iter().all(|q| q.eval(doc, ops)),
            Query::Or(items) => items.iter().any(|q| q.eval(doc, ops)),
            Query::Not(q) => !q.eval(doc, ops),
        }
    }
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
            Compare::Between(a, b) => (a..=b).contains(&v),
        }
    }
}
