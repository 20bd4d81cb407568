//! Parsing: tokens into a [`Query`] tree, in a [`Syntax`]. The grammar, loosest first: `OR`,
//! then `AND` (or juxtaposition), then `NOT`/`-`, then `NEAR`/`ONEAR` between two span
//! expressions, then `~n` after a phrase or a group, then a term, a `field:` with its value or
//! group, or a parenthesised query. The limits ([`MAX_QUERY_BYTES`], [`MAX_DEPTH`],
//! [`MAX_TERMS`], [`MAX_COST`], [`MAX_PROXIMITY_PARTS`]) and the rule that a query must match
//! something positive are checked here, each refusal at the byte position of the token at
//! fault; each term is read by the `term` module.

use super::checks::{contradictions, operator_words, starts_term};
use super::lex::{lex, Tok};
use super::operands::{leaves, may_be_the_same_word, single_words, to_span};
use super::term::{self, Target};
use super::{
    err, Near, Query, QueryError, Span, Syntax, MAX_COST, MAX_DEPTH, MAX_PROXIMITY_PARTS, MAX_QUERY_BYTES,
    MAX_TERMS,
};
use crate::vocabulary::{Field, Scope, Term, Words};

impl Query {
    /// Parses and checks a query in the default `vigie` syntax ([`Syntax::vigie`]).
    pub fn parse(input: &str) -> Result<Query, QueryError> {
        Query::parse_with(input, &Syntax::vigie())
    }

    /// Parses and checks a query written in `syntax`.
    pub fn parse_with(input: &str, syntax: &Syntax) -> Result<Query, QueryError> {
        if input.len() > MAX_QUERY_BYTES {
            return err(
                MAX_QUERY_BYTES,
                format!("query longer than {MAX_QUERY_BYTES} bytes"),
            );
        }
        let mut toks = lex(input, syntax.newline_is_or)?;
        if toks.is_empty() {
            return err(0, "empty query: expected at least one term");
        }
        operator_words(&mut toks, syntax)?;
        let mut p = Parser {
            toks,
            pos: 0,
            end: input.len(),
            terms: 0,
            cost: 0,
            syntax,
            target: Target::Text(Scope::Any),
            in_field: false,
            plain_space_depth: None,
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

/// What an operand was written as: `~n` applies to phrases and groups.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Term,
    Phrase,
    Group,
}

/// A parsed operand of `NEAR` or `~n`, with where it starts.
struct Operand {
    query: Query,
    excludes: Option<usize>,
    shape: Shape,
    at: usize,
}

/// A recursive-descent parser over the tokens, counting terms and their cost as it goes.
struct Parser<'s> {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    terms: usize,
    cost: usize,
    syntax: &'s Syntax,
    /// What terms are matched against: the text, or a field whose group is being read
    /// (`title:(…)`, `site:(…)`).
    target: Target,
    in_field: bool,
    /// The depth of a group whose terms side by side are read as an `AND` even under
    /// [`Syntax::space_near`]: the parts of the `~n` that follows it (`(cake birthday)~5`).
    plain_space_depth: Option<usize>,
}

impl Parser<'_> {
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

    /// Conjunctions: one positive item makes the whole positive. Under
    /// [`Syntax::space_near`], terms written side by side are also near each other.
    fn and(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let mut starts = vec![self.at()];
        let (first, mut excludes_only) = self.unary(depth)?;
        let mut items = vec![first];
        // Whether item i follows item i-1 with only white space between them.
        let mut side_by_side = vec![false];
        loop {
            let (item, excludes) = match self.peek() {
                Some(Tok::And) => {
                    self.pos += 1;
                    starts.push(self.at());
                    side_by_side.push(false);
                    self.unary(depth)?
                }
                Some(t) if starts_term(t) => {
                    starts.push(self.at());
                    side_by_side.push(true);
                    self.unary(depth)?
                }
                _ => break,
            };
            if excludes.is_none() {
                excludes_only = None;
            }
            items.push(item);
        }
        contradictions(&items, &starts)?;
        if let Some(distance) = self.syntax.space_near {
            if self.plain_space_depth != Some(depth) {
                items = self.side_by_side_near(items, &side_by_side, &starts, distance)?;
            }
        }
        Ok(if items.len() == 1 {
            (items.remove(0), excludes_only)
        } else {
            (Query::And(items), excludes_only)
        })
    }

