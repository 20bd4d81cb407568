//! The dialects a watch's query may be written in (`syntax = "meltwater"` on a watch): each
//! tool's name mapped to the [`Syntax`] that reads its queries as the tool documents them.
//!
//! Every dialect starts from [`Syntax::vigie`], the superset grammar that already reads what the
//! tools share (`NEAR/n` between groups, `"phrase"~n`, `?` and inner `*` wildcards, `{Exact}`,
//! `<<<comments>>>`, typographic quotes, field aliases…), and changes only what its tool
//! documents differently, as listed on each dialect below and in `docs/query-language.md`.

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
/// Implemented ([`Syntax::accents_exact`]): a word, phrase word or wildcard written with an
/// accent matches only that spelling, in any case (`café` matches "Café", not "cafe"); one
/// written without accents matches every spelling. Its `city:` takes location codes
/// (`city:bedo`, `city:"deu.berlin.berlin"`): refused ([`Syntax::city_codes`]).
fn brandwatch() -> Syntax {
    let mut s = Syntax::vigie();
    s.accents_exact = true;
    s.city_codes = true;
    s
}

/// Talkwalker. Documented differently from `vigie`: a word written in ALL CAPS matches that
/// case only (`US` is not "us"), and words separated by spaces, without an operator, must be
/// near each other (a proximity), not merely all present.
///
/// Implemented:
/// - [`Syntax::caps_exact`]: a bare word in capitals (at least two letters, none lower case)
///   matches that case only, as `=US`; hashtags and handles stay case-insensitive;
/// - [`Syntax::space_near`]: terms side by side with no operator (`social media`) are near each
///   other, at most [`Syntax::vigie`]`().default_near` (4) words apart in either order, each
///   neighbour with the next (`a b c` is `a NEAR b NEAR c`). Talkwalker's public syntax page
///   does not give the distance; Vigie takes its bare `NEAR`'s, and `a AND b` still means both
///   anywhere. The terms inside a group followed by `~n` are that proximity's parts
///   (`(cake birthday)~5`).
fn talkwalker() -> Syntax {
    let mut s = Syntax::vigie();
    s.caps_exact = true;
    s.space_near = Some(s.default_near);
    s
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
/// Implemented ([`Syntax::newline_is_or`]): a line break between two terms is an `OR`, the
/// loosest operator, so each line is one alternative (`bank scandal` on one line, `boycott` on
/// the next: either both words, or the other); a line break inside a phrase, or before or after
/// an operator, is white space. A line that only excludes (`-bank`) is then an alternative
/// that excludes only, and is refused.
fn visibrain() -> Syntax {
    let mut s = Syntax::vigie();
    s.newline_is_or = true;
    s
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
        for name in ["sprinklr", "mention"] {
            assert_eq!(syntax_named(name).unwrap(), Syntax::vigie(), "{name}");
        }
    }

    #[test]
    fn each_dialect_switches_on_only_its_own_difference() {
        let vigie = Syntax::vigie();
        let only = |name: &str, change: fn(&mut Syntax)| {
            let mut expected = Syntax::vigie();
            change(&mut expected);
            assert_eq!(syntax_named(name).unwrap(), expected, "{name}");
            assert_ne!(expected, vigie, "{name}");
        };
        only("meltwater", |s| {
            s.lowercase_operators = LowercaseOperators::Operators
        });
        only("visibrain", |s| s.newline_is_or = true);
        only("talkwalker", |s| {
            s.caps_exact = true;
            s.space_near = Some(s.default_near);
        });
        only("brandwatch", |s| {
            s.accents_exact = true;
            s.city_codes = true;
        });
        assert!(!vigie.newline_is_or && !vigie.caps_exact && !vigie.accents_exact && !vigie.city_codes);
        assert_eq!(vigie.space_near, None);
    }

    fn doc(text: &str) -> crate::document::Document {
        crate::document::Document::from_text(text)
    }

    fn parse(query: &str, dialect: &str) -> Query {
        Query::parse_with(query, &syntax_named(dialect).unwrap())
            .unwrap_or_else(|e| panic!("{dialect}: {query}: {e}"))
    }

    #[test]
    fn visibrain_reads_a_new_line_between_terms_as_or() {
        // Visibrain's query box: one alternative per line.
        let query = "bank scandal\nboycott";
        let q = parse(query, "visibrain");
        assert!(q.matches(&doc("scandal at the bank")));
        assert!(q.matches(&doc("boycott now")));
        assert!(!q.matches(&doc("bank holiday")));
        // The same text in `vigie`: a new line is a space, all three words are required.
        let v = parse(query, "vigie");
        assert!(!v.matches(&doc("boycott now")));
        assert!(v.matches(&doc("boycott the bank after the scandal")));
        assert_eq!(parse("(bank scandal) OR boycott", "vigie"), q);
        // Windows line ends, blank lines and trailing spaces are one line break.
        assert_eq!(parse("bank scandal \r\n\r\n boycott\n", "visibrain"), q);
    }

    #[test]
    fn visibrain_keeps_other_line_breaks_as_white_space() {
        let visibrain = |q: &str| parse(q, "visibrain");
        let vigie = |q: &str| parse(q, "vigie");
        // Inside a phrase, next to an operator, after a field name or an opening parenthesis.
        for query in [
            "\"bank\nscandal\"",
            "bank AND\nscandal",
            "bank\nAND scandal",
            "bank\nOR scandal",
            "bank NEAR/3\nscandal",
            "bank\nNEAR/3 scandal",
            "(\nbank scandal\n)",
            "title:\nbank",
            "bank <<<a\ncomment>>> scandal",
        ] {
            assert_eq!(visibrain(query), vigie(query), "{query:?}");
        }
        // Between a group and a term, or a term and a group, it is an OR.
        assert_eq!(
            visibrain("(scandal OR boycott) bank\nlawsuit"),
            vigie("((scandal OR boycott) bank) OR lawsuit")
        );
        assert_eq!(
            visibrain("bank\n(scandal boycott)"),
            vigie("bank OR (scandal boycott)")
        );
        assert_eq!(visibrain("bank\n#boycott"), vigie("bank OR #boycott"));
        // A line that only excludes is an alternative matching nearly everything: refused.
        let e = Query::parse_with("bank scandal\n-boycott", &syntax_named("visibrain").unwrap()).unwrap_err();
        assert!(e.message.contains("only excludes"), "{e}");
    }

    #[test]
    fn talkwalker_reads_a_word_in_capitals_as_exact_case() {
        // Talkwalker: `US` is the country, not the pronoun "us".
        let q = parse("US AND election", "talkwalker");
        assert!(q.matches(&doc("the US election")));
        assert!(!q.matches(&doc("tell us about the election")));
        assert_eq!(q, parse("=US AND election", "vigie"));
        let v = parse("US AND election", "vigie");
        assert!(v.matches(&doc("tell us about the election")));
        // Two letters at least, none lower case; digits allowed; marked words are left alone.
        assert_eq!(
            parse("BMW3 AND A AND Bmw", "talkwalker"),
            parse("=BMW3 AND A AND Bmw", "vigie")
        );
        assert_eq!(
            parse("=US AND {US} AND #NBA AND @NASA", "talkwalker"),
            parse("=US AND {US} AND #NBA AND @NASA", "vigie")
        );
        assert_eq!(parse("LUX*", "talkwalker"), parse("=LUX*", "vigie"));
        assert_eq!(
            parse("\"US election\"", "talkwalker"),
            parse("\"US election\"", "vigie")
        );
        // Operators are lexed first; field values are not words.
        assert_eq!(parse("US OR UK", "talkwalker"), parse("=US OR =UK", "vigie"));
        assert_eq!(
            parse("lang:EN AND BMW", "talkwalker"),
            parse("lang:en AND =BMW", "vigie")
        );
        // A title word is a word.
        assert_eq!(parse("title:US", "talkwalker"), parse("title:=US", "vigie"));
    }

    #[test]
    fn talkwalker_reads_terms_side_by_side_as_near_each_other() {
        let near = |q: &str, text: &str| parse(q, "talkwalker").matches(&doc(text));
        // Four words between, either order: near; five: not.
        assert!(near("social media", "social media"));
        assert!(near("social media", "media is our social life"));
        assert!(near("social media", "social one two three four media"));
        assert!(!near("social media", "social one two three four five media"));
        // Vigie reads the same query as both words anywhere.
        assert!(parse("social media", "vigie").matches(&doc("social one two three four five media")));
        // An explicit AND is still both anywhere.
        assert!(near("social AND media", "social one two three four five media"));
        // Each neighbour with the next: `a b c` is `a NEAR b NEAR c`.
        assert!(near("red green blue", "red x green x x x x blue"));
        assert!(!near("red green blue", "red x x x x x green blue"));
        // Phrases, wildcards and OR-groups join the run; a negation or a filter does not.
        assert!(near("\"BMW series\" launch*", "the BMW series is launching"));
        assert!(!near("\"BMW series\" launch*", "BMW series: a b c d e launching"));
        assert!(near("(BMW OR Audi) bike", "Audi e-bike"));
        assert!(near("chocolate -swiss", "belgian chocolate"));
        assert!(!near("chocolate -swiss", "swiss chocolate"));
        assert!(near("social media -lang:de", "social media"));
        // Inside a group followed by ~n, the terms are that proximity's parts.
        assert!(near(
            "(cake birthday party)~5",
            "a party with cake for my birthday"
        ));
        assert!(!near(
            "(cake birthday party)~1",
            "a party with cake for my birthday"
        ));
        // A field's group keeps the proximity inside the field.
        let q = parse("title:(social media)", "talkwalker");
        assert!(q.matches(&crate::document::Document::from_title_and_text(
            "social media today",
            ""
        )));
    }

    #[test]
    fn brandwatch_reads_an_accented_keyword_as_that_spelling_only() {
        // Brandwatch: `café` does not match "cafe"; `cafe` matches both.
        let accented = parse("café", "brandwatch");
        assert!(accented.matches(&doc("un café noir")));
        assert!(accented.matches(&doc("CAFÉ DE FLORE")), "case is still ignored");
        assert!(!accented.matches(&doc("a cafe downtown")));
        let plain = parse("cafe", "brandwatch");
        assert!(plain.matches(&doc("un café noir")) && plain.matches(&doc("a cafe downtown")));
        // The same query in `vigie`: accents folded, both spellings.
        assert!(parse("café", "vigie").matches(&doc("a cafe downtown")));
        assert_eq!(parse("cafe", "brandwatch"), parse("cafe", "vigie"));
        // Decomposed accents in the mention are the same letter.
        assert!(accented.matches(&doc("un cafe\u{301} noir")));
    }

    #[test]
    fn brandwatch_keeps_accents_per_word_in_phrases_wildcards_and_near() {
        let q = parse("\"crème brulee\"", "brandwatch");
        assert!(
            q.matches(&doc("une Crème brûlée")),
            "the unaccented word takes any spelling"
        );
        assert!(q.matches(&doc("creme? no: crème brulee")));
        assert!(!q.matches(&doc("creme brulee")));
        let prefix = parse("régl*", "brandwatch");
        assert!(prefix.matches(&doc("la Réglementation")) && !prefix.matches(&doc("la reglementation")));
        let wild = parse("caf?é", "brandwatch");
        assert!(wild.matches(&doc("cafeé")) && !wild.matches(&doc("cafee")));
        let near = parse("café NEAR/2 paris", "brandwatch");
        assert!(near.matches(&doc("un café à Paris")) && !near.matches(&doc("un cafe à Paris")));
        let tag = parse("#café", "brandwatch");
        assert!(tag.matches(&doc("#Café")) && !tag.matches(&doc("#cafe")));
        // `{…}` stays exact case and accents.
        assert!(!parse("{café}", "brandwatch").matches(&doc("Café")));
        // Under `vigie` every one of these also matches the unaccented spelling.
        assert!(parse("\"crème brulee\"", "vigie").matches(&doc("creme brulee")));
        assert!(parse("régl*", "vigie").matches(&doc("la reglementation")));
    }

    #[test]
    fn the_matcher_finds_what_each_dialect_reads() {
        // The presearcher's keys come from the normalised form: an accented or exact-case word
        // must still make its watch a candidate, and the candidates are verified as written.
        let watches = [
            ("brandwatch", "café"),
            ("brandwatch", "\"crème brulee\" OR régl*"),
            ("brandwatch", "caf?é NEAR/2 paris"),
            ("talkwalker", "US AND election"),
            ("talkwalker", "BMW OR LUX*"),
            ("talkwalker", "social media -facebook"),
            ("visibrain", "bank scandal\nboycott"),
            ("meltwater", "apple and not (IPHONE or \"apple sauce\")"),
        ];
        let mut matcher = crate::matcher::Matcher::default();
        let mut queries = Vec::new();
        for (i, (dialect, text)) in watches.iter().enumerate() {
            let q = parse(text, dialect);
            matcher.insert(&i.to_string(), "t", q.clone());
            queries.push(q);
        }
        let texts = [
            "un café noir à Paris",
            "a cafe downtown in paris",
            "cafeé paris",
            "une Crème brûlée",
            "creme brulee",
            "la Réglementation",
            "la reglementation",
            "the US election",
            "tell us about the election",
            "BMW and Luxembourg",
            "bmw in LUXEMBOURG",
            "scandal at the bank",
            "boycott",
            "an apple a day",
            "apple sauce",
            "social media is loud",
            "media and the wider social world",
            "social life, then at last after many long years the media",
        ];
        let mut seen = 0;
        for text in texts {
            let d = doc(text);
            let mut expected: Vec<String> = (0..queries.len())
                .filter(|&i| queries[i].matches(&d))
                .map(|i| i.to_string())
                .collect();
            let mut found = matcher.matches("t", &d);
            expected.sort();
            found.sort();
            assert_eq!(found, expected, "{text}");
            seen += expected.len();
        }
        assert!(seen >= 8, "the texts match some watches ({seen})");
    }

    #[test]
    fn brandwatch_accented_phrases_are_bounded() {
        let long = format!("\"{}\"", ["café"; 9].join(" "));
        let e = Query::parse_with(&long, &syntax_named("brandwatch").unwrap()).unwrap_err();
        assert!(e.message.contains("at most 8 words"), "{e}");
        assert!(
            Query::parse(&long).is_ok(),
            "vigie folds the accents: an ordinary phrase"
        );
    }
}
