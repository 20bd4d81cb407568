//! Terms: one word or phrase token into a leaf [`Query`], normalised the way documents are
//! (lower case, accents folded, unless exact) and checked: words, prefixes (`term*`), hashtags
//! and handles, `title:`, field filters (`lang:fr`, `site:example.com`…) and follower counts
//! (`followers:>10k`). Also [`Query::field`], a filter checked like the query syntax.

use super::{err, Compare, Query, QueryError};
use crate::names::{kind_name, parse_kind, parse_source, source_name};
use crate::text::{normalize, raw_words, tokenize};
use crate::vocabulary::{site_suffixes, Field, Scope, Words};

impl Query {
    /// A field filter (`lang`, `source`, … as in `name:value`), checked like the query syntax.
    pub fn field(name: &str, value: &str) -> Result<Query, QueryError> {
        match Field::from_name(name) {
            Some(field) => field_value(field, value, 0),
            None => err(0, format!("unknown filter {name:?}")),
        }
    }
}

/// A quoted phrase (`"…"`, `="…"`, `title:"…"`) as a word query.
pub(super) fn phrase(text: &str, scope: Scope, exact: bool, at: usize) -> Result<Query, QueryError> {
    let words = split_words(text, exact);
    if words.is_empty() {
        return err(at, "empty phrase: expected words between the quotes");
    }
    Ok(Query::Words(Words {
        words,
        prefix: false,
        exact,
        scope,
    }))
}

/// Splits text into the words a query compares: normalised, or as written when `exact`.
fn split_words(text: &str, exact: bool) -> Vec<String> {
    if exact {
        raw_words(text)
    } else {
        tokenize(text)
            .into_iter()
            .filter(|t| !t.text.starts_with('#') && !t.text.starts_with('@'))
            .map(|t| t.text)
            .collect()
    }
}

/// A bare word: a field filter, `title:`, `followers:`, or a word query.
pub(super) fn word_query(raw: &str, at: usize) -> Result<Query, QueryError> {
    if let Some((name, value)) = raw.split_once(':') {
        if let Some(field) = Field::from_name(name) {
            return field_value(field, value, at);
        }
        match name {
            "title" => {
                return match value.strip_prefix('=') {
                    Some(exact) if !exact.is_empty() => words_query(exact, Scope::Title, true, at),
                    _ => words_query(value, Scope::Title, false, at),
                }
            }
            "followers" => return followers(value, at),
            _ => {}
        }
    }
    match raw.strip_prefix('=') {
        Some(rest) if !rest.is_empty() => words_query(rest, Scope::Any, true, at),
        _ => words_query(raw, Scope::Any, false, at),
    }
}

/// A word, prefix, hashtag or handle to find in `scope`.
fn words_query(raw: &str, scope: Scope, exact: bool, at: usize) -> Result<Query, QueryError> {
    let (body, prefix) = match raw.strip_suffix('*') {
        Some(b) => (b, true),
        None => (raw, false),
    };
    if body.contains('*') {
        return err(at, "a wildcard is only allowed at the end of a word (term*)");
    }
    let sigil = body.chars().next().filter(|c| *c == '#' || *c == '@');
    let rest = if sigil.is_some() { &body[1..] } else { body };
    let mut words = split_words(rest, exact);
    if words.is_empty() {
        return err(at, format!("{raw:?} has no letters or digits to match"));
    }
    if let Some(s) = sigil {
        // A tag or handle is one token of letters, digits and '_', exactly as the tokenizer
        // reads them in mentions; anything else could never match.
        if let Some(bad) = rest.chars().find(|c| !(c.is_alphanumeric() || *c == '_')) {
            return err(
                at,
                format!("{s}{rest}: a hashtag or handle has only letters, digits and '_' (found {bad:?})"),
            );
        }
        let tag = if exact { rest.to_string() } else { normalize(rest) };
        words = vec![format!("{s}{tag}")];
    }
    if prefix && (words.len() != 1 || words[0].chars().filter(|c| c.is_alphanumeric()).count() < 2) {
        return err(
            at,
            "a wildcard needs a single word of at least two letters before '*'",
        );
    }
    Ok(Query::Words(Words {
        words,
        prefix,
        exact,
        scope,
    }))
}

/// A field filter: the value checked against what the field accepts, and normalised.
pub(super) fn field_value(field: Field, value: &str, at: usize) -> Result<Query, QueryError> {
    let v = normalize(value.trim()).trim_start_matches('@').to_string();
    if v.is_empty() {
        return err(at, format!("{}: needs a value", field.name()));
    }
    let ok = match field {
        Field::Lang => v.len() == 2 || v == "und",
        Field::Country => v.len() == 2,
        Field::Source => parse_source(&v).is_some(),
        Field::Visibility => v == "public" || v == "private",
        Field::Kind => parse_kind(&v).is_some(),
        Field::Verified => v == "true" || v == "false",
        Field::Author | Field::Site => true,
    };
    if !ok {
        return err(
            at,
            format!(
                "{value:?} is not a valid value for {}: ({})",
                field.name(),
                field.expected()
            ),
        );
    }
    let v = match field {
        Field::Source => source_name(parse_source(&v).unwrap_or_default()).to_string(),
        Field::Kind => kind_name(parse_kind(&v).unwrap_or_default()).to_string(),
        // The same reduction as the mention's URL: host only, lower case, without "www.".
        Field::Site => match site_suffixes(value.trim()).into_iter().next() {
            Some(host) => host,
            None => {
                return err(
                    at,
                    format!("{value:?} is not a valid value for site: ({})", field.expected()),
                )
            }
        },
        _ => v,
    };
    Ok(Query::Field(field, v))
}

/// A follower-count comparison (`>10000`, `>=250k`, `<1000`, `=5`).
fn followers(value: &str, at: usize) -> Result<Query, QueryError> {
    let (op, num): (fn(u64) -> Compare, &str) = if let Some(n) = value.strip_prefix(">=") {
        (Compare::Ge, n)
    } else if let Some(n) = value.strip_prefix("<=") {
        (Compare::Le, n)
    } else if let Some(n) = value.strip_prefix('>') {
        (Compare::Gt, n)
    } else if let Some(n) = value.strip_prefix('<') {
        (Compare::Lt, n)
    } else {
        (Compare::Eq, value.strip_prefix('=').unwrap_or(value))
    };
    let n = num
        .replace(['_', ','], "")
        .parse::<u64>()
        .or_else(|_| parse_abbreviated(num).ok_or(()))
        .map_err(|_| QueryError {
            position: at,
            message: format!("followers: expected a number with an optional >, >=, <, <= (e.g. followers:>10000), got {value:?}"),
        })?;
    Ok(Query::Followers(op(n)))
}

/// "10k" → 10_000, "2m" → 2_000_000.
fn parse_abbreviated(s: &str) -> Option<u64> {
    let s = s.trim().to_ascii_lowercase();
    let (num, mult) = match s.chars().last()? {
        'k' => (&s[..s.len() - 1], 1_000.0),
        'm' => (&s[..s.len() - 1], 1_000_000.0),
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    (v >= 0.0).then_some((v * mult) as u64)
}
