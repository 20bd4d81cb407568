//! The vocabulary that queries and documents share: which text a word query looks at
//! ([`Scope`]), the words or phrase it looks for ([`Words`], each a [`Term`]: a word, a prefix
//! or a wildcard [`Pattern`]), the mention fields a filter can test ([`Field`]), how a site or
//! an address is written ([`site_suffixes`], [`url_parts`]) and which countries exist
//! ([`country_code`]).
//!
//! The query language ([`crate::query`]) builds these and the document ([`crate::document`])
//! answers them; both depend on this module and neither on the other's internals.

use crate::text::{is_ignorable, normalize, Token};
use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// Which text of a mention a word query looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Title and text (the default).
    Any,
    /// The title only (`title:`).
    Title,
    /// The text only, not the title (`text:`, or Sprinklr's `message:`).
    Text,
}

/// One word of a word query, in the compared form: normalised (lower case, accents folded), or
/// as written when the query is exact.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Term {
    /// The whole word.
    Word(String),
    /// Any word starting with this (`term*`).
    Prefix(String),
    /// A word matching a wildcard pattern (`customi?e`, `colo*r`).
    Pattern(Pattern),
}

impl Term {
    /// Whether a word (normalised, or as written for an exact query) is one this term accepts.
    pub fn accepts(&self, word: &str) -> bool {
        match self {
            Term::Word(w) => word == w,
            Term::Prefix(p) => word.starts_with(p.as_str()),
            Term::Pattern(p) => p.matches(word),
        }
    }

    /// The word, prefix or pattern as it would be written in a query.
    pub fn text(&self) -> String {
        match self {
            Term::Word(w) => w.clone(),
            Term::Prefix(p) => format!("{p}*"),
            Term::Pattern(p) => p.to_string(),
        }
    }
}

/// A wildcard pattern: `?` stands for exactly one character and at most one `*` for any number
/// of them (none included), after a literal start of at least two letters. Matching reads at
/// most the pattern's length in characters from each end of a word, whatever the word's length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Characters before the `*` (or all of them): `None` for `?`.
    head: Vec<Option<char>>,
    /// Characters after the `*`, when there is one.
    tail: Option<Vec<Option<char>>>,
    /// The literal start, normalised: every word the pattern accepts starts with it (the key
    /// under which documents index the words, and queries are presearched).
    key: String,
}

impl Pattern {
    /// A pattern from `pattern` (its `?` and `*` as wildcards) whose accepted words all start
    /// with `key` once normalised; `None` when it has more than one `*`.
    pub fn new(pattern: &str, key: String) -> Option<Pattern> {
        let piece = |s: &str| -> Vec<Option<char>> { s.chars().map(|c| (c != '?').then_some(c)).collect() };
        let (head, tail) = match pattern.split_once('*') {
            Some((h, t)) if !t.contains('*') => (piece(h), Some(piece(t))),
            Some(_) => return None,
            None => (piece(pattern), None),
        };
        Some(Pattern { head, tail, key })
    }

    /// The normalised literal start every accepted word has.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether `word` matches the pattern.
    pub fn matches(&self, word: &str) -> bool {
        fn fits(expected: &Option<char>, c: char) -> bool {
            expected.is_none_or(|e| e == c)
        }
        let mut chars = word.char_indices();
        for expected in &self.head {
            match chars.next() {
                Some((_, c)) if fits(expected, c) => {}
                _ => return false,
            }
        }
        let rest = chars.as_str();
        match &self.tail {
            None => rest.is_empty(),
            Some(tail) => {
                let mut back = rest.chars().rev();
                tail.iter()
                    .rev()
                    .all(|expected| back.next().is_some_and(|c| fits(expected, c)))
            }
        }
    }
}

impl std::fmt::Display for Pattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let write = |f: &mut std::fmt::Formatter<'_>, piece: &[Option<char>]| {
            piece.iter().try_for_each(|c| write!(f, "{}", c.unwrap_or('?')))
        };
        write(f, &self.head)?;
        if let Some(tail) = &self.tail {
            write!(f, "*")?;
            write(f, tail)?;
        }
        Ok(())
    }
}

