//! The watch query language: the [`Query`] tree, its limits and its errors. The syntax is
//! documented in `docs/query-language.md`.
//!
//! The work is done in stages, one module each, that depend only on this module, on the one
//! before them and on the shared vocabulary ([`crate::vocabulary`]):
//!
//! - `lex`: the query text into tokens (words, phrases, parentheses, operators);
//! - `term`: one word or phrase token into a leaf query, normalised and checked
//!   (words, prefixes, tags, field filters, follower counts);
//! - `parse`: the tokens into a tree ([`Query::parse`]), with the limits below;
//! - `eval`: a tree against a [`Document`](crate::document::Document) ([`Query::matches`]).
//!
//! Parse errors give the byte position of the token at fault and what was expected; hostile
//! queries (too long, too deep, too many terms, too costly to match, nothing positive to match)
//! are refused with a reason.

mod eval;
mod lex;
mod parse;
mod term;
#[cfg(test)]
mod tests;

use crate::vocabulary::{Field, Words};

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4_096;
/// Deepest accepted nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms, phrases and filters in one query.
pub const MAX_TERMS: usize = 1_024;
/// Largest distance accepted by `NEAR/n`.
pub const MAX_NEAR: u32 = 100;
/// Most costly terms in one query, where a phrase (several words) or an exact prefix
/// (`=Acm*`) counts 1 and a `NEAR`/`ONEAR` 2: each of them may read every considered token of
/// a mention (up to [`MAX_POSITIONS`](crate::document::MAX_POSITIONS) word positions of the
/// title and of the text), where a word or a prefix is one lookup in the mention's index. With
/// [`MAX_QUERY_BYTES`], this bounds the work of matching one query against any mention (the
/// bound is tested in `query::tests`).
pub const MAX_COST: usize = 64;

/// A comparison on the author's follower count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compare {
    /// Strictly greater.
    Gt(u64),
    /// Greater or equal.
    Ge(u64),
    /// Strictly less.
    Lt(u64),
    /// Less or equal.
    Le(u64),
    /// Equal.
    Eq(u64),
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A word, a prefix or a phrase.
    Words(Words),
    /// Two word queries with at most `distance` words between them; `ordered`: left first.
    Near {
        /// Left operand.
        left: Words,
        /// Right operand.
        right: Words,
        /// Most words allowed between them.
        distance: u32,
        /// `ONEAR`: the left operand must come first.
        ordered: bool,
    },
    /// A field equals a value (`lang:fr`, `source:news`, `site:example.com`, `verified:true`…).
    Field(Field, String),
    /// The author's follower count compares to a number (`followers:>10000`).
    Followers(Compare),
    /// Every sub-query matches.
    And(Vec<Query>),
    /// At least one sub-query matches.
    Or(Vec<Query>),
    /// The sub-query does not match.
    Not(Box<Query>),
}

/// Why a query was refused: where, and what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query error at position {position}: {message}")]
pub struct QueryError {
    /// Byte offset in the query text.
    pub position: usize,
    /// What was wrong or expected.
    pub message: String,
}

/// A refusal at `position` (for the stages' `return err(at, "…")`).
fn err<T>(position: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        position,
        message: message.into(),
    })
}
