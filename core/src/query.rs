//! The watch query language, first version: bare terms, `"exact phrases"`, `term*` prefixes,
//! `#hashtag` and `@handle`, `AND` (or juxtaposition), `OR`, `NOT` / `-term`, parentheses.
//! Matching is case- and accent-insensitive (see [`crate::text`]).
//!
//! Parse errors give the byte position and what was expected; hostile queries (too long, too
//! deep, too many terms, nothing positive to match) are refused with a reason.

use crate::text::{normalize, tokenize, Token};
use std::collections::HashSet;

/// Longest accepted query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4_096;
/// Deepest accepted nesting of parentheses and negations.
pub const MAX_DEPTH: usize = 32;
/// Most terms and phrases in one query.
pub const MAX_TERMS: usize = 1_024;

/// A parsed query.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// A single normalised word; `prefix` for `term*`.
    Term {
        /// Normalised word (with `#`/`@` for tags and handles).
        text: String,
        /// Matches any word starting with `text`.
        prefix: bool,
    },
    /// Consecutive normalised words.
    Phrase(Vec<String>),
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
    Word(String),
    Phrase(String),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Minus,
}

fn lex(input: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
    let mut out = Vec::new();
    let bytes = input.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push((i, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((i, Tok::RParen));
                i += 1;
            }
            b'"' => {
                let start = i;
                let Some(len) = input[i + 1..].find('"') else {
                    return err(start, "unterminated phrase: expected a closing '\"'");
                };
                out.push((start, Tok::Phrase(input[i + 1..i + 1 + len].to_string())));
                i += len + 2;
            }
            b'-' if out
                .last()
                .map(|(_, t)| !matches!(t, Tok::Word(_)))
                .unwrap_or(true)
                || (i > 0 && bytes[i - 1] == b' ') =>
            {
                out.push((i, Tok::Minus));
                i += 1;
            }
            _ => {
                let start = i;
                while i < bytes.len()
                    && !matches!(bytes[i], b' ' | b'\t' | b'\n' | b'\r' | b'(' | b')' | b'"')
                {
                    i += 1;
                }
                let word = &input[start..i];
                out.push((
                    start,
                    match word {
                        "AND" => Tok::And,
                        "OR" => Tok::Or,
                        "NOT" => Tok::Not,
                        _ => Tok::Word(word.to_string()),
                    },
                ));
            }
        }
    }
    Ok(out)
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
                Some(Tok::Word(_) | Tok::Phrase(_) | Tok::LParen | Tok::Not | Tok::Minus) => {
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
            _ => self.primary(depth),
        }
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
            Tok::Phrase(p) => {
                self.count_term(at)?;
                let words: Vec<String> = tokenize(&p)
                    .into_iter()
                    .filter(|t| !t.text.starts_with('#') && !t.text.starts_with('@'))
                    .map(|t| t.text)
                    .collect();
                match words.len() {
                    0 => err(at, "empty phrase: expected words between the quotes"),
                    1 => Ok(Query::Term {
                        text: words.into_iter().next().unwrap_or_default(),
                        prefix: false,
                    }),
                    _ => Ok(Query::Phrase(words)),
                }
            }
            Tok::Word(w) => {
                self.count_term(at)?;
                word_query(&w, at)
            }
            Tok::RParen => err(at, "unexpected ')': expected a term, a phrase or '('"),
            Tok::And | Tok::Or => err(at, "expected a term, a phrase or '(' before this operator"),
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

