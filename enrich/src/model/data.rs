//! Reading the labelled development data (`../shared/data`, see its README) for training and
//! evaluation. Files are read where they lie; nothing is copied into the project.

use std::path::Path;

/// One labelled text.
#[derive(Debug, Clone)]
pub struct Example {
    /// The label (class name or language code).
    pub label: String,
    /// Language of the text when the file says it (sentiment files), else empty.
    pub lang: String,
    /// The text.
    pub text: String,
}

/// Decodes literal `\uXXXX` escapes (with surrogate pairs) that some files carry.
pub fn unescape(s: &str) -> String {
    if !s.contains("\\u") {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let hex = |i: usize| -> Option<u32> {
        let h: String = chars.get(i + 2..i + 6)?.iter().collect();
        u32::from_str_radix(&h, 16).ok()
    };
    while i < chars.len() {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'u') {
            if let Some(hi) = hex(i) {
                if (0xD800..0xDC00).contains(&hi) && chars.get(i + 6) == Some(&'\\') {
                    if let Some(lo) = hex(i + 6).filter(|lo| (0xDC00..0xE000).contains(lo)) {
                        let c = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                        out.extend(char::from_u32(c));
                        i += 12;
                        continue;
                    }
                }
                if let Some(c) = char::from_u32(hi) {
                    out.push(c);
                    i += 6;
                    continue;
                }
            }
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// Reads a TSV file with a header naming `label` (or `lang`) and `text` columns.
pub fn read_tsv(path: &Path, label_column: &str) -> std::io::Result<Vec<Example>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(label), Some(body)) = (col(label_column), col("text")) else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: expected columns {label_column} and text, found {header:?}",
                path.display()
            ),
        ));
    };
    let lang = col("lang");
    Ok(lines
        .filter_map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            Some(Example {
                label: fields.get(label)?.to_string(),
                lang: lang.and_then(|l| fields.get(l)).unwrap_or(&"").to_string(),
                text: unescape(fields.get(body)?),
            })
        })
        .collect())
}

/// Splits one CSV record into fields (double-quoted fields may contain commas and `""`).
pub fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    out.push(field);
    out
}

/// Reads a CSV file with a header; `pick` turns a record (by column name) into an example or
/// skips it.
pub fn read_csv(
    path: &Path,
    pick: impl Fn(&dyn Fn(&str) -> Option<String>) -> Option<Example>,
) -> std::io::Result<Vec<Example>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    let mut lines = text.lines();
    let header = csv_fields(lines.next().unwrap_or(""));
    Ok(lines
        .filter_map(|line| {
            let fields = csv_fields(line);
            let get = |name: &str| {
                let i = header.iter().position(|h| h == name)?;
                fields.get(i).cloned()
            };
            pick(&get)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_handle_quotes() {
        assert_eq!(super::csv_fields(r#"1,"a, ""b""",c"#), ["1", "a, \"b\"", "c"]);
    }

    use super::*;

    #[test]
    fn unescapes_bmp_and_surrogate_pairs() {
        assert_eq!(unescape("i\\u2019m \\ud83d\\ude02 ok"), "i’m 😂 ok");
        assert_eq!(unescape("plain"), "plain");
    }
}
