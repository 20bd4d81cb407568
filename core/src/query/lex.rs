//! Lexing: a query's text into tokens (bare words, quoted phrases with an optional `field:` or
//! `=` glued to them, parentheses, `AND`/`OR`/`NOT`/`-`, `NEAR/n` and `ONEAR/n`), each with its
//! byte position for error messages. Nothing here knows what a word means.

use super::{err, QueryError, MAX_NEAR};

/// One token of a query, as the parser reads it.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
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

/// Splits a query into tokens, each with its byte position.
pub(super) fn lex(input: &str) -> Result<Vec<(usize, Tok)>, QueryError> {
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

/// The phrase opened by the '"' at `start`, and the position after its closing quote.
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
