//! Validation of a mention from any entry point: limits, names, times; defaults filled and the
//! deterministic id set. Errors name the first field at fault and say why.

use super::{check_name, format_rfc3339_ms, is_private_channel, mention_id, FieldError, Limits};
use crate::proto::{Kind, Mention, Source, Visibility};

const MAX_SHORT_FIELD: usize = 512;
const MAX_URL: usize = 4_096;

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
    if mention.matched_rules.len() > 64 {
        return Err(FieldError::new(
            "matched_rules",
            format!("{} rules; at most 64", mention.matched_rules.len()),
        ));
    }
    if let Some(i) = mention.matched_rules.iter().position(|r| r.len() > 512) {
        return Err(FieldError::new(
            format!("matched_rules[{i}]"),
            "longer than 512 bytes",
        ));
    }
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
    if let Some(author) = &mut mention.author {
        check_short("author.id", &author.id, false)?;
        check_short("author.handle", &author.handle, false)?;
        check_short("author.display_name", &author.display_name, false)?;
        // Profiles hold line breaks and tabs ("Lyon\nParis"): spaces, not a refusal.
        author.location = spaced(&author.location);
        check_short("author.location", &author.location, false)?;
    }
    mention.city = spaced(&mention.city);
    check_short("city", &mention.city, false)?;
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

/// `value` with its control characters (line breaks, tabs) turned into spaces, trimmed.
fn spaced(value: &str) -> String {
    let spaced: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    spaced.trim().to_string()
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
pub(super) fn check_not_too_old(ms: i64, written: &str) -> Result<(), FieldError> {
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
