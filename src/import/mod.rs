//! `vigie watches import`: queries exported from another listening tool, as Vigie watches.
//!
//! Input: a CSV whose header names a query column (`Query`, `Boolean`, `Keywords`…) and
//! optionally a name column (`Name`, `Query name`, `Title`…), matched case-insensitively — as
//! Brandwatch exports them, `"Name","Query"` — or a plain list, one query per line. Output: a
//! TOML watches file (`[[watch]]` with `id`, `name`, `query`, `syntax = "<tool>"`), the refused
//! queries left in it as comments. Each query is checked exactly as `vigie watches check` will
//! check it, in the tool's dialect: it is kept as written or refused with the position and the
//! reason; none is rewritten. The report (one line per query) goes to standard error; the run
//! fails if any query was refused, after writing the accepted ones.

mod csv;

use anyhow::Context;
use csv::read_csv;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use vigie_core::proto::{Watch, WatchFilters};
use vigie_core::query::dialect::{syntax_named, SYNTAXES};
use vigie_core::query::{Query, Syntax};
use vigie_core::watches;

/// Options of `vigie watches import`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// The tool the queries were written for; it becomes each watch's `syntax`.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SYNTAXES))]
    from: String,
    /// Tenant of the watches written.
    #[arg(long)]
    tenant: String,
    /// The export: a CSV with a header naming a query column (Query, Boolean, Keywords…) and
    /// optionally a name column (Name, Query name, Title…), or a list, one query per line.
    file: PathBuf,
    /// Where to write the watches (TOML); standard output when absent.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Header names (normalised: lower case, single spaces) of the query column, preferred first.
const QUERY_COLUMNS: &[&str] = &[
    "query",
    "boolean query",
    "boolean",
    "search query",
    "query string",
    "search string",
    "advanced query",
    "keyword query",
    "keywords",
    "keyword",
];

/// Header names of the name column, preferred first.
const NAME_COLUMNS: &[&str] = &[
    "name",
    "query name",
    "search name",
    "title",
    "query title",
    "topic",
    "topic name",
    "label",
];

/// One query read from the export.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    /// Line of the file where its record starts (1-based).
    line: usize,
    /// Its name in the tool, if the export has one.
    name: Option<String>,
    /// The query as written.
    query: String,
    /// Why the record holds no usable query (a malformed row), if so.
    problem: Option<String>,
}

/// What became of one query.
#[derive(Debug)]
enum Verdict {
    /// Kept as written, under this id.
    Kept(String),
    /// Refused: why.
    Refused(String),
}

/// Runs the command: reads, checks, writes, reports. Fails if any query was refused.
pub fn run(args: ImportArgs) -> anyhow::Result<()> {
    vigie_core::model::check_name("--tenant", &args.tenant)
        .map_err(|e| anyhow::anyhow!("--tenant: {}", e.reason))?;
    let text = read_text(&args.file)?;
    let (entries, notes) = entries(&text, &args.file)?;
    for note in &notes {
        eprintln!("{}: {note}", args.file.display());
    }
    let (toml, verdicts) = import(&entries, &args.from, &args.tenant)?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, &toml).with_context(|| format!("cannot write {}", path.display()))?
        }
        None => print!("{toml}"),
    }
    let mut refused = 0;
    for (entry, verdict) in entries.iter().zip(&verdicts) {
        let label = match &entry.name {
            Some(name) => format!("line {} ({name:?})", entry.line),
            None => format!("line {}", entry.line),
        };
        match verdict {
            Verdict::Kept(id) => eprintln!("{label}: kept as written, watch {id}, syntax {}", args.from),
            Verdict::Refused(why) => {
                refused += 1;
                eprintln!("{label}: refused: {why}");
            }
        }
    }
    let to = args
        .out
        .as_ref()
        .map_or_else(|| "standard output".to_string(), |p| p.display().to_string());
    let kept = entries.len() - refused;
    eprintln!(
        "{}: {} queries, {kept} written to {to}, {refused} refused",
        args.file.display(),
        entries.len()
    );
    if refused > 0 {
        anyhow::bail!(
            "{refused} of {} queries refused (listed above), {kept} written",
            entries.len()
        );
    }
    Ok(())
}

