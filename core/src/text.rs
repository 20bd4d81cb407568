//! Text normalisation shared by query parsing and document scanning: lower case, accents folded
//! (`Sécurité` → `securite`), split into word tokens; `#hashtag` and `@handle` are kept as
//! first-class tokens and also yield their bare word. French elision splits on the apostrophe,
//! so `j'aime` yields `j` and `aime`.
//!
//! So that a watch cannot be dodged with characters a reader does not see, queries and mentions
//! go through the same normalisation before they are compared:
//!
//! - invisible characters ([`is_ignorable`]: zero-width space and joiners, soft hyphen, word
//!   joiner, BOM, bidirectional controls, variation selectors, tag characters — Unicode's format
//!   characters and default-ignorable code points) are removed, and do not split a word:
//!   `ver\u{200B}dier` is `verdier`;
//! - compatibility forms are unified (Unicode NFKC): fullwidth `ｖｅｒｄｉｅｒ`, ligatures (`ﬁ`),
//!   mathematical letters (`𝐯𝐞𝐫𝐝𝐢𝐞𝐫`), and `＃`/`＠` as sigils;
//! - a word whose letters are all Latin or Latin look-alikes (Cyrillic `е`, Greek `ο`, …, see
//!   [`latin_lookalike`]) is read as Latin: `vеrdier` with a Cyrillic `е` is `verdier`. A word
//!   with any other non-Latin letter is a genuinely Cyrillic, Greek… word and is kept as it is;
//!   since both sides are normalised alike, a Cyrillic query still matches Cyrillic text (the
//!   decision is taken on the lower-case word, so it does not depend on case either).
//!
//! ASCII words take none of this (a fast path), nor do words whose only other characters are
//! the accented letters of Latin-1 and Latin Extended-A. The mention itself is stored as it was
//! received: only the tokens used for matching are normalised.

use std::borrow::Cow;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

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

/// The Latin letter a lower-case Cyrillic, Greek, Armenian or IPA letter is drawn like, when it
/// is one a reader takes for Latin (`е` → `e`, `ο` → `o`, `ɡ` → `g`). A small hand-kept subset
/// of Unicode's confusables: the letters used to disguise Latin words.
pub fn latin_lookalike(c: char) -> Option<char> {
    Some(match c {
        // Cyrillic.
        'а' => 'a',
        'е' => 'e',
        'ё' => 'ë',
        'к' => 'k',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'у' | 'ү' => 'y',
        'х' => 'x',
        'і' => 'i',
        'ї' => 'ï',
        'ј' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ӏ' => 'l',
        // Greek.
        'α' => 'a',
        'γ' => 'y',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ϲ' => 'c',
        'ϳ' => 'j',
        // Armenian.
        'հ' => 'h',
        'ո' => 'n',
        'ս' => 'u',
        'օ' => 'o',
        // Latin letters of the IPA block that fold to no accent.
        'ɑ' => 'a',
        'ɡ' => 'g',
        _ => return None,
    })
}

