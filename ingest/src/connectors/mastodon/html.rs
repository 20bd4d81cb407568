//! A status's `content` (the sanitized HTML Mastodon serves: `<p>`, `<br>`, `<a>`, `<span>`) as
//! plain text: tags removed, paragraphs separated by a blank line and `<br>` by a new line,
//! entities decoded (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;`, `&apos;`, `&nbsp;`, `&#NNN;`,
//! `&#xHH;`). A link's hidden parts (`<span class="invisible">https://</span>`) are kept, so
//! a URL reads whole.
//!
//! Linear in the input whatever it holds: only its first [`MAX_INPUT_BYTES`] are read, and a
//! `<` with no `>` within [`MAX_TAG_BYTES`] is text.

/// The most bytes of `content` read (Mastodon's default limit is 500 characters; some instances
/// allow tens of thousands, and their markup adds more).
pub const MAX_INPUT_BYTES: usize = 256 * 1024;
/// The longest tag read as one.
pub const MAX_TAG_BYTES: usize = 4096;

/// `html` as plain text, trimmed.
pub fn to_text(html: &str) -> String {
    let html = prefix(html, MAX_INPUT_BYTES);
    let mut out = String::with_capacity(html.len());
    let mut at = 0;
    // Where the next '>' is (looked for again only once passed, so that many '<' without a '>'
    // cost one scan, not one each).
    let mut next_gt = html.find('>');
    while let Some(i) = html.get(at..).and_then(|rest| rest.find(['<', '&'])) {
        let start = at + i;
        out.push_str(html.get(at..start).unwrap_or_default());
        let rest = html.get(start..).unwrap_or_default();
        if rest.starts_with('&') {
            let (decoded, used) = entity(rest);
            out.push(decoded.unwrap_or('&'));
            at = start + used;
            continue;
        }
        if next_gt.is_some_and(|gt| gt < start) {
            next_gt = rest.find('>').map(|gt| start + gt);
        }
        match next_gt.filter(|gt| gt - start <= MAX_TAG_BYTES) {
            Some(end) => {
                match tag_name(html.get(start + 1..end).unwrap_or_default()).as_str() {
                    "br" => out.push('\n'),
                    "p" | "/p" | "li" | "blockquote" | "/blockquote" | "pre" | "/pre"
                        if !out.is_empty() && !out.ends_with("\n\n") =>
                    {
                        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
                    }
                    _ => {}
                }
                at = end + 1;
            }
            None => {
                out.push('<');
                at = start + 1;
            }
        }
    }
    out.push_str(html.get(at..).unwrap_or_default());
    tidy(&out)
}

/// The lowercased name of a tag's inside (`/p`, `br`, `a`…), its attributes left out.
fn tag_name(inside: &str) -> String {
    let inside = inside.trim_start();
    let (slash, name) = match inside.strip_prefix('/') {
        Some(n) => ("/", n.trim_start()),
        None => ("", inside),
    };
    let name: String = name
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    format!("{slash}{name}")
}

/// The entity at the start of `s` (which starts with `&`) and the bytes it takes; `None` and 1
/// when it is no entity this reads.
fn entity(s: &str) -> (Option<char>, usize) {
    let Some(end) = prefix(s, 12).find(';') else {
        return (None, 1);
    };
    let name = s.get(1..end).unwrap_or_default();
    let c = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let code = if let Some(hex) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                u32::from_str_radix(hex, 16).ok()
            } else {
                name.strip_prefix('#').and_then(|d| d.parse::<u32>().ok())
            };
            code.and_then(char::from_u32)
        }
    };
    match c {
        Some(c) => (Some(c), end + 1),
        None => (None, 1),
    }
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
    s.get(..end).unwrap_or_default()
}

/// Spaces and tabs at the ends of lines removed, at most one blank line in a row, trimmed.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.split('\n').map(str::trim) {
        if line.is_empty() {
            blank += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if blank > 0 { "\n\n" } else { "\n" });
        }
        blank = 0;
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_markup_reads_as_text_with_its_paragraphs_and_whole_links() {
        let html = r#"<p>Hey <span class="h-card"><a href="https://mastodon.example/@acme" class="u-url mention">@<span>acme</span></a></span> my order &amp; refund? <a href="https://mastodon.example/tags/acme" class="mention hashtag" rel="tag">#<span>acme</span></a></p><p>See <a href="https://shop.example/orders/12345/status"><span class="invisible">https://</span><span class="ellipsis">shop.example/orders/1234</span><span class="invisible">5/status</span></a><br />still &quot;pending&quot; &#8212; 3 weeks&#x21;</p>"#;
        assert_eq!(
            to_text(html),
            "Hey @acme my order & refund? #acme\n\nSee https://shop.example/orders/12345/status\nstill \"pending\" \u{2014} 3 weeks!"
        );
    }

    #[test]
    fn odd_input_stays_text_and_is_bounded() {
        assert_eq!(to_text("a < b &unknown; &amp"), "a < b &unknown; &amp");
        assert_eq!(to_text("<p></p><p>x</p>"), "x");
        assert_eq!(to_text(""), "");
        let many = "<".repeat(100_000);
        assert_eq!(to_text(&many).len(), 100_000);
        let far = format!("a<{}>b", "x".repeat(MAX_TAG_BYTES + 1));
        assert!(
            to_text(&far).starts_with("a<xxx"),
            "a '>' too far is no tag's end"
        );
        let long = "é".repeat(MAX_INPUT_BYTES);
        assert_eq!(to_text(&long).len(), MAX_INPUT_BYTES);
    }
}
