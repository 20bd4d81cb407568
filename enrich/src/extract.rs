//! Entity extraction: hashtags, @handles and URLs, normalised (lower case, accents kept).

/// Entities found in a text.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Entities {
    /// Hashtags with their `#`, lower case, deduplicated in order of appearance.
    pub hashtags: Vec<String>,
    /// Handles with their `@`, lower case, deduplicated.
    pub handles: Vec<String>,
    /// URLs as written.
    pub urls: Vec<String>,
}

/// Extracts hashtags, handles and URLs from `text`.
pub fn extract(text: &str) -> Entities {
    let mut out = Entities::default();
    for word in text.split_whitespace() {
        if word.starts_with("http://") || word.starts_with("https://") {
            let url = word.trim_end_matches(['.', ',', ')', '!', '?', ';']);
            push_unique(&mut out.urls, url.to_string());
            continue;
        }
        // A word may carry several tags: "#a#b", "(#a)".
        let mut rest = word;
        while let Some(i) = rest.find(['#', '@']) {
            let sigil = rest[i..].chars().next().unwrap_or('#');
            let body: String = rest[i + 1..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let consumed = i + 1 + body.len();
            if !body.is_empty() {
                let tag = format!("{sigil}{}", body.to_lowercase());
                if sigil == '#' {
                    push_unique(&mut out.hashtags, tag);
                } else if i == 0
                    || !rest[..i]
                        .chars()
                        .last()
                        .map(char::is_alphanumeric)
                        .unwrap_or(false)
                {
                    // "a@b.com" is an e-mail address, not a handle.
                    push_unique(&mut out.handles, tag);
                }
            }
            rest = &rest[consumed.min(rest.len())..];
        }
    }
    out
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_tags_handles_and_urls() {
        let e = extract("#Boycott @Acme_FR voir https://ex.com/a?b=1, (#Scandale#Honte) mail a@b.com");
        assert_eq!(e.hashtags, ["#boycott", "#scandale", "#honte"]);
        assert_eq!(e.handles, ["@acme_fr"]);
        assert_eq!(e.urls, ["https://ex.com/a?b=1"]);
    }
}
