//! The JSON input format of a mention (as posted over HTTP or read from JSONL files) and its
//! conversion to the protobuf [`Mention`], validated.

use super::validate::check_not_too_old;
use super::{parse_rfc3339_ms, validate_and_complete, FieldError, Limits};
use crate::names::{parse_kind, parse_source, parse_visibility, KIND_NAMES, SOURCE_NAMES};
use crate::proto::{Author, Engagement, Mention};
use serde::Deserialize;

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
    /// Country (ISO 3166-1 alpha-2), when the platform gives it.
    pub country: Option<String>,
    /// City, when the platform gives it (a geotag, a review's venue).
    pub city: Option<String>,
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
    /// The location written on the author's profile ("Lyon 🇫🇷", "Austin, TX").
    pub location: Option<String>,
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
    json.into_mention(limits, received_at_ms)
}

impl MentionJson {
    /// The validated [`Mention`] (id and reception time set) this JSON form describes: what
    /// [`mention_from_json`] answers once the value has been read into this form (front ends
    /// that read their input straight into it skip the JSON tree).
    pub fn into_mention(self, limits: &Limits, received_at_ms: i64) -> Result<Mention, FieldError> {
        let json = self;
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
            location: a.location.unwrap_or_default(),
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
            matched_rules: Vec::new(),
            city: json.city.unwrap_or_default(),
        };
        validate_and_complete(&mut mention, limits, received_at_ms)?;
        Ok(mention)
    }
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
