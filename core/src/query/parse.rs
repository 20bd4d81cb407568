//! Parsing: tokens into a [`Query`] tree. The grammar, loosest first: `OR`, then `AND` (or
//! juxtaposition), then `NOT`/`-`, then `NEAR/n`/`ONEAR/n` between two word queries, then a
//! term or a parenthesised query. The limits ([`MAX_QUERY_BYTES`], [`MAX_DEPTH`],
//! [`MAX_TERMS`], [`MAX_COST`]) and the rule that a query must match something positive are
//! checked here, each refusal at the byte position of the token at fault; each term is read by
//! the `term` module.

use super::lex::{lex, Tok};
use super::term::{field_value, phrase, word_query};
use super::{err, Query, QueryError, MAX_COST, MAX_DEPTH, MAX_QUERY_BYTES, MAX_TERMS};
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
            cost: 0,
        };
        let (q, excludes_only) = p.or(0)?;
        if p.pos < p.toks.len() {
            return err(p.at(), "unexpected ')': no matching '('");
        }
        if let Some(at) = excludes_only {
            return err(
                at,
                "this part of the query only excludes: add at least one term or filter a mention must match",
            );
        }
        Ok(q)
    }
}

/// A parsed sub-query, and the position of a part of it that can match without any positive
/// condition (a negation, or an `AND` of negations only), if any: such a query would match
/// nearly every mention.
type Parsed = (Query, Option<usize>);

/// A recursive-descent parser over the tokens, counting terms and their cost as it goes.
struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    terms: usize,
    cost: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(_, t)| t)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map(|(p, _)| *p).unwrap_or(self.end)
    }

    /// Alternatives: one that can match without a positive condition makes the whole so.
    fn or(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let (first, mut excludes_only) = self.and(depth)?;
        let mut items = vec![first];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            let (item, excludes) = self.and(depth)?;
            excludes_only = excludes_only.or(excludes);
            items.push(item);
        }
        Ok(if items.len() == 1 {
            (items.remove(0), excludes_only)
        } else {
            (Query::Or(items), excludes_only)
        })
    }

    /// Conjunctions: one positive item makes the whole positive.
    fn and(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let (first, mut excludes_only) = self.unary(depth)?;
        let mut items = vec![first];
        loop {
            let (item, excludes) = match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    self.unary(depth)?
                }
                Some(Tok::Word(_) | Tok::Phrase { .. } | Tok::LParen | Tok::Not | Tok::Minus) => {
                    self.unary(depth)?
                }
                _ => break,
            };
            if excludes.is_none() {
                excludes_only = None;
            }
            items.push(item);
        }
        Ok(if items.len() == 1 {
            (items.remove(0), excludes_only)
        } else {
            (Query::And(items), excludes_only)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        if depth > MAX_DEPTH {
            return err(self.at(), format!("nesting deeper than {MAX_DEPTH} levels"));
        }
        match self.peek() {
            Some(Tok::Not | Tok::Minus) => {
                let at = self.at();
                self.pos += 1;
                let (inner, _) = self.unary(depth + 1)?;
                Ok((Query::Not(Box::new(inner)), Some(at)))
            }
            _ => self.near(depth),
        }
    }

    fn near(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let left_at = self.at();
        let (mut left, excludes_only) = self.primary(depth)?;
        let mut pairs = Vec::new();
        while let Some(Tok::Near { distance, ordered }) = self.peek().cloned() {
            let op_at = self.at();
            self.pos += 1;
            self.add_cost(2, op_at, "a NEAR/ONEAR")?;
            let right_at = self.at();
            let (right, _) = self.primary(depth)?;
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
            0 => (left, excludes_only),
            1 => (pairs.remove(0), None),
            _ => (Query::And(pairs), None),
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(at, "unexpected end of query: expected a term, a phrase or '('");
        };
        self.pos += 1;
        let leaf = match tok {
            Tok::LParen => {
                let inner = self.or(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.at(), "expected ')'");
                }
                self.pos += 1;
                return Ok(inner);
            }
            Tok::Phrase { prefix, text } => {
                self.count_term(at)?;
                match prefix.as_str() {
                    "" => phrase(&text, Scope::Any, false, at)?,
                    "=" => phrase(&text, Scope::Any, true, at)?,
                    "title:" => phrase(&text, Scope::Title, false, at)?,
                    "author:" => field_value(Field::Author, &text, at)?,
                    other => {
                        return err(
                            at,
                            format!("{other:?} cannot apply to a phrase; expected title: or ="),
                        )
                    }
                }
            }
            Tok::Word(w) => {
                self.count_term(at)?;
                word_query(&w, at)?
            }
            Tok::RParen => return err(at, "unexpected ')': expected a term, a phrase or '('"),
            Tok::And | Tok::Or => return err(at, "expected a term, a phrase or '(' before this operator"),
            Tok::Near { .. } => return err(at, "expected a word or a phrase before NEAR/ONEAR"),
            Tok::Not | Tok::Minus => return err(at, "misplaced negation"),
        };
        if let Query::Words(w) = &leaf {
            if w.words.len() > 1 {
                self.add_cost(1, at, "a phrase")?;
            } else if w.exact && w.prefix {
                self.add_cost(1, at, "an exact prefix")?;
            }
        }
        Ok((leaf, None))
    }

    fn count_term(&mut self, at: usize) -> Result<(), QueryError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return err(at, format!("more than {MAX_TERMS} terms"));
        }
        Ok(())
    }

    /// Adds the cost of `what` at `at`; refuses the query past [`MAX_COST`].
    fn add_cost(&mut self, cost: usize, at: usize, what: &str) -> Result<(), QueryError> {
        self.cost += cost;
        if self.cost > MAX_COST {
            return err(
                at,
                format!(
                    "query too costly to match: {what} here takes it past {MAX_COST} \
                     (a phrase or an exact prefix counts 1, a NEAR/ONEAR 2; each reads the whole \
                     mention): split it into several watches"
                ),
            );
        }
        Ok(())
    }
}
