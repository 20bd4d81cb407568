//! Lexing: a query's text into tokens, each with its byte position for error messages: bare
//! words, phrases (straight or typographic quotes, `="…"`, `{"…"}`), `{Exact}` words,
//! `name:` field prefixes with their value, `[a TO b]` ranges, parentheses, `AND`/`OR`/`NOT`/`-`,
//! the `NEAR` family and `~n` after a phrase or a group, and (when the syntax says so) a line
//! break between two terms as an `OR`. `<<<comments>>>` and `^n` preferences are left out (they
//! do not change what matches). Nothing here knows what a word means; a
//! sequence no tool reads as a word (an operator in lower case with a distance, an unknown
//! `OP/n`, a stray quote) is refused here, with what to write instead.

use super::checks::{ends_term, starts_term};
use super::{err, QueryError, MAX_NEAR};

/// One token of a query, as the parser reads it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    /// A bare word as written (may start with `=`, `#` or `@`, hold `*`, `?` or `:`).
    Word(String),
    /// A quoted phrase; `exact` for `="…"` and `{"…"}`.
    Phrase {
        exact: bool,
        text: String,
    },
    /// `name:` before its value (the next token: a word, a phrase, a range or a group).
    Field(String),
    /// The inside of `[a TO b]` after a field.
    Range(String),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Minus,
    /// `NEAR/n`, `NEAR/nf`, `ONEAR/n`, or bare (`distance: None`: the syntax's default).
    Near {
        distance: Option<u32>,
        ordered: bool,
    },
    /// `~n` right after a phrase or a `)`.
    Proximity(u32),
}

/// Splits a query into tokens, each with its byte position; with `newline_is_or`, a line break
/// between two terms becomes an [`Tok::Or`] at its position.
pub(super) fn lex(input: &str, newline_is_or: bool) -> Result<Vec<(usize, Tok)>, QueryError> {
    let mut lexer = Lexer {
        input,
        i: 0,
        out: Vec::new(),
        newline_is_or,
        newline: None,
    };
    lexer.run()?;
    Ok(lexer.out)
}

/// Opening double quotes and guillemets, which also end a bare word.
fn opens_double(c: char) -> bool {
    matches!(c, '"' | '“' | '”' | '„' | '‟' | '«' | '»' | '‹' | '›')
}

/// Any opening quote (double, guillemet or typographic single).
fn opens(c: char) -> bool {
    opens_double(c) || matches!(c, '‘' | '’' | '‚' | '‛')
}

/// The quotes that close a phrase opened by `open`.
fn closers(open: char) -> &'static [char] {
    match open {
        '«' => &['»'],
        '»' => &['«'],
        '‹' => &['›'],
        '›' => &['‹'],
        '‘' | '’' | '‚' | '‛' => &['’', '‘'],
        _ => &['"', '“', '”', '‟'],
    }
}

struct Lexer<'a> {
    input: &'a str,
    i: usize,
    out: Vec<(usize, Tok)>,
    /// Whether a line break between two terms is an `OR`.
    newline_is_or: bool,
    /// The position of a line break seen since the last token, when that token ends a term.
    newline: Option<usize>,
}

