//! A small CSV reader (RFC 4180) for tools' exports: quoted fields holding delimiters, line
//! ends and doubled quotes; the line where each record starts, for the report.

/// One CSV record: its fields, and the line where it starts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Record {
    pub(super) line: usize,
    pub(super) fields: Vec<String>,
}

/// A CSV that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum CsvError {
    /// A quoted field runs to the end of the file.
    Unclosed(usize),
    /// Something other than a delimiter or a line end after a closing quote.
    AfterQuote(usize, char),
}

impl std::fmt::Display for CsvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CsvError::Unclosed(line) => write!(f, "line {line}: a quoted field is never closed"),
            CsvError::AfterQuote(line, c) => write!(
                f,
                "line {line}: {c:?} after a closing quote (a quote inside a quoted field is written \"\")"
            ),
        }
    }
}

impl std::error::Error for CsvError {}

/// Reads CSV (RFC 4180): fields separated by `delimiter`, records by `\n` or `\r\n`; a field
/// in double quotes may hold delimiters, line ends and doubled quotes (`""` for `"`). A quote
/// inside an unquoted field is kept as written. Blank lines are not records.
pub(super) fn read_csv(text: &str, delimiter: char) -> Result<Vec<Record>, CsvError> {
    let mut records = Vec::new();
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut line = 1;
    let mut start = 1;
    let mut chars = text.chars().peekable();
    // Whether the current record has anything yet (a blank line has not).
    let mut begun = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() => {
                begun = true;
                loop {
                    match chars.next() {
                        None => return Err(CsvError::Unclosed(start)),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            field.push(c);
                        }
                    }
                }
                match chars.peek() {
                    None | Some('\n') | Some('\r') => {}
                    Some(&d) if d == delimiter => {}
                    Some(&other) => return Err(CsvError::AfterQuote(line, other)),
                }
            }
            c if c == delimiter => {
                begun = true;
                fields.push(std::mem::take(&mut field));
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                if begun || !field.is_empty() {
                    fields.push(std::mem::take(&mut field));
                    records.push(Record {
                        line: start,
                        fields: std::mem::take(&mut fields),
                    });
                }
                begun = false;
                line += 1;
                start = line;
            }
            c => {
                begun = true;
                field.push(c);
            }
        }
    }
    if begun || !field.is_empty() {
        fields.push(field);
        records.push(Record { line: start, fields });
    }
    Ok(records)
}
