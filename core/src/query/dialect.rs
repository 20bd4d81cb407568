//! The dialects a watch's query may be written in (`syntax = "meltwater"` on a watch): each
//! tool's name mapped to the [`Syntax`] that reads its queries as the tool documents them.
//!
//! Every dialect starts from [`Syntax::vigie`], the superset grammar that already reads what the
//! tools share (`NEAR/n` between groups, `"phrase"~n`, `?` and inner `*` wildcards, `{Exact}`,
//! `<<<comments>>>`, typographic quotes, field aliases…), and changes only what its tool
//! documents differently. Where a documented difference is not implemented yet, the dialect
//! reads the query as `vigie` does; the difference is listed on the dialect below as a TODO and
//! in `docs/dialects.md`, with what to rewrite meanwhile.

use super::{LowercaseOperators, Syntax};

/// The dialect names a watch's `syntax` accepts, the default first.
pub const SYNTAXES: [&str; 7] = [
    "vigie",
    "brandwatch",
    "talkwalker",
    "meltwater",
    "sprinklr",
    "visibrain",
    "mention",
];

/// A `syntax` that names no known dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown syntax {name:?}: expected one of {}", SYNTAXES.join(", "))]
pub struct UnknownSyntax {
    /// The name as given.
    pub name: String,
}

/// The [`Syntax`] of the dialect `name`, one of [`SYNTAXES`]; the empty name is `vigie` (a watch
/// written before dialects existed). Names are lower case, as listed.
pub fn syntax_named(name: &str) -> Result<Syntax, UnknownSyntax> {
    match name {
        "" | "vigie" => Ok(Syntax::vigie()),
        "brandwatch" => Ok(brandwatch()),
        "talkwalker" => Ok(talkwalker()),
        "meltwater" => Ok(meltwater()),
        "sprinklr" => Ok(sprinklr()),
        "visibrain" => Ok(visibrain()),
        "mention" => Ok(mention()),
        _ => Err(UnknownSyntax {
            name: name.to_string(),
        }),
    }
}

/// Brandwatch (Consumer Research). Documented differently from `vigie`: a keyword written with
/// an accent matches only the accented spelling (`café` does not match "cafe", `cafe` matches
/// both).
///
/// TODO (not implemented, read as `vigie`: accent-insensitive, so `café` also matches "cafe",
/// a wider match, never a narrower one). The words' normalisation would need a per-syntax
/// switch; meanwhile `{café}` (exact case and accents) is the closest rewrite.
fn brandwatch() -> Syntax {
    Syntax::vigie()
}

/// Talkwalker. Documented differently from `vigie`: a word written in ALL CAPS matches that
/// case only (`US` is not "us"), and words separated by spaces, without an operator, must be
/// near each other (a proximity), not merely all present.
///
/// TODO (not implemented, read as `vigie`): ALL-CAPS exact case — write `{US}` or `=US`
/// meanwhile; space-separated words as a proximity — write `"a b"~n` or `a NEAR/n b`
/// meanwhile (as written, `a b` requires both words anywhere in the mention).
fn talkwalker() -> Syntax {
    Syntax::vigie()
}

/// Meltwater. Documented differently from `vigie`: operators are case-insensitive (its own
/// example `NOT (IPHONE or "apple sauce")`), and a bare `NEAR`/`ONEAR`, without `/n`, has a
/// default distance.
///
/// Implemented: lower-case and mixed-case `and`, `or`, `not`, `near`, `onear` between terms are
/// the operators ([`LowercaseOperators::Operators`]; quote `"or"` to search the word); a bare
/// `NEAR` takes Meltwater's default distance, which is also `vigie`'s
/// ([`Syntax::vigie`]`().default_near`).
fn meltwater() -> Syntax {
    let mut s = Syntax::vigie();
    s.lowercase_operators = LowercaseOperators::Operators;
    s
}

/// Sprinklr. Its documented operators (`AND`, `OR`, `NOT`, `NEAR/n`, `ONEAR/n`, `"phrase"~n`,
/// wildcards, field prefixes) are those of the superset grammar, with the same meaning: read
/// as `vigie`. No documented difference to implement.
fn sprinklr() -> Syntax {
    Syntax::vigie()
}

/// Visibrain. Documented differently from `vigie`: in the query box, a new line between terms
/// is an `OR` (one alternative per line).
///
/// TODO (not implemented, read as `vigie`): new line as OR. As written, a new line is a space,
/// so the lines of a multi-line query are all required (an AND): join them with ` OR ` (and
/// parenthesise each line that holds an operator) meanwhile.
fn visibrain() -> Syntax {
    Syntax::vigie()
}

/// Mention. Its documented keyword syntax (`AND`, `OR`, `NOT`, `"exact phrase"`, parentheses)
/// is a subset of the superset grammar with the same meaning: read as `vigie`. No documented
/// difference to implement.
fn mention() -> Syntax {
    Syntax::vigie()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;

    #[test]
    fn every_listed_name_maps_and_others_are_refused_with_the_list() {
        for name in SYNTAXES {
            assert!(syntax_named(name).is_ok(), "{name}");
        }
        assert_eq!(syntax_named("").unwrap(), Syntax::vigie());
        let e = syntax_named("Meltwater").unwrap_err();
        assert_eq!(e.name, "Meltwater");
        let said = e.to_string();
        for name in SYNTAXES {
            assert!(said.contains(name), "{said}");
        }
    }

    #[test]
    fn meltwater_reads_lower_case_operators_where_vigie_refuses_them() {
        // Meltwater's own example: its lower-case `or` is the operator, so both are excluded.
        let query = "apple AND NOT (IPHONE or \"apple sauce\")";
        let e = Query::parse_with(query, &syntax_named("vigie").unwrap()).unwrap_err();
        assert_eq!(e.position, query.find(" or ").unwrap() + 1, "{e}");
        let q = Query::parse_with(query, &syntax_named("meltwater").unwrap()).unwrap();
        let doc = crate::document::Document::from_text;
        assert!(q.matches(&doc("an apple a day")));
        assert!(!q.matches(&doc("apple launches the iphone")));
        assert!(!q.matches(&doc("apple sauce recipe")));
    }

    #[test]
    fn dialects_without_an_implemented_difference_read_as_vigie() {
        for name in ["brandwatch", "talkwalker", "sprinklr", "visibrain", "mention"] {
            assert_eq!(syntax_named(name).unwrap(), Syntax::vigie(), "{name}");
        }
    }
}
