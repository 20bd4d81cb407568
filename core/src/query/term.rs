//! Terms: one word, phrase or range token into a leaf [`Query`], normalised the way documents
//! are (lower case, accents folded, unless exact) and checked: words, prefixes (`term*`),
//! wildcards (`customi?e`, `colo*r`), hashtags and handles, `title:`, field filters
//! (`lang:fr`, `site:example.com`, `url:example.com/news`…), follower counts
//! (`followers:>10k`) and ranges (`authorFollowers:[500 TO 100000]`). A word the tools write
//! with a meaning Vigie does not read (`+word`, `!word`, `word~2`, `Google+`) is refused with
//! what to write. Also [`Query::field`], a filter checked like the query syntax.

use super::{err, Compare, Query, QueryError, MAX_PATTERN_CHARS, MAX_WILDCARD_PHRASE};
use crate::names::{kind_name, parse_kind, parse_source, source_name};
use crate::text::{is_word_char, normalize, raw_words, tokenize};
use crate::vocabulary::{
    accented, country_code, has_accent, site_suffixes, url_parts, Field, Pattern, Scope, Term, Words,
};

impl Query {
    /// A field filter (`lang`, `source`, … as in `name:value`), checked like the query syntax.
    pub fn field(name: &str, value: &str) -> Result<Query, QueryError> {
        match Field::from_name(name) {
            Some(field) => field_value(field, value, 0),
            None => err(0, format!("unknown filter {name:?}")),
        }
    }
}

/// What a term is matched against: words of a text, a field, or the follower count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    /// Words in the title and text, or the title only.
    Text(Scope),
    /// A field's value.
    Filter(Field),
    /// The author's follower count.
    Followers,
}

/// The target of a `name:` prefix, whatever its case: `title`, `text` (or `message`),
/// `followers` (or `authorFollowers`) or a [`Field`] (or one of its aliases).
pub(super) fn target(name: &str) -> Option<Target> {
    if name.eq_ignore_ascii_case("title") {
        Some(Target::Text(Scope::Title))
    } else if name.eq_ignore_ascii_case("text") || name.eq_ignore_ascii_case("message") {
        Some(Target::Text(Scope::Text))
    } else if name.eq_ignore_ascii_case("followers") || name.eq_ignore_ascii_case("authorFollowers") {
        Some(Target::Followers)
    } else {
        Field::from_name(name).map(Target::Filter)
    }
}

/// The refusal of an unknown `name:`, listing the known ones.
pub(super) fn unknown_field(name: &str, at: usize) -> QueryError {
    let mut known: Vec<String> = Field::all()
        .map(|f| match f.aliases() {
            [] => f.name().to_string(),
            aliases => format!("{} (or {})", f.name(), aliases.join(", ")),
        })
        .collect();
    known.push("title".into());
    known.push("text (or message)".into());
    known.push("followers (or authorFollowers)".into());
    let link = if ["http", "https", "www"]
        .iter()
        .any(|s| name.eq_ignore_ascii_case(s))
    {
        "; for a link in the text write links:example.com/path, for the mention's own address url:example.com/path"
    } else {
        ""
    };
    QueryError {
        position: at,
        message: format!(
            "unknown field {name:?}: the fields are {}; to search the words, quote them (\"{name}:…\"){link}",
            known.join(", ")
        ),
    }
}

/// How the letters of a word query are compared with a mention's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// Normalised: case and accents folded.
    Folded,
    /// Accents as written, case folded (a dialect's accented keyword, [`Words::accents`]):
    /// each piece written with an accent in its [`accented`] form, the others normalised.
    Accents,
    /// As written (`=Word`, `{Word}`).
    Exact,
}

impl Form {
    /// The form of `text` written `exact` or not, when accented keywords are exact
    /// (`accents`).
    fn of(text: &str, exact: bool, accents: bool) -> Form {
        if exact {
            Form::Exact
        } else if accents && has_accent(text) {
            Form::Accents
        } else {
            Form::Folded
        }
    }

    /// The words of a query in this form.
    fn words(self, words: Vec<Term>, scope: Scope) -> Query {
        Query::Words(Words {
            words,
            exact: self == Form::Exact,
            accents: self == Form::Accents,
            scope,
        })
    }
}

/// A bare word, as a word query or as the value of a field; with `accents`, a word written
/// with an accent matches only that spelling ([`Words::accents`]).
pub(super) fn word(raw: &str, target: Target, accents: bool, at: usize) -> Result<Query, QueryError> {
    match target {
        Target::Text(scope) => words_query(raw, scope, accents, at),
        Target::Filter(field) => field_value(field, raw, at),
        Target::Followers => followers(raw, at),
    }
}

