//! What `NEAR` and `~n` take: sub-queries read as span expressions (words, phrases, wildcards,
//! `OR`, `NEAR`), with the refusal naming what else an operand holds and what to write instead,
//! and whether two word patterns can spell the same word.

use super::{Query, Span};
use crate::text::normalize;
use crate::vocabulary::{Term, Words};

/// A query made of words, phrases, wildcards, `OR` and `NEAR` as a span expression; what else
/// it holds otherwise, and what to write instead.
pub(super) fn to_span(q: &Query) -> Result<Span, &'static str> {
    Ok(match q {
        Query::Words(w) => Span::Words(w.clone()),
        Query::Near(n) => Span::Near(n.clone()),
        Query::Or(items) => Span::Or(items.iter().map(to_span).collect::<Result<_, _>>()?),
        Query::And(items) if items.iter().any(|q| matches!(q, Query::Not(_))) => {
            return Err("a negation has no place in the text: put NOT outside, as in (a NEAR/5 b) -c")
        }
        Query::And(_) => {
            return Err("an AND of several terms has no single place in the text: write (a NEAR/5 c) AND (b NEAR/5 c), or (a b c)~5 for all of them within 5 words")
        }
        Query::Not(_) => return Err("a negation has no place in the text: put NOT outside, as in (a NEAR/5 b) -c"),
        Query::Field(..) | Query::Followers(_) => {
            return Err("a filter (lang:, site:, followers:…) has no place in the text: combine it with AND outside")
        }
        Query::Proximity { .. } => {
            return Err("a proximity (…)~n of more than two parts cannot be an operand: combine it with AND")
        }
    })
}

/// How many words, phrases and wildcards a span expression holds.
pub(super) fn leaves(span: &Span) -> usize {
    match span {
        Span::Words(_) => 1,
        Span::Or(items) => items.iter().map(leaves).sum(),
        Span::Near(n) => leaves(&n.left) + leaves(&n.right),
    }
}

/// The one-word [`Words`] of a span expression made only of them (and `OR`), into `out`.
pub(super) fn single_words<'a>(span: &'a Span, out: &mut Vec<&'a Words>) -> bool {
    match span {
        Span::Words(w) if w.words.len() == 1 => {
            out.push(w);
            true
        }
        Span::Or(items) => items.iter().all(|s| single_words(s, out)),
        _ => false,
    }
}

/// A piece of a word pattern over characters.
#[derive(Clone, Copy, PartialEq)]
enum Glob {
    Char(char),
    One,
    Any,
}

/// The pattern of words a one-word query may accept, normalised and without `#`/`@` (a tag
/// shares its position with its bare word): what [`may_be_the_same_word`] compares.
fn glob(w: &Words) -> Vec<Glob> {
    let (text, star) = match &w.words[0] {
        Term::Word(s) => (normalize(s), false),
        Term::Prefix(p) => (normalize(p), true),
        Term::Pattern(p) => (normalize(&p.to_string()), false),
    };
    let mut out: Vec<Glob> = text
        .trim_start_matches(['#', '@'])
        .chars()
        .map(|c| match c {
            '?' => Glob::One,
            '*' => Glob::Any,
            c => Glob::Char(c),
        })
        .collect();
    if star {
        out.push(Glob::Any);
    }
    out
}

/// Whether some word (normalised, tag or not) could be accepted by both `a` and `b`: whether
/// their patterns intersect.
pub(super) fn may_be_the_same_word(a: &Words, b: &Words) -> bool {
    let (a, b) = (glob(a), glob(b));
    // reach[i][j]: the first i pieces of `a` and the first j of `b` can spell the same text.
    let mut reach = vec![vec![false; b.len() + 1]; a.len() + 1];
    reach[0][0] = true;
    for i in 0..=a.len() {
        for j in 0..=b.len() {
            if !reach[i][j] {
                continue;
            }
            let (x, y) = (a.get(i).copied(), b.get(j).copied());
            if x == Some(Glob::Any) {
                reach[i + 1][j] = true; // `a`'s star ends
                if y.is_some_and(|y| y != Glob::Any) {
                    reach[i][j + 1] = true; // it spells what `b` spells next
                }
            }
            if y == Some(Glob::Any) {
                reach[i][j + 1] = true;
                if x.is_some_and(|x| x != Glob::Any) {
                    reach[i + 1][j] = true;
                }
            }
            if let (Some(x), Some(y)) = (x, y) {
                let same = match (x, y) {
                    (Glob::Char(p), Glob::Char(q)) => p == q,
                    (Glob::Any, _) | (_, Glob::Any) => false,
                    _ => true,
                };
                if same {
                    reach[i + 1][j + 1] = true;
                }
            }
        }
    }
    reach[a.len()][b.len()]
}
