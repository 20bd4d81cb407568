//! The watch query language: parsing into a [`Query`] tree and evaluating it against a
//! [`Document`]. The syntax is documented in `docs/query-language.md`.
//!
//! Parse errors give the byte position and what was expected; hostile queries (too long, too
//! deep, too many terms, nothing positive to match) are refused with a reason.

use crate::document::{Document, Field};
use crate::text::{normalize, tokenize};

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4_096;
/// Deepest accepted nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms, phrases and filters in one query.
pub const MAX_TERMS: usize = 1_024;
/// Largest distance accepted by `NEAR/n`.
pub const MAX_NEAR: u32 = 100;

/// Which text of a mention a word query looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Title and text (the default).
    Any,
    /// The title only (`title:`).
    Title,
}

/// A word or phrase to find.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Words {
    /// Consecutive words: normalised (lower case, accents folded), or as written when `exact`.
    pub words: Vec<String>,
    /// The last word is a prefix (`term*`).
    pub prefix: bool,
    /// Match case and accents exactly (`=Word`).
    pub exact: bool,
    /// Where to look.
    pub scope: Scope,
}

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

impl Compare {
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

fn err<T>(position: usize, message: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError {
        position,
        message: message.into(),
    })
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A bare word (may contain `:`, `*`, a leading `=`, `#` or `@`).
    Word(String),
    /// A quoted phrase, with an optional `field:` or `=` before it.
    Phrase {
        prefix: String,
        text: String,
    },
    LParen,
    RParen,
    And,
    Or,
    Not,
    Minus,
    Near {
        distance: u32,
        ordered: bool,
    },
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let mut out = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        match c {
            b'(' => {
                out.push((i, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((i, Tok::RParen));
                i += 1;
            }
            b'-' => {
                out.push((i, Tok::Minus));
                i += 1;
            }
            b'"' => {
                let (text, next) = quoted(input, i)?;
                out.push((
                    i,
                    Tok::Phrase {
                        prefix: String::new(),
                        text,
                    },
                ));
                i = next;
            }
            _ => {
                let start = i;
                while i < bytes.len() && !is_space(bytes[i]) && !matches!(bytes[i], b'(' | b')' | b'"') {
                    i += 1;
                }
                let word = &input[start..i];
                // `title:"…"` or `="…"`: a prefix glued to a phrase.
                if i < bytes.len() && bytes[i] == b'"' && (word.ends_with(':') || word == "=") {
                    let (text, next) = quoted(input, i)?;
                    out.push((
                        start,
                        Tok::Phrase {
                            prefix: word.to_string(),
                            text,
                        },
                    ));
                    i = next;
                    continue;
                }
                let tok = match word {
                    "AND" => Tok::And,
                    "OR" => Tok::Or,
                    "NOT" => Tok::Not,
                    _ => match near_operator(word) {
                        Some(Ok((distance, ordered))) => Tok::Near { distance, ordered },
                        Some(Err(message)) => return err(start, message),
                        None => Tok::Word(word.to_string()),
                    },
                };
                out.push((start, tok));
            }
        }
    }
    Ok(out)
}

fn quoted(input: &str, start: usize) -> Result<(String, usize), QueryError> {
    match input[start + 1..].find('"') {
        Some(len) => Ok((input[start + 1..start + 1 + len].to_string(), start + len + 2)),
        None => err(start, "unterminated phrase: expected a closing '\"'"),
    }
}

/// `NEAR/5` or `ONEAR/5` → Some(Ok((5, ordered))); other words → None.
fn near_operator(word: &str) -> Option<Result<(u32, bool), String>> {
    let (rest, ordered) = if let Some(r) = word.strip_prefix("ONEAR/") {
        (r, true)
    } else if let Some(r) = word.strip_prefix("NEAR/") {
        (r, false)
    } else {
        return None;
    };
    Some(match rest.parse::<u32>() {
        Ok(n) if (1..=MAX_NEAR).contains(&n) => Ok((n, ordered)),
        _ => Err(format!(
            "expected a distance from 1 to {MAX_NEAR} after NEAR/ (e.g. NEAR/5)"
        )),
    })
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(p, _)| *p).unwrap_or(self.end)
    }

    fn or(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.and(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            items.push(self.and(depth)?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::Or(items)
        })
    }

    fn and(&mut self, depth: usize) -> Result<Query, QueryError> {
        let mut items = vec![self.unary(depth)?];
        loop {
            match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    items.push(self.unary(depth)?);
                }
                Some(Tok::Word(_) | Tok::Phrase { .. } | Tok::LParen | Tok::Not | Tok::Minus) => {
                    items.push(self.unary(depth)?);
                }
                _ => break,
            }
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Query::And(items)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Query, QueryError> {
        if depth > MAX_DEPTH {
            return err(self.at(), format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        match self.peek() {
            Some(Tok::Not | Tok::Minus) => {
                self.pos += 1;
                Ok(Query::Not(Box::new(self.unary(depth + 1)?)))
            }
            _ => self.near(depth),
        }
    }

    fn near(&mut self, depth: usize) -> Result<Query, QueryError> {
        let left_at = self.at();
        let mut left = self.primary(depth)?;
        let mut pairs = Vec::new();
        while let Some(Tok::Near { distance, ordered }) = self.peek().cloned() {
            let op_at = self.at();
            self.pos += 1;
            let right_at = self.at();
            let right = self.primary(depth)?;
            let (Query::Words(l), Query::Words(r)) = (&left, &right) else {
                let at = if matches!(left, Query::Words(_)) {
                    right_at
                } else {
                    left_at
                };
                return err(
                    at,
                    format!("NEAR/ONEAR (at {op_at}) expects a word or a \"phrase\" on each side"),
                );
            };
            pairs.push(Query::Near {
                left: l.clone(),
                right: r.clone(),
                distance,
                ordered,
            });
            left = right;
        }
        Ok(match pairs.len() {
            0 => left,
            1 => pairs.remove(0),
            _ => Query::And(pairs),
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Query, QueryError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(at, "unexpected end of query: expected a term, a phrase or '('");
        };
        self.pos += 1;
        match tok {
            Tok::LParen => {
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.at(), "expected ')'");
                }
                self.pos += 1;
                Ok(inner)
            }
            Tok::Phrase { prefix, text } => {
                self.count_term(at)?;
                let (scope, exact) = match prefix.as_str() {
                    "" => (Scope::Any, false),
                    "=" => (Scope::Any, true),
                    "title:" => (Scope::Title, false),
                    "author:" => return field_value(Field::Author, &text, at),
                    other => {
                        return err(
                            at,
                            format!("{other:?} cannot apply to a phrase; expected title: or ="),
                        )
                    }
                };
                phrase(&text, scope, exact, at)
            }
            Tok::Word(w) => {
                self.count_term(at)?;
                word_query(&w, at)
            }
            Tok::RParen => err(at, "unexpected ')': expected a term, a phrase or '('"),
            Tok::And | Tok::Or => err(at, "expected a term, a phrase or '(' before this operator"),
            Tok::Near { .. } => err(at, "expected a word or a phrase before NEAR/ONEAR"),
            Tok::Not | Tok::Minus => err(at, "misplaced negation"),
        }
    }

    fn count_term(&mut self, at: usize) -> Result<(), QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return err(at, format!("more than {MAX_TERMS} terms"));
        }
        Ok(())
    }
}