/// The file as text: UTF-8 (a byte-order mark dropped), or UTF-16 with its byte-order mark (as
/// some spreadsheet exports are).
fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let utf16 = |big: bool| {
        let units = bytes[2..].chunks(2).map(|c| {
            let pair = [c[0], c.get(1).copied().unwrap_or(0)];
            if big {
                u16::from_be_bytes(pair)
            } else {
                u16::from_le_bytes(pair)
            }
        });
        char::decode_utf16(units)
            .collect::<Result<String, _>>()
            .with_context(|| format!("{}: invalid UTF-16", path.display()))
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, ..] => utf16(false),
        [0xFE, 0xFF, ..] => utf16(true),
        _ => {
            let text = String::from_utf8(bytes).map_err(|e| {
                anyhow::anyhow!("{}: not UTF-8 text ({e}); export it as UTF-8", path.display())
            })?;
            Ok(text.strip_prefix('\u{FEFF}').map(str::to_string).unwrap_or(text))
        }
    }
}

/// The queries of an export, and notes for the user (columns left out). A CSV when its first
/// record names a query column (or the file is named `*.csv`, then it must), else a list.
fn entries(text: &str, path: &Path) -> anyhow::Result<(Vec<Entry>, Vec<String>)> {
    let first_line = text.lines().next().unwrap_or("");
    let delimiter = if !first_line.contains(',') && first_line.contains(';') {
        ';'
    } else if !first_line.contains(',') && first_line.contains('\t') {
        '\t'
    } else {
        ','
    };
    let is_csv_name = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let records = match read_csv(text, delimiter) {
        Ok(records) => records,
        Err(e) if is_csv_name => return Err(anyhow::anyhow!("{}: {e}", path.display())),
        // Not CSV (a stray quote in a list of queries): read it as a list.
        Err(_) => return Ok((list(text), Vec::new())),
    };
    let Some((header, rows)) = records.split_first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let names: Vec<String> = header.fields.iter().map(|h| normalise_header(h)).collect();
    let column = |wanted: &[&str]| wanted.iter().find_map(|w| names.iter().position(|n| n == w));
    let Some(query_at) = column(QUERY_COLUMNS) else {
        if is_csv_name {
            anyhow::bail!(
                "{}: no query column in the header {:?}; expected one of: {}",
                path.display(),
                header.fields,
                QUERY_COLUMNS.join(", ")
            );
        }
        return Ok((list(text), Vec::new()));
    };
    let name_at = column(NAME_COLUMNS);
    let mut notes = Vec::new();
    let ignored: Vec<&str> = header
        .fields
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != query_at && Some(*i) != name_at)
        .map(|(_, h)| h.as_str())
        .collect();
    if !ignored.is_empty() {
        notes.push(format!("columns not imported: {}", ignored.join(", ")));
    }
    if name_at.is_none() {
        notes.push(format!(
            "no name column (one of: {}): ids from line numbers",
            NAME_COLUMNS.join(", ")
        ));
    }
    let mut out = Vec::new();
    for row in rows {
        if row.fields.len() != header.fields.len() {
            // An entry refused with the reason: never a silent skip.
            out.push(Entry {
                line: row.line,
                name: None,
                query: String::new(),
                problem: Some(format!(
                    "{} fields where the header has {} (a delimiter outside quotes?)",
                    row.fields.len(),
                    header.fields.len()
                )),
            });
            continue;
        }
        let name = name_at
            .map(|i| row.fields[i].trim().to_string())
            .filter(|n| !n.is_empty());
        out.push(Entry {
            line: row.line,
            name,
            query: row.fields[query_at].trim().to_string(),
            problem: None,
        });
    }
    Ok((out, notes))
}

/// One query per non-blank line.
fn list(text: &str) -> Vec<Entry> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| Entry {
            line: i + 1,
            name: None,
            query: l.trim().to_string(),
            problem: None,
        })
        .collect()
}

