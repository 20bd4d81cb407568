//! The names of Vigie's enumerations as written in JSON, TOML, ClickHouse and messages, and
//! their parsing: sources, kinds, visibilities, sentiments, severities and alert states. One home
//! for every name, so the API, the receivers, the alert book and the ClickHouse rows agree.

use crate::proto::{AlertState, Kind, SentimentLabel, Severity, Source, Visibility};

/// Names of source platforms as written in JSON and in ClickHouse, indexed like [`Source`].
pub const SOURCE_NAMES: [(&str, Source); 18] = [
    ("x", Source::X),
    ("facebook", Source::Facebook),
    ("instagram", Source::Instagram),
    ("tiktok", Source::Tiktok),
    ("linkedin", Source::Linkedin),
    ("youtube", Source::Youtube),
    ("reddit", Source::Reddit),
    ("forum", Source::Forum),
    ("news", Source::News),
    ("blog", Source::Blog),
    ("review", Source::Review),
    ("whatsapp", Source::Whatsapp),
    ("messenger", Source::Messenger),
    ("telegram", Source::Telegram),
    ("email", Source::Email),
    ("other", Source::Other),
    ("mastodon", Source::Mastodon),
    ("bluesky", Source::Bluesky),
];

/// Names of mention kinds as written in JSON and in ClickHouse.
pub const KIND_NAMES: [(&str, Kind); 6] = [
    ("post", Kind::Post),
    ("comment", Kind::Comment),
    ("reply", Kind::Reply),
    ("review", Kind::Review),
    ("article", Kind::Article),
    ("direct_message", Kind::DirectMessage),
];

/// Name of a source ("x", "news", ...); "unspecified" for the zero value.
pub fn source_name(source: Source) -> &'static str {
    SOURCE_NAMES
        .iter()
        .find(|(_, s)| *s == source)
        .map(|(n, _)| *n)
        .unwrap_or("unspecified")
}

/// Parses a source name; accepts "twitter" as an alias of "x".
pub fn parse_source(name: &str) -> Option<Source> {
    let lower = name.trim().to_ascii_lowercase();
    let lower = if lower == "twitter" {
        "x".to_string()
    } else {
        lower
    };
    SOURCE_NAMES.iter().find(|(n, _)| *n == lower).map(|(_, s)| *s)
}

/// Name of a kind ("post", "direct_message", ...).
pub fn kind_name(kind: Kind) -> &'static str {
    KIND_NAMES
        .iter()
        .find(|(_, k)| *k == kind)
        .map(|(n, _)| *n)
        .unwrap_or("unspecified")
}

/// Parses a kind name; accepts "dm" for direct_message.
pub fn parse_kind(name: &str) -> Option<Kind> {
    let lower = name.trim().to_ascii_lowercase();
    let lower = if lower == "dm" {
        "direct_message".to_string()
    } else {
        lower
    };
    KIND_NAMES.iter().find(|(n, _)| *n == lower).map(|(_, k)| *k)
}

/// Name of a visibility ("public" or "private").
pub fn visibility_name(visibility: Visibility) -> &'static str {
    match visibility {
        Visibility::Public => "public",
        Visibility::Private => "private",
        Visibility::Unspecified => "unspecified",
    }
}

/// The visibility named `name` ("public", "private").
pub fn parse_visibility(name: &str) -> Option<Visibility> {
    match name.trim().to_ascii_lowercase().as_str() {
        "public" => Some(Visibility::Public),
        "private" => Some(Visibility::Private),
        _ => None,
    }
}

/// Label name of a sentiment ("negative", "neutral", "positive").
pub fn sentiment_name(label: SentimentLabel) -> &'static str {
    match label {
        SentimentLabel::Negative => "negative",
        SentimentLabel::Neutral => "neutral",
        SentimentLabel::Positive => "positive",
        SentimentLabel::Unspecified => "",
    }
}

/// The severity named `name` ("info", "warning", "critical"), if any.
pub fn parse_severity(name: &str) -> Option<Severity> {
    [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|s| severity_name(*s) == name)
}

/// Name of a severity ("info", "warning", "critical").
pub fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
        Severity::Unspecified => "",
    }
}

/// Name of an alert state ("firing", "acknowledged", "resolved").
pub fn state_name(s: AlertState) -> &'static str {
    match s {
        AlertState::Firing => "firing",
        AlertState::Acknowledged => "acknowledged",
        AlertState::Resolved => "resolved",
        AlertState::Unspecified => "",
    }
}