/// A quoted phrase (`"…"`, `="…"`, `{"…"}`), as words to find in order or as a field value;
/// `accents` as for [`word`].
pub(super) fn phrase(
    text: &str,
    exact: bool,
    target: Target,
    accents: bool,
    at: usize,
) -> Result<Query, QueryError> {
    match target {
        Target::Text(scope) => {
            let form = Form::of(text, exact, accents);
            let words = terms(text, form, at)?;
            if words.is_empty() {
                return err(at, "empty phrase: expected words between the quotes");
            }
            let before_last = &words[..words.len() - 1];
            if before_last.iter().any(|t| !matches!(t, Term::Word(_))) && words.len() > MAX_WILDCARD_PHRASE {
                return err(
                    at,
                    format!("a phrase with a wildcard before its last word has at most {MAX_WILDCARD_PHRASE} words"),
                );
            }
            if form == Form::Accents && words.len() > MAX_WILDCARD_PHRASE {
                return err(
                    at,
                    format!(
                        "a phrase with an accented word, matched with its accents, has at most {MAX_WILDCARD_PHRASE} words: \
                         split it, or write it without accents to match every spelling"
                    ),
                );
            }
            Ok(form.words(words, scope))
        }
        Target::Filter(field) => field_value(field, text, at),
        Target::Followers => followers(text.trim(), at),
    }
}

/// `[a TO b]` (bounds included, `*` for none) after `followers:`.
pub(super) fn range(inside: &str, target: Target, at: usize) -> Result<Query, QueryError> {
    if target != Target::Followers {
        return err(at, "a range [a TO b] applies to followers: (or authorFollowers:)");
    }
    let parts: Vec<&str> = inside.split_whitespace().collect();
    let bound = |s: &str| -> Result<Option<u64>, QueryError> {
        if s == "*" {
            return Ok(None);
        }
        number(s).map(Some).ok_or_else(|| QueryError {
            position: at,
            message: format!("followers:[a TO b]: {s:?} is not a number (10000, 10k, 2m or *)"),
        })
    };
    let [low, to, high] = parts[..] else {
        return err(at, "expected a range as [a TO b], e.g. followers:[500 TO 100000]");
    };
    if to != "TO" {
        return err(at, "expected a range as [a TO b] with TO in upper case");
    }
    Ok(Query::Followers(match (bound(low)?, bound(high)?) {
        (Some(a), Some(b)) if a <= b => Compare::Between(a, b),
        (Some(a), Some(b)) => {
            return err(
                at,
                format!("followers:[{a} TO {b}]: the first bound is the lower one"),
            )
        }
        (Some(a), None) => Compare::Ge(a),
        (None, Some(b)) => Compare::Le(b),
        (None, None) => {
            return err(
                at,
                "followers:[* TO *] holds every mention: give at least one bound",
            )
        }
    }))
}

/// Characters that the tools give a meaning Vigie does not read inside a bare word, each with
/// what to write instead.
fn refuse_syntax(word: &str, at: usize) -> Result<(), QueryError> {
    let fail = |message: String| err(at, message);
    if let Some(rest) = word.strip_prefix('+') {
        return fail(format!(
            "{word:?}: a term is required without '+' (write {rest}); for case and accents as written write ={rest}"
        ));
    }
    if let Some(rest) = word.strip_prefix('!') {
        return fail(format!(
            "{word:?}: for exact case and accents write ={rest}; to exclude a word write -{rest}"
        ));
    }
    if word.starts_with('/') {
        return fail(format!(
            "{word:?} looks like a distance: write NEAR/5 with no space"
        ));
    }
    let explain = |c: char| -> Option<&'static str> {
        Some(match c {
            '~' => "a proximity ~n follows a \"quoted phrase\" or a (group) directly; for a word's spellings write them with OR or a wildcard (colo*r)",
            '^' => "a preference ^n follows a word, a phrase or a group directly, as in iphone^9",
            '{' | '}' => "{…} marks a whole word exactly as written, as in {BT}",
            '[' | ']' => "a range [a TO b] follows a field, as in followers:[500 TO 10000]",
            '|' => "write OR for either",
            '<' | '>' => "< and > compare a field (followers:>1000); quote the word to search its letters and digits",
            '+' => "Vigie matches letters and digits, so this would match the word without its '+': write the word alone, or quote it",
            _ => return None,
        })
    };
    match word.chars().find_map(|c| explain(c).map(|e| (c, e))) {
        Some((c, why)) => fail(format!("{word:?} has {c:?}: {why}")),
        None => Ok(()),
    }
}

