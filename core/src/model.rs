//! The domain model around the wire contracts: names of enum values as used in JSON, the JSON
//! input format of a mention, its conversion to the protobuf `Mention`, and validation.
//!
//! Validation is the same for every entry point (HTTP, gRPC, files): it names the field at fault
//! and says why, so a caller can fix its payload without reading Vigie's code.

use crate::names::{parse_kind, parse_source, parse_visibility, source_name, KIND_NAMES, SOURCE_NAMES};
use crate::proto::{Author, Engagement, Kind, Mention, Source, Visibility};
use serde::Deserialize;

/// A field that failed validation and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path of the field, e.g. `text` or `author.followers`.
    pub field: String,
    /// What was wrong and what was expected.
    pub reason: String,
}

impl FieldError {
    /// Builds an error for `field`.
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

/// Private-by-nature platforms: a mention from them defaults to private visibility.
pub fn is_private_channel(source: Source) -> bool {
    matches!(
        source,
        Source::Whatsapp | Source::Messenger | Source::Telegram | Source::Email
    )
}

/// Tenants and watch ids are names: ASCII letters, digits, '-', '_' and '.', so that keys
/// (`<tenant>/<watch>`) and alert ids (`<tenant>:<watch>:<rule>:<episode>`) split unambiguously.
pub fn check_name(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(FieldError::new(
            field,
            "is required and may contain only ASCII letters, digits, '-', '_' and '.'",
        ));
    }
    Ok(())
}

/// Deterministic mention id: the same (tenant, source, native id) is the same mention everywhere,
/// which makes ingest idempotent and lets every sink deduplicate redeliveries.
pub fn mention_id(tenant: &str, source: Source, native_id: &str) -> String {
    format!("{tenant}:{}:{native_id}", source_name(source))
}

/// The JSON form of a mention accepted by `POST /v1/mentions` and by files.
///
/// Enum-like fields are strings (`"source": "x"`); `created_at` is RFC 3339 or epoch
/// milliseconds; unknown fields are rejected so typos do not silently lose data.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MentionJson {
    /// Tenant (customer account) owning the mention. Required.
    pub tenant: Option<String>,
    /// Source platform name. Required.
    pub source: Option<String>,
    /// "public" or "private"; defaults from the source.
    pub visibility: Option<String>,
    /// Kind of message; defaults to "post" (or "direct_message" on private channels).
    pub kind: Option<String>,
    /// The platform's own id of the message. Required.
    pub native_id: Option<String>,
    /// The author.
    pub author: Option<AuthorJson>,
    /// The message text. Required unless a title is given.
    pub text: Option<String>,
    /// Title (articles, reviews, forum threads).
    pub title: Option<String>,
    /// Link to the message.
    pub url: Option<String>,
    /// Language announced by the platform (ISO 639-1).
    #[serde(alias = "lang")]
    pub language_hint: Option<String>,
    /// Country (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Publication time: RFC 3339 string or epoch milliseconds. Defaults to reception time.
    pub created_at: Option<serde_json::Value>,
    /// Engagement counters.
    pub engagement: Option<EngagementJson>,
    /// Review rating (1..5).
    pub rating: Option<f32>,
    /// Native id of the message this one answers.
    pub parent_id: Option<String>,
    /// Native id of the conversation thread.
    pub thread_id: Option<String>,
}

/// The JSON form of an author.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorJson {
    /// Platform id of the author.
    pub id: Option<String>,
    /// Handle without the leading @.
    pub handle: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Follower count.
    pub followers: Option<u64>,
    /// Verified account.
    pub verified: Option<bool>,
}

/// The JSON form of engagement counters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementJson {
    /// Likes or reactions.
    pub likes: Option<u64>,
    /// Shares, retweets or forwards.
    pub shares: Option<u64>,
    /// Comments or replies.
    pub comments: Option<u64>,
    /// Views or impressions.
    pub views: Option<u64>,
}

/// Limits applied by validation.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Longest text, in characters.
    pub max_text_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_text_chars: 20_000,
        }
    }
}