/// A word or phrase to find.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Words {
    /// Consecutive words (one for a word query, several for a phrase).
    pub words: Vec<Term>,
    /// Match case and accents exactly (`=Word`, `{Word}`): terms are as written.
    pub exact: bool,
    /// Match accents as written but not case (Brandwatch's accented keywords; ignored when
    /// `exact`): a term written with an accent is in its [`accented`] form and accepts only
    /// words with those accents, any other term is normalised and accepts every spelling.
    pub accents: bool,
    /// Where to look.
    pub scope: Scope,
}

impl Words {
    /// Whether word `i` accepts the mention's token `t`: its normalised text, its text as
    /// written when `exact`, and also its [`accented`] form when `accents`.
    pub fn accepts_token(&self, i: usize, t: &Token) -> bool {
        let term = &self.words[i];
        if self.exact {
            term.accepts(t.raw())
        } else {
            term.accepts(&t.text) || (self.accents && term.accepts(&accented(t.raw())))
        }
    }
}

/// A word as an accent-sensitive, case-insensitive comparison reads it: composed (NFC), without
/// invisible characters, in lower case, accents kept (`Café` → `café`). An accented term never
/// equals a normalised word (normalising folds the accents), so comparing a term to both forms
/// accepts exactly the spellings it allows.
pub fn accented(word: &str) -> Cow<'_, str> {
    if word.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        Cow::Borrowed(word)
    } else {
        Cow::Owned(
            word.nfc()
                .filter(|c| !is_ignorable(*c))
                .flat_map(char::to_lowercase)
                .collect(),
        )
    }
}

/// Whether a word written in a query has a letter that normalising changes beyond its case
/// (an accent, `ß`, `œ`…): under [`Words::accents`] it is then compared in its [`accented`]
/// form. Wildcards do not count.
pub fn has_accent(word: &str) -> bool {
    !word.is_ascii()
        && word.chars().filter(|c| !matches!(c, '*' | '?')).any(|c| {
            let lower: String = c.to_lowercase().collect();
            normalize(&lower) != lower
        })
}

/// A mention field that a query filter can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// Detected language (ISO 639-1, or `und`).
    Lang,
    /// Country (ISO 3166-1 alpha-2): the platform's, else an inferred one sure enough (see
    /// [`crate::places`]).
    Country,
    /// City, compared by the gazetteer's name (`city:München` is `city:Munich`).
    City,
    /// Source platform name.
    Source,
    /// `public` or `private`.
    Visibility,
    /// Kind of message.
    Kind,
    /// Author handle, id or display name.
    Author,
    /// Domain of the mention's URL (matches subdomains too).
    Site,
    /// Verified author: `true` or `false`.
    Verified,
    /// The mention's address: a domain (subdomains too) and a path (`example.com/news`).
    Url,
    /// A link written in the mention's title or text, as a domain and a path like [`Field::Url`].
    Links,
}

impl Field {
    const ALL: [Field; 11] = [
        Field::Lang,
        Field::Country,
        Field::City,
        Field::Source,
        Field::Visibility,
        Field::Kind,
        Field::Author,
        Field::Site,
        Field::Verified,
        Field::Url,
        Field::Links,
    ];

    /// The field's name in queries (`lang`, `site`, …).
    pub fn name(self) -> &'static str {
        match self {
            Field::Lang => "lang",
            Field::Country => "country",
            Field::City => "city",
            Field::Source => "source",
            Field::Visibility => "visibility",
            Field::Kind => "kind",
            Field::Author => "author",
            Field::Site => "site",
            Field::Verified => "verified",
            Field::Url => "url",
            Field::Links => "links",
        }
    }

    /// Other names the field is known by in queries, as the listening tools write them.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Lang => &["language"],
            Field::Verified => &["authorVerified"],
            _ => &[],
        }
    }

    /// What a value of this field looks like, for error messages.
    pub fn expected(self) -> &'static str {
        match self {
            Field::Lang => "an ISO 639-1 code such as fr, or und",
            Field::Country => "an ISO 3166-1 code such as FR or FRA",
            Field::City => "a city name such as Lyon or \"New York\"",
            Field::Source => "a source such as x, facebook, news, review, whatsapp",
            Field::Visibility => "public or private",
            Field::Kind => "post, comment, reply, review, article or direct_message",
            Field::Author => "a handle, author id or display name",
            Field::Site => "a domain such as example.com",
            Field::Verified => "true or false",
            Field::Url | Field::Links => "a domain and an optional path such as example.com/news",
        }
    }

    /// The field named `name` or one of its [aliases](Field::aliases), whatever the case.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| {
            f.name().eq_ignore_ascii_case(name) || f.aliases().iter().any(|a| a.eq_ignore_ascii_case(name))
        })
    }

    /// Every field, for error messages that list them.
    pub fn all() -> impl Iterator<Item = Field> {
        Field::ALL.into_iter()
    }
}

