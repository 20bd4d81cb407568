//! Text normalisation shared by query parsing and document scanning: lower case, accents folded
//! (`Sécurité` → `securite`), split into word tokens; `#hashtag` and `@handle` are kept as
//! first-class tokens and also yield their bare word. French elision splits on the apostrophe,
//! so `j'aime` yields `j` and `aime`.

/// Folds one lower-case character to its unaccented ASCII form when it has one.
pub fn fold_char(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' => 'a',
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
        'ď' | 'đ' => 'd',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
        'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
        'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' => 'o',
        'ŕ' | 'ř' => 'r',
        'ś' | 'ŝ' | 'ş' | 'š' => 's',
        'ţ' | 'ť' => 't',
        'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
        'ý' | 'ÿ' => 'y',
        'ź' | 'ż' | 'ž' => 'z',
        _ => c,
    }
}

/// Lower-cases and folds accents of a whole string (`œ` → `oe`, `ß` → `ss`).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    normalize_into(s, &mut out);
    out
}

/// Combining diacritical marks (as in decomposed "e\u{301}cole"): part of a word, dropped by
/// normalisation.
pub fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// [`normalize`] appending to `out` (lets hot loops reuse one buffer).
pub fn normalize_into(s: &str, out: &mut String) {
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
            continue;
        }
        if is_combining_mark(c) {
            continue;
        }
        if c == 'İ' {
            // Turkish dotted capital I lower-cases to "i" + a combining dot: fold to "i".
            out.push('i');
            continue;
        }
        for l in c.to_lowercase() {
            match l {
                'œ' => out.push_str("oe"),
                'æ' => out.push_str("ae"),
                'ß' => out.push_str("ss"),
                _ => out.push(fold_char(l)),
            }
        }
    }
}

/// Splits text into tokens: each word normalised (see [`normalize`]) and as written. A `#tag`
/// or `@handle` yields the prefixed token followed by the bare word at the same position.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0u32;
    let mut chars = text.char_indices().peekable();
    let word_char = |c: char| c.is_alphanumeric() || is_combining_mark(c);
    while let Some((start, c)) = chars.next() {
        let sigil = (c == '#' || c == '@')
            && chars
                .peek()
                .map(|(_, n)| word_char(*n) || *n == '_')
                .unwrap_or(false);
        if !(sigil || word_char(c)) {
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            if word_char(n) || (sigil && n == '_') {
                end = i + n.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let raw = &text[start..end];
        let norm = normalize(raw);
        if sigil {
            let bare = Token {
                text: norm[1..].to_string(),
                raw: Token::kept(&raw[1..], &norm[1..]),
                position,
            };
            tokens.push(Token {
                raw: Token::kept(raw, &norm),
                text: norm,
                position,
            });
            tokens.push(bare);
        } else {
            tokens.push(Token {
                raw: Token::kept(raw, &norm),
                text: norm,
                position,
            });
        }
        position += 1;
    }
    tokens
}

/// The words of `text` as written (case and accents kept); tags and handles give their bare word.
pub fn raw_words(text: &str) -> Vec<String> {
    tokenize(text)
        .into_iter()
        .filter(|t| !t.raw().starts_with('#') && !t.raw().starts_with('@'))
        .map(|t| t.raw().to_string())
        .collect()
}

/// A normalised word and its position in the text (a hashtag and its bare word share one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// Normalised text, with `#` or `@` for tags and handles.
    pub text: String,
    /// The text as written, when it differs from `text` (most words are written as
    /// normalised: no second copy for them).
    raw: String,
    /// Word position, for phrases.
    pub position: u32,
}

impl Token {
    /// The text as written.
    pub fn raw(&self) -> &str {
        if self.raw.is_empty() {
            &self.text
        } else {
            &self.raw
        }
    }

    /// What to keep of `raw` beside its normalised form `norm`.
    fn kept(raw: &str, norm: &str) -> String {
        if raw == norm {
            String::new()
        } else {
            raw.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn folds_case_accents_and_elision() {
        assert_eq!(
            words("Sécurité: J'AIME l'Œuvre!"),
            ["securite", "j", "aime", "l", "oeuvre"]
        );
    }

    #[test]
    fn hashtags_and_handles_are_tokens_and_words() {
        assert_eq!(
            words("#Boycott @Acme_FR now"),
            ["#boycott", "boycott", "@acme_fr", "acme_fr", "now"]
        );
        let t = tokenize("#a b");
        assert_eq!(t[0].position, t[1].position);
        assert_eq!(t[2].position, 1);
        assert_eq!(t[0].raw(), "#a");
    }

    #[test]
    fn decomposed_accents_and_dotted_i_fold_like_composed_ones() {
        assert_eq!(words("e\u{301}cole İSTANBUL"), ["ecole", "istanbul"]);
    }

    #[test]
    fn raw_words_keep_case_and_accents() {
        assert_eq!(raw_words("Le Crédit #Agricole"), ["Le", "Crédit", "Agricole"]);
    }
}
