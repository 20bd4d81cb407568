//! Parsing: tokens into a [`Query`] tree. The grammar, loosest first: `OR`, then `AND` (or
//! juxtaposition), then `NOT`/`-`, then `NEAR/n`/`ONEAR/n` between two word queries, then a
//! term or a parenthesised query. The limits ([`MAX_QUERY_BYTES`], [`MAX_DEPTH`],
//! [`MAX_TERMS`]) and the rule that a query must match something positive are checked here;
//! each term is read by the `term` module.

use super::lex::{lex, Tok};
use super::term::{field_value, phrase, word_query};
use super::{err, Query, QueryError, MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS};
use crate::vocabulary::{Field, Scope};

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
}

/// A recursive-descent parser over the tokens, counting terms as it goes.
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
