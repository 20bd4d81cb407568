//! Refusals that look at the whole query rather than one token: operator words written in lower
//! case (refused, or read as operators, as the syntax says), and filters joined by AND that no
//! mention can satisfy together.

use super::lex::Tok;
use super::{err, LowercaseOperators, Query, QueryError, Syntax};
use crate::vocabulary::Field;

/// Whether a token ends a term (what an operator may follow).
pub(super) fn ends_term(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Word(_) | Tok::Phrase { .. } | Tok::RParen | Tok::Range(_) | Tok::Proximity(_)
    )
}

/// Whether a token starts a term (what an operator may precede).
pub(super) fn starts_term(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Word(_) | Tok::Phrase { .. } | Tok::LParen | Tok::Field(_) | Tok::Minus | Tok::Not
    )
}

/// Lower-case or mixed-case `and`, `or`, `not`, `near`, `onear` used as operators (`or`
/// between two terms, `not` before one): refused, or read as the operators, as the syntax
/// says. Anywhere else (`why not`, a field's value) they are words.
pub(super) fn operator_words(toks: &mut [(usize, Tok)], syntax: &Syntax) -> Result<(), QueryError> {
    for i in 0..toks.len() {
        let Tok::Word(w) = &toks[i].1 else { continue };
        let lower = w.to_ascii_lowercase();
        let operator = match lower.as_str() {
            "and" => Tok::And,
            "or" => Tok::Or,
            "not" => Tok::Not,
            "near" => Tok::Near {
                distance: None,
                ordered: false,
            },
            "onear" => Tok::Near {
                distance: None,
                ordered: true,
            },
            _ => continue,
        };
        let before = i.checked_sub(1).map(|j| &toks[j].1);
        if matches!(before, Some(Tok::Field(_))) {
            continue; // a field's value (`title: or`)
        }
        let after_term = toks.get(i + 1).is_some_and(|(_, t)| starts_term(t));
        let between = before.is_some_and(ends_term) && after_term;
        if !(between || (operator == Tok::Not && after_term)) {
            continue;
        }
        match syntax.lowercase_operators {
            LowercaseOperators::Operators => toks[i].1 = operator,
            LowercaseOperators::Refuse => {
                let upper = lower.to_ascii_uppercase();
                return err(
                    toks[i].0,
                    format!(
                        "{w:?} here reads as an operator: write {upper} (upper case) for the operator, or quote \"{w}\" to search the word"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Refuses two filters joined by AND that no mention can satisfy together (`lang:fr lang:en`,
/// `site:cnet.com site:bild.de`: a mention has one language, one site): such a watch would
/// never match, where the tool it comes from may have meant either (Talkwalker documents
/// `site:"www.cnet.com" site:"bild.de"` as results from both sites).
pub(super) fn contradictions(items: &[Query], starts: &[usize]) -> Result<(), QueryError> {
    // A `city:` filter reads every city its name can mean (an OR of names): two of them that
    // share none cannot both hold either.
    let cities = |q: &Query| -> Option<Vec<String>> {
        match q {
            Query::Field(Field::City, v) => Some(vec![v.clone()]),
            Query::Or(parts) if !parts.is_empty() => parts
                .iter()
                .map(|p| match p {
                    Query::Field(Field::City, v) => Some(v.clone()),
                    _ => None,
                })
                .collect(),
            _ => None,
        }
    };
    for (j, b) in items.iter().enumerate() {
        let Some(vb) = cities(b) else { continue };
        for a in &items[..j] {
            let Some(va) = cities(a) else { continue };
            if !va.iter().any(|v| vb.contains(v)) {
                return err(
                    starts[j],
                    format!(
                        "city:{} and city:{} cannot both hold (a mention has one city): write city:{} OR city:{} for either",
                        va[0], vb[0], va[0], vb[0]
                    ),
                );
            }
        }
    }
    for (j, b) in items.iter().enumerate() {
        let Query::Field(field, vb) = b else { continue };
        for a in &items[..j] {
            let Query::Field(f, va) = a else { continue };
            let single = matches!(
                field,
                Field::Lang
                    | Field::Country
                    | Field::City
                    | Field::Source
                    | Field::Visibility
                    | Field::Kind
                    | Field::Verified
            );
            let apart = |x: &str, y: &str| x != y && !x.ends_with(&format!(".{y}"));
            let contradictory = f == field
                && match field {
                    Field::Site => apart(va, vb) && apart(vb, va),
                    _ => single && va != vb,
                };
            if contradictory {
                let name = field.name();
                return err(
                    starts[j],
                    format!(
                        "{name}:{va} and {name}:{vb} cannot both hold (a mention has one {name}): write {name}:{va} OR {name}:{vb} for either"
                    ),
                );
            }
        }
    }
    Ok(())
}