/// A header cell compared loosely: lower case, `_`/`-` as spaces, single spaces.
fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{FEFF}')
        .to_lowercase()
        .replace(['_', '-'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Checks every entry in `tool`'s dialect as `vigie watches check` will, and writes the TOML of
/// the kept ones (the refused as comments).
fn import(entries: &[Entry], tool: &str, tenant: &str) -> anyhow::Result<(String, Vec<Verdict>)> {
    let syntax = syntax_named(tool)?;
    let mut toml = format!(
        "# Imported by `vigie watches import --from {tool}`: each query as written, read in the\n\
         # {tool} dialect (see docs/query-language.md).\n"
    );
    let mut ids = HashSet::new();
    let mut verdicts = Vec::new();
    for e in entries {
        let verdict = match check(e, tool, &syntax, tenant, &mut ids) {
            Ok(watch) => {
                toml.push('\n');
                let _ = writeln!(toml, "[[watch]]");
                let _ = writeln!(toml, "tenant = {}", toml_string(&watch.tenant));
                let _ = writeln!(toml, "id = {}", toml_string(&watch.id));
                let _ = writeln!(toml, "name = {}", toml_string(&watch.name));
                let _ = writeln!(toml, "query = {}", toml_string(&watch.query));
                let _ = writeln!(toml, "syntax = {}", toml_string(&watch.syntax));
                Verdict::Kept(watch.id)
            }
            Err(why) => {
                let _ = writeln!(toml, "\n# Refused (line {}): {why}", e.line);
                for l in e.query.lines() {
                    let _ = writeln!(toml, "#   {l}");
                }
                Verdict::Refused(why)
            }
        };
        verdicts.push(verdict);
    }
    Ok((toml, verdicts))
}

/// The watch `e` becomes, or why it is refused: the parse error with its position and an
/// excerpt, or what `watches::validate` (as `vigie watches check` runs it) says.
fn check(
    e: &Entry,
    tool: &str,
    syntax: &Syntax,
    tenant: &str,
    ids: &mut HashSet<String>,
) -> Result<Watch, String> {
    if let Some(problem) = &e.problem {
        return Err(problem.clone());
    }
    Query::parse_with(&e.query, syntax).map_err(|err| {
        format!(
            "position {}{}: {}",
            err.position,
            excerpt(&e.query, err.position),
            err.message
        )
    })?;
    let id = unique_id(e, ids);
    let watch = Watch {
        tenant: tenant.to_string(),
        name: e.name.clone().unwrap_or_else(|| id.clone()),
        id,
        query: e.query.clone(),
        syntax: tool.to_string(),
        filters: Some(WatchFilters::default()),
        ..Default::default()
    };
    watches::validate(&watch).map_err(|err| format!("{}: {}", err.field, err.reason))?;
    Ok(watch)
}

/// ` at «…»`: the query from `position` on, a few characters of it.
fn excerpt(query: &str, position: usize) -> String {
    let rest = query.get(position..).unwrap_or("");
    if rest.is_empty() {
        return " (the end)".into();
    }
    let mut shown: String = rest.chars().take(24).collect();
    if shown.len() < rest.len() {
        shown.push('…');
    }
    format!(" at «{}»", shown.replace('\n', " "))
}

/// A watch id from the entry's name (lower case, accents folded, other characters as `-`), or
/// `query-<line>`; `-2`, `-3`… appended when already taken.
fn unique_id(e: &Entry, taken: &mut HashSet<String>) -> String {
    let slug = e.name.as_deref().map(slug).unwrap_or_default();
    let base = if slug.is_empty() {
        format!("query-{}", e.line)
    } else {
        slug
    };
    let mut id = base.clone();
    let mut n = 2;
    while !taken.insert(id.clone()) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// `Christmas Gifts (UK)` → `christmas-gifts-uk`; at most 64 characters.
fn slug(name: &str) -> String {
    let folded = vigie_core::text::normalize(name);
    let mut out = String::new();
    for c in folded.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.truncate(64);
    out.trim_end_matches('-').to_string()
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::csv::{CsvError, Record};
    use super::*;

    fn fields(records: &[Record]) -> Vec<Vec<&str>> {
        records
            .iter()
            .map(|r| r.fields.iter().map(String::as_str).collect())
            .collect()
    }

    #[test]
    fn csv_fields_hold_delimiters_doubled_quotes_and_line_ends_inside_quotes() {
        let text = "\"Name\",\"Query\"\r\n\
                    \"Gifts, UK\",\"(Christmas OR Xmas) NEAR/2 (Gift OR Present)\"\r\n\
                    \r\n\
                    plain,\"\"\"apple juice\"\"~5\"\n\
                    multi,\"apple\nOR pear\"\n\
                    empty,\n\
                    last,\"no newline at the end\"";
        let records = read_csv(text, ',').unwrap();
        assert_eq!(
            fields(&records),
            vec![
                vec!["Name", "Query"],
                vec!["Gifts, UK", "(Christmas OR Xmas) NEAR/2 (Gift OR Present)"],
                vec!["plain", "\"apple juice\"~5"],
                vec!["multi", "apple\nOR pear"],
                vec!["empty", ""],
                vec!["last", "no newline at the end"],
            ]
        );
        // Each record knows its first line (the blank line 3 is not a record).
        let lines: Vec<usize> = records.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 2, 4, 5, 7, 8]);
        assert_eq!(read_csv("a;\"b;c\"\n", ';').unwrap()[0].fields, vec!["a", "b;c"]);
        assert_eq!(
            read_csv("a,b \"c\" d\n", ',').unwrap()[0].fields,
            vec!["a", "b \"c\" d"]
        );
        assert_eq!(read_csv("a,\"b\n\nc", ','), Err(CsvError::Unclosed(1)));
        assert_eq!(read_csv("x\na,\"b\"c\n", ','), Err(CsvError::AfterQuote(2, 'c')));
    }

    #[test]
    fn headers_match_loosely_and_a_list_is_one_query_per_line() {
        let csv = "Query Name;BOOLEAN;Languages\nGifts;gift OR present;en\n";
        let (entries, notes) = entries(csv, Path::new("export.txt")).unwrap();
        assert_eq!(
            entries,
            vec![Entry {
                line: 2,
                name: Some("Gifts".into()),
                query: "gift OR present".into(),
                problem: None,
            }]
        );
        assert_eq!(notes, vec!["columns not imported: Languages"]);
        let (entries, _) = entries_of_list("apple, orange\n\n\"apple juice\"~5\n");
        assert_eq!(
            entries
                .iter()
                .map(|e| (e.line, e.query.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "apple, orange"), (3, "\"apple juice\"~5")]
        );
        let no_column = super::entries("Name,Text\na,b\n", Path::new("x.csv")).unwrap_err();
        assert!(no_column.to_string().contains("no query column"), "{no_column}");
    }

    fn entries_of_list(text: &str) -> (Vec<Entry>, Vec<String>) {
        entries(text, Path::new("queries.txt")).unwrap()
    }

    #[test]
    fn ids_come_from_names_folded_and_made_unique() {
        let mut taken = HashSet::new();
        let e = |line, name: Option<&str>| Entry {
            line,
            name: name.map(str::to_string),
            query: "x".into(),
            problem: None,
        };
        assert_eq!(
            unique_id(&e(2, Some("Sécurité — Alimentaire (FR)")), &mut taken),
            "securite-alimentaire-fr"
        );
        assert_eq!(
            unique_id(&e(3, Some("securite alimentaire FR")), &mut taken),
            "securite-alimentaire-fr-2"
        );
        assert_eq!(unique_id(&e(4, Some("«»")), &mut taken), "query-4");
        assert_eq!(unique_id(&e(5, None), &mut taken), "query-5");
        assert_eq!(toml_string("a \"b\" \\ c\nd"), r#""a \"b\" \\ c\nd""#);
    }
}
