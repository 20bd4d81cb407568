//! A mention prepared for query evaluation: its title and text tokenised once, and the fields
//! that filters look at (language, country, source, visibility, kind, author, site, followers,
//! verification). A [`Document`] answers the questions of the shared vocabulary
//! ([`crate::vocabulary`]): where [`Words`] occur, whether a [`Field`] has a value.

use crate::names::{kind_name, source_name, visibility_name};
use crate::proto::{Kind, Mention, Source, Visibility};
use crate::text::{normalize, tokenize, Token};
use crate::vocabulary::{site_suffixes, Field, Scope, Words};
use std::borrow::Cow;

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
