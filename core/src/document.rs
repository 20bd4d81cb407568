//! A mention prepared for query evaluation: its title and text tokenised once, and the fields
//! that filters look at (language, country, source, visibility, kind, author, site and address,
//! links in the text, followers, verification). A [`Document`] answers the questions of the
//! shared vocabulary ([`crate::vocabulary`]): where [`Words`] occur, whether a [`Field`] has a
//! value.
//!
//! Matching costs a bounded amount of work per query, whatever the mention (issue 11): it
//! considers the first [`MAX_POSITIONS`] word positions of the title and of the text; a word, a
//! prefix or a wildcard is looked up in a sorted index of those tokens (a binary search, then
//! the words sharing its literal start), a phrase is verified in one pass over them
//! (Knuth–Morris–Pratt, after checking that each of its words occurs; a phrase with a wildcard
//! before its last word, at most 8 words, from each place its first word occurs), and `NEAR`
//! compares sets of positions (`query::span`). Every step is counted, so that a test can bound
//! the work of the costliest query the parser accepts (see
//! [`MAX_COST`](crate::query::MAX_COST)).

use crate::names::{kind_name, source_name, visibility_name};
use crate::proto::{Kind, Mention, Source, Visibility};
use crate::text::{normalize, tokenize, Token};
use crate::vocabulary::{path_within, url_parts, Field, Pattern, Scope, Term, Words};
use std::borrow::Cow;
use std::cmp::Ordering;
use std::ops::ControlFlow;

/// Positions between the title's tokens and the text's, so phrases never span both.
pub(crate) const TEXT_OFFSET: u32 = 1 << 20;

/// Word positions of the title, and of the text, that matching considers. Words past them are
/// tokenised (risk and clustering see them) but no query matches them. Prose at the default
/// limit of 20,000 characters has about 3,300 words; the cap keeps matching bounded when the
/// ingest limit is raised, or for texts of one-letter words (`x x x …`).
pub const MAX_POSITIONS: u32 = 4_096;

/// Up to this many considered tokens, words are found by scanning them; beyond, in the index.
const SCAN_TOKENS: usize = 32;

/// A mention tokenised for matching.
#[derive(Debug, Default, Clone)]
pub struct Document {
    /// Title tokens (positions below `TEXT_OFFSET`), then text tokens.
    tokens: Vec<Token>,
    title_len: usize,
    /// Considered tokens: `tokens[..title_end]` (title) and `tokens[title_len..text_end]` (text).
    title_end: usize,
    text_end: usize,
    /// Considered title, and text, tokens ordered by (text, as written, position); empty when
    /// there are at most `SCAN_TOKENS` of them.
    title_index: Vec<u32>,
    text_index: Vec<u32>,
    /// Normalised (field, value) pairs the mention has; several values for author and site.
    fields: Vec<(Field, Cow<'static, str>)>,
    /// The path of the mention's URL, as [`url_parts`] reduces it (its hosts are the site
    /// fields).
    url_path: String,
    /// Links written in the title or text: each host suffix with the link's path.
    links: Vec<(String, String)>,
    followers: u64,
}

/// What a probe accepts after its key.
#[derive(Clone, Copy)]
enum Shape<'a> {
    /// The whole word is the key.
    Word,
    /// Any word starting with the key.
    Prefix,
    /// Words starting with the key that match the pattern.
    Pattern(&'a Pattern),
}

/// What to look for in the tokens: a normalised `key` (the whole word, or its start), and for
/// exact words the text as written (`exact`, compared with the token's as-written form).
struct Probe<'a> {
    key: &'a str,
    exact: Option<&'a str>,
    shape: Shape<'a>,
}