/// Characters that are invisible in text and removed before matching: Unicode's format
/// characters (category Cf: zero-width space, joiners, soft hyphen, word joiner, BOM,
/// bidirectional controls…) and its other default-ignorable code points (variation selectors,
/// Hangul fillers, tag characters).
pub fn is_ignorable(c: char) -> bool {
    let u = c as u32;
    u >= 0xAD
        && matches!(u,
            0xAD | 0x34F | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x890 | 0x891 | 0x8E2
            | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F | 0x200B..=0x200F
            | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F | 0xFEFF | 0xFFA0
            | 0xFFF0..=0xFFFB | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Combining diacritical marks (as in decomposed "e\u{301}cole"): part of a word, dropped by
/// normalisation.
pub fn is_combining_mark(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// What a word is made of: letters and digits, combining marks, and invisible characters
/// (which do not split a word: they are removed from it). Queries split their words the same
/// way.
#[inline]
pub fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric() || is_combining_mark(c) || is_ignorable(c)
    }
}

/// Characters that need nothing but folding (the fast path): ASCII and the letters of Latin-1
/// and Latin Extended-A, which NFKC leaves as they are (but `Ĳ ĳ`, `Ŀ ŀ`, `ŉ` and `ſ`), none of
/// them invisible or a look-alike.
fn is_plain(c: char) -> bool {
    c.is_ascii()
        || (('\u{C0}'..='\u{17F}').contains(&c)
            && !matches!(
                c,
                '\u{132}' | '\u{133}' | '\u{13F}' | '\u{140}' | '\u{149}' | '\u{17F}'
            ))
}

/// A Latin letter (any block), which keeps a word Latin.
fn is_latin(c: char) -> bool {
    matches!(c as u32,
        0xC0..=0x2AF | 0x1D00..=0x1DBF | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF
        | 0xAB30..=0xAB6F)
}

/// Whether `s` reads as Latin: it has a Latin look-alike and no other non-Latin letter.
fn reads_as_latin(s: &str) -> bool {
    let mut lookalike = false;
    for c in s.chars().filter(|c| !c.is_ascii()) {
        for l in c.to_lowercase() {
            if latin_lookalike(l).is_some() {
                lookalike = true;
            } else if l.is_alphabetic() && !is_latin(l) {
                return false;
            }
        }
    }
    lookalike
}

/// The Latin letter for a look-alike, in the case it was written in.
fn to_latin(c: char) -> char {
    let mut lower = c.to_lowercase();
    let (Some(l), None) = (lower.next(), lower.next()) else {
        return c;
    };
    match latin_lookalike(l) {
        Some(latin) if l != c => latin.to_uppercase().next().unwrap_or(latin),
        Some(latin) => latin,
        None => c,
    }
}

/// `s` without invisible characters, in NFKC, and read as Latin when it [reads as
/// Latin](reads_as_latin). Case and accents are kept. In a `word`, characters NFKC turns into
/// something else than word characters (`⑴` → `(1)`) are left out, so a token stays a word.
fn canonical(s: &str, word: bool) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(s);
    if out.chars().any(is_ignorable) {
        out = Cow::Owned(out.chars().filter(|c| !is_ignorable(*c)).collect());
    }
    if is_nfkc_quick(out.chars()) != IsNormalized::Yes {
        let composed = out
            .nfkc()
            .filter(|&c| !is_ignorable(c) && (!word || is_word_char(c) || c == '_'))
            .collect();
        out = Cow::Owned(composed);
    }
    if reads_as_latin(&out) {
        out = Cow::Owned(out.chars().map(to_latin).collect());
    }
    out
}

/// Lower-cases and folds accents of a whole string (`œ` → `oe`, `ß` → `ss`), after the
/// normalisation for matching (see the module documentation).
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    normalize_into(s, &mut out);
    out
}

/// [`normalize`] appending to `out` (lets hot loops reuse one buffer).
pub fn normalize_into(s: &str, out: &mut String) {
    if s.is_ascii() {
        let start = out.len();
        out.push_str(s);
        out[start..].make_ascii_lowercase();
    } else if s.chars().all(is_plain) {
        fold_into(s, out);
    } else {
        fold_into(&canonical(s, false), out);
    }
}

/// Lower case and accents folded, character by character.
fn fold_into(s: &str, out: &mut String) {
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
                // Case folding: a final sigma is a sigma (`ΤΟΠΟΣ` and `τοπος` compare).
                'ς' => out.push('σ'),
                _ if is_combining_mark(l) => {}
                _ => out.push(fold_char(l)),
            }
        }
    }
}

/// A word's normalised text and, when it differs, its canonical form as written (case and
/// accents kept, see [`canonical`]); empty when the word is only invisible characters.
fn word_forms(body: &str) -> (String, String) {
    let mut norm = String::with_capacity(body.len());
    let canonical = if body.is_ascii() {
        norm.push_str(body);
        norm.make_ascii_lowercase();
        Cow::Borrowed(body)
    } else if body.chars().all(is_plain) {
        fold_into(body, &mut norm);
        Cow::Borrowed(body)
    } else {
        let canonical = canonical(body, true);
        fold_into(&canonical, &mut norm);
        canonical
    };
    let kept = if norm == *canonical {
        String::new()
    } else {
        canonical.into_owned()
    };
    (norm, kept)
}

/// `sigil` followed by `word` (a tag or handle), or nothing when `word` is empty.
fn tagged(sigil: char, word: &str) -> String {
    if word.is_empty() {
        return String::new();
    }
    let mut s = String::with_capacity(word.len() + 1);
    s.push(sigil);
    s.push_str(word);
    s
}

/// `#`/`@` (or their fullwidth forms) as the sigil of a tag or handle.
fn sigil(c: char) -> Option<char> {
    match c {
        '#' | '＃' => Some('#'),
        '@' | '＠' => Some('@'),
        _ => None,
    }
}