impl Lexer<'_> {
    fn rest(&self) -> &str {
        &self.input[self.i..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn push(&mut self, at: usize, tok: Tok) {
        if let Some(line) = self.newline.take() {
            if starts_term(&tok) {
                self.out.push((line, Tok::Or));
            }
        }
        self.out.push((at, tok));
    }

    fn run(&mut self) -> Result<(), QueryError> {
        while let Some(c) = self.peek() {
            let at = self.i;
            if c.is_whitespace() {
                let line = matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}');
                if line && self.newline_is_or && self.newline.is_none() {
                    self.newline = self.out.last().is_some_and(|(_, t)| ends_term(t)).then_some(at);
                }
                self.i += c.len_utf8();
                continue;
            }
            if self.rest().starts_with("<<<") {
                match self.rest()[3..].find(">>>") {
                    Some(n) => self.i += n + 6,
                    None => return err(at, "unterminated comment: expected '>>>' after '<<<'"),
                }
                continue;
            }
            match c {
                '(' => {
                    self.push(at, Tok::LParen);
                    self.i += 1;
                }
                ')' => {
                    self.push(at, Tok::RParen);
                    self.i += 1;
                    self.suffixes()?;
                }
                '-' => {
                    self.push(at, Tok::Minus);
                    self.i += 1;
                }
                '{' => self.braced()?,
                '[' if matches!(self.out.last(), Some((_, Tok::Field(_)))) => self.value(at, "")?,
                '[' => {
                    return err(
                        at,
                        "a range [a TO b] follows a field: write followers:[500 TO 10000]",
                    )
                }
                '\'' => {
                    return err(
                        at,
                        "single quotes ' do not make a phrase: write \"apple juice\" with double quotes",
                    )
                }
                _ if opens(c) => {
                    let text = self.quoted()?;
                    self.push(at, Tok::Phrase { exact: false, text });
                    self.suffixes()?;
                }
                _ => self.word()?,
            }
        }
        Ok(())
    }

    /// The phrase opened by the quote at `self.i`; moves past its closing quote. A
    /// typographic single quote between two letters is an apostrophe (`‘l’Oréal’`).
    fn quoted(&mut self) -> Result<String, QueryError> {
        let start = self.i;
        let open = self.peek().unwrap_or('"');
        let body = start + open.len_utf8();
        let single = closers(open).contains(&'’');
        let text = &self.input[body..];
        let mut chars = text.char_indices().peekable();
        let mut previous: Option<char> = None;
        while let Some((k, c)) = chars.next() {
            if closers(open).contains(&c) {
                let next = chars.peek().map(|&(_, n)| n);
                let apostrophe = single
                    && previous.is_some_and(char::is_alphanumeric)
                    && next.is_some_and(char::is_alphanumeric);
                if !apostrophe {
                    self.i = body + k + c.len_utf8();
                    return Ok(text[..k].to_string());
                }
            }
            previous = Some(c);
        }
        err(
            start,
            format!("unterminated phrase: expected a closing quote for {open}"),
        )
    }

    /// `~n` (a proximity) and `^n` (a preference, ignored) right after a phrase or a group.
    fn suffixes(&mut self) -> Result<(), QueryError> {
        loop {
            let at = self.i;
            match self.peek() {
                Some('~') => {
                    self.i += 1;
                    let digits = self.digits();
                    match digits.parse::<u32>() {
                        Ok(n) if n <= MAX_NEAR => self.push(at, Tok::Proximity(n)),
                        Ok(_) => return err(at, format!("a proximity ~n takes a distance up to {MAX_NEAR}")),
                        Err(_) => return err(at, "expected a distance after '~' (e.g. \"apple juice\"~5)"),
                    }
                }
                Some('^') => {
                    self.i += 1;
                    if self.number().is_empty() {
                        return err(at, "expected a number after '^' (a preference such as ^9)");
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    fn digits(&mut self) -> &str {
        let start = self.i;
        let len = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        self.i += len;
        &self.input[start..self.i]
    }

    /// Digits with an optional decimal part (`9`, `1.5`).
    fn number(&mut self) -> String {
        let mut n = self.digits().to_string();
        if self.rest().starts_with('.') && self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) {
            self.i += 1;
            n.push('.');
            n.push_str(self.digits());
        }
        n
    }

    /// `{Word}` (Brandwatch's exact case), `{"An exact phrase"}`.
    fn braced(&mut self) -> Result<(), QueryError> {
        let at = self.i;
        let Some(len) = self.rest().find('}') else {
            return err(
                at,
                "unterminated '{': expected '}' (as in {BT}, a word exactly as written)",
            );
        };
        let inside = self.input[at + 1..at + len].trim();
        self.i = at + len + 1;
        if inside.contains(" TO ") {
            return err(
                at,
                "a range {a TO b} leaves its bounds out, which Vigie does not read: write [a TO b], bounds included",
            );
        }
        match inside.chars().next() {
            None => return err(at, "empty {}: expected a word written exactly, as in {BT}"),
            Some(q) if opens(q) => {
                let mut inner = Lexer {
                    input: inside,
                    i: 0,
                    out: Vec::new(),
                    newline_is_or: false,
                    newline: None,
                };
                let text = inner.quoted().map_err(|e| QueryError {
                    position: at,
                    message: e.message,
                })?;
                if !inner.rest().trim().is_empty() {
                    return err(at, "{\"…\"} holds one exact phrase");
                }
                self.push(at, Tok::Phrase { exact: true, text });
            }
            Some(_) if inside.contains(char::is_whitespace) => {
                return err(
                    at,
                    format!(
                        "{{{inside}}} holds several words: write {{\"{inside}\"}} for an exact phrase, or one {{…}} per word"
                    ),
                )
            }
            Some('=') => self.push(at, Tok::Word(inside.to_string())),
            Some(_) => self.push(at, Tok::Word(format!("={inside}"))),
        }
        self.suffixes()
    }

    /// A bare word: an operator, a `name:` field with its value, or a word.
    fn word(&mut self) -> Result<(), QueryError> {
        let start = self.i;
        let mut end = start;
        for (k, c) in self.rest().char_indices() {
            let here = start + k;
            let field_value = self.input[start..here].ends_with(':') && matches!(c, '{' | '[');
            if c.is_whitespace()
                || matches!(c, '(' | ')')
                || opens_double(c)
                || field_value
                || self.input[here..].starts_with("<<<")
            {
                break;
            }
            end = here + c.len_utf8();
        }
        self.i = end;
        let chunk = &self.input[start..end];
        let tok = match chunk {
            "AND" => Tok::And,
            "OR" => Tok::Or,
            "NOT" => Tok::Not,
            "&&" | "&" => return err(start, format!("{chunk:?} is not an operator: write AND")),
            "||" | "|" => return err(start, format!("{chunk:?} is not an operator: write OR")),
            _ => match near_operator(chunk) {
                Some(Ok(tok)) => tok,
                Some(Err(message)) => return err(start, message),
                None => {
                    if let Some((name, value)) = field_prefix(chunk) {
                        self.push(start, Tok::Field(name.to_string()));
                        return self.value(start + name.len() + 1, value);
                    }
                    if chunk == "=" && self.peek().is_some_and(opens) {
                        let text = self.quoted()?;
                        self.push(start, Tok::Phrase { exact: true, text });
                        return self.suffixes();
                    }
                    Tok::Word(without_preference(chunk).to_string())
                }
            },
        };
        self.push(start, tok);
        Ok(())
    }

    /// The value glued to a `name:` (at `at`): a word, `="…"`, or nothing when the value is
    /// the next token (a space after the colon, a phrase, a group, `[a TO b]`, `{…}`).
    fn value(&mut self, at: usize, value: &str) -> Result<(), QueryError> {
        if value.is_empty() {
            if self.peek() == Some('[') {
                let Some(len) = self.rest().find(']') else {
                    return err(self.i, "unterminated range: expected ']' (as in [500 TO 10000])");
                };
                let inside = self.input[self.i + 1..self.i + len].to_string();
                self.push(self.i, Tok::Range(inside));
                self.i += len + 1;
            }
            return Ok(());
        }
        if value == "=" && self.peek().is_some_and(opens) {
            let text = self.quoted()?;
            self.push(at, Tok::Phrase { exact: true, text });
            return self.suffixes();
        }
        self.push(at, Tok::Word(without_preference(value).to_string()));
        Ok(())
    }
}

/// `name:rest` when `chunk` starts with a field-like name (a letter, then letters, digits or
/// `_`) and a colon.
fn field_prefix(chunk: &str) -> Option<(&str, &str)> {
    let (name, rest) = chunk.split_once(':')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic() && chars.all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then_some((name, rest))
}

/// A word without a trailing `^n` preference (`iphone^10` → `iphone`); other `^` are left for
/// the term to refuse.
fn without_preference(word: &str) -> &str {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    match word.rsplit_once('^') {
        Some((w, n)) if !w.is_empty() => {
            let (whole, fraction) = n.split_once('.').unwrap_or((n, "0"));
            if digits(whole) && digits(fraction) {
                w
            } else {
                word
            }
        }
        _ => word,
    }
}

/// `NEAR`, `NEAR/5`, `NEAR/5f`, `ONEAR`, `ONEAR/5` → a token; the same in another case, or an
/// unknown `OP/n`, → the refusal; other words → None. A bare lower-case `near` is left to the
/// parser (it is a word unless it stands between two terms).
fn near_operator(word: &str) -> Option<Result<Tok, String>> {
    let (base, distance) = match word.split_once('/') {
        Some((b, d)) => (b, Some(d)),
        None => (word, None),
    };
    let upper = base.to_ascii_uppercase();
    if upper != "NEAR" && upper != "ONEAR" {
        let operator_like = !base.is_empty()
            && base.bytes().all(|b| b.is_ascii_alphabetic())
            && distance.is_some_and(|d| {
                let d = d.strip_suffix(['f', 'F']).unwrap_or(d);
                !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())
            });
        return operator_like.then(|| {
            Err(format!(
                "unknown operator {word:?}: the proximity operators are NEAR/n (either order), NEAR/nf and ONEAR/n (in order)"
            ))
        });
    }
    if base != upper {
        return distance.map(|d| {
            Err(format!(
                "operators are upper case: write {upper}/{d} (or quote \"{base}\" to search the word)"
            ))
        });
    }
    let ordered = upper == "ONEAR";
    let Some(d) = distance else {
        return Some(Ok(Tok::Near {
            distance: None,
            ordered,
        }));
    };
    let (digits, forward) = match d.strip_suffix(['f', 'F']) {
        Some(n) => (n, true),
        None => (d, false),
    };
    Some(match digits.parse::<u32>() {
        Ok(n) if n <= MAX_NEAR && digits.bytes().all(|b| b.is_ascii_digit()) => Ok(Tok::Near {
            distance: Some(n),
            ordered: ordered || forward,
        }),
        _ => Err(format!(
            "expected a distance from 0 to {MAX_NEAR} after {upper}/ (e.g. {upper}/5, or {upper}/5f for this order)"
        )),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(q: &str) -> Vec<Tok> {
        lex(q, false)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .into_iter()
            .map(|(_, t)| t)
            .collect()
    }

    fn lex_vigie(q: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
        lex(q, false)
    }

    fn word(w: &str) -> Tok {
        Tok::Word(w.into())
    }

    #[test]
    fn quotes_of_every_kind_make_phrases() {
        for q in ["\"a b\"", "“a b”", "„a b“", "«a b»", "‘a b’", "”a b”"] {
            assert_eq!(
                toks(q),
                [Tok::Phrase {
                    exact: false,
                    text: "a b".into()
                }],
                "{q}"
            );
        }
        assert_eq!(
            toks("‘l’Oréal’"),
            [Tok::Phrase {
                exact: false,
                text: "l’Oréal".into()
            }]
        );
        assert_eq!(toks("l’oreal"), [word("l’oreal")]);
        assert!(lex_vigie("'apple juice'")
            .unwrap_err()
            .message
            .contains("single quotes"));
        assert!(lex_vigie("“open").unwrap_err().message.contains("closing quote"));
    }

    #[test]
    fn comments_and_preferences_are_left_out() {
        assert_eq!(toks("acme <<<the brand>>> panne"), [word("acme"), word("panne")]);
        assert_eq!(toks("iphone^10 (a OR b)^9"), toks("iphone (a OR b)"));
        assert!(lex_vigie("a <<<open").is_err());
        assert!(lex_vigie("(a)^").unwrap_err().message.contains("'^'"));
    }

    #[test]
    fn proximity_follows_a_phrase_or_a_group() {
        assert_eq!(
            toks("\"apple juice\"~5"),
            [
                Tok::Phrase {
                    exact: false,
                    text: "apple juice".into()
                },
                Tok::Proximity(5)
            ]
        );
        assert_eq!(toks("(a b)~3").last(), Some(&Tok::Proximity(3)));
        assert!(lex_vigie("\"a b\"~").unwrap_err().message.contains("distance"));
        assert!(lex_vigie("\"a b\"~500").is_err());
    }

    #[test]
    fn near_family() {
        let near = |distance, ordered| Tok::Near { distance, ordered };
        assert_eq!(toks("NEAR/2f"), [near(Some(2), true)]);
        assert_eq!(toks("NEAR/0"), [near(Some(0), false)]);
        assert_eq!(toks("ONEAR"), [near(None, true)]);
        assert_eq!(toks("NEAR"), [near(None, false)]);
        assert!(lex_vigie("near/5").unwrap_err().message.contains("upper case"));
        assert!(lex_vigie("WITHIN/3")
            .unwrap_err()
            .message
            .contains("unknown operator"));
        assert!(lex_vigie("NEAR/x").unwrap_err().message.contains("distance"));
        assert_eq!(toks("near"), [word("near")]);
        assert_eq!(toks("24/7"), [word("24/7")]);
    }

    #[test]
    fn fields_take_the_next_value() {
        let field = |n: &str| Tok::Field(n.into());
        assert_eq!(toks("title: Tesla"), [field("title"), word("Tesla")]);
        assert_eq!(
            toks("site:\"www.cnet.com\""),
            [
                field("site"),
                Tok::Phrase {
                    exact: false,
                    text: "www.cnet.com".into()
                }
            ]
        );
        assert_eq!(
            toks("authorFollowers:[500 TO 100000]"),
            [field("authorFollowers"), Tok::Range("500 TO 100000".into())]
        );
        assert_eq!(
            toks("followers: [5 TO 9]"),
            [field("followers"), Tok::Range("5 TO 9".into())]
        );
        assert_eq!(
            toks("site:https://x.com/a"),
            [field("site"), word("https://x.com/a")]
        );
        assert_eq!(
            toks("title:(a)"),
            [field("title"), Tok::LParen, word("a"), Tok::RParen]
        );
        assert_eq!(toks("10:30"), [word("10:30")]);
    }

    #[test]
    fn a_line_break_between_terms_is_an_or_when_the_syntax_says() {
        let visibrain =
            |q: &str| -> Vec<(usize, Tok)> { lex(q, true).unwrap_or_else(|e| panic!("{q}: {e}")) };
        assert_eq!(
            visibrain("a b\nc"),
            [(0, word("a")), (2, word("b")), (3, Tok::Or), (4, word("c"))]
        );
        assert_eq!(lex("a b\nc", false).unwrap().len(), 3, "white space otherwise");
        assert_eq!(visibrain("(a)~2\n\"b c\""), {
            let mut t = lex("(a)~2 \"b c\"", false).unwrap();
            t.insert(4, (5, Tok::Or));
            t
        });
        for q in [
            "a AND\nb",
            "a\nOR b",
            "\"a\nb\"",
            "a\n)",
            "(\na",
            "title:\na",
            "a\nNEAR/2 b",
            "a\n",
            "\na",
        ] {
            let ors = visibrain(q).iter().filter(|(_, t)| *t == Tok::Or).count();
            assert_eq!(ors, q.matches("OR").count(), "{q:?}");
        }
    }

    #[test]
    fn braces_are_exact() {
        assert_eq!(toks("{BT}"), [word("=BT")]);
        assert_eq!(
            toks("{\"BT Sport\"}"),
            [Tok::Phrase {
                exact: true,
                text: "BT Sport".into()
            }]
        );
        assert!(lex_vigie("{BT Sport}")
            .unwrap_err()
            .message
            .contains("{\"BT Sport\"}"));
        assert!(lex_vigie("followers:{1 TO 5}")
            .unwrap_err()
            .message
            .contains("[a TO b]"));
    }
}
