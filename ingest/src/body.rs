//! Splitting an HTTP body into items: a JSON object (one mention), a JSON array, or NDJSON (one
//! object per line). Each item keeps its original bytes for the dead-letter topic.
//!
//! A leading UTF-8 byte-order mark is skipped (some Windows tools write one). An object with the
//! same key twice is refused, naming the key: JSON parsers disagree on which value wins, so the
//! sender's intent is unknown.

use crate::ingestor::{Item, Submitted};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use vigie_core::model::{FieldError, Limits, MentionJson};

/// One item of a request body: its original bytes, read into a mention only when asked
/// ([`RawItem::into_submitted`]).
#[derive(Debug)]
pub struct RawItem {
    /// The item's original bytes (UTF-8; with the body's byte-order mark, when it had one).
    pub original: Vec<u8>,
    /// Where the item's JSON starts in `original` (after a byte-order mark).
    start: usize,
    /// What a syntax error's message starts with.
    context: &'static str,
}

impl RawItem {
    fn new(original: &[u8], start: usize, context: &'static str) -> Self {
        Self {
            original: original.to_vec(),
            start,
            context,
        }
    }

    /// The item's JSON text.
    pub fn text(&self) -> &str {
        // Items are cut from a body checked to be UTF-8, at character boundaries.
        std::str::from_utf8(&self.original[self.start.min(self.original.len())..]).unwrap_or("")
    }

    /// The item as a JSON tree, or why it is not one: a syntax error, or a key repeated within
    /// an object (naming its path, `author.handle`).
    pub fn value(&self) -> Result<Value, FieldError> {
        parse(self.text(), self.context)
    }

    /// The item read into a mention (validated) or refused, keeping its original bytes.
    /// `tenant` is the caller's, for an item that leaves its own out.
    ///
    /// An object is read straight into [`MentionJson`] (serde refuses a field given twice
    /// there); only an item that this fails on goes through the JSON tree, so that its
    /// refusal names the field and says why exactly as before.
    pub fn into_submitted(self, tenant: Option<&str>, limits: &Limits, now_ms: i64) -> Submitted {
        let item = match self.form() {
            Some(mut json) => {
                if json.tenant.is_none() {
                    json.tenant = tenant.map(str::to_string);
                }
                Item::from_form(json, limits, now_ms)
            }
            None => self.through_tree(tenant, limits, now_ms),
        };
        Submitted {
            item,
            original: self.original,
        }
    }

    /// The item read through its JSON tree: the slower way, which says exactly what is wrong.
    fn through_tree(&self, tenant: Option<&str>, limits: &Limits, now_ms: i64) -> Item {
        let value = self.value().map(|mut v| {
            // A tenant given as null is left out, as in the direct reading.
            if let (Some(tenant), Some(o)) = (tenant, v.as_object_mut()) {
                if o.get("tenant").is_none_or(Value::is_null) {
                    o.insert("tenant".into(), Value::from(tenant));
                }
            }
            v
        });
        Item::from_json(value, limits, now_ms)
    }

    /// The item read straight into the mention's JSON form, when it is an object that reads
    /// (and its `created_at`, read as a JSON value, is one the form takes: a time given as an
    /// object goes through the tree, which names a key repeated in it).
    fn form(&self) -> Option<MentionJson> {
        let text = self.text();
        if !text.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str::<MentionJson>(text).ok().filter(|json| {
            matches!(
                json.created_at,
                None | Some(Value::Null | Value::Number(_) | Value::String(_))
            )
        })
    }
}