fn phrase(text: &str, scope: Scope, exact: bool, at: usize) -> Result<Query, QueryError> {
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
        crate::text::raw_words(text)
    } else {
        tokenize(text)
            .into_iter()
            .filter(|t| !t.text.starts_with('#') && !t.text.starts_with('@'))
            .map(|t| t.text)
            .collect()
    }
}

fn word_query(raw: &str, at: usize) -> Result<Query, QueryError> {
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

fn field_value(field: Field, value: &str, at: usize) -> Result<Query, QueryError> {
    let v = normalize(value.trim()).trim_start_matches('@').to_string();
    if v.is_empty() {
        return err(at, format!("{}: needs a value", field.name()));
    }
    let ok = match field {
        Field::Lang => v.len() == 2 || v == "und",
        Field::Country => v.len() == 2,
        Field::Source => crate::model::parse_source(&v).is_some(),
        Field::Visibility => v == "public" || v == "private",
        Field::Kind => crate::model::parse_kind(&v).is_some(),
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
        Field::Source => {
            crate::model::source_name(crate::model::parse_source(&v).unwrap_or_default()).to_string()
        }
        Field::Kind => crate::model::kind_name(crate::model::parse_kind(&v).unwrap_or_default()).to_string(),
        // The same reduction as the mention's URL: host only, lower case, without "www.".
        Field::Site => match crate::document::site_suffixes(value.trim()).into_iter().next() {
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

impl Query {
    /// A field filter (`lang`, `source`, … as in `name:value`), checked like the query syntax.
    pub fn field(name: &str, value: &str) -> Result<Query, QueryError> {
        match Field::from_name(name) {
            Some(field) => field_value(field, value, 0),
            None => err(0, format!("unknown filter {name:?}")),
        }
    }

    /// Parses and checks a query.
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        if input.len() > MAX_QUERY_BYTES {
            return err(
                MAX_QUERY_BYTES,
                format!("query longer than {MAX_QUERY_BYTES} bytes"),
            );
        }
        let toks = lex(input)?;
        if toks.is_empty() {
            return err(0, "empty query: expected at least one term");
        }
        let mut p = Parser {
            toks,
            pos: 0,
            end: input.len(),
            terms: 0,
        };
        let q = p.or(0)?;
        if p.pos < p.toks.len() {
            return err(p.at(), "unexpected ')': no matching '('");
        }
        if !q.has_positive() {
            return err(
                0,
                "the query only excludes: add at least one term or filter a mention must match",
            );
        }
        Ok(q)
    }

    /// Whether every way of matching needs at least one positive condition.
    fn has_positive(&self) -> bool {
        match self {
            Query::Words(_) | Query::Near { .. } | Query::Field(..) | Query::Followers(_) => true,
            Query::Not(_) => false,
            Query::And(items) => items.iter().any(Query::has_positive),
            Query::Or(items) => items.iter().all(Query::has_positive),
        }
    }

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Author, Mention, Source};

    fn m(q: &str, text: &str) -> bool {
        Query::parse(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .matches(&Document::from_text(text))
    }

    fn doc(title: &str, text: &str, source: Source, followers: u64, url: &str) -> Document {
        let mention = Mention {
            text: text.into(),
            title: title.into(),
            source: source as i32,
            kind: crate::proto::Kind::Article as i32,
            visibility: crate::proto::Visibility::Public as i32,
            url: url.into(),
            country: "FR".into(),
            author: Some(Author {
                handle: "Jean_Dupont".into(),
                followers,
                verified: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        Document::from_mention(&mention, "fr")
    }

    #[test]
    fn terms_are_case_and_accent_insensitive() {
        assert!(m("securite", "Problème de SÉCURITÉ chez Acme"));
        assert!(m("aime", "j'aime pas du tout"));
        assert!(!m("aime", "aimer"));
        assert!(m("aim*", "aimer"));
        assert!(m("=Orange", "Mon forfait Orange"));
        assert!(!m("=Orange", "une orange pressée"));
        assert!(m("=\"Crédit Agricole\"", "le Crédit Agricole ferme"));
        assert!(!m("=\"Crédit Agricole\"", "le credit agricole ferme"));
    }

    #[test]
    fn boolean_operators_and_phrases() {
        assert!(m(
            "acme AND (malade OR intoxication)",
            "Intoxication après un menu Acme"
        ));
        assert!(!m("acme AND (malade OR intoxication)", "menu Acme délicieux"));
        assert!(m("acme -promo", "acme en panne"));
        assert!(!m("acme -promo", "acme promo du jour"));
        assert!(!m("acme NOT promo", "acme promo du jour"));
        assert!(m(
            "\"service client\" acme",
            "le Service-Client d'Acme ne répond pas"
        ));
        assert!(!m("\"service client\"", "client du service"));
        assert!(m("coca-cola", "J'ai bu du Coca Cola"));
    }

    #[test]
    fn near_and_ordered_near() {
        assert!(m("acme NEAR/3 panne", "Acme est encore en panne"));
        assert!(m("acme NEAR/3 panne", "panne générale chez Acme"));
        assert!(!m("acme NEAR/1 panne", "Acme est encore en panne"));
        assert!(m("acme ONEAR/3 panne", "Acme est en panne"));
        assert!(!m("acme ONEAR/3 panne", "panne chez Acme"));
        assert!(m(
            "\"service client\" NEAR/2 injoignable",
            "service client toujours injoignable"
        ));
        assert!(Query::parse("(a OR b) NEAR/2 c").is_err());
        assert!(Query::parse("a NEAR/0 b").is_err());
        assert!(Query::parse("a NEAR/x b")
            .unwrap_err()
            .message
            .contains("distance"));
    }

    #[test]
    fn hashtags_and_handles_are_first_class() {
        assert!(m("#boycottacme", "#BoycottAcme maintenant"));
        assert!(!m("#boycottacme", "boycottacme maintenant"));
        assert!(m("boycottacme", "#BoycottAcme maintenant"));
        assert!(m("@acme", "merci @Acme"));
        assert!(m("#boycott*", "#BoycottAcme"));
    }

    #[test]
    fn field_filters() {
        let d = doc(
            "Rappel de produits",
            "Acme rappelle ses burgers",
            Source::News,
            250_000,
            "https://www.lemonde.fr/eco/1",
        );
        let q = |s: &str| Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).matches(&d);
        assert!(q("acme lang:fr"));
        assert!(!q("acme lang:en"));
        assert!(q("acme country:fr source:news kind:article visibility:public"));
        assert!(q("acme site:lemonde.fr"));
        assert!(!q("acme site:monde.fr"));
        assert!(q("acme site:https://www.LeMonde.fr/eco"));
        assert!(q("acme author:jean_dupont"));
        assert!(q("acme author:@Jean_Dupont"));
        assert!(q("title:rappel acme"));
        assert!(!q("title:burgers"));
        assert!(q("title:\"rappel de produits\""));
        assert!(q("acme followers:>100000"));
        assert!(q("acme followers:>=250k"));
        assert!(!q("acme followers:<1000"));
        assert!(q("acme verified:true"));
        assert!(q("source:news AND followers:>1000"));
        assert!(Query::parse("lang:french").unwrap_err().message.contains("lang"));
        assert!(Query::parse("source:myspace").is_err());
        assert!(Query::parse("followers:>many")
            .unwrap_err()
            .message
            .contains("followers"));
    }

    #[test]
    fn errors_give_position_and_expectation() {
        let e = Query::parse("acme AND (burger OR").unwrap_err();
        assert_eq!(e.position, 19);
        assert!(e.message.contains("expected a term"), "{e}");
        let e = Query::parse("acme )").unwrap_err();
        assert_eq!(e.position, 5);
        assert!(Query::parse("\"open").unwrap_err().message.contains("closing"));
        assert!(Query::parse("").is_err());
        assert!(Query::parse("-acme")
            .unwrap_err()
            .message
            .contains("only excludes"));
        assert!(Query::parse("NOT a OR NOT b").is_err());
        assert!(Query::parse("a*b").is_err());
        assert!(Query::parse("#coca-cola")
            .unwrap_err()
            .message
            .contains("hashtag"));
    }

    #[test]
    fn hostile_queries_are_refused() {
        let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
        assert!(Query::parse(&deep).unwrap_err().message.contains("nesting"));
        let long = "a ".repeat(3000);
        assert!(Query::parse(&long).unwrap_err().message.contains("longer"));
        let many = vec!["a"; 1500].join(" ");
        assert!(Query::parse(&many[..]).is_err());
        let many_short = vec!["ab"; 1100].join(" ");
        assert!(Query::parse(&many_short[..many_short.len().min(4096)]).is_err());
        let nots = format!("{}a", "NOT ".repeat(100));
        assert!(Query::parse(&nots).is_err());
    }
}
