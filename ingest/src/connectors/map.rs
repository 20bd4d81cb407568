//! What a connector makes of a platform's payload ([`Mapped`]: mentions, events it cannot map,
//! events it ignores by design), the JSON lookups the mappings share, and the hand-over of a
//! [`Mapped`] to the [`Ingestor`] under the connector's tenant ([`HandOff`]).

use crate::ingestor::{Caller, IngestError, Ingestor, Item, Submitted};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use vigie_core::metrics::ConnectorMetrics;
use vigie_core::model::FieldError;
use vigie_core::proto::{Mention, PublishResponse};

/// One item of a payload: a mention, or why the event could not be mapped, with the event's
/// own bytes (kept with its dead letter when it is refused).
#[derive(Debug)]
pub struct Mapping {
    /// The mention, or the field and reason it could not be made.
    pub item: Result<Mention, FieldError>,
    /// The event as received (its JSON, or its XML element).
    pub original: Vec<u8>,
}

/// What a connector made of one payload.
#[derive(Debug, Default)]
pub struct Mapped {
    /// The items, in payload order.
    pub items: Vec<Mapping>,
    /// Events ignored by design (delivery and read receipts, typing indicators…), by type.
    pub ignored: Vec<&'static str>,
}

impl Mapped {
    /// Adds a mention made from `event`.
    pub fn mention(&mut self, mention: Mention, event: &Value) {
        self.items.push(Mapping {
            item: Ok(mention),
            original: event.to_string().into_bytes(),
        });
    }

    /// Adds an event that could not be mapped: `field` is where in the payload, `reason` why.
    pub fn unmapped(&mut self, field: impl Into<String>, reason: impl Into<String>, event: &Value) {
        self.items.push(Mapping {
            item: Err(FieldError::new(field, reason)),
            original: event.to_string().into_bytes(),
        });
    }

    /// Notes an event of type `event` ignored by design.
    pub fn ignore(&mut self, event: &'static str) {
        self.ignored.push(event);
    }

    /// A payload that is not what the platform sends at all (not JSON, no known shape): one
    /// unmapped item holding the whole body.
    pub fn malformed(reason: impl Into<String>, body: &[u8]) -> Mapped {
        Mapped::unmapped_body("body", reason, body)
    }

    /// A payload refused whole (an unknown `object`…): one unmapped item, `field` and `reason`
    /// saying why, holding the whole body as received.
    pub fn unmapped_body(field: impl Into<String>, reason: impl Into<String>, body: &[u8]) -> Mapped {
        Mapped {
            items: vec![Mapping {
                item: Err(FieldError::new(field, reason)),
                original: body.to_vec(),
            }],
            ignored: Vec::new(),
        }
    }
}

/// The string at `path` in `v` (object keys), if there is one.
pub fn text<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    at(v, path)?.as_str()
}

/// The value at `path` in `v` (object keys).
pub fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
    path.iter().try_fold(v, |v, key| v.get(key))
}

/// `text` if it has something else than blanks.
pub fn non_blank(text: Option<&str>) -> Option<&str> {
    text.filter(|t| !t.trim().is_empty())
}

/// The native id of an edit of `id`: `<id>:edit:<at_ms>` when the platform dates the edit,
/// else `<id>:edit:<first 16 hex digits of the SHA-256 of words>` (`words` being what the edit
/// says: its text, and its rating and title where there are), so that each later wording is a
/// mention of its own and a platform's retry of the same edit is a duplicate.
pub fn edit_id(id: &str, at_ms: Option<i64>, words: &str) -> String {
    match at_ms {
        Some(at) => format!("{id}:edit:{at}"),
        None => {
            let digest = super::signature::hex(&Sha256::digest(words.as_bytes()));
            format!("{id}:edit:{}", &digest[..16])
        }
    }
}

/// A profile location as the platform gives it, trimmed and cut at 512 bytes.
pub fn location(location: Option<&str>) -> String {
    let l = location.unwrap_or_default().trim();
    let mut end = l.len().min(MAX_LOCATION);
    while !l.is_char_boundary(end) {
        end -= 1;
    }
    l.get(..end).unwrap_or_default().to_string()
}

