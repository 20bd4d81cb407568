//! Feed titles and summaries as plain text: HTML tags removed (the contents of `script` and
//! `style` too), entities decoded (`&amp;`, `&lt;`, `&#39;`, `&#x27;`, `&nbsp;`…), runs of
//! white space made one space. Google Alerts writes `<b>` around the words it matched, and most
//! feeds put an HTML fragment in their descriptions.

/// `html` as plain text.
pub fn to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
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
            let (used, breaks) = tag(rest);
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
/// skipped whole.
fn tag(s: &str) -> (usize, bool) {
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
    // The tag ends at the first '>' outside quotes.
    let mut quote: Option<u8> = None;
    let mut end = None;
    for (i, &b) in bytes.iter().enumerate().skip(1) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => {
                end = Some(i + 1);
                break;
            }
            None => {}
        }
    }
    let Some(end) = end else {
        // An unclosed '<' is text, not a tag that eats the rest.
        return (0, false);
    };
    let name: String = s[1..end]
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    if (name == "script" || name == "style") && !s[1..].starts_with('/') {
        let close = format!("</{name}");
        let lower = s[end..].to_ascii_lowercase();
        return match lower.find(&close) {
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

/// The character of the entity at the start of `s` and the bytes it takes; `(None, 1)` when
/// `&` starts no known entity (it is then kept as written).
fn entity(s: &str) -> (Option<char>, usize) {
    let Some(semi) = s[1..].find(';').map(|i| i + 1).filter(|i| *i <= 12) else {
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
    use super::to_text;

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
}