/// `"https://www.news.example.com/a"` → `["news.example.com", "example.com"]`: every parent
/// domain, the bare top-level domain left out. A mention's URL and a query's `site:` value are
/// both reduced this way, so they compare.
pub fn site_suffixes(url: &str) -> Vec<String> {
    url_parts(url).0
}

/// An address as [`Field::Url`] and [`Field::Links`] compare it: the [site
/// suffixes](site_suffixes) of its host, and its path in lower case without the query, the
/// fragment or a final `/` (`"https://www.Example.com/News/?a"` → `(["example.com"], "/news")`).
pub fn url_parts(url: &str) -> (Vec<String>, String) {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (host, tail) = rest.split_at(end);
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or("").to_ascii_lowercase();
    let host = host.trim_start_matches("www.");
    let parts: Vec<&str> = host.split('.').filter(|p| !p.is_empty()).collect();
    let suffixes = (0..parts.len().saturating_sub(1))
        .map(|i| parts[i..].join("."))
        .collect();
    let path = tail.split(['?', '#']).next().unwrap_or("");
    (suffixes, path.trim_end_matches('/').to_lowercase())
}

/// Whether the path of an address is `query`'s path or below it, segment by segment
/// (`/news` covers `/news` and `/news/a`, not `/newsletter`); an empty `query` covers all.
pub fn path_within(path: &str, query: &str) -> bool {
    path.strip_prefix(query)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The ISO 3166-1 alpha-2 code (lower case) for an alpha-2 or alpha-3 code in any case
/// (`FR`, `fra` → `fr`); `uk` is read as `gb` (its exceptional reservation) and `xk`/`xkx`
/// (Kosovo, user-assigned but in wide use) are accepted. `None` for anything else.
pub fn country_code(code: &str) -> Option<String> {
    let code = code.to_ascii_lowercase();
    if !code.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    match code.as_str() {
        "uk" => return Some("gb".into()),
        "xk" | "xkx" => return Some("xk".into()),
        _ => {}
    }
    let mut records = ALPHA3.split(' ');
    match code.len() {
        2 => records
            .map(|r| &r[3..])
            .find(|a2| *a2 == code)
            .map(str::to_string),
        3 => records.find(|r| r[..3] == code).map(|r| r[3..].to_string()),
        _ => None,
    }
}

/// ISO 3166-1: each country's alpha-3 code followed by its alpha-2 code, sorted by alpha-3.
const ALPHA3: &str = "\
    abwaw afgaf agoao aiaai alaax albal andad areae argar armam asmas ataaq atftf atgag ausau \
    autat azeaz bdibi belbe benbj besbq bfabf bgdbd bgrbg bhrbh bhsbs bihba blmbl blrby blzbz \
    bmubm bolbo brabr brbbb brnbn btnbt bvtbv bwabw cafcf canca cckcc chech chlcl chncn civci \
    cmrcm codcd cogcg cokck colco comkm cpvcv cricr cubcu cuwcw cxrcx cymky cypcy czecz deude \
    djidj dmadm dnkdk domdo dzadz ecuec egyeg erier esheh espes estee ethet finfi fjifj flkfk \
    frafr frofo fsmfm gabga gbrgb geoge ggygg ghagh gibgi gingn glpgp gmbgm gnbgw gnqgq grcgr \
    grdgd grlgl gtmgt gufgf gumgu guygy hkghk hmdhm hndhn hrvhr htiht hunhu idnid imnim indin \
    iotio irlie irnir irqiq islis isril itait jamjm jeyje jorjo jpnjp kazkz kenke kgzkg khmkh \
    kirki knakn korkr kwtkw laola lbnlb lbrlr lbyly lcalc lieli lkalk lsols ltult luxlu lvalv \
    macmo mafmf marma mcomc mdamd mdgmg mdvmv mexmx mhlmh mkdmk mliml mltmt mmrmm mneme mngmn \
    mnpmp mozmz mrtmr msrms mtqmq musmu mwimw mysmy mytyt namna nclnc nerne nfknf ngang nicni \
    niunu nldnl norno nplnp nrunr nzlnz omnom pakpk panpa pcnpn perpe phlph plwpw pngpg polpl \
    pripr prkkp prtpt prypy pseps pyfpf qatqa reure rouro rusru rwarw sausa sdnsd sensn sgpsg \
    sgsgs shnsh sjmsj slbsb slesl slvsv smrsm somso spmpm srbrs ssdss stpst sursr svksk svnsi \
    swese swzsz sxmsx sycsc syrsy tcatc tcdtd tgotg thath tjktj tkltk tkmtm tlstl tonto ttott \
    tuntn turtr tuvtv twntw tzatz ugaug ukrua umium uryuy usaus uzbuz vatva vctvc venve vgbvg \
    virvi vnmvn vutvu wlfwf wsmws yemye zafza zmbzm zwezw";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_suffixes_cover_subdomains() {
        assert_eq!(
            site_suffixes("https://www.news.example.com:443/a?b"),
            ["news.example.com", "example.com"]
        );
        assert!(site_suffixes("").is_empty());
    }

    #[test]
    fn url_parts_keep_the_path() {
        assert_eq!(
            url_parts("https://www.MSN.com/News/?x=1#top"),
            (vec!["msn.com".to_string()], "/news".to_string())
        );
        assert_eq!(url_parts("msn.com/news/a").1, "/news/a");
        assert!(path_within("/news/a", "/news") && path_within("/news", "/news"));
        assert!(!path_within("/newsletter", "/news") && path_within("/x", ""));
    }

    #[test]
    fn field_names_round_trip() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        assert_eq!(Field::from_name("title"), None);
        assert_eq!(Field::from_name("Language"), Some(Field::Lang));
        assert_eq!(Field::from_name("authorverified"), Some(Field::Verified));
    }

    #[test]
    fn countries_are_read_from_alpha_2_or_alpha_3() {
        assert_eq!(ALPHA3.split(' ').count(), 249);
        assert!(ALPHA3.split(' ').all(|r| r.len() == 5));
        let mut sorted: Vec<&str> = ALPHA3.split(' ').collect();
        sorted.sort();
        assert_eq!(sorted.join(" "), ALPHA3, "sorted by alpha-3");
        assert_eq!(country_code("GBR").as_deref(), Some("gb"));
        assert_eq!(country_code("fra").as_deref(), Some("fr"));
        assert_eq!(country_code("DE").as_deref(), Some("de"));
        assert_eq!(country_code("uk").as_deref(), Some("gb"));
        assert_eq!(country_code("zz"), None);
        assert_eq!(country_code("europe"), None);
    }

    #[test]
    fn patterns_match_one_character_per_question_mark_and_anything_for_the_star() {
        let p = |s: &str| Pattern::new(s, String::new()).unwrap();
        assert!(p("customi?e").matches("customise") && p("customi?e").matches("customize"));
        assert!(!p("customi?e").matches("customie") && !p("customi?e").matches("customised"));
        assert!(p("colo*r").matches("color") && p("colo*r").matches("colour"));
        assert!(!p("colo*r").matches("colors") && !p("colo*r").matches("colr"));
        assert!(p("bel??ve").matches("believe") && !p("bel??ve").matches("beleve"));
        assert!(p("caf?").matches("café") && p("s?c*").matches("sécurité"));
        assert!(Pattern::new("a*b*", String::new()).is_none());
        assert_eq!(p("colo*r").to_string(), "colo*r");
    }
}