/// Splits `body` into items. Fails as a whole only when the body is not JSON at all.
pub fn split(body: &[u8]) -> Result<Vec<RawItem>, FieldError> {
    let text =
        std::str::from_utf8(body).map_err(|e| FieldError::new("", format!("body is not UTF-8: {e}")))?;
    let bom = text.len() - text.strip_prefix('\u{feff}').unwrap_or(text).len();
    let text = &text[bom..];
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            "",
            "empty body: expected a JSON object, a JSON array or NDJSON",
        ));
    }
    if trimmed.starts_with('[') {
        let values: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)
            .map_err(|e| FieldError::new("", format!("invalid JSON array: {e}")))?;
        return Ok(values
            .into_iter()
            .map(|raw| RawItem::new(raw.get().as_bytes(), 0, ""))
            .collect());
    }
    // One JSON value (a repeated key in it is the item's refusal, not the body's: it is JSON,
    // only ambiguous), or else NDJSON.
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => Ok(vec![RawItem::new(body, bom, "invalid JSON: ")]),
        Err(_) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                // The tree's parser says what is wrong as the body's refusal always did.
                return Err(parse(text, "invalid JSON: ")
                    .err()
                    .unwrap_or_else(|| FieldError::new("", "invalid JSON: not one JSON value")));
            }
            Ok(lines
                .into_iter()
                .map(|line| RawItem::new(line.as_bytes(), 0, "invalid JSON line: "))
                .collect())
        }
    }
}

/// Says a key appeared twice (also how a duplicate is told from a syntax error).
const DUPLICATE: &str = "appears twice in the same object";

/// Parses one JSON item, refusing an object with a repeated key; `context` prefixes syntax
/// errors. A duplicate names its key's path (`author.handle`) as the field.
fn parse(text: &str, context: &str) -> Result<Value, FieldError> {
    let duplicate = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = Unique {
        path: String::new(),
        duplicate: &duplicate,
    }
    .deserialize(&mut de)
    .and_then(|v| de.end().map(|()| v));
    parsed.map_err(|e| match duplicate.into_inner() {
        Some(path) => FieldError::new(path, format!("{DUPLICATE}; send each field once")),
        None => FieldError::new("", format!("{context}{e}")),
    })
}

/// Builds a JSON value like `serde_json::Value`'s own deserializer, but stops at the first key
/// repeated within an object, recording its path in `duplicate`.
struct Unique<'a> {
    path: String,
    duplicate: &'a RefCell<Option<String>>,
}

