//! HTML as plain text (feed titles and summaries, YouTube comments): HTML tags removed (the contents of `script` and
//! `style` too), entities decoded (`&amp;`, `&lt;`, `&#39;`, `&#x27;`, `&nbsp;`…), runs of
//! white space made one space. Google Alerts writes `<b>` around the words it matched, and most
//! feeds put an HTML fragment in their descriptions.
//!
//! The work is linear in the input, whatever it holds: only its first [`MAX_INPUT_BYTES`] are
//! read (a mention keeps at most [`MAX_TEXT_CHARS`](super::rss::entry::MAX_TEXT_CHARS) characters
//! of it), a tag ends within [`MAX_TAG_BYTES`] or is text, and the end of a `script` or `style`
//! is looked for without copying the rest.

/// The most bytes of an input read: four times what the longest text kept can take (4 bytes a
/// character at most), room for the markup around it.
pub const MAX_INPUT_BYTES: usize = 4 * super::rss::entry::MAX_TEXT_CHARS * 4;
/// The longest tag (`<` to `>`, attributes included); a `<` with no `>` within is text.
pub const MAX_TAG_BYTES: usize = 4096;

/// `html` as plain text.
pub fn to_text(html: &str) -> String {
    let html = prefix(html, MAX_INPUT_BYTES);
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    // Where the next '>' is in `html` (None: there is none), looked for again only once passed,
    // so that many '<' without a '>' cost one scan, not one each.
    let mut next_gt: Option<usize> = html.find('>');
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('&') {
            let (decoded, used) = entity(rest);
            match decoded {
                Some(c) => out.push(c),
                None => out.push('&'),
            }
            rest = &rest[used..];
        } else {
            let at = html.len() - rest.len();
            if next_gt.is_some_and(|gt| gt < at) {
                next_gt = rest.find('>').map(|gt| at + gt);
            }
            let (used, breaks) = tag(rest, next_gt.map(|gt| gt - at));
            if used == 0 {
                out.push('<');
                rest = &rest[1..];
            } else {
                if breaks {
                    out.push(' ');
                }
                rest = &rest[used..];
            }
        }
    }
    out.push_str(rest);
    collapse_spaces(&out)
}

/// The first `max` bytes of `s`, or fewer to end on a character boundary.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// White space (no-break spaces included) made single spaces, trimmed.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Elements whose end separates words (`a<br>b` is two words, `<b>a</b>b` one).
const BREAKING: &[&str] = &[
    "br",
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "section",
    "article",
    "header",
    "footer",
    "hr",
    "img",
    "dd",
    "dt",
    "pre",
    "figure",
    "figcaption",
];

/// The length of the markup at the start of `s` (a tag, a comment, a declaration) and whether
/// it separates words; 0 when `<` starts no markup (`a < b`). A `script` or `style` element is
/// skipped whole. `gt` is where the first `>` of `s` is, if there is one.
fn tag(s: &str, gt: Option<usize>) -> (usize, bool) {
    let bytes = s.as_bytes();
    let Some(&next) = bytes.get(1) else {
        return (0, false);
    };
    if let Some(comment) = s.strip_prefix("<!--") {
        return match comment.find("-->") {
            Some(end) => (4 + end + 3, false),
            None => (s.len(), false),
        };
    }
    if !(next.is_ascii_alphabetic() || next == b'/' || next == b'!' || next == b'?') {
        return (0, false);
    }
    // An unclosed '<' is text, not a tag that eats the rest; nor is one whose '>' is too far.
    let Some(gt) = gt.filter(|gt| *gt < MAX_TAG_BYTES) else {
        return (0, false);
    };
    // The tag ends at the first '>' outside quotes (`title='a > b'`); a quote left open within
    // MAX_TAG_BYTES does not hide the first '>'.
    let mut quote: Option<u8> = None;
    let mut end = gt + 1;
    for (i, &b) in bytes.iter().enumerate().take(MAX_TAG_BYTES).skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                end = i + 1;
                break;
            }
            None => {}
        }
    }
    let name: String = s[1..end]
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect::<String>()
        .to_ascii_lowercase();
    if (name == "script" || name == "style") && !s[1..].starts_with('/') {
        let close: &[u8] = if name == "script" { b"</script" } else { b"</style" };
        return match find_ignoring_case(&bytes[end..], close) {
            Some(at) => {
                let after = end + at;
                let stop = s[after..].find('>').map(|g| after + g + 1).unwrap_or(s.len());
                (stop, true)
            }
            None => (s.len(), true),
        };
    }
    (end, BREAKING.contains(&name.as_str()))
}

/// Where `needle` (ASCII, lowercase) first is in `haystack`, in any case.
fn find_ignoring_case(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
}