/// Splits text into tokens: each word normalised (see [`normalize`]) and as written. A `#tag`
/// or `@handle` yields the prefixed token followed by the bare word at the same position.
pub fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut position = 0u32;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let sigil = sigil(c).filter(|_| chars.peek().is_some_and(|&(_, n)| is_word_char(n) || n == '_'));
        if sigil.is_none() && !is_word_char(c) {
            continue;
        }
        let body_start = if sigil.is_some() {
            start + c.len_utf8()
        } else {
            start
        };
        let mut end = start + c.len_utf8();
        while let Some(&(i, n)) = chars.peek() {
            if is_word_char(n) || (sigil.is_some() && n == '_') {
                end = i + n.len_utf8();
                chars.next();
            } else {
                break;
            }
        }
        let (text, raw) = word_forms(&text[body_start..end]);
        if text.is_empty() {
            continue; // nothing but invisible characters
        }
        if let Some(s) = sigil {
            tokens.push(Token {
                text: tagged(s, &text),
                raw: tagged(s, &raw),
                position,
            });
        }
        tokens.push(Token { text, raw, position });
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
    /// The text as written (without invisible characters, in NFKC, look-alikes read as Latin),
    /// when it differs from `text` (most words are written as normalised: no second copy).
    raw: String,
    /// Word position, for phrases.
    pub position: u32,
}

impl Token {
    /// The text as written (see [`normalize`] for what "as written" keeps).
    pub fn raw(&self) -> &str {
        if self.raw.is_empty() {
            &self.text
        } else {
            &self.raw
        }
    }

    /// Whether the token is a `#tag` or `@handle` (rather than a word).
    pub fn is_tag(&self) -> bool {
        self.text.starts_with(['#', '@'])
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

    /// Issue 11, item 9: each dodge reads as the word it disguises.
    #[test]
    fn invisible_fullwidth_and_lookalike_dodges_read_as_the_word() {
        for dodge in [
            "ver\u{200B}dier",                                                 // zero-width space
            "ver\u{00AD}di\u{2060}er",                                         // soft hyphen, word joiner
            "\u{FEFF}ver\u{200D}dier",                                         // BOM, zero-width joiner
            "v\u{0435}rdier",                                                  // Cyrillic е
            "V\u{0415}RDI\u{0415}R",                                           // Cyrillic Е, upper case
            "\u{03BD}erdier",                                                  // Greek ν
            "ｖｅｒｄｉｅｒ",                                                  // fullwidth
            "ＶＥＲＤＩＥＲ",                                                  // fullwidth upper case
            "\u{1D42F}\u{1D41E}\u{1D42B}\u{1D41D}\u{1D422}\u{1D41E}\u{1D42B}", // mathematical bold
            "ve\u{0301}rdier",                                                 // decomposed accent
        ] {
            assert_eq!(words(dodge), ["verdier"], "{dodge:?}");
        }
        assert_eq!(words("＃ｖｅｒｄｉｅｒ"), ["#verdier", "verdier"]);
        assert_eq!(words("#\u{200B}verdier"), ["#verdier", "verdier"]);
        assert_eq!(words("ﬁnance"), ["finance"]);
    }

    #[test]
    fn genuine_cyrillic_and_greek_words_are_kept_and_case_insensitive() {
        // "собака" has letters without a Latin look-alike: it stays Cyrillic.
        assert_eq!(words("СОБАКА собака"), ["собака", "собака"]);
        // "НЕТ" lower-cases to "нет", whose н and т are no look-alikes: kept, whatever the case.
        assert_eq!(words("НЕТ нет"), ["нет", "нет"]);
        // A word made only of look-alikes reads as Latin on both sides alike.
        assert_eq!(words("СОК сок"), ["cok", "cok"]);
        assert_eq!(words("ΤΟΠΟΣ τοπος"), ["τοποσ", "τοποσ"]);
    }

    #[test]
    fn invisible_characters_alone_make_no_token() {
        assert_eq!(words("a \u{200B} \u{3164} b"), ["a", "b"]);
        let t = tokenize("a \u{200B} b");
        assert_eq!((t[0].position, t[1].position), (0, 1));
        assert!(words("#\u{200B} x").iter().all(|w| w == "x"));
    }

    #[test]
    fn symbols_nfkc_spells_with_letters_do_not_join_words() {
        // `™` is not a word character: NFKC ("TM") applies inside words only.
        assert_eq!(words("Acme™ ①"), ["acme", "1"]);
    }

    #[test]
    fn as_written_form_is_canonical_but_keeps_case_and_accents() {
        assert_eq!(raw_words("Ｖ\u{0435}rdier Cre\u{0301}dit"), ["Verdier", "Crédit"]);
        assert_eq!(tokenize("ＶＥＲＤＩＥＲ")[0].raw(), "VERDIER");
    }

    #[test]
    fn normalize_agrees_with_tokens_and_keeps_ascii_fast() {
        for s in [
            "Verdier",
            "ｖｅｒｄｉｅｒ",
            "v\u{0435}r\u{200B}dier",
            "Sécurité",
            "СОБАКА",
        ] {
            assert_eq!(normalize(s), words(s)[0], "{s:?}");
        }
        assert_eq!(normalize("Jean Dupont"), "jean dupont");
        let mut buf = String::from("x");
        normalize_into("ABC", &mut buf);
        assert_eq!(buf, "xabc");
    }
}
