//! A mention prepared for query evaluation: its title and text tokenised once, and the fields
//! that filters look at (language, country and city, source, visibility, kind, author, site and address,
//! links in the text, followers, verification). A [`Document`] answers the questions of the
//! shared vocabulary ([`crate::vocabulary`]): where [`Words`](crate::vocabulary::Words) occur, whether a [`Field`] has a
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
use crate::places::{self, Place};
use crate::proto::{Kind, Mention, Source, Visibility};
use crate::text::{normalize, tokenize, Token};
mod lookup;

use crate::vocabulary::{path_within, url_parts, Field};
use std::borrow::Cow;

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
    /// empty when unknown) is `language`, at the place the platform gave (no inference).
    pub fn from_mention(m: &Mention, language: &str) -> Self {
        Self::from_mention_at(m, language, &Place::given(m))
    }

    /// A document for a mention in `language` at `place` (given or inferred, see
    /// [`crate::places`]): filters read its country and city when it is
    /// [filterable](Place::filterable).
    pub fn from_mention_at(m: &Mention, language: &str, place: &Place) -> Self {
        let mut fields = Vec::with_capacity(10);
        let lang = if language.is_empty() { "und" } else { language };
        fields.push((Field::Lang, Cow::Owned(lang.to_string())));
        if place.filterable() {
            fields.push((Field::Country, Cow::Owned(place.country.to_ascii_lowercase())));
            if !place.city.is_empty() {
                fields.push((Field::City, Cow::Owned(places::key(&place.city))));
            }
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