    /// Runs of terms written side by side (words, phrases, wildcards, groups of them) as
    /// `NEAR/distance` between neighbours, in either order, as `a NEAR b NEAR c` reads; other
    /// items (negations, filters, terms after an explicit `AND`) are left as they are.
    fn side_by_side_near(
        &mut self,
        items: Vec<Query>,
        side_by_side: &[bool],
        starts: &[usize],
        distance: u32,
    ) -> Result<Vec<Query>, QueryError> {
        let mut out = Vec::new();
        let mut run: Vec<(Query, Span)> = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let as_span = to_span(&item).ok();
            if !(side_by_side[i] && !run.is_empty() && as_span.is_some()) {
                self.end_run(&mut run, &mut out, distance, starts[i])?;
            }
            match as_span {
                Some(span) => run.push((item, span)),
                None => out.push(item),
            }
        }
        let end = self.at();
        self.end_run(&mut run, &mut out, distance, end)?;
        Ok(out)
    }

    /// One run of side-by-side terms into `out`: a single term as it is, two or more as the
    /// `NEAR`s between neighbours.
    fn end_run(
        &mut self,
        run: &mut Vec<(Query, Span)>,
        out: &mut Vec<Query>,
        distance: u32,
        at: usize,
    ) -> Result<(), QueryError> {
        if run.len() < 2 {
            out.extend(run.drain(..).map(|(q, _)| q));
            return Ok(());
        }
        let spans: Vec<Span> = run.drain(..).map(|(_, s)| s).collect();
        let mut pairs = Vec::new();
        for pair in spans.windows(2) {
            let cost = (leaves(&pair[0]) + leaves(&pair[1])).max(2);
            self.add_cost(cost, at, "words side by side (a proximity)")?;
            pairs.push(Query::Near(Box::new(Near {
                left: pair[0].clone(),
                right: pair[1].clone(),
                distance,
                ordered: false,
            })));
        }
        out.extend(pairs);
        Ok(())
    }

    /// Whether the group just opened (the `(` read) is closed by a `)` followed by `~n`: its
    /// terms side by side are then the parts of that proximity, not proximities of their own.
    fn group_takes_proximity(&self) -> bool {
        let mut open = 0usize;
        for (i, (_, tok)) in self.toks.iter().enumerate().skip(self.pos) {
            match tok {
                Tok::LParen => open += 1,
                Tok::RParen if open == 0 => {
                    return matches!(self.toks.get(i + 1), Some((_, Tok::Proximity(_))))
                }
                Tok::RParen => open -= 1,
                _ => {}
            }
        }
        false
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

    /// `a NEAR/n b NEAR/m c`: each pair of neighbours near each other.
    fn near(&mut self, depth: usize) -> Result<Parsed, QueryError> {
        let first = self.postfix(depth)?;
        if !matches!(self.peek(), Some(Tok::Near { .. })) {
            return Ok((first.query, first.excludes));
        }
        let mut pairs = Vec::new();
        let mut left = first;
        while let Some(Tok::Near { distance, ordered }) = self.peek().cloned() {
            let op_at = self.at();
            self.pos += 1;
            let right = self.postfix(depth)?;
            let near = Near {
                left: span(&left, "NEAR/ONEAR", op_at)?,
                right: span(&right, "NEAR/ONEAR", op_at)?,
                distance: distance.unwrap_or(self.syntax.default_near),
                ordered,
            };
            let cost = (leaves(&near.left) + leaves(&near.right)).max(2);
            self.add_cost(cost, op_at, "a NEAR/ONEAR")?;
            pairs.push(Query::Near(Box::new(near)));
            left = right;
        }
        Ok(match pairs.len() {
            1 => (pairs.remove(0), None),
            _ => (Query::And(pairs), None),
        })
    }

    /// An operand, and `~n` after it.
    fn postfix(&mut self, depth: usize) -> Result<Operand, QueryError> {
        let operand = self.primary(depth)?;
        let Some(&Tok::Proximity(distance)) = self.peek() else {
            return Ok(operand);
        };
        let at = self.at();
        self.pos += 1;
        let parts = match (&operand.shape, &operand.query) {
            (Shape::Phrase, Query::Words(w)) if w.words.len() == 1 => return Ok(operand),
            (Shape::Phrase, Query::Words(w)) => w
                .words
                .iter()
                .map(|t| {
                    Span::Words(Words {
                        words: vec![t.clone()],
                        exact: w.exact,
                        accents: w.accents,
                        scope: w.scope,
                    })
                })
                .collect(),
            (Shape::Group, Query::And(items)) => items
                .iter()
                .map(|q| to_span(q).map_err(|why| QueryError {
                    position: operand.at,
                    message: format!("(…)~{distance}: {why}"),
                }))
                .collect::<Result<Vec<_>, _>>()?,
            (Shape::Group, _) => {
                return err(
                    at,
                    format!("(…)~{distance} needs two or more parts joined by AND or spaces, as in (cake birthday)~5"),
                )
            }
            _ => {
                return err(
                    at,
                    format!(
                        "~{distance} follows a \"quoted phrase\" or a (group); a word or a filter has no proximity (for spelling variants write them with OR or a wildcard)"
                    ),
                )
            }
        };
        let query = self.proximity(parts, distance, operand.at, at)?;
        Ok(Operand {
            query,
            excludes: None,
            shape: Shape::Term,
            at: operand.at,
        })
    }

    /// `~n` over `parts`: two make a `NEAR/n` (either order), more a window in which each part
    /// has its own word.
    fn proximity(
        &mut self,
        mut parts: Vec<Span>,
        distance: u32,
        at: usize,
        op_at: usize,
    ) -> Result<Query, QueryError> {
        let cost = parts.iter().map(leaves).sum::<usize>().max(2);
        self.add_cost(cost, op_at, "a proximity ~n")?;
        if parts.len() == 2 {
            let right = parts.remove(1);
            let left = parts.remove(0);
            return Ok(Query::Near(Box::new(Near {
                left,
                right,
                distance,
                ordered: false,
            })));
        }
        if parts.len() > MAX_PROXIMITY_PARTS {
            return err(
                op_at,
                format!("a proximity ~n has at most {MAX_PROXIMITY_PARTS} parts"),
            );
        }
        let mut terms = Vec::new();
        for part in &parts {
            let mut words = Vec::new();
            if !single_words(part, &mut words) {
                return err(
                    at,
                    "in a proximity of more than two parts each part is a word, a wildcard or an OR of them: \
                     for a phrase write it with NEAR, as in \"ice cream\" NEAR/5 (birthday OR party)",
                );
            }
            terms.push(words);
        }
        for i in 0..terms.len() {
            for j in i + 1..terms.len() {
                for a in &terms[i] {
                    for b in &terms[j] {
                        if may_be_the_same_word(a, b) {
                            return err(
                                at,
                                format!(
                                    "in a proximity each part needs a word of its own, but {} and {} can be the same word: \
                                     use NEAR between two of them, or make the parts distinct",
                                    a.words[0].text(),
                                    b.words[0].text()
                                ),
                            );
                        }
                    }
                }
            }
        }
        Ok(Query::Proximity { parts, distance })
    }

    fn primary(&mut self, depth: usize) -> Result<Operand, QueryError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return err(at, "unexpected end of query: expected a term, a phrase or '('");
        };
        self.pos += 1;
        let (query, shape) = match tok {
            Tok::LParen => {
                let outer = self.plain_space_depth;
                if self.group_takes_proximity() {
                    self.plain_space_depth = Some(depth + 1);
                }
                let parsed = self.or(depth + 1);
                self.plain_space_depth = outer;
                let (query, excludes) = parsed?;
                if self.peek() != Some(&Tok::RParen) {
                    return err(self.at(), "expected ')'");
                }
                self.pos += 1;
                return Ok(Operand {
                    query,
                    excludes,
                    shape: Shape::Group,
                    at,
                });
            }
            Tok::Phrase { exact, text } => {
                self.count_term(at)?;
                (self.phrase(&text, exact, self.target, at)?, Shape::Phrase)
            }
            Tok::Word(w) => {
                self.count_term(at)?;
                (self.word(&w, self.target, at)?, Shape::Term)
            }
            Tok::Field(name) => return self.field(&name, at, depth),
            Tok::Range(_) => return err(at, "a range [a TO b] follows followers:"),
            Tok::RParen => return err(at, "unexpected ')': expected a term, a phrase or '('"),
            Tok::And | Tok::Or => return err(at, "expected a term, a phrase or '(' before this operator"),
            Tok::Near { .. } => return err(at, "expected a word, a phrase or a group before NEAR/ONEAR"),
            Tok::Not | Tok::Minus => return err(at, "misplaced negation"),
            Tok::Proximity(_) => return err(at, "~n follows a \"quoted phrase\" or a (group) directly"),
        };
        self.leaf(query, shape, at)
    }

    /// `name:` and its value: a word, a phrase, a range, or a group whose every term is read
    /// as the field's (`title:(a OR b)`, `site:(x.com OR y.com)`).
    fn field(&mut self, name: &str, at: usize, depth: usize) -> Result<Operand, QueryError> {
        if self.in_field {
            return err(
                at,
                format!(
                    "{name}: inside another field's group: write each field outside the other's parentheses"
                ),
            );
        }
        let target = term::target(name).ok_or_else(|| term::unknown_field(name, at))?;
        if self.syntax.city_codes && target == Target::Filter(Field::City) {
            return err(
                at,
                "city: here takes the tool's location codes (bedo, deu.berlin.berlin), which Vigie does not read: write the city's name in the vigie syntax (city:Berlin)",
            );
        }
        let (query, shape) = match self.peek().cloned() {
            Some(Tok::Word(v)) => {
                self.pos += 1;
                self.count_term(at)?;
                (self.word(&v, target, at)?, Shape::Term)
            }
            Some(Tok::Phrase { exact, text }) => {
                self.pos += 1;
                self.count_term(at)?;
                (self.phrase(&text, exact, target, at)?, Shape::Phrase)
            }
            Some(Tok::Range(inside)) => {
                self.pos += 1;
                self.count_term(at)?;
                (term::range(&inside, target, at)?, Shape::Term)
            }
            Some(Tok::LParen) => {
                let saved = self.target;
                (self.target, self.in_field) = (target, true);
                let group = self.primary(depth);
                (self.target, self.in_field) = (saved, false);
                return group.map(|g| Operand { at, ..g });
            }
            _ => {
                return err(
                    at,
                    format!("{name}: needs a value (a word, a \"phrase\" or a (group))"),
                )
            }
        };
        self.leaf(query, shape, at)
    }

    /// A bare word against `target`, read as the syntax says: a word in capitals is exact with
    /// [`Syntax::caps_exact`], an accented word keeps its accents with
    /// [`Syntax::accents_exact`].
    fn word(&self, raw: &str, target: Target, at: usize) -> Result<Query, QueryError> {
        if self.syntax.caps_exact && matches!(target, Target::Text(_)) && in_capitals(raw) {
            return term::word(&format!("={raw}"), target, false, at);
        }
        term::word(raw, target, self.syntax.accents_exact, at)
    }

    /// A quoted phrase against `target`, its accents kept with [`Syntax::accents_exact`].
    fn phrase(&self, text: &str, exact: bool, target: Target, at: usize) -> Result<Query, QueryError> {
        term::phrase(text, exact, target, self.syntax.accents_exact, at)
    }

    /// The cost of a leaf that may read the whole mention (see [`MAX_COST`]).
    /// An operand made of one leaf, its cost counted.
    fn leaf(&mut self, query: Query, shape: Shape, at: usize) -> Result<Operand, QueryError> {
        self.leaf_cost(&query, at)?;
        Ok(Operand {
            query,
            excludes: None,
            shape,
            at,
        })
    }

    fn leaf_cost(&mut self, leaf: &Query, at: usize) -> Result<(), QueryError> {
        let Query::Words(w) = leaf else {
            return Ok(());
        };
        let last = w.words.len() - 1;
        if w.words.len() > 1 {
            let wild = w.words[..last].iter().any(|t| !matches!(t, Term::Word(_)));
            if wild {
                self.add_cost(2, at, "a phrase with a wildcard before its last word")
            } else if w.accents {
                self.add_cost(2, at, "a phrase with an accented word")
            } else {
                self.add_cost(1, at, "a phrase")
            }
        } else {
            match &w.words[0] {
                Term::Prefix(_) if w.exact => self.add_cost(1, at, "an exact prefix"),
                Term::Pattern(_) => self.add_cost(1, at, "a wildcard word"),
                _ => Ok(()),
            }
        }
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
                     (a phrase, an exact prefix or a wildcard word counts 1, a NEAR/ONEAR or a \
                     proximity 1 per word among its operands; each reads the whole mention): split \
                     it into several watches"
                ),
            );
        }
        Ok(())
    }
}

/// Whether a bare word is written in capitals: at least two letters, none lower case (`US`,
/// `BMW`, `MP3`), and not already marked (`=US`, `#US`, `@US`).
fn in_capitals(raw: &str) -> bool {
    !raw.starts_with(['=', '#', '@'])
        && raw.chars().filter(|c| c.is_alphabetic()).count() >= 2
        && !raw.chars().any(char::is_lowercase)
}

/// An operand of `NEAR` (or `~n`) as a span expression, or the refusal naming what it is.
fn span(operand: &Operand, operator: &str, op_at: usize) -> Result<Span, QueryError> {
    to_span(&operand.query).map_err(|why| QueryError {
        position: operand.at,
        message: format!("{operator} (at {op_at}): {why}"),
    })
}