/// A word, prefix, wildcard, hashtag or handle to find in `scope` (several words, as in
/// `coca-cola`, make a phrase).
fn words_query(raw: &str, scope: Scope, accents: bool, at: usize) -> Result<Query, QueryError> {
    let (exact, body) = match raw.strip_prefix('=') {
        Some(rest) if !rest.is_empty() => (true, rest),
        _ => (false, raw),
    };
    refuse_syntax(body, at)?;
    let form = Form::of(body, exact, accents);
    let sigil = body.chars().next().filter(|c| *c == '#' || *c == '@');
    let words = match sigil {
        Some(s) => vec![tag(s, &body[1..], form, at)?],
        None => terms(body, form, at)?,
    };
    if words.is_empty() {
        return err(at, format!("{raw:?} has no letters or digits to match"));
    }
    Ok(form.words(words, scope))
}

/// The words of `text` (as documents split them), each a word, a prefix or a wildcard.
fn terms(text: &str, form: Form, at: usize) -> Result<Vec<Term>, QueryError> {
    let mut out = Vec::new();
    let mut piece = String::new();
    let flush = |piece: &mut String, out: &mut Vec<Term>| -> Result<(), QueryError> {
        if piece.contains(['*', '?']) {
            out.push(wildcard(None, piece, form, at)?);
        } else {
            out.extend(split_words(piece, form).into_iter().map(Term::Word));
        }
        piece.clear();
        Ok(())
    };
    for c in text.chars() {
        if is_word_char(c) || c == '*' || c == '?' {
            piece.push(c);
        } else {
            flush(&mut piece, &mut out)?;
        }
    }
    flush(&mut piece, &mut out)?;
    Ok(out)
}

/// Splits text into the words a query compares, in `form`.
fn split_words(text: &str, form: Form) -> Vec<String> {
    match form {
        Form::Exact => raw_words(text),
        Form::Folded | Form::Accents => tokenize(text)
            .into_iter()
            .filter(|t| !t.is_tag())
            .map(|t| {
                if form == Form::Accents && has_accent(t.raw()) {
                    accented(t.raw()).into_owned()
                } else {
                    t.text
                }
            })
            .collect(),
    }
}

/// The compared form of a literal piece of a word (of a tag when `tag`), in `form`.
fn compared(piece: &str, form: Form, tag: bool) -> String {
    match (form, tag) {
        (Form::Accents, true) if has_accent(piece) => accented(piece).into_owned(),
        (Form::Accents, false) if has_accent(piece) => accented(&raw_words(piece).concat()).into_owned(),
        (Form::Folded | Form::Accents, _) => normalize(piece),
        (Form::Exact, true) => piece.to_string(),
        (Form::Exact, false) => raw_words(piece).concat(),
    }
}

/// `#tag`, `@handle`, possibly with wildcards: one token of letters, digits and `_`, exactly
/// as the tokenizer reads them in mentions (anything else could never match).
fn tag(sigil: char, rest: &str, form: Form, at: usize) -> Result<Term, QueryError> {
    if let Some(bad) = rest
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '_' | '*' | '?')))
    {
        return err(
            at,
            format!("{sigil}{rest}: a hashtag or handle has only letters, digits and '_' (found {bad:?})"),
        );
    }
    if rest.contains(['*', '?']) {
        return wildcard(Some(sigil), rest, form, at);
    }
    let tag = compared(rest, form, true);
    if tag.is_empty() {
        return err(at, format!("{sigil}: expected a hashtag or handle after it"));
    }
    Ok(Term::Word(format!("{sigil}{tag}")))
}

