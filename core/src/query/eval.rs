//! Evaluation: whether a [`Query`] matches a [`Document`]. This is the exact verifier; the
//! matcher's presearcher ([`crate::matcher`]) only decides which queries to evaluate.

use super::{Compare, Query};
use crate::document::Document;

impl Query {
    /// Evaluates the query against a document. This is the exact verifier: the matcher's
    /// presearcher only decides which queries to evaluate.
    pub fn matches(&self, doc: &Document) -> bool {
        match self {
            Query::Words(w) => !doc.positions(w).is_empty(),
            Query::Near {
                left,
                right,
                distance,
                ordered,
            } => {
                let (l, r) = (doc.positions(left), doc.positions(right));
                l.iter().any(|&(ls, le)| {
                    r.iter().any(|&(rs, re)| {
                        if re < ls {
                            // Right before left.
                            !ordered && ls - re - 1 <= *distance
                        } else if le < rs {
                            rs - le - 1 <= *distance
                        } else {
                            false // overlapping spans are not "near"
                        }
                    })
                })
            }
            Query::Field(field, value) => doc.field_matches(*field, value),
            Query::Followers(c) => c.holds(doc.followers()),
            Query::And(items) => items.iter().all(|q| q.matches(doc)),
            Query::Or(items) => items.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
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
        }
    }
}