const MAX_SHORT_FIELD: usize = 512;
const MAX_URL: usize = 4_096;

/// Parses one JSON value into a validated [`Mention`] (id and reception time set).
pub fn mention_from_json(
    value: serde_json::Value,
    limits: &Limits,
    received_at_ms: i64,
) -> Result<Mention, FieldError> {
    if !value.is_object() {
        return Err(FieldError::new("", "expected a JSON object for a mention"));
    }
    let json: MentionJson = serde_json::from_value(value).map_err(json_field_error)?;
    let source = match json.source.as_deref() {
        None => return Err(FieldError::new("source", "is required")),
        Some(s) => parse_source(s).ok_or_else(|| {
            FieldError::new(
                "source",
                format!(
                    "unknown source {s:?}; expected one of {}",
                    SOURCE_NAMES
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?,
    };
    let visibility = match json.visibility.as_deref() {
        None => None,
        Some(v) => Some(parse_visibility(v).ok_or_else(|| {
            FieldError::new(
                "visibility",
                format!("unknown visibility {v:?}; expected public or private"),
            )
        })?),
    };
    let kind = match json.kind.as_deref() {
        None => None,
        Some(k) => Some(parse_kind(k).ok_or_else(|| {
            FieldError::new(
                "kind",
                format!(
                    "unknown kind {k:?}; expected one of {}",
                    KIND_NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                ),
            )
        })?),
    };
    let created_at_ms = match json.created_at {
        None | Some(serde_json::Value::Null) => 0,
        Some(serde_json::Value::Number(n)) => {
            let ms = n
                .as_i64()
                .ok_or_else(|| FieldError::new("created_at", "expected integer epoch milliseconds"))?;
            check_not_too_old(ms, &ms.to_string())?;
            ms
        }
        Some(serde_json::Value::String(s)) => {
            let ms = parse_rfc3339_ms(&s).ok_or_else(|| {
                FieldError::new(
                    "created_at",
                    format!("cannot read {s:?} as a time; expected RFC 3339 (2026-01-31T12:00:00Z) or epoch milliseconds"),
                )
            })?;
            check_not_too_old(ms, &format!("{s:?}"))?;
            ms
        }
        Some(_) => {
            return Err(FieldError::new(
                "created_at",
                "expected an RFC 3339 string or epoch milliseconds",
            ))
        }
    };
    let author = json.author.map(|a| Author {
        id: a.id.unwrap_or_default(),
        handle: a.handle.unwrap_or_default(),
        display_name: a.display_name.unwrap_or_default(),
        followers: a.followers.unwrap_or(0),
        verified: a.verified.unwrap_or(false),
    });
    let engagement = json.engagement.map(|e| Engagement {
        likes: e.likes.unwrap_or(0),
        shares: e.shares.unwrap_or(0),
        comments: e.comments.unwrap_or(0),
        views: e.views.unwrap_or(0),
    });
    let mut mention = Mention {
        id: String::new(),
        tenant: json.tenant.unwrap_or_default(),
        source: source as i32,
        visibility: visibility.map(|v| v as i32).unwrap_or(0),
        kind: kind.map(|k| k as i32).unwrap_or(0),
        native_id: json.native_id.unwrap_or_default(),
        author,
        text: json.text.unwrap_or_default(),
        title: json.title.unwrap_or_default(),
        url: json.url.unwrap_or_default(),
        language_hint: json.language_hint.unwrap_or_default(),
        country: json.country.unwrap_or_default(),
        created_at_ms,
        engagement,
        rating: json.rating.unwrap_or(0.0),
        parent_id: json.parent_id.unwrap_or_default(),
        thread_id: json.thread_id.unwrap_or_default(),
        received_at_ms: 0,
    };
    validate_and_complete(&mut mention, limits, received_at_ms)?;
    Ok(mention)
}

/// Turns a serde error into a field error: serde reports "unknown field `x`" and
/// "invalid type ... at line/column"; keep its message, extract the field when it names one.
fn json_field_error(e: serde_json::Error) -> FieldError {
    let message = e.to_string();
    let field = message
        .split('`')
        .nth(1)
        .filter(|_| message.starts_with("unknown field") || message.starts_with("missing field"))
        .unwrap_or("")
        .to_string();
    FieldError::new(field, message)
}

/// Validates a mention from any entry point, fills defaults (visibility, kind, times) and sets
/// its deterministic id. Errors name the first field at fault.
pub fn validate_and_complete(
    mention: &mut Mention,
    limits: &Limits,
    received_at_ms: i64,
) -> Result<(), FieldError> {
    check_short("tenant", &mention.tenant, true)?;
    check_name("tenant", &mention.tenant)?;
    let source = Source::try_from(mention.source)
        .ok()
        .filter(|s| *s != Source::Unspecified)
        .ok_or_else(|| FieldError::new("source", "is required (a known source platform)"))?;
    check_short("native_id", &mention.native_id, true)?;
    if mention.text.trim().is_empty() && mention.title.trim().is_empty() {
        return Err(FieldError::new("text", "is required (empty text and no title)"));
    }
    let chars = mention.text.chars().count();
    if chars > limits.max_text_chars {
        return Err(FieldError::new(
            "text",
            format!(
                "is {chars} characters long; the limit is {}",
                limits.max_text_chars
            ),
        ));
    }
    if mention.title.chars().count() > limits.max_text_chars {
        return Err(FieldError::new(
            "title",
            format!("is longer than {} characters", limits.max_text_chars),
        ));
    }
    if mention.url.len() > MAX_URL {
        return Err(FieldError::new("url", format!("is longer than {MAX_URL} bytes")));
    }
    let web = |u: &str| u.starts_with("http://") || u.starts_with("https://");
    if !mention.url.is_empty() && !web(&mention.url) {
        return Err(FieldError::new("url", "must start with http:// or https://"));
    }
    if let Some(author) = &mention.author {
        check_short("author.id", &author.id, false)?;
        check_short("author.handle", &author.handle, false)?;
        check_short("author.display_name", &author.display_name, false)?;
    }
    check_short("parent_id", &mention.parent_id, false)?;
    check_short("thread_id", &mention.thread_id, false)?;
    let hint = &mention.language_hint;
    let two_letters = |s: &str| s.len() == 2 && s.chars().all(|c| c.is_ascii_alphabetic());
    if !hint.is_empty() && !two_letters(hint) {
        return Err(FieldError::new(
            "language_hint",
            format!("{hint:?} is not an ISO 639-1 code (two letters)"),
        ));
    }
    mention.language_hint = hint.to_ascii_lowercase();
    let country = &mention.country;
    if !country.is_empty() && !two_letters(country) {
        return Err(FieldError::new(
            "country",
            format!("{country:?} is not an ISO 3166-1 alpha-2 code (two letters)"),
        ));
    }
    mention.country = country.to_ascii_uppercase();
    if mention.rating != 0.0 && !(1.0..=5.0).contains(&mention.rating) {
        return Err(FieldError::new(
            "rating",
            format!("{} is outside 1..5", mention.rating),
        ));
    }
    // Zero is "not given" (proto3's default): the reception time below.
    if mention.created_at_ms != 0 {
        check_not_too_old(mention.created_at_ms, &mention.created_at_ms.to_string())?;
    }
    const ONE_DAY_MS: i64 = 86_400_000;
    if mention.created_at_ms > received_at_ms + ONE_DAY_MS {
        return Err(FieldError::new("created_at", "is more than a day in the future"));
    }
    if mention.created_at_ms == 0 {
        mention.created_at_ms = received_at_ms;
    }
    if Visibility::try_from(mention.visibility).unwrap_or(Visibility::Unspecified) == Visibility::Unspecified
    {
        mention.visibility = if is_private_channel(source) {
            Visibility::Private as i32
        } else {
            Visibility::Public as i32
        };
    }
    if Kind::try_from(mention.kind).unwrap_or(Kind::Unspecified) == Kind::Unspecified {
        mention.kind = if is_private_channel(source) {
            Kind::DirectMessage as i32
        } else if source == Source::News || source == Source::Blog {
            Kind::Article as i32
        } else if source == Source::Review {
            Kind::Review as i32
        } else {
            Kind::Post as i32
        };
    }
    mention.received_at_ms = received_at_ms;
    mention.id = mention_id(&mention.tenant, source, &mention.native_id);
    Ok(())
}

fn check_short(field: &str, value: &str, required: bool) -> Result<(), FieldError> {
    if required && value.trim().is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if value.len() > MAX_SHORT_FIELD {
        return Err(FieldError::new(
            field,
            format!("is longer than {MAX_SHORT_FIELD} bytes"),
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(())
}

/// Earliest publication time accepted: 2000-01-01T00:00:00Z. Anything older is a mistake rather
/// than a mention (epoch seconds read as milliseconds land in January 1970, and a zero date
/// would silently become the reception time), so it is refused with the reason.
pub const MIN_CREATED_AT_MS: i64 = 946_684_800_000;

/// Refuses a publication time before [`MIN_CREATED_AT_MS`], saying what it probably was.
fn check_not_too_old(ms: i64, written: &str) -> Result<(), FieldError> {
    if ms >= MIN_CREATED_AT_MS {
        return Ok(());
    }
    // Epoch seconds between 2000 and 2286 are 10-digit numbers: the usual unit mistake.
    let reason = if (MIN_CREATED_AT_MS / 1000..10_000_000_000).contains(&ms) {
        format!(
            "{written} looks like epoch seconds ({}); send epoch milliseconds ({}) or RFC 3339",
            format_rfc3339_ms(ms * 1000),
            ms * 1000
        )
    } else {
        format!(
            "{written} is {}, before 2000-01-01; send epoch milliseconds or RFC 3339, or leave \
             created_at out to use the reception time",
            format_rfc3339_ms(ms)
        )
    };
    Err(FieldError::new("created_at", reason))
}

/// Parses an RFC 3339 timestamp (`2026-01-31T12:00:00Z`, `...+01:00`, fractional seconds
/// allowed) into epoch milliseconds.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num =
        |r: std::ops::Range<usize>| -> Option<i64> { std::str::from_utf8(&b[r]).ok()?.parse::<i64>().ok() };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0i64;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let frac = std::str::from_utf8(&b[start..i.min(start + 3)]).ok()?;
        millis = frac.parse::<i64>().ok()? * 10i64.pow(3 - frac.len() as u32);
    }
    let offset_s = match b.get(i) {
        Some(b'Z') | Some(b'z') if i + 1 == b.len() => 0,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return None;
            }
            let off = h * 3600 + m * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    Some((days * 86_400 + hour * 3600 + minute * 60 + second - offset_s) * 1000 + millis)
}

/// Formats epoch milliseconds as RFC 3339 UTC with millisecond precision.
pub fn format_rfc3339_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days in `month` (1–12) of `year`, leap years included.
fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_780_000_000_000;

    fn ok(v: serde_json::Value) -> Mention {
        mention_from_json(v, &Limits::default(), NOW).expect("valid mention")
    }

    fn err(v: serde_json::Value) -> FieldError {
        mention_from_json(v, &Limits::default(), NOW).expect_err("invalid mention")
    }

    #[test]
    fn a_minimal_mention_gets_id_defaults_and_times() {
        let m = ok(json!({"tenant":"acme","source":"whatsapp","native_id":"42","text":"allo"}));
        assert_eq!(m.id, "acme:whatsapp:42");
        assert_eq!(m.visibility, Visibility::Private as i32);
        assert_eq!(m.kind, Kind::DirectMessage as i32);
        assert_eq!(m.created_at_ms, NOW);
        assert_eq!(m.received_at_ms, NOW);
    }

    #[test]
    fn errors_name_the_field_and_reason() {
        let e = err(json!({"tenant":"acme","source":"myspace","native_id":"1","text":"x"}));
        assert_eq!(e.field, "source");
        assert!(e.reason.contains("myspace"));
        let e = err(json!({"tenant":"acme","source":"x","native_id":"1"}));
        assert_eq!(e.field, "text");
        let e = err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","lang":"french"}));
        assert_eq!(e.field, "language_hint");
        let e = err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","txet":"typo"}));
        assert_eq!(e.field, "txet");
        let e = err(json!({"source":"x","native_id":"1","text":"x"}));
        assert_eq!(e.field, "tenant");
        let e =
            err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","created_at":"yesterday"}));
        assert_eq!(e.field, "created_at");
        let e = err(
            json!({"tenant":"acme","source":"x","native_id":"1","text":"x","author":{"followers":"many"}}),
        );
        assert!(e.reason.contains("invalid type"), "{}", e.reason);
    }

    #[test]
    fn text_length_limit_is_enforced() {
        let limits = Limits { max_text_chars: 10 };
        let e = mention_from_json(
            json!({"tenant":"acme","source":"x","native_id":"1","text":"é".repeat(11)}),
            &limits,
            NOW,
        )
        .unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.reason.contains("11 characters"));
    }

    #[test]
    fn rfc3339_round_trips() {
        let ms = parse_rfc3339_ms("2026-03-01T10:20:30.123Z").unwrap();
        assert_eq!(format_rfc3339_ms(ms), "2026-03-01T10:20:30.123Z");
        assert_eq!(
            parse_rfc3339_ms("2026-03-01T11:20:30+01:00").unwrap(),
            parse_rfc3339_ms("2026-03-01T10:20:30Z").unwrap()
        );
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("2026-13-01T00:00:00Z"), None);
        // Days that do not exist and offsets beyond ±23:59 are refused, not rolled over.
        assert_eq!(parse_rfc3339_ms("2026-02-31T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-04-31T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-02-29T00:00:00Z"), None);
        assert!(parse_rfc3339_ms("2028-02-29T00:00:00Z").is_some());
        assert!(parse_rfc3339_ms("2000-02-29T00:00:00Z").is_some());
        assert_eq!(parse_rfc3339_ms("2100-02-29T00:00:00Z"), None);
        assert_eq!(parse_rfc3339_ms("2026-03-01T10:00:00+99:99"), None);
        assert_eq!(parse_rfc3339_ms("2026-03-01T10:00:00+24:00"), None);
        assert!(parse_rfc3339_ms("2026-03-01T10:00:00-23:59").is_some());
    }

    #[test]
    fn publication_times_before_2000_are_refused_with_what_they_probably_were() {
        let at = |v: serde_json::Value| {
            mention_from_json(
                json!({"tenant":"acme","source":"x","native_id":"1","text":"x","created_at": v}),
                &Limits::default(),
                NOW,
            )
        };
        // Epoch seconds, the usual unit mistake, would land in January 1970.
        let e = at(json!(1_780_000_000)).unwrap_err();
        assert_eq!(e.field, "created_at");
        assert!(e.reason.contains("looks like epoch seconds"), "{}", e.reason);
        assert!(e.reason.contains("1780000000000"), "{}", e.reason);
        // The epoch itself is not "no date": it is refused rather than replaced by reception time.
        for zero in [json!("1970-01-01T00:00:00Z"), json!(0)] {
            let e = at(zero).unwrap_err();
            assert!(e.reason.contains("before 2000-01-01"), "{}", e.reason);
        }
        assert!(at(json!("1999-12-31T23:59:59Z")).is_err());
        assert_eq!(
            at(json!("2000-01-01T00:00:00Z")).unwrap().created_at_ms,
            MIN_CREATED_AT_MS
        );
        assert_eq!(at(json!(NOW - 1000)).unwrap().created_at_ms, NOW - 1000);
        // A gRPC mention (already a protobuf) is held to the same rule; zero means "not given".
        let mut m = ok(json!({"tenant":"acme","source":"x","native_id":"1","text":"x"}));
        m.created_at_ms = 1_780_000_000;
        let e = validate_and_complete(&mut m, &Limits::default(), NOW).unwrap_err();
        assert!(e.reason.contains("looks like epoch seconds"), "{}", e.reason);
        m.created_at_ms = 0;
        validate_and_complete(&mut m, &Limits::default(), NOW).unwrap();
        assert_eq!(m.created_at_ms, NOW);
    }
}
