//! The domain model around the wire contracts: the field errors every entry point reports, mention
//! ids and names, and, in sub-modules, the JSON input format of a mention and its conversion
//! (`json`), validation (`validate`) and RFC 3339 times (`time`).
//!
//! Validation is the same for every entry point (HTTP, gRPC, files): it names the field at fault
//! and says why, so a caller can fix its payload without reading Vigie's code.

mod json;
mod time;
mod validate;

pub use json::{mention_from_json, AuthorJson, EngagementJson, MentionJson};
pub use time::{format_rfc3339_ms, parse_rfc3339_ms};
pub use validate::{validate_and_complete, MIN_CREATED_AT_MS};

use crate::names::source_name;
use crate::proto::Source;

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

#[cfg(test)]
mod tests;
