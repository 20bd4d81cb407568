//! The watch query language: the [`Query`] tree, its limits, the [`Syntax`] it is read in and
//! its errors. The syntax is documented in `docs/query-language.md`.
//!
//! The work is done in stages, one module each, that depend only on this module, on the one
//! before them and on the shared vocabulary ([`crate::vocabulary`]):
//!
//! - `lex`: the query text into tokens (words, phrases, field names, ranges, parentheses,
//!   operators, `~n`), comments and `^n` preferences left out;
//! - `term`: one word, phrase or field value into a leaf query, normalised and checked
//!   (words, prefixes, wildcards, tags, field filters, follower counts and ranges);
//! - `parse`: the tokens into a tree ([`Query::parse`], [`Query::parse_with`]), with the
//!   limits below;
//! - `span`: the occurrences that `NEAR` and proximity compare, as sets of positions;
//! - `eval`: a tree against a [`Document`](crate::document::Document) ([`Query::matches`]).
//!
//! Nothing is read silently as something else: a construct Vigie does not read as the tools
//! document it is refused, with the byte position of the token at fault, what it is and what to
//! write instead. Hostile queries (too long, too deep, too many terms, too costly to match,
//! nothing positive to match) are refused with a reason.

mod checks;
#[cfg(test)]
mod compat_tests;
pub mod dialect;
mod eval;
mod lex;
mod operands;
mod parse;
mod span;
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
/// Largest distance accepted by `NEAR/n`, `ONEAR/n` and `~n`.
pub const MAX_NEAR: u32 = 100;
/// Most parts of one proximity (`"a b c"~n`, `(a b c)~n`).
pub const MAX_PROXIMITY_PARTS: usize = 16;
/// Most words of a phrase with a wildcard before its last word (`"colo*r televi?ion"`).
pub const MAX_WILDCARD_PHRASE: usize = 8;
/// Longest wildcard word (`customi?e`), in characters.
pub const MAX_PATTERN_CHARS: usize = 64;
/// Most costly terms in one query: each may read every considered token of a mention (up to
/// [`MAX_POSITIONS`](crate::document::MAX_POSITIONS) word positions of the title and of the
/// text), where a word or a prefix is one lookup in the mention's index. A phrase, an exact
/// prefix and a wildcard word count 1 (a phrase with a wildcard before its last word, or with
/// an accented word under [`Syntax::accents_exact`], 2); a
/// `NEAR`/`ONEAR` or a proximity counts 1 per word, phrase or wildcard among its operands (at
/// least 2). With [`MAX_QUERY_BYTES`], this bounds the work of matching one query against any
/// mention (the bound is tested in `query::tests`).
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
    /// Within an inclusive range (`[500 TO 100000]`).
    Between(u64, u64),
}

/// What `NEAR` and proximity compare: occurrences of words, phrases and wildcards, or of
/// groups of them.
#[derive(Debug, Clone, PartialEq)]
pub enum Span {
    /// A word, a prefix, a wildcard or a phrase.
    Words(Words),
    /// The occurrences of any of several (`(gift OR present)`).
    Or(Vec<Span>),
    /// The occurrences of a `NEAR`'s operands that are near a partner: a `NEAR` inside a
    /// `NEAR` (`((christmas OR xmas) NEAR/2 gift) NEAR/5 wife`).
    Near(Box<Near>),
}

/// Some occurrence of `left` and some occurrence of `right` with at most `distance` words
/// between them (not overlapping), in either order, or `left` first when `ordered`.
#[derive(Debug, Clone, PartialEq)]
pub struct Near {
    /// Left operand.
    pub left: Span,
    /// Right operand.
    pub right: Span,
    /// Most words allowed between them.
    pub distance: u32,
    /// `ONEAR`, `NEAR/nf`: the left operand must come first.
    pub ordered: bool,
}

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A word, a prefix, a wildcard or a phrase.
    Words(Words),
    /// Two span expressions near each other (`NEAR/n`, `ONEAR/n`, `NEAR/nf`, two-part `~n`).
    Near(Box<Near>),
    /// One occurrence of each part (one word each), at distinct positions, within a window with
    /// at most `distance` other words (`"a b c"~n`, `(a b c)~n`).
    Proximity {
        /// The parts (at least three; two make a [`Query::Near`]).
        parts: Vec<Span>,
        /// Most other words in the window.
        distance: u32,
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

/// How lower-case or mixed-case `and`, `or`, `not`, `near` and `onear` between terms are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LowercaseOperators {
    /// Refused, with what to write instead (the `vigie` syntax: `or` is also a word, French
    /// "gold", and reading it either way would be a guess).
    Refuse,
    /// Read as the operators (for dialects whose operators are case-insensitive).
    Operators,
}

/// How a query's text is read. [`Syntax::vigie`] (the default) is the superset grammar
/// documented in `docs/query-language.md`; a tool's dialect changes only what that tool
/// documents differently.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Syntax {
    /// Most words between the operands of a bare `NEAR`/`ONEAR` (written without `/n`).
    pub default_near: u32,
    /// What a lower-case `and`, `or`, `not`, `near` between terms means.
    pub lowercase_operators: LowercaseOperators,
    /// A line break between two terms is an `OR` (Visibrain: one alternative per line); a line
    /// break anywhere else (inside a phrase, next to an operator) is white space. When
    /// `false`, every line break is white space.
    pub newline_is_or: bool,
    /// A bare word written in capitals (at least two letters, none lower case, as `US`) matches
    /// that case only, as `=US` does (Talkwalker). When `false`, such a word is
    /// case-insensitive like any other.
    pub caps_exact: bool,
    /// A keyword written with an accent (or another letter that folding changes, as `ß`)
    /// matches only that spelling, whatever the case (`café` matches "Café", not "cafe"),
    /// while an unaccented keyword still matches every spelling (Brandwatch). When `false`,
    /// accents are folded on both sides.
    pub accents_exact: bool,
    /// `city:` takes the tool's location codes (Brandwatch's `bedo`, `deu.berlin.berlin`), not
    /// city names: refused with what to write, rather than read as a name that matches nothing.
    pub city_codes: bool,
    /// Terms written side by side, with only white space between them (`social media`), must
    /// be near each other: at most this many words between two neighbours, in either order
    /// (Talkwalker). `None`: side by side is an `AND` (both anywhere in the mention). Only
    /// words, phrases, wildcards and groups of them join such a run; a negation, a filter or
    /// an explicit `AND` ends it.
    pub space_near: Option<u32>,
}

impl Syntax {
    /// The `vigie` syntax: a bare `NEAR` allows 4 words between its operands (Meltwater's
    /// documented default, the only one of the tools that documents one), and lower-case
    /// operator words between terms are refused; a line break is white space, and case and
    /// accents are ignored unless the query marks a word exact (`=Word`, `{Word}`).
    pub const fn vigie() -> Syntax {
        Syntax {
            default_near: 4,
            lowercase_operators: LowercaseOperators::Refuse,
            newline_is_or: false,
            caps_exact: false,
            accents_exact: false,
            city_codes: false,
            space_near: None,
        }
    }
}

impl Default for Syntax {
    fn default() -> Self {
        Syntax::vigie()
    }
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
