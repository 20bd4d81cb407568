//! Where a mention comes from, when the platform does not say: the country (and the city where
//! it is clear) inferred from the author's profile location, the domain of the mention's
//! address, or the text, with a confidence. Filters (`country:`, `city:`, a watch's countries)
//! read the platform's country when there is one, else an inferred place at least
//! [`FILTER_CONFIDENCE`] sure.
//!
//! A profile location is cut into segments (`"Austin, TX"` → `Austin` | `TX`); each segment,
//! or failing that each run of words starting with a capital, is looked up in the
//! gazetteer (`core/data/places/gazetteer.tsv`). Every name found votes for countries: a flag emoji, a country or a
//! subdivision name 3 votes, shared between the countries it may mean (`Georgia`: GE and US);
//! a city name 1 vote, shared in proportion to the population of the cities so called (`Paris`:
//! France 0.99, the United States 0.01); a city's own name outranks another city's alternate
//! name. The country with most votes wins; its confidence is its share of the votes, times
//! 0.95 when a country-level name supports it and 0.85 on city names alone. The city is the
//! first city named in that country (the largest of that name). A domain's country code gives
//! 0.6. A place named after a locative preposition in the text ("en France", "in the UK") gives
//! 0.6 × the above when a country's name (or UK, US, USA, UAE, RDC, DRC, EEUU, EAU, KSA) says
//! it, and at most 0.45 otherwise, below [`FILTER_CONFIDENCE`]: "in March", "au Carrefour" are
//! also cities somewhere.

mod gazetteer;

pub use gazetteer::key;
use gazetteer::{in_capitals, Entry, Gazetteer};

use crate::proto::{self, Mention};

/// An inferred place at least this sure counts for filters.
pub const FILTER_CONFIDENCE: f32 = 0.5;

/// Where a place was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PlaceSource {
    /// No place is known.
    #[default]
    None,
    /// The platform's country (and city).
    Platform,
    /// The author's profile location.
    Profile,
    /// The country code of the mention's address.
    Url,
    /// A place named in the text.
    Text,
}

impl PlaceSource {
    /// The name stored in ClickHouse and the enriched record.
    pub fn name(self) -> &'static str {
        match self {
            PlaceSource::None => "",
            PlaceSource::Platform => "platform",
            PlaceSource::Profile => "profile",
            PlaceSource::Url => "url",
            PlaceSource::Text => "text",
        }
    }

    /// The source [named](PlaceSource::name) `name` (`None` for anything else).
    pub fn from_name(name: &str) -> PlaceSource {
        match name {
            "platform" => PlaceSource::Platform,
            "profile" => PlaceSource::Profile,
            "url" => PlaceSource::Url,
            "text" => PlaceSource::Text,
            _ => PlaceSource::None,
        }
    }
}

/// A mention's place.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Place {
    /// ISO 3166-1 alpha-2, upper case; empty when unknown.
    pub country: String,
    /// The gazetteer's name of the city (or the platform's); empty when unknown or unclear.
    pub city: String,
    /// How sure the inference is, in [0, 1].
    pub confidence: f32,
    /// Where it was read.
    pub source: PlaceSource,
}

impl Place {
    /// Whether filters read this place (the platform's, or inferred sure enough).
    pub fn filterable(&self) -> bool {
        !self.country.is_empty() && self.confidence >= FILTER_CONFIDENCE
    }

    /// The wire form.
    pub fn into_proto(self) -> proto::Place {
        proto::Place {
            country: self.country,
            city: self.city,
            confidence: self.confidence,
            source: self.source.name().to_string(),
        }
    }

    /// The place the platform gave, without inference (the country is validated by ingest).
    pub fn given(m: &Mention) -> Place {
        if m.country.len() != 2 {
            return Place::default();
        }
        let country = m.country.to_ascii_uppercase();
        let city = canonical_city(&m.city, &country);
        Place {
            country,
            city,
            confidence: 1.0,
            source: PlaceSource::Platform,
        }
    }
}