fn word_query(raw: &str, at: usize) -> Result<Query, QueryError> {
    let (body, prefix) = match raw.strip_suffix('*') {
        Some(b) => (b, true),
        None => (raw, false),
    };
    let norm = normalize(body);
    let (sigil, rest) = match norm.chars().next() {
        Some(c @ ('#' | '@')) => (Some(c), &norm[1..]),
        _ => (None, norm.as_str()),
    };
    let words: Vec<Token> = tokenize(rest);
    let words: Vec<String> = words.into_iter().map(|t| t.text).collect();
    if words.is_empty() {
        return err(at, format!("{raw:?} has no letters or digits to match"));
    }
    if prefix && words.len() == 1 && words[0].chars().count() < 2 {
        return err(at, "a wildcard needs at least two characters before '*'");
    }
    match (sigil, words.len()) {
        (Some(s), 1) => Ok(Query::Term {
            text: format!("{s}{}", words[0]),
            prefix,
        }),
        (Some(s), _) => Ok(Query::Term {
            text: format!("{s}{}", words.join("_")),
            prefix,
        }),
        (None, 1) => Ok(Query::Term {
            text: words.into_iter().next().unwrap_or_default(),
            prefix,
        }),
        // "coca-cola" or "l'oreal" behave as a phrase.
        (None, _) if !prefix => Ok(Query::Phrase(words)),
        (None, _) => err(at, "a wildcard applies to a single word"),
    }
}

impl Query {
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
                "the query only excludes: add at least one term a mention must contain",
            );
        }
        Ok(q)
    }

    /// Whether the query can match without every branch being a negation.
    fn has_positive(&self) -> bool {
        match self {
            Query::Term { .. } | Query::Phrase(_) => true,
            Query::Not(_) => false,
            Query::And(items) => items.iter().any(Query::has_positive),
            Query::Or(items) => items.iter().all(Query::has_positive),
        }
    }

    /// Evaluates the query against a tokenised document.
    pub fn matches(&self, doc: &Document) -> bool {
        match self {
            Query::Term { text, prefix: false } => doc.words.contains(text.as_str()),
            Query::Term { text, prefix: true } => doc.words.iter().any(|w| w.starts_with(text.as_str())),
            Query::Phrase(words) => doc.has_phrase(words),
            Query::And(items) => items.iter().all(|q| q.matches(doc)),
            Query::Or(items) => items.iter().any(|q| q.matches(doc)),
            Query::Not(q) => !q.matches(doc),
        }
    }
}

/// A document prepared for matching: its tokens and the set of distinct words.
#[derive(Debug, Default)]
pub struct Document {
    tokens: Vec<Token>,
    words: HashSet<String>,
}

impl Document {
    /// Tokenises `text` (and optionally a title) for matching.
    pub fn new(text: &str) -> Self {
        let tokens = tokenize(text);
        let words = tokens.iter().map(|t| t.text.clone()).collect();
        Self { tokens, words }
    }

    fn has_phrase(&self, words: &[String]) -> bool {
        let Some(first) = words.first() else { return false };
        if !words.iter().all(|w| self.words.contains(w)) {
            return false;
        }
        self.tokens.iter().filter(|t| &t.text == first).any(|start| {
            words.iter().enumerate().skip(1).all(|(i, w)| {
                self.tokens
                    .iter()
                    .any(|t| t.position == start.position + i as u32 && &t.text == w)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(q: &str, text: &str) -> bool {
        Query::parse(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .matches(&Document::new(text))
    }

    #[test]
    fn terms_are_case_and_accent_insensitive() {
        assert!(m("securite", "Problème de SÉCURITÉ chez Acme"));
        assert!(m("aime", "j'aime pas du tout"));
        assert!(!m("aime", "aimer"));
        assert!(m("aim*", "aimer"));
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
    fn hashtags_are_first_class() {
        assert!(m("#boycottacme", "#BoycottAcme maintenant"));
        assert!(!m("#boycottacme", "boycottacme maintenant"));
        assert!(m("boycottacme", "#BoycottAcme maintenant"));
        assert!(m("@acme", "merci @Acme"));
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
    }

    #[test]
    fn hostile_queries_are_refused() {
        let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
        assert!(Query::parse(&deep).unwrap_err().message.contains("nesting"));
        let long = "a ".repeat(3000);
        assert!(Query::parse(&long).unwrap_err().message.contains("longer"));
        let many = vec!["ab"; 1500].join(" OR ");
        assert!(Query::parse(&many).is_err());
        let nots = format!("{}a", "NOT ".repeat(100));
        assert!(Query::parse(&nots).is_err());
    }
}