/// The character of the entity at the start of `s` and the bytes it takes; `(None, 1)` when
/// `&` starts no known entity (it is then kept as written).
fn entity(s: &str) -> (Option<char>, usize) {
    // The longest entity is short: the ';' is looked for in the next few bytes only.
    let Some(semi) = s.as_bytes()[1..s.len().min(13)]
        .iter()
        .position(|b| *b == b';')
        .map(|i| i + 1)
    else {
        return (None, 1);
    };
    let body = &s[1..semi];
    let c = if let Some(num) = body.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => num.parse::<u32>().ok(),
        };
        code.and_then(char::from_u32).filter(|c| *c != '\0')
    } else {
        named(body)
    };
    match c {
        Some(c) => (Some(c), semi + 1),
        None => (None, 1),
    }
}

/// The named entities feeds use: XML's five, the no-break space, typography, and the accented
/// letters of the languages Vigie watches most.
fn named(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "pound" => '£',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "agrave" => 'à',
        "aacute" => 'á',
        "acirc" => 'â',
        "auml" => 'ä',
        "ccedil" => 'ç',
        "egrave" => 'è',
        "eacute" => 'é',
        "ecirc" => 'ê',
        "euml" => 'ë',
        "icirc" => 'î',
        "iuml" => 'ï',
        "iacute" => 'í',
        "ntilde" => 'ñ',
        "ocirc" => 'ô',
        "ouml" => 'ö',
        "oacute" => 'ó',
        "ugrave" => 'ù',
        "ucirc" => 'û',
        "uuml" => 'ü',
        "uacute" => 'ú',
        "oelig" => 'œ',
        "szlig" => 'ß',
        "Agrave" => 'À',
        "Eacute" => 'É',
        "Egrave" => 'È',
        "Ecirc" => 'Ê',
        "Ccedil" => 'Ç',
        "OElig" => 'Œ',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::{to_text, MAX_INPUT_BYTES, MAX_TAG_BYTES};

    #[test]
    fn tags_are_removed_and_entities_decoded() {
        assert_eq!(to_text("<b>Acme</b> refund &amp; delays"), "Acme refund & delays");
        assert_eq!(
            to_text("it&#39;s &quot;fine&quot; &lt;not&gt; &#x27;ok&#x27;&nbsp;now"),
            "it's \"fine\" <not> 'ok' now"
        );
        assert_eq!(to_text("caf&eacute; &#233;t&eacute; &hellip;"), "café été …");
        assert_eq!(to_text("line<br>break<p>para</p>end"), "line break para end");
        assert_eq!(to_text("<b>Ac</b>me"), "Acme", "inline tags join their words");
        assert_eq!(
            to_text("<a href=\"https://x.test/?a=1&amp;b=2\" title='a > b'>link</a>"),
            "link"
        );
        assert_eq!(to_text("a <!-- hidden <b>x</b> --> b"), "a b");
        assert_eq!(
            to_text("x<script>var a = '<b>';</script>y<STYLE>p{}</STYLE>z"),
            "x y z"
        );
        assert_eq!(to_text("  many \n\t spaces  "), "many spaces");
    }

    #[test]
    fn text_that_only_looks_like_markup_is_kept() {
        assert_eq!(to_text("a < b and c > d"), "a < b and c > d");
        assert_eq!(
            to_text("AT&T & co &unknown; &#xZZ; &"),
            "AT&T & co &unknown; &#xZZ; &"
        );
        assert_eq!(to_text("unclosed <b tag"), "unclosed <b tag");
        assert_eq!(to_text("&#0; &#1114112;"), "&#0; &#1114112;");
        assert_eq!(to_text(""), "");
    }

    #[test]
    fn pathological_inputs_are_read_in_bounded_work() {
        // Each of these took a scan of the whole rest per '<' (or per '&'): a mebibyte of them
        // was hours of work. Now the input is cut and each scan bounded.
        let mib = 1 << 20;
        for unit in [
            "<a",
            "<a\"",
            "<script>",
            "<STYLE>x",
            "&",
            "&amp",
            "<!--",
            "<a title='x>",
        ] {
            let input = unit.repeat(mib / unit.len());
            let out = to_text(&input);
            assert!(out.len() <= MAX_INPUT_BYTES, "{unit}: {} bytes out", out.len());
        }
        let out = to_text(&"<a".repeat(mib / 2));
        assert!(
            out.starts_with("<a<a<a") && out.len() == MAX_INPUT_BYTES,
            "kept as text"
        );
    }

    #[test]
    fn the_input_is_cut_at_a_character_boundary_and_tags_have_a_length() {
        let long = "é".repeat(MAX_INPUT_BYTES);
        let out = to_text(&long);
        assert_eq!(out.len(), MAX_INPUT_BYTES);
        let odd = format!("a{long}");
        assert_eq!(to_text(&odd).len(), MAX_INPUT_BYTES - 1, "not inside a character");
        // A '>' beyond MAX_TAG_BYTES does not make the '<' a tag.
        let far = format!("x <b{}> y", " ".repeat(MAX_TAG_BYTES));
        assert!(to_text(&far).starts_with("x <b "));
        assert_eq!(to_text(&format!("x <b{}> y", " ".repeat(100))), "x y");
        // An unclosed quote does not hide the tag's end.
        assert_eq!(to_text("a <b title=\"oops>bold</b> c"), "a bold c");
        assert_eq!(to_text("x<SCRIPT>a</sCrIpT>y"), "x y");
    }
}