/// The mention's place: the platform's country (with the platform's city, or the profile's
/// when it lies in that country), else the profile location's, the address's, the text's.
pub fn infer(m: &Mention) -> Place {
    let location = m.author.as_ref().map_or("", |a| a.location.as_str());
    if m.country.len() == 2 {
        let mut place = Place::given(m);
        if place.city.is_empty() {
            let profile = from_profile(location);
            if profile.country == place.country {
                place.city = profile.city;
            }
        }
        return place;
    }
    if !m.city.is_empty() {
        let mut place = from_profile(&m.city);
        if !place.country.is_empty() {
            place.source = PlaceSource::Platform;
            return place;
        }
    }
    let profile = from_profile(location);
    if !profile.country.is_empty() {
        return profile;
    }
    if let Some(place) = from_url(&m.url) {
        return place;
    }
    let text = from_text(&m.text);
    if text.country.is_empty() {
        from_text(&m.title)
    } else {
        text
    }
}

/// The gazetteer's name of a city called `name` in `country` (`"München"` → `"Munich"`), or
/// `name` as written when the gazetteer does not know it there.
pub fn canonical_city(name: &str, country: &str) -> String {
    let name = name.trim();
    if name.is_empty() {
        return String::new();
    }
    let cc = match country.as_bytes() {
        [a, b] => Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()]),
        _ => None,
    };
    Gazetteer::get().city_name(name, cc).unwrap_or(name).to_string()
}