impl Probe<'_> {
    #[inline(always)]
    fn accepts(&self, t: &Token) -> bool {
        match self.shape {
            Shape::Word => t.text == self.key && self.exact.is_none_or(|w| t.raw() == w),
            Shape::Prefix => {
                t.text.starts_with(self.key) && self.exact.is_none_or(|w| t.raw().starts_with(w))
            }
            Shape::Pattern(p) => {
                t.text.starts_with(self.key)
                    && p.matches(if self.exact.is_some() { t.raw() } else { &t.text })
            }
        }
    }

    /// Where `t` is in the index order relative to the first token the probe accepts.
    #[inline(always)]
    fn before(&self, t: &Token) -> bool {
        match t.text.as_str().cmp(self.key) {
            Ordering::Less => true,
            Ordering::Greater => false,
            Ordering::Equal => matches!(self.shape, Shape::Word) && self.exact.is_some_and(|w| t.raw() < w),
        }
    }

    /// Whether no token after `t` in the index order can be accepted.
    #[inline(always)]
    fn past(&self, t: &Token) -> bool {
        match self.shape {
            Shape::Word => t.text != self.key || self.exact.is_some_and(|w| t.raw() != w),
            Shape::Prefix | Shape::Pattern(_) => !t.text.starts_with(self.key),
        }
    }
}

/// Steps of a binary search over `n` entries.
fn log2(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros())
}

impl Document {
    /// A document with only a text (no title, no fields), for tests and `TestQuery`.
    pub fn from_text(text: &str) -> Self {
        Self::build("", text, Vec::new(), String::new(), 0)
    }

    /// A document with a title and a text (no fields), for tests.
    pub fn from_title_and_text(title: &str, text: &str) -> Self {
        Self::build(title, text, Vec::new(), String::new(), 0)
    }

    /// A document for a mention whose language (as resolved by the scoring stage, `und` or
    /// empty when unknown) is `language`.
    pub fn from_mention(m: &Mention, language: &str) -> Self {
        let mut fields = Vec::with_capacity(10);
        let lang = if language.is_empty() { "und" } else { language };
        fields.push((Field::Lang, Cow::Owned(lang.to_string())));
        if !m.country.is_empty() {
            fields.push((Field::Country, Cow::Owned(m.country.to_ascii_lowercase())));
        }
        // Names of enumerations are static: no allocation for them.
        fields.push((
            Field::Source,
            Cow::Borrowed(source_name(Source::try_from(m.source).unwrap_or_default())),
        ));
        fields.push((
            Field::Visibility,
            Cow::Borrowed(visibility_name(
                Visibility::try_from(m.visibility).unwrap_or_default(),
            )),
        ));
        fields.push((
            Field::Kind,
            Cow::Borrowed(kind_name(Kind::try_from(m.kind).unwrap_or_default())),
        ));
        let (mut verified, mut followers) = (false, 0);
        if let Some(author) = &m.author {
            for v in [&author.handle, &author.id, &author.display_name] {
                let v = normalize(v.trim_start_matches('@'));
                if !v.is_empty() {
                    fields.push((Field::Author, Cow::Owned(v)));
                }
            }
            (verified, followers) = (author.verified, author.followers);
        }
        fields.push((
            Field::Verified,
            Cow::Borrowed(if verified { "true" } else { "false" }),
        ));
        let (hosts, url_path) = url_parts(&m.url);
        for domain in hosts {
            fields.push((Field::Site, Cow::Owned(domain)));
        }
        Self::build(&m.title, &m.text, fields, url_path, followers)
    }