/// A word with `?` or `*` (after `sigil`, for a tag): a prefix when its only wildcard is a
/// final `*`, else a [`Pattern`]. It needs two letters before the first wildcard (the start
/// under which words are looked up, so a wildcard never reads every word), one `*` at most, and
/// at most [`MAX_PATTERN_CHARS`] characters.
fn wildcard(sigil: Option<char>, word: &str, form: Form, at: usize) -> Result<Term, QueryError> {
    let first = word.find(['*', '?']).unwrap_or(word.len());
    let head = &word[..first];
    let is_tag = sigil.is_some();
    let sigil = sigil.map(String::from).unwrap_or_default();
    if compared(head, Form::Folded, is_tag)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .count()
        < 2
    {
        return err(
            at,
            format!("{sigil}{word}: a wildcard needs at least two letters before it (as in colo*r, customi?e, rembours*)"),
        );
    }
    if word.matches('*').count() > 1 {
        return err(
            at,
            format!(
                "{sigil}{word}: a word holds at most one '*' (any '?' besides); write the variants with OR"
            ),
        );
    }
    if word.ends_with('?') && word.matches(['*', '?']).count() == 1 {
        // A lone final `?` is far more often a question mark than a one-letter wildcard, and the
        // two readings match different mentions: ask which.
        let stem = &word[..word.len() - 1];
        return err(
            at,
            format!(
                "{sigil}{word}: '?' stands for exactly one character ({sigil}{word} matches \"{stem}s\", not \"{stem}\"): write {sigil}{stem} for the word, or {sigil}{stem}* for any ending"
            ),
        );
    }
    if word.chars().count() > MAX_PATTERN_CHARS {
        return err(
            at,
            format!("a wildcard word has at most {MAX_PATTERN_CHARS} characters"),
        );
    }
    let key = format!("{sigil}{}", compared(head, Form::Folded, is_tag));
    if first + 1 == word.len() && word.ends_with('*') {
        return Ok(Term::Prefix(format!("{sigil}{}", compared(head, form, is_tag))));
    }
    let mut glob = sigil;
    let mut literal = String::new();
    for c in word.chars() {
        if c == '*' || c == '?' {
            glob.push_str(&compared(&literal, form, is_tag));
            literal.clear();
            glob.push(c);
        } else {
            literal.push(c);
        }
    }
    glob.push_str(&compared(&literal, form, is_tag));
    match Pattern::new(&glob, key) {
        Some(p) => Ok(Term::Pattern(p)),
        None => err(at, format!("{word}: a word holds at most one '*'")),
    }
}

/// A field filter: the value checked against what the field accepts, and normalised.
pub(super) fn field_value(field: Field, value: &str, at: usize) -> Result<Query, QueryError> {
    let value = value.trim();
    let v = normalize(value).trim_start_matches('@').to_string();
    if v.is_empty() {
        return err(at, format!("{}: needs a value", field.name()));
    }
    let invalid = || {
        err(
            at,
            format!(
                "{value:?} is not a valid value for {}: ({})",
                field.name(),
                field.expected()
            ),
        )
    };
    let v = match field {
        Field::Lang if (v.len() == 2 && v.bytes().all(|b| b.is_ascii_lowercase())) || v == "und" => v,
        Field::Country => match country_code(&v) {
            Some(code) => code,
            None => return invalid(),
        },
        // A name, not a code: `deu.berlin.berlin` or `75001` would match nothing.
        // A postcode, or a lower-case dotted code; "St. Louis" and "L.A." are names.
        Field::City
            if value.chars().any(|c| c.is_ascii_digit())
                || (value.contains('.')
                    && value
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_')) =>
        {
            return invalid()
        }
        Field::City => {
            let mut keys = crate::places::city_keys(value);
            return match keys.len() {
                0 => invalid(),
                1 => Ok(Query::Field(field, keys.remove(0))),
                _ => Ok(Query::Or(
                    keys.into_iter().map(|k| Query::Field(field, k)).collect(),
                )),
            };
        }
        Field::Source => match parse_source(&v) {
            Some(s) => source_name(s).to_string(),
            None => return invalid(),
        },
        Field::Visibility if v == "public" || v == "private" => v,
        Field::Kind => match parse_kind(&v) {
            Some(k) => kind_name(k).to_string(),
            None => return invalid(),
        },
        Field::Verified if v == "true" || v == "false" => v,
        Field::Author => v,
        // The same reduction as the mention's URL: host only, lower case, without "www.".
        Field::Site => match site_suffixes(value).into_iter().next() {
            Some(host) => host,
            None => return invalid(),
        },
        // Host and path, compared segment by segment (see `vocabulary::path_within`).
        Field::Url | Field::Links => match url_parts(value) {
            (hosts, path) if !hosts.is_empty() => format!("{}{path}", hosts[0]),
            _ => return invalid(),
        },
        _ => return invalid(),
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
    match number(num) {
        Some(n) => Ok(Query::Followers(op(n))),
        None => err(
            at,
            format!(
                "followers: expected a number with an optional >, >=, <, <= (e.g. followers:>10000) or a range [500 TO 10000], got {value:?}"
            ),
        ),
    }
}

/// `10000`, `10_000`, `10,000`, `10k`, `2m`, `1.5k`.
fn number(s: &str) -> Option<u64> {
    s.replace(['_', ','], "")
        .parse::<u64>()
        .ok()
        .or_else(|| parse_abbreviated(s))
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
    (v >= 0.0 && v.is_finite()).then_some((v * mult) as u64)
}
