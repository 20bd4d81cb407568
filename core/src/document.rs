//! A mention prepared for query evaluation: its title and text tokenised once, and the fields
//! that filters look at (language, country, source, visibility, kind, author, site, followers,
//! verification).

use crate::model::{kind_name, source_name, visibility_name};
use crate::proto::{Kind, Mention, Source, Visibility};
use crate::query::{Scope, Words};
use crate::text::{normalize, tokenize, Token};
use std::borrow::Cow;

/// A mention field that a query filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Detected language (ISO 639-1, or `und`).
    Lang,
    /// Country (ISO 3166-1 alpha-2).
    Country,
    /// Source platform name.
    Source,
    /// `public` or `private`.
    Visibility,
    /// Kind of message.
    Kind,
    /// Author handle, id or display name.
    Author,
    /// Domain of the mention's URL (matches subdomains too).
    Site,
    /// Verified author: `true` or `false`.
    Verified,
}

impl Field {
    const ALL: [Field; 8] = [
        Field::Lang,
        Field::Country,
        Field::Source,
        Field::Visibility,
        Field::Kind,
        Field::Author,
        Field::Site,
        Field::Verified,
    ];

    /// The field's name in queries (`lang`, `site`, …).
    pub fn name(self) -> &'static str {
        match self {
            Field::Lang => "lang",
            Field::Country => "country",
            Field::Source => "source",
            Field::Visibility => "visibility",
            Field::Kind => "kind",
            Field::Author => "author",
            Field::Site => "site",
            Field::Verified => "verified",
        }
    }

    /// What a value of this field looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Field::Lang => "an ISO 639-1 code such as fr, or und",
            Field::Country => "an ISO 3166-1 alpha-2 code such as FR",
            Field::Source => "a source such as x, facebook, news, review, whatsapp",
            Field::Visibility => "public or private",
            Field::Kind => "post, comment, reply, review, article or direct_message",
            Field::Author => "a handle, author id or display name",
            Field::Site => "a domain such as example.com",
            Field::Verified => "true or false",
        }
    }

    /// The field named `name`, if any.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Positions between the title's tokens and the text's, so phrases never span both.
const TEXT_OFFSET: u32 = 1 << 20;

/// A mention tokenised for matching.
#[derive(Debug, Default, Clone)]
pub struct Document {
    /// Title tokens (positions below `TEXT_OFFSET`), then text tokens.
    tokens: Vec<Token>,
    title_len: usize,
    /// Normalised (field, value) pairs the mention has; several values for author and site.
    fields: Vec<(Field, Cow<'static, str>)>,
    followers: u64,
}

impl Document {
    /// A document with only a text (no title, no fields), for tests and `TestQuery`.
    pub fn from_text(text: &str) -> Self {
        Self::build("", text, Vec::new(), 0)
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
        for domain in site_suffixes(&m.url) {
            fields.push((Field::Site, Cow::Owned(domain)));
        }
        Self::build(&m.title, &m.text, fields, followers)
    }

    fn build(title: &str, text: &str, fields: Vec<(Field, Cow<'static, str>)>, followers: u64) -> Self {
        let mut tokens = tokenize(title);
        let title_len = tokens.len();
        tokens.extend(tokenize(text).into_iter().map(|mut t| {
            t.position += TEXT_OFFSET;
            t
        }));
        Self {
            tokens,
            title_len,
            fields,
            followers,
        }
    }

    /// Every token, title first.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// The (field, value) pairs of the mention.
    pub fn fields(&self) -> &[(Field, Cow<'static, str>)] {
        &self.fields
    }

    /// The author's follower count.
    pub fn followers(&self) -> u64 {
        self.followers
    }

    /// Whether the mention's `field` has `value` (normalised).
    pub fn field_matches(&self, field: Field, value: &str) -> bool {
        self.fields.iter().any(|(f, v)| *f == field && v == value)
    }

    /// Spans (first, last position) where `w` occurs.
    pub fn positions(&self, w: &Words) -> Vec<(u32, u32)> {
        let tokens = match w.scope {
            Scope::Any => &self.tokens[..],
            Scope::Title => &self.tokens[..self.title_len],
        };
        fn text(t: &Token, exact: bool) -> &str {
            if exact {
                t.raw()
            } else {
                &t.text
            }
        }
        let last = w.words.len() - 1;
        let word_at = |i: usize, t: &Token| {
            if i == last && w.prefix {
                text(t, w.exact).starts_with(w.words[i].as_str())
            } else {
                text(t, w.exact) == w.words[i]
            }
        };
        let mut out = Vec::new();
        for start in tokens.iter().filter(|t| word_at(0, t)) {
            let complete = (1..w.words.len()).all(|i| {
                // Tokens are in position order: find the (one or two, for tags) at `p`.
                let p = start.position + i as u32;
                let first = tokens.partition_point(|t| t.position < p);
                tokens[first..]
                    .iter()
                    .take_while(|t| t.position == p)
                    .any(|t| word_at(i, t))
            });
            if complete {
                out.push((start.position, start.position + last as u32));
            }
        }
        out
    }
}

/// "https://www.news.example.com/a" → ["news.example.com", "example.com"]: every parent
/// domain, the bare top-level domain left out.
pub fn site_suffixes(url: &str) -> Vec<String> {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let host = host.trim_start_matches("www.");
    let parts: Vec<&str> = host.split('.').filter(|p| !p.is_empty()).collect();
    (0..parts.len().saturating_sub(1))
        .map(|i| parts[i..].join("."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_suffixes_cover_subdomains() {
        assert_eq!(
            site_suffixes("https://www.news.example.com:443/a?b"),
            ["news.example.com", "example.com"]
        );
        assert!(site_suffixes("").is_empty());
    }
}