    fn build(
        title: &str,
        text: &str,
        fields: Vec<(Field, Cow<'static, str>)>,
        url_path: String,
        followers: u64,
    ) -> Self {
        let mut tokens = tokenize(title);
        let title_len = tokens.len();
        let title_end = tokens.partition_point(|t| t.position < MAX_POSITIONS);
        tokens.extend(tokenize(text).into_iter().map(|mut t| {
            t.position += TEXT_OFFSET;
            t
        }));
        let text_end =
            title_len + tokens[title_len..].partition_point(|t| t.position < TEXT_OFFSET + MAX_POSITIONS);
        // A link has one of these words: only then is the text read for links.
        let mut links = Vec::new();
        if tokens
            .iter()
            .any(|t| matches!(t.text.as_str(), "http" | "https" | "www"))
        {
            for part in [title, text] {
                links_in(part, &mut links);
            }
        }
        let mut doc = Self {
            tokens,
            title_len,
            title_end,
            text_end,
            title_index: Vec::new(),
            text_index: Vec::new(),
            fields,
            url_path,
            links,
            followers,
        };
        if title_end + (text_end - title_len) > SCAN_TOKENS {
            doc.title_index = doc.index(0..title_end);
            doc.text_index = doc.index(title_len..text_end);
        }
        doc
    }

    /// The tokens in `range` ordered by (text, as written, position).
    fn index(&self, range: std::ops::Range<usize>) -> Vec<u32> {
        let mut index: Vec<u32> = range.map(|i| i as u32).collect();
        let t = &self.tokens;
        index.sort_unstable_by(|&a, &b| {
            let (x, y) = (&t[a as usize], &t[b as usize]);
            x.text
                .cmp(&y.text)
                .then_with(|| x.raw().cmp(y.raw()))
                .then(a.cmp(&b))
        });
        index
    }

    /// Every token, title first (all of them, including those past [`MAX_POSITIONS`]).
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The tokens matching considers (the first [`MAX_POSITIONS`] positions of the title and
    /// of the text), title first.
    pub fn considered(&self) -> impl Iterator<Item = &Token> {
        self.tokens[..self.title_end]
            .iter()
            .chain(&self.tokens[self.title_len..self.text_end])
    }

    /// Whether some words of the title or text are past [`MAX_POSITIONS`] (and so not matched).
    pub fn is_capped(&self) -> bool {
        self.title_end < self.title_len || self.text_end < self.tokens.len()
    }

    /// The (field, value) pairs of the mention.
    pub fn fields(&self) -> &[(Field, Cow<'static, str>)] {
        &self.fields
    }

    /// The author's follower count.
    pub fn followers(&self) -> u64 {
        self.followers
    }

    /// The links written in the title or text, as (host suffix, path) pairs: one per parent
    /// domain of each link's host (see [`url_parts`]).
    pub fn links(&self) -> &[(String, String)] {
        &self.links
    }

    /// Whether the mention's `field` has `value` (normalised; for [`Field::Url`] and
    /// [`Field::Links`], a host and a path the address must be within).
    pub fn field_matches(&self, field: Field, value: &str) -> bool {
        match field {
            Field::Url => {
                let (host, path) = host_and_path(value);
                path_within(&self.url_path, path) && self.field_matches(Field::Site, host)
            }
            Field::Links => {
                let (host, path) = host_and_path(value);
                self.links.iter().any(|(h, p)| h == host && path_within(p, path))
            }
            _ => self.fields.iter().any(|(f, v)| *f == field && v == value),
        }
    }

    /// The number of (field, value) pairs a filter on `field` compares.
    pub(crate) fn field_count(&self, field: Field) -> usize {
        match field {
            Field::Links => self.links.len(),
            _ => self.fields.len(),
        }
    }

    /// How many word positions of the title, and of the text, matching considers (one past
    /// the last considered position of each, the text's counted from [`TEXT_OFFSET`]).
    pub(crate) fn extents(&self) -> (u32, u32) {
        let title = self.tokens[..self.title_end].last().map_or(0, |t| t.position + 1);
        let text = self.tokens[self.title_len..self.text_end]
            .last()
            .map_or(0, |t| t.position + 1 - TEXT_OFFSET);
        (title, text)
    }

    /// Spans (first, last position) where `w` occurs, in order.
    pub fn positions(&self, w: &Words) -> Vec<(u32, u32)> {
        self.spans(w, &mut 0)
    }

    /// The considered token slices, and their indexes, of `scope`: title, then text.
    fn parts(&self, scope: Scope) -> [(&[Token], &[u32]); 2] {
        let none = (&[][..], &[][..]);
        let title = match scope {
            Scope::Any | Scope::Title => (&self.tokens[..self.title_end], &self.title_index[..]),
            Scope::Text => none,
        };
        let text = match scope {
            Scope::Any | Scope::Text => (&self.tokens[self.title_len..self.text_end], &self.text_index[..]),
            Scope::Title => none,
        };
        [title, text]
    }

    /// Calls `f` with the tokens in `scope` that `probe` accepts, until `f` breaks: found in
    /// the index (in index order) or, when `scan` or there is no index, by reading every
    /// considered token (in position order). Adds the steps taken to `ops`.
    fn each(
        &self,
        probe: &Probe,
        scope: Scope,
        scan: bool,
        ops: &mut u64,
        mut f: impl FnMut(&Token) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        for (tokens, index) in self.parts(scope) {
            if tokens.is_empty() {
                continue;
            }
            if scan || index.is_empty() {
                for t in tokens {
                    *ops += 1;
                    if probe.accepts(t) {
                        f(t)?;
                    }
                }
                continue;
            }
            let first = index.partition_point(|&i| probe.before(&self.tokens[i as usize]));
            *ops += log2(index.len());
            for &i in &index[first..] {
                *ops += 1;
                let t = &self.tokens[i as usize];
                if probe.past(t) {
                    break;
                }
                if probe.accepts(t) {
                    f(t)?;
                }
            }
        }
        ControlFlow::Continue(())
    }

    /// The probe for word `i` of `w`; `key` holds the normalised form of an exact word.
    #[inline]
    fn probe<'a>(w: &'a Words, i: usize, key: &'a mut String) -> Probe<'a> {
        let (word, shape) = match &w.words[i] {
            Term::Word(word) => (word.as_str(), Shape::Word),
            Term::Prefix(prefix) => (prefix.as_str(), Shape::Prefix),
            Term::Pattern(p) => {
                return Probe {
                    key: p.key(),
                    exact: w.exact.then_some(""),
                    shape: Shape::Pattern(p),
                }
            }
        };
        if w.exact {
            *key = normalize(word);
            Probe {
                key: key.as_str(),
                exact: Some(word),
                shape,
            }
        } else {
            Probe {
                key: word,
                exact: None,
                shape,
            }
        }
    }

    /// Whether word `i` of `w` occurs in its scope.
    fn occurs(&self, w: &Words, i: usize, ops: &mut u64) -> bool {
        let mut key = String::new();
        let probe = Self::probe(w, i, &mut key);
        self.each(&probe, w.scope, false, ops, |_| ControlFlow::Break(()))
            .is_break()
    }

    /// Whether `w` occurs (the evaluation of a word query), adding the steps taken to `ops`.
    pub(crate) fn contains(&self, w: &Words, ops: &mut u64) -> bool {
        if w.words.len() == 1 {
            return self.occurs(w, 0, ops);
        }
        (0..w.words.len()).all(|i| self.occurs(w, i, ops)) && !self.phrase(w, true, ops).is_empty()
    }

    /// Calls `f` with the start of each span of `w` (in no particular order), adding the steps
    /// taken to `ops`; returns the length of the spans (the number of words of `w`).
    pub(crate) fn starts(&self, w: &Words, ops: &mut u64, mut f: impl FnMut(u32)) -> u32 {
        if w.words.len() > 1 {
            if (0..w.words.len()).all(|i| self.occurs(w, i, ops)) {
                for (start, _) in self.phrase(w, false, ops) {
                    f(start);
                }
            }
            return w.words.len() as u32;
        }
        let mut key = String::new();
        let probe = Self::probe(w, 0, &mut key);
        let _ = self.each(&probe, w.scope, false, ops, |t| {
            f(t.position);
            ControlFlow::Continue(())
        });
        1
    }

    /// The spans of `w`, in order, adding the steps taken to `ops`.
    pub(crate) fn spans(&self, w: &Words, ops: &mut u64) -> Vec<(u32, u32)> {
        if w.words.len() > 1 {
            if !(0..w.words.len()).all(|i| self.occurs(w, i, ops)) {
                return Vec::new();
            }
            return self.phrase(w, false, ops);
        }
        let mut key = String::new();
        let probe = Self::probe(w, 0, &mut key);
        let mut out = Vec::new();
        let mut push = |t: &Token| {
            out.push((t.position, t.position));
            ControlFlow::Continue(())
        };
        let _ = self.each(&probe, w.scope, false, ops, &mut push);
        *ops += out.len() as u64;
        if !out.is_sorted() {
            // The index gives a prefix's words, or a word's spellings, one after the other:
            // read the tokens in position order instead (no more than sorting would cost).
            out.clear();
            let _ = self.each(&probe, w.scope, true, ops, |t| {
                out.push((t.position, t.position));
                ControlFlow::Continue(())
            });
        }
        out
    }

    /// The spans of a phrase of several words, found in one pass over the considered word
    /// tokens of its scope (Knuth–Morris–Pratt: at most two comparisons per token); only the
    /// first when `first`. A last word that is a prefix or a wildcard is checked on the token
    /// after the others; a phrase with a wildcard before its last word is checked from each
    /// place its first word occurs instead (at most 8 comparisons per token).
    fn phrase(&self, w: &Words, first: bool, ops: &mut u64) -> Vec<(u32, u32)> {
        let k = w.words.len();
        let literal: Vec<&str> = w
            .words
            .iter()
            .map_while(|t| match t {
                Term::Word(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        if literal.len() + 1 < k {
            return self.anchored_phrase(w, first, ops);
        }
        let (pattern, last) = if literal.len() == k {
            (&literal[..], None)
        } else {
            (&literal[..], Some(&w.words[k - 1]))
        };
        let m = pattern.len();
        // fail[j]: length of the longest proper border of pattern[..=j].
        let mut fail = vec![0usize; m];
        let mut b = 0;
        for j in 1..m {
            while b > 0 && pattern[j] != pattern[b] {
                b = fail[b - 1];
                *ops += 1;
            }
            if pattern[j] == pattern[b] {
                b += 1;
            }
            fail[j] = b;
            *ops += 1;
        }
        let mut out = Vec::new();
        for (tokens, _) in self.parts(w.scope) {
            let (mut j, mut previous, mut pending) = (0usize, None::<u32>, None::<u32>);
            for t in tokens.iter().filter(|t| !t.is_tag()) {
                *ops += 1;
                if previous.is_none_or(|p| t.position != p + 1) {
                    (j, pending) = (0, None);
                }
                previous = Some(t.position);
                let s = compared(t, w.exact);
                if let (Some(start), Some(last)) = (pending.take(), last) {
                    if last.accepts(s) {
                        out.push((start, t.position));
                        if first {
                            return out;
                        }
                    }
                }
                while j > 0 && pattern[j] != s {
                    j = fail[j - 1];
                    *ops += 1;
                }
                if pattern[j] == s {
                    j += 1;
                }
                if j == m {
                    let start = t.position + 1 - m as u32;
                    match last {
                        Some(_) => pending = Some(start),
                        None => {
                            out.push((start, t.position));
                            if first {
                                return out;
                            }
                        }
                    }
                    j = fail[m - 1];
                }
            }
        }
        out
    }

    /// The spans of a phrase with a wildcard before its last word (at most
    /// [`MAX_WILDCARD_PHRASE`](crate::query::MAX_WILDCARD_PHRASE) words), checked from each
    /// considered word token of its scope.
    fn anchored_phrase(&self, w: &Words, first: bool, ops: &mut u64) -> Vec<(u32, u32)> {
        let mut out = Vec::new();
        for (tokens, _) in self.parts(w.scope) {
            let words: Vec<&Token> = tokens.iter().filter(|t| !t.is_tag()).collect();
            for i in 0..words.len() {
                let start = words[i].position;
                let complete = w.words.iter().enumerate().all(|(j, term)| {
                    *ops += 1;
                    words
                        .get(i + j)
                        .is_some_and(|t| t.position == start + j as u32 && term.accepts(compared(t, w.exact)))
                });
                if complete {
                    out.push((start, start + w.words.len() as u32 - 1));
                    if first {
                        return out;
                    }
                }
            }
        }
        out
    }
}

/// A token's text as a query compares it: normalised, or as written for an exact query.
#[inline]
fn compared(t: &Token, exact: bool) -> &str {
    if exact {
        t.raw()
    } else {
        &t.text
    }
}

/// `"example.com/news"` → `("example.com", "/news")`.
fn host_and_path(value: &str) -> (&str, &str) {
    match value.find('/') {
        Some(i) => value.split_at(i),
        None => (value, ""),
    }
}

/// Appends the links written in `text` (words starting with `http://`, `https://` or
/// `www.`): one (host suffix, path) pair per parent domain of each link's host.
fn links_in(text: &str, out: &mut Vec<(String, String)>) {
    for word in text.split_whitespace() {
        let word = word.trim_start_matches(['(', '<', '"', '\'', '«', '“', '[']);
        let lower = word.get(..8).unwrap_or(word).to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.")) {
            continue;
        }
        let link = word.trim_end_matches([
            '.', ',', ';', ':', '!', '?', ')', ']', '>', '"', '\'', '»', '”', '’',
        ]);
        let (hosts, path) = url_parts(link);
        for host in hosts {
            out.push((host, path.clone()));
        }
    }
}