impl Unique<'_> {
    fn child(&self, key: &str) -> Self {
        Unique {
            path: if self.path.is_empty() {
                key.to_string()
            } else {
                format!("{}.{key}", self.path)
            },
            duplicate: self.duplicate,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Unique<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Unique<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(self.child(&out.len().to_string()))? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                let path = self.child(&key).path;
                let message = format!("{path} {DUPLICATE}");
                *self.duplicate.borrow_mut() = Some(path);
                return Err(serde::de::Error::custom(message));
            }
            let value = map.next_value_seed(self.child(&key))?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_array_and_ndjson() {
        assert_eq!(split(br#"{"a":1}"#).unwrap().len(), 1);
        let items = split(br#"[{"a":1}, {"b":2}]"#).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].original, br#"{"b":2}"#);
        let items = split(b"{\"a\":1}\n{broken\n{\"c\":3}\n").unwrap();
        assert_eq!(items.len(), 3);
        assert!(items[1].value().is_err());
        assert_eq!(items[1].original, b"{broken");
        assert!(split(b"{broken").is_err());
        assert!(split(b"  ").is_err());
    }

    #[test]
    fn an_item_read_directly_is_answered_as_through_its_json_tree() {
        let limits = Limits::default();
        let now = 1_764_000_000_000;
        let items = [
            r#"{"tenant":"acme","source":"x","native_id":"1","text":"hi \u00e9","author":{"handle":"a","followers":3,"verified":true},"engagement":{"likes":2},"created_at":"2025-11-30T12:00:00Z","rating":4,"lang":"fr"}"#,
            r#"{"source":"x","native_id":"2","text":"no tenant","created_at":1764000000000}"#,
            r#"{"tenant":"acme","source":"x","native_id":"3","text":"a","text":"b"}"#,
            r#"{"tenant":"acme","source":"x","native_id":"3","text":"a","author":{"id":"1","id":"2"}}"#,
            r#"{"tenant":"acme","source":"nope","native_id":"4","text":"a"}"#,
            r#"{"tenant":"acme","source":"x","native_id":"5","txt":"a"}"#,
            r#"{"tenant":"acme","source":"x","native_id":"6","text":"a","author":{"followers":-1}}"#,
            r#"{"tenant":"acme","source":"x","native_id":7,"text":"a"}"#,
            r#"{"tenant":"acme","source":"x","native_id":"8","text":"a","lang":"fr","language_hint":"en"}"#,
            r#"{"tenant":"acme","source":"x","native_id":"9","text":"a","created_at":true}"#,
            r#"{"tenant":"acme","source":"x","native_id":"9","text":"a","created_at":{"a":1,"a":2}}"#,
            r#"{"tenant":null,"source":"x","native_id":"9","text":"a"}"#,
            r#"{"tenant":"other","source":"x","native_id":"10","text":"a"}"#,
            r#"{"tenant":"acme","source":"x"}"#,
            r#"[{"tenant":"acme"}]"#,
            r#""just a string""#,
        ];
        for text in items {
            for tenant in [None, Some("acme")] {
                // (An array body is a list of items: its first one is read here.)
                let raw = split(text.as_bytes()).unwrap().remove(0);
                let tree = format!("{:?}", raw.through_tree(tenant, &limits, now));
                let direct = raw.into_submitted(tenant, &limits, now);
                assert_eq!(
                    format!("{:?}", direct.item),
                    tree,
                    "{text} (caller's tenant {tenant:?})"
                );
                assert!(text.contains(std::str::from_utf8(&direct.original).unwrap()));
            }
        }
        // The batch as a whole: NDJSON lines, each read on its own.
        let body = items.join("\n");
        let all = split(body.as_bytes()).unwrap();
        assert_eq!(all.len(), items.len());
        let accepted = all.into_iter().filter(|raw| raw.form().is_some()).count();
        assert_eq!(
            accepted, 6,
            "objects that read into the form (valid or not in content)"
        );
    }

    #[test]
    fn a_body_that_is_no_json_is_refused_saying_what_the_parser_found() {
        for (body, says) in [
            (r#"{"a":1,}"#, "trailing comma"),
            (r#"{"a":[1,]}"#, "trailing comma"),
            (r#"{"a":1,"#, "EOF while parsing"),
        ] {
            let e = split(body.as_bytes()).unwrap_err();
            assert!(e.reason.starts_with("invalid JSON: "), "{body}: {}", e.reason);
            assert!(e.reason.contains(says), "{body}: {}", e.reason);
        }
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let items = split("\u{feff}{\"a\":1}".as_bytes()).unwrap();
        assert_eq!(items[0].value().unwrap()["a"], 1);
        let items = split("\u{feff}[{\"a\":1},{\"a\":2}]".as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn a_repeated_key_is_refused_naming_it_wherever_it_is() {
        let one = split(br#"{"text":"a","text":"b"}"#).unwrap();
        let e = one[0].value().unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.reason.contains("twice"), "{}", e.reason);
        let nested = split(br#"[{"author":{"handle":"a","handle":"b"}}, {"text":"ok"}]"#).unwrap();
        assert_eq!(nested[0].value().unwrap_err().field, "author.handle");
        assert_eq!(nested[1].value().unwrap()["text"], "ok");
        let lines = split(b"{\"a\":1}\n{\"b\":1,\"b\":2}\n").unwrap();
        assert!(lines[0].value().is_ok());
        assert_eq!(lines[1].value().unwrap_err().field, "b");
        // Same key in different objects is fine; values parse as serde_json's own would.
        let v = split(br#"{"a":{"x":1},"b":{"x":[1,2.5,"s",null,true]}}"#).unwrap();
        assert_eq!(
            &v[0].value().unwrap(),
            &serde_json::from_str::<Value>(r#"{"a":{"x":1},"b":{"x":[1,2.5,"s",null,true]}}"#).unwrap()
        );
    }
}