/// What a `city:` filter compares: the [key]s of the gazetteer's names of every city called
/// `name` (its own name or an alternate one, in any country: `München` is Munich), largest
/// first, at most 8, and the key of `name` itself (a platform's city the gazetteer does not
/// know). A document stores the key of its city's gazetteer name, so either side agrees.
pub fn city_keys(name: &str) -> Vec<String> {
    let g = Gazetteer::get();
    let mut keys: Vec<String> = Vec::new();
    for c in g.cities_called(name).take(8) {
        let k = key(c);
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    let own = key(name);
    if !own.is_empty() && !keys.contains(&own) {
        keys.push(own);
    }
    keys
}

/// The names read in a location or a text, and the countries they vote for.
#[derive(Default)]
struct Votes {
    /// Flag emojis' countries.
    flags: Vec<[u8; 2]>,
    /// What each name read designates, in the order read.
    names: Vec<Vec<Entry>>,
}

impl Votes {
    fn name(&mut self, entries: Vec<Entry>) {
        self.names.push(entries);
    }

    /// Counts the votes (see the module documentation) and picks the country and the city.
    fn place(self, g: &Gazetteer, factor: f32, source: PlaceSource) -> Place {
        let mut votes: Vec<([u8; 2], f32)> = Vec::new();
        fn vote(votes: &mut Vec<([u8; 2], f32)>, cc: [u8; 2], w: f32) {
            match votes.iter_mut().find(|(c, _)| *c == cc) {
                Some((_, v)) => *v += w,
                None => votes.push((cc, w)),
            }
        }
        let mut strong: Vec<[u8; 2]> = Vec::new();
        for &cc in &self.flags {
            vote(&mut votes, cc, 3.0);
            strong.push(cc);
        }
        // First the cities: 1 vote per name, shared by population.
        let mut named: Vec<Vec<u32>> = Vec::new();
        for entries in &self.names {
            let city = |alias: bool| {
                entries.iter().filter_map(move |e| match e {
                    Entry::City { index, alias: a } if *a == alias => Some(*index),
                    _ => None,
                })
            };
            let mut cities: Vec<u32> = city(false).collect();
            if cities.is_empty() {
                cities = city(true).collect();
            }
            let total: u64 = cities
                .iter()
                .map(|&i| g.cities[i as usize].population.max(1))
                .sum();
            for &i in &cities {
                let c = &g.cities[i as usize];
                vote(
                    &mut votes,
                    c.country,
                    c.population.max(1) as f32 / total.max(1) as f32,
                );
            }
            // "Luxembourg", "Singapore": the country, not its capital.
            cities.retain(|&i| !entries.contains(&Entry::Country(g.cities[i as usize].country)));
            named.push(cities);
        }
        let seen: Vec<[u8; 2]> = votes.iter().map(|(c, _)| *c).collect();
        // Then countries and subdivisions: 3 votes per name, for the countries the cities
        // already named when it can mean one of them ("Atlanta, Georgia"), else for countries
        // before subdivisions ("Georgia" alone, "UK": the country, not Uttarakhand).
        for entries in &self.names {
            let city_in = |cc: [u8; 2]| {
                entries.iter().any(
                    |e| matches!(e, Entry::City { index, .. } if g.cities[*index as usize].country == cc),
                )
            };
            let mut places: Vec<([u8; 2], f32)> = Vec::new();
            for e in entries {
                let (cc, w) = match e {
                    Entry::Country(cc) => (*cc, 3.0),
                    // A city's name is not also read as its département or province ("Paris").
                    Entry::Region(cc) if !city_in(*cc) => (*cc, 1.0),
                    _ => continue,
                };
                if !places.iter().any(|(c, _)| *c == cc) {
                    places.push((cc, w));
                }
            }
            if places.iter().any(|(c, _)| seen.contains(c)) {
                places.retain(|(c, _)| seen.contains(c));
                places.iter_mut().for_each(|(_, w)| *w = 1.0);
            }
            let total: f32 = places.iter().map(|(_, w)| w).sum();
            for (cc, w) in places {
                vote(&mut votes, cc, 3.0 * w / total);
                strong.push(cc);
            }
        }
        let total: f32 = votes.iter().map(|(_, w)| w).sum();
        let mut best: Option<([u8; 2], f32)> = None;
        for &(cc, w) in &votes {
            if best.is_none_or(|(_, b)| w > b) {
                best = Some((cc, w));
            }
        }
        let Some((cc, w)) = best else {
            return Place::default();
        };
        let base = if strong.contains(&cc) { 0.95 } else { 0.85 };
        // The first city named in that country ("Lyon • Paris": Lyon), the largest of its name.
        let city = named
            .iter()
            .find_map(|cities| {
                cities
                    .iter()
                    .map(|&i| &g.cities[i as usize])
                    .filter(|c| c.country == cc)
                    .max_by_key(|c| c.population)
            })
            .map(|c| c.name.clone())
            .unwrap_or_default();
        Place {
            country: String::from_utf8_lossy(&cc).into_owned(),
            city,
            confidence: base * w / total * factor,
            source,
        }
    }
}

/// A flag emoji's country (two regional indicator symbols).
fn flags(s: &str, votes: &mut Votes) {
    let indicator = |c: char| {
        let v = c as u32;
        (0x1F1E6..=0x1F1FF)
            .contains(&v)
            .then(|| b'A' + (v - 0x1F1E6) as u8)
    };
    let mut pending: Option<u8> = None;
    for c in s.chars() {
        match (indicator(c), pending) {
            (Some(b), Some(a)) => {
                // 🇪🇺 and 🇺🇳 are flags, not countries.
                let cc = [a, b];
                let code = [a.to_ascii_lowercase(), b.to_ascii_lowercase()];
                let name = std::str::from_utf8(&code).unwrap_or("");
                if Gazetteer::get().lookup(name, true).contains(&Entry::Country(cc)) {
                    votes.flags.push(cc);
                }
                pending = None;
            }
            (Some(a), None) => pending = Some(a),
            (None, _) => pending = None,
        }
    }
}

fn capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// The words of `s` (runs of letters and digits), as written.
fn words(s: &str) -> impl Iterator<Item = &str> + Clone {
    s.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// Names longer than this many words are only read as a whole segment.
const MAX_NAME_WORDS: usize = 5;

/// Words as written and their [key]s, the keys joined by single spaces in one string so that
/// the key of a run of words is a slice of it (no allocation per lookup).
#[derive(Default)]
struct Keyed<'a> {
    raw: Vec<&'a str>,
    key: String,
    spans: Vec<(usize, usize)>,
}

impl<'a> Keyed<'a> {
    fn new(words: impl Iterator<Item = &'a str>) -> Self {
        let mut k = Keyed::default();
        for w in words {
            let start = k.key.len() + usize::from(!k.key.is_empty());
            if !k.key.is_empty() {
                k.key.push(' ');
            }
            crate::text::normalize_into(w, &mut k.key);
            if k.key.len() == start {
                k.key.truncate(start.saturating_sub(1));
                continue;
            }
            k.raw.push(w);
            k.spans.push((start, k.key.len()));
        }
        k
    }

    /// The key of words `i..i + n`.
    fn run(&self, i: usize, n: usize) -> &str {
        &self.key[self.spans[i].0..self.spans[i + n - 1].1]
    }
}

/// Ordinary words that are also place names ("Sur" in Oman): not read as one within a longer
/// location or a text.
const ORDINARY: &[&str] = &[
    "sur", "los", "las", "del", "des", "the", "and", "une", "der", "die", "das", "und", "per", "por", "para",
    "con", "avec", "chez", "mon", "mes", "bio", "link", "online", "home", "love", "life", "god", "city",
    "world", "earth", "moon", "lune", "ici", "here", "there", "nowhere", "dans", "from", "near", "best",
    "good", "nice", "mobile", "orange", "reading", "split", "hope",
];

/// Looks up the longest name starting at word `i` when it is capitalised, and votes for it;
/// the number of words it spans, 0 when none. Without `aliases`, a city's alternate names are
/// not read (in a text, "Google" is not Topeka).
fn name_at(g: &Gazetteer, words: &Keyed, i: usize, votes: &mut Votes, aliases: bool) -> usize {
    if !capitalised(words.raw[i]) {
        return 0;
    }
    for n in (1..=MAX_NAME_WORDS.min(words.raw.len() - i)).rev() {
        let k = words.run(i, n);
        if k.len() < 3 || (n == 1 && ORDINARY.contains(&k)) {
            continue;
        }
        if let Some(entries) = g.names_of(k) {
            let entries: Vec<Entry> = entries
                .iter()
                .copied()
                .filter(|e| aliases || !matches!(e, Entry::City { alias: true, .. }))
                .collect();
            if !entries.is_empty() {
                votes.name(entries);
                return n;
            }
        }
    }
    0
}

/// Votes for the names starting at capitalised words, at most `max` of them.
fn names_in(g: &Gazetteer, words: &Keyed, votes: &mut Votes, max: usize) {
    let (mut i, mut found) = (0, 0);
    while i < words.raw.len() && found < max {
        match name_at(g, words, i, votes, true) {
            0 => i += 1,
            n => (i, found) = (i + n, found + 1),
        }
    }
}

/// Where a profile location is cut into segments (a hyphen only with spaces around it: names
/// hold hyphens, "Saint-Étienne").
const SEPARATORS: &[char] = &[
    ',', ';', '/', '|', '(', ')', '[', ']', '•', '·', '&', '+', '\n', '–', '—',
];

/// The place a profile location names (`"Lyon 🇫🇷"`, `"Austin, TX"`, `"München"`), or none.
pub fn from_profile(location: &str) -> Place {
    let location = location.trim();
    if location.is_empty() {
        return Place::default();
    }
    let g = Gazetteer::get();
    let mut votes = Votes::default();
    flags(location, &mut votes);
    for segment in location.split(SEPARATORS).flat_map(|s| s.split(" - ")) {
        let segment = segment.trim();
        let ws = Keyed::new(words(segment));
        if ws.raw.is_empty() {
            continue;
        }
        // The whole segment is a name ("Saint-Étienne", "TX", "Île-de-France").
        let k = ws.key.as_str();
        let caps = in_capitals(segment);
        if k.len() >= 3 || caps {
            let entries = g.lookup(k, caps);
            if !entries.is_empty() && (caps || k.len() > 3 || capitalised(ws.raw[0])) {
                votes.name(entries);
                continue;
            }
        }
        names_in(g, &ws, &mut votes, 4);
    }
    votes.place(g, 1.0, PlaceSource::Profile)
}

/// Country-code domains used for something else than their country.
const GENERIC_TLDS: &[&str] = &[
    "io", "co", "tv", "me", "ai", "ly", "fm", "gg", "to", "cc", "ws", "nu", "tk", "ml", "ga", "cf", "gq",
    "am", "sh", "ac", "im", "is", "la", "md", "vc", "xyz", "app", "dev",
];

/// Link shorteners and platform hosts whose country code says nothing of the author.
const SHORTENERS: &[&str] = &[
    "youtu.be",
    "goo.gl",
    "lnkd.in",
    "dlvr.it",
    "amzn.eu",
    "redd.it",
    "instagr.am",
    "t.me",
    "wa.me",
    "spoti.fi",
    "apple.co",
    "ift.tt",
    "trib.al",
    "pin.it",
    "shorturl.at",
    "linktr.ee",
    "notion.so",
    "is.gd",
    "v.gd",
    "flic.kr",
    "s.id",
    "qr.ae",
    "bit.do",
    "rb.gy",
    "t.ly",
];

/// The country of the address's country-code domain (`lemonde.fr` → FR, `bbc.co.uk` → GB).
pub fn from_url(url: &str) -> Option<Place> {
    if url.is_empty() {
        return None;
    }
    let (hosts, _) = crate::vocabulary::url_parts(url);
    let host = hosts.first()?;
    if SHORTENERS.contains(&host.as_str()) {
        return None;
    }
    let tld = host.rsplit('.').next()?;
    if tld.len() != 2 || GENERIC_TLDS.contains(&tld) {
        return None;
    }
    let cc = if tld == "uk" {
        "GB".to_string()
    } else {
        tld.to_ascii_uppercase()
    };
    let known = Gazetteer::get()
        .lookup(&cc.to_ascii_lowercase(), true)
        .iter()
        .any(|e| matches!(e, Entry::Country(c) if c == cc.as_bytes()));
    known.then(|| Place {
        country: cc,
        city: String::new(),
        confidence: 0.6,
        source: PlaceSource::Url,
    })
}

/// Locative prepositions (and contractions) a place name follows in French, English, Spanish,
/// German, Italian, Portuguese and Dutch.
/// ("from" and "da" are left out: "a message from Jordan" is a person.)
const LOCATIVES: &[&str] = &[
    "à", "au", "aux", "en", "depuis", "vers", "in", "at", "near", "desde", "aus", "bei", "nach", "em", "no",
    "na", "nel", "nella", "uit", "te", "dans",
];

/// The codes read in a text: the ones people write for a country ("in the UK", "aux USA").
const TEXT_CODES: &[&str] = &["UK", "USA", "US", "UAE", "RDC", "DRC", "EEUU", "EAU", "KSA"];

/// Articles a place name may follow after the preposition ("in the UK", "dans le Var").
const ARTICLES: &[&str] = &["the", "le", "la", "les", "l", "el", "der", "dem", "den"];

/// The place named after a locative preposition in `text` ("en France", "in the UK"): 0.6 × as
/// sure as the same name in a profile when a country's name says it, at most 0.45 otherwise.
pub fn from_text(text: &str) -> Place {
    // Nearly every text has a locative: only one followed by a capitalised word costs a lookup,
    // and the words are not collected unless one is.
    let mut ws = words(text).peekable();
    let g = Gazetteer::get();
    let mut votes = Votes::default();
    let mut found = 0;
    let mut window: Vec<&str> = Vec::new();
    while let Some(w) = ws.next() {
        if found == 3 {
            break;
        }
        if !one_of(w, LOCATIVES) {
            continue;
        }
        if ws.peek().is_some_and(|next| one_of(next, ARTICLES)) {
            ws.next();
        }
        let Some(&next) = ws.peek() else { break };
        if !capitalised(next) {
            continue;
        }
        // Codes after "in" are rarely places ("in IT", "en DM"): only these are read, as the
        // country (not Uttarakhand's "UK"). Other words in capitals are read as names ("MADE
        // IN PERU"; names of fewer than 3 letters are not).
        if TEXT_CODES.contains(&next) {
            let countries: Vec<Entry> = g
                .lookup(&key(next), true)
                .into_iter()
                .filter(|e| matches!(e, Entry::Country(_)))
                .collect();
            if !countries.is_empty() {
                votes.name(countries);
                found += 1;
            }
            ws.next();
            continue;
        }
        window.clear();
        window.extend(ws.clone().take(MAX_NAME_WORDS));
        let keyed = Keyed::new(window.iter().copied());
        if !keyed.raw.is_empty() {
            let n = name_at(g, &keyed, 0, &mut votes, false);
            if n > 0 {
                found += 1;
                for _ in 0..n {
                    ws.next();
                }
            }
        }
    }
    let countries_named: Vec<[u8; 2]> = votes
        .names
        .iter()
        .flatten()
        .filter_map(|e| match e {
            Entry::Country(cc) => Some(*cc),
            _ => None,
        })
        .collect();
    let mut place = votes.place(g, 0.6, PlaceSource::Text);
    if !countries_named.iter().any(|cc| cc == place.country.as_bytes()) {
        place.confidence = place.confidence.min(TEXT_WITHOUT_COUNTRY);
    }
    place
}

/// The most a text gives a place no country's name supports: below [`FILTER_CONFIDENCE`].
const TEXT_WITHOUT_COUNTRY: f32 = 0.45;

/// Whether `word` is one of `list` (lower-case words of at most 7 bytes), whatever its ASCII
/// case, without allocating.
fn one_of(word: &str, list: &[&str]) -> bool {
    let bytes = word.as_bytes();
    if bytes.len() > 7 {
        return false;
    }
    let mut lower = [0u8; 7];
    for (l, b) in lower.iter_mut().zip(bytes) {
        *l = b.to_ascii_lowercase();
    }
    let lower = &lower[..bytes.len()];
    list.iter().any(|p| p.as_bytes() == lower)
}

#[cfg(test)]
mod tests;
