//! Splitting an HTTP body into items: a JSON object (one mention), a JSON array, or NDJSON (one
//! object per line). Each item keeps its original bytes for the dead-letter topic.

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
                value: serde_json::from_str(raw.get()).map_err(|e| FieldError::new("", e.to_string())),
            })
            .collect());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => Ok(vec![RawItem {
            value: Ok(value),
            original: body.to_vec(),
        }]),
        Err(whole) => {
            let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
            if lines.len() < 2 {
                return Err(FieldError::new("", format!("invalid JSON: {whole}")));
            }
            Ok(lines
                .into_iter()
                .map(|line| RawItem {
                    original: line.as_bytes().to_vec(),
                    value: serde_json::from_str(line)
                        .map_err(|e| FieldError::new("", format!("invalid JSON line: {e}"))),
                })
                .collect())
        }
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
}
