//! Splitting an HTTP body into items: a JSON object (one mention), a JSON array, or NDJSON (one
//! object per line). Each item keeps its original bytes for the dead-letter topic.
//!
//! A leading UTF-8 byte-order mark is skipped (some Windows tools write one). An object with the
//! same key twice is refused, naming the key: JSON parsers disagree on which value wins, so the
//! sender's intent is unknown.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::RefCell;
use vigie_core::model::FieldError;

/// One item of a request body: its parsed JSON, or why it could not be parsed; and its bytes.
#[derive(Debug)]
pub struct RawItem {
    /// Parsed JSON value or a parse error naming the item.
    pub value: Result<serde_json::Value, FieldError>,
    /// The item's original bytes.
    pub original: Vec<u8>,
}

/// Splits `body` into items. Fails as a whole only when the body is not JSON at all.
pub fn split(body: &[u8]) -> Result<Vec<RawItem>, FieldError> {
    let text =
        std::str::from_utf8(body).map_err(|e| FieldError::new("", format!("body is not UTF-8: {e}")))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return Err(FieldError::new(
            "",
            "empty body: expected a JSON object, a JSON array or NDJSON",
        ));
    }
    if trimmed.starts_with('[') {
        let values: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(text)
            .map_err(|e| FieldError::new("", format!("invalid JSON array: {e}")))?;
        return Ok(values
            .into_iter()
            .map(|raw| RawItem {
                original: raw.get().as_bytes().to_vec(),
                value: parse(raw.get(), ""),
            })
            .collect());
    }
    match parse(text, "invalid JSON: ") {
        // One object (with a duplicate key, refused as an item: it is JSON, only ambiguous).
        Ok(value) => Ok(vec![RawItem {
            value: Ok(value),
            original: body.to_vec(),
        }]),
        Err(e) if e.reason.contains(DUPLICATE) => Ok(vec![RawItem {
            value: Err(e),
            original: body.to_vec(),
        }]),
        Err(whole) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(whole);
            }
            Ok(lines
                .into_iter()
                .map(|line| RawItem {
                    original: line.as_bytes().to_vec(),
                    value: parse(line, "invalid JSON line: "),
                })
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
        assert!(items[1].value.is_err());
        assert_eq!(items[1].original, b"{broken");
        assert!(split(b"{broken").is_err());
        assert!(split(b"  ").is_err());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let items = split("\u{feff}{\"a\":1}".as_bytes()).unwrap();
        assert_eq!(items[0].value.as_ref().unwrap()["a"], 1);
        let items = split("\u{feff}[{\"a\":1},{\"a\":2}]".as_bytes()).unwrap();
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn a_repeated_key_is_refused_naming_it_wherever_it_is() {
        let one = split(br#"{"text":"a","text":"b"}"#).unwrap();
        let e = one[0].value.as_ref().unwrap_err();
        assert_eq!(e.field, "text");
        assert!(e.reason.contains("twice"), "{}", e.reason);
        let nested = split(br#"[{"author":{"handle":"a","handle":"b"}}, {"text":"ok"}]"#).unwrap();
        assert_eq!(nested[0].value.as_ref().unwrap_err().field, "author.handle");
        assert_eq!(nested[1].value.as_ref().unwrap()["text"], "ok");
        let lines = split(b"{\"a\":1}\n{\"b\":1,\"b\":2}\n").unwrap();
        assert!(lines[0].value.is_ok());
        assert_eq!(lines[1].value.as_ref().unwrap_err().field, "b");
        // Same key in different objects is fine; values parse as serde_json's own would.
        let v = split(br#"{"a":{"x":1},"b":{"x":[1,2.5,"s",null,true]}}"#).unwrap();
        assert_eq!(
            v[0].value.as_ref().unwrap(),
            &serde_json::from_str::<Value>(r#"{"a":{"x":1},"b":{"x":[1,2.5,"s",null,true]}}"#).unwrap()
        );
    }
}
