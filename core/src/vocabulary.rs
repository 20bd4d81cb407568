//! The vocabulary that queries and documents share: which text a word query looks at
//! ([`Scope`]), the words or phrase it looks for ([`Words`]), the mention fields a filter can
//! test ([`Field`]), and how a site is written ([`site_suffixes`]).
//!
//! The query language ([`crate::query`]) builds these and the document ([`crate::document`])
//! answers them; both depend on this module and neither on the other's internals.

/// Which text of a mention a word query looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Title and text (the default).
    Any,
    /// The title only (`title:`).
    Title,
}

/// A word or phrase to find.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Words {
    /// Consecutive words: normalised (lower case, accents folded), or as written when `exact`.
    pub words: Vec<String>,
    /// The last word is a prefix (`term*`).
    pub prefix: bool,
    /// Match case and accents exactly (`=Word`).
    pub exact: bool,
    /// Where to look.
    pub scope: Scope,
}

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

/// `"https://www.news.example.com/a"` → `["news.example.com", "example.com"]`: every parent
/// domain, the bare top-level domain left out. A mention's URL and a query's `site:` value are
/// both reduced this way, so they compare.
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

    #[test]
    fn field_names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert_eq!(Field::from_name("title"), None);
    }
}