/// The longest profile location kept, in bytes (ingest refuses longer fields).
const MAX_LOCATION: usize = 512;

/// The language hint of a platform's language tag: its two-letter code, lowercased (`fr`,
/// `en-GB` and `pt_BR` give `fr`, `en`, `pt`); nothing for anything else (`und`, `e`, `fra`).
pub fn language_hint(lang: Option<&str>) -> String {
    let Some(lang) = lang else { return String::new() };
    let (Some(code), Some(rest)) = (lang.get(..2), lang.get(2..)) else {
        return String::new();
    };
    if code.bytes().all(|b| b.is_ascii_alphabetic()) && (rest.is_empty() || rest.starts_with(['-', '_'])) {
        code.to_ascii_lowercase()
    } else {
        String::new()
    }
}

/// A string, or a number written as one (platform ids come both ways), at `path`.
pub fn id(v: &Value, path: &[&str]) -> Option<String> {
    match at(v, path)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-negative count at `path` (a number, or a string of digits), if there is one.
pub fn count(v: &Value, path: &[&str]) -> Option<u64> {
    match at(v, path)? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A time at `path`: Unix seconds or milliseconds (a number or digits; values above 10^11 are
/// read as milliseconds), or an RFC 3339 text; in milliseconds.
pub fn time_ms(v: &Value, path: &[&str]) -> Option<i64> {
    // Negative times are no platform's: refused (ingest then says the field is missing).
    let ms = |n: i64| match n {
        n if n < 0 => None,
        n if n >= 100_000_000_000 => Some(n),
        n => n.checked_mul(1000),
    };
    match at(v, path)? {
        Value::Number(n) => n.as_i64().and_then(ms),
        Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => {
            s.parse().ok().and_then(ms)
        }
        Value::String(s) => vigie_core::model::parse_rfc3339_ms(s),
        _ => None,
    }
}

/// Hands what connectors map to the ingest path, as connector `name` writing for `tenant`.
#[derive(Clone)]
pub struct HandOff {
    ingestor: Arc<Ingestor>,
    caller: Caller,
    origin: String,
    metrics: ConnectorMetrics,
    tenant: String,
}

impl HandOff {
    /// The hand-over of connector `name`, whose mentions belong to `tenant`.
    pub fn new(ingestor: Arc<Ingestor>, name: &str, tenant: &str) -> Self {
        Self {
            ingestor,
            caller: Caller::connector(name, tenant),
            origin: format!("connector:{name}"),
            metrics: ConnectorMetrics::new(name),
            tenant: tenant.to_string(),
        }
    }

    /// The connector's metrics.
    pub fn metrics(&self) -> &ConnectorMetrics {
        &self.metrics
    }

    /// Validates and publishes the mentions, dead-letters what could not be mapped or
    /// validated, counts what was ignored; returns once the broker acknowledged every record
    /// (an error otherwise: the platform, or the poller, tries again and the ids make the
    /// overlap duplicates). Large payloads go in pieces of the ingest batch size.
    pub async fn hand_on(&self, mapped: Mapped) -> Result<PublishResponse, IngestError> {
        for event in &mapped.ignored {
            self.metrics.ignored(event);
        }
        self.metrics.fetched(mapped.items.len());
        let mut total = PublishResponse::default();
        let mut items = mapped.items.into_iter().peekable();
        let piece = self.ingestor.max_batch().max(1);
        while items.peek().is_some() {
            let submitted: Vec<Submitted> = items.by_ref().take(piece).map(|m| self.submitted(m)).collect();
            let answer = match self.ingestor.submit(&self.caller, submitted, &self.origin).await {
                Ok(answer) => answer,
                Err(e) => {
                    self.metrics.error("broker");
                    return Err(e);
                }
            };
            self.metrics
                .handed_on(answer.accepted, answer.duplicates, answer.rejected);
            Ingestor::add_answer(&mut total, answer);
        }
        Ok(total)
    }

    fn submitted(&self, mapping: Mapping) -> Submitted {
        let item = match mapping.item {
            Ok(mut m) => {
                m.tenant.clone_from(&self.tenant);
                if m.created_at_ms > 0 {
                    self.metrics.seen(m.created_at_ms);
                }
                Item::Mention(Box::new(m))
            }
            Err(error) => Item::Refused {
                error,
                tenant: self.tenant.clone(),
            },
        };
        Submitted {
            item,
            original: mapping.original,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edit_is_named_by_its_time_else_by_its_words() {
        assert_eq!(
            edit_id("c1", Some(1_700_000_000_000), "x"),
            "c1:edit:1700000000000"
        );
        let first = edit_id("c1", None, "first wording");
        let second = edit_id("c1", None, "second wording");
        assert!(
            first.starts_with("c1:edit:") && first.len() == "c1:edit:".len() + 16,
            "{first}"
        );
        assert_ne!(first, second, "two undated edits are two mentions");
        assert_eq!(
            first,
            edit_id("c1", None, "first wording"),
            "a retry is a duplicate"
        );
        // The SHA-256 of "first wording", its first 16 hex digits.
        let sha = crate::connectors::signature::hex(&Sha256::digest(b"first wording"));
        assert_eq!(first, format!("c1:edit:{}", &sha[..16]));
    }

    #[test]
    fn language_tags_give_two_letter_hints_and_blanks_are_nothing() {
        assert_eq!(
            ["fr", "en-GB", "pt_BR", "DE", "zh-cn", "und", "e", "", "é", "aé"]
                .map(|l| language_hint(Some(l))),
            ["fr", "en", "pt", "de", "zh", "", "", "", "", ""]
        );
        assert_eq!(language_hint(None), "");
        assert_eq!(non_blank(Some(" \n\t ")), None);
        assert_eq!(non_blank(None), None);
        assert_eq!(non_blank(Some(" a ")), Some(" a "));
    }

    #[test]
    fn a_body_refused_whole_names_its_field() {
        let m = Mapped::unmapped_body("object", "object \"x\" is not mapped", b"{\"object\":\"x\"}");
        assert_eq!(m.items.len(), 1);
        let e = m.items[0].item.as_ref().unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.reason.as_str()),
            ("object", "object \"x\" is not mapped")
        );
        assert_eq!(m.items[0].original, b"{\"object\":\"x\"}");
        let e = Mapped::malformed("not JSON", b"x")
            .items
            .remove(0)
            .item
            .unwrap_err();
        assert_eq!(e.field, "body");
    }

    #[test]
    fn lookups_read_ids_counts_and_times_as_platforms_write_them() {
        let v = json!({"a": {"id": 123, "s": "x", "n": "42", "t": 1_700_000_000, "tm": 1_700_000_000_123i64, "r": "2024-01-02T03:04:05Z"}});
        assert_eq!(id(&v, &["a", "id"]).as_deref(), Some("123"));
        assert_eq!(id(&v, &["a", "s"]).as_deref(), Some("x"));
        assert_eq!(id(&v, &["a", "missing"]), None);
        assert_eq!(count(&v, &["a", "n"]), Some(42));
        assert_eq!(time_ms(&v, &["a", "t"]), Some(1_700_000_000_000));
        assert_eq!(time_ms(&v, &["a", "tm"]), Some(1_700_000_000_123));
        assert_eq!(time_ms(&v, &["a", "r"]), Some(1_704_164_645_000));
        let odd = json!({"min": i64::MIN, "neg": -5, "big": "99999999999999999999"});
        assert_eq!(time_ms(&odd, &["min"]), None);
        assert_eq!(time_ms(&odd, &["neg"]), None);
        assert_eq!(time_ms(&odd, &["big"]), None);
        assert_eq!(text(&v, &["a", "s"]), Some("x"));
    }
}
