use super::*;
use crate::proto::Author;

/// The crafted profile locations (`core/data/places/profiles.tsv`, written before the rules,
/// which were then changed on what it showed).
const PROFILES: &str = include_str!("../../data/places/profiles.tsv");
/// More of them (`profiles_second.tsv`), written after the first run and before any change.
const SECOND: &str = include_str!("../../data/places/profiles_second.tsv");

/// Location, country, city.
fn profiles(set: &'static str) -> Vec<(&'static str, &'static str, &'static str)> {
    set.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let mut cols = l.split('\t');
            let location = cols.next().unwrap_or("");
            (location, cols.next().unwrap_or(""), cols.next().unwrap_or(""))
        })
        .collect()
}

/// Country and city accuracy on the crafted profile locations (a place counts when it is
/// [filterable](Place::filterable)).
pub(crate) fn profile_accuracy(set: &'static str) -> (usize, usize, usize, usize, Vec<String>) {
    let (mut country_ok, mut city_ok, mut with_city, mut misses) = (0, 0, 0, Vec::new());
    let rows = profiles(set);
    for (location, country, city) in &rows {
        let p = from_profile(location);
        let got = if p.filterable() { p.country.as_str() } else { "" };
        if got == *country {
            country_ok += 1;
        } else {
            misses.push(format!(
                "{location:?}: {got:?} ({:.2}), expected {country:?}",
                p.confidence
            ));
        }
        if !city.is_empty() {
            with_city += 1;
            if got == *country && p.city == *city {
                city_ok += 1;
            } else {
                misses.push(format!("{location:?}: city {:?}, expected {city:?}", p.city));
            }
        }
    }
    (country_ok, rows.len(), city_ok, with_city, misses)
}

fn check(set: &'static str, least: usize, floor: f64) {
    let (country_ok, n, city_ok, with_city, misses) = profile_accuracy(set);
    let (country, city) = (country_ok as f64 / n as f64, city_ok as f64 / with_city as f64);
    println!("country {country_ok}/{n} ({country:.3}), city {city_ok}/{with_city} ({city:.3})");
    for m in &misses {
        println!("  {m}");
    }
    assert!(n >= least, "{n} crafted locations");
    assert!(country >= floor, "country accuracy {country:.3}: {misses:#?}");
    assert!(city >= floor - 0.05, "city accuracy {city:.3}: {misses:#?}");
}

#[test]
fn crafted_profile_locations_resolve_to_their_country_and_city() {
    check(PROFILES, 130, 0.95);
}

#[test]
fn a_second_crafted_set_written_before_any_tuning_resolves_too() {
    check(SECOND, 90, 0.9);
}

#[test]
fn ambiguous_names_follow_the_other_segments() {
    let p = from_profile("Paris, TX");
    assert_eq!((p.country.as_str(), p.city.as_str()), ("US", "Paris"));
    let p = from_profile("Paris");
    assert_eq!((p.country.as_str(), p.city.as_str()), ("FR", "Paris"));
    assert!(p.confidence > 0.8 && p.confidence < 0.95, "{}", p.confidence);
    assert_eq!(from_profile("Tbilisi, Georgia").country, "GE");
    assert_eq!(from_profile("Atlanta, Georgia").country, "US");
    assert_eq!(from_profile("🇧🇪").country, "BE");
    // Codes count in capitals only: "in" is not India, "ca" not Canada.
    assert_eq!(from_profile("in").country, "");
    assert_eq!(from_profile("ca va").country, "");
    assert_eq!(from_profile("somewhere").country, "");
}

#[test]
fn the_platform_country_comes_first_and_the_profile_adds_its_city() {
    let mut m = Mention {
        country: "fr".into(),
        author: Some(Author {
            location: "Lyon, France".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let p = infer(&m);
    assert_eq!(
        (p.country.as_str(), p.city.as_str(), p.source),
        ("FR", "Lyon", PlaceSource::Platform)
    );
    assert_eq!(p.confidence, 1.0);
    // A profile elsewhere gives no city to the platform's country.
    m.country = "BE".into();
    assert_eq!(infer(&m).city, "");
    // The platform's city is named as the gazetteer names it.
    m.city = "Bruxelles".into();
    assert_eq!(infer(&m).city, "Brussels");
    m.country.clear();
    m.city.clear();
    assert_eq!(infer(&m).source, PlaceSource::Profile);
}

#[test]
fn addresses_and_texts_give_weaker_places() {
    let place = from_url("https://www.lemonde.fr/economie/article").unwrap();
    assert_eq!((place.country.as_str(), place.confidence), ("FR", 0.6));
    assert_eq!(from_url("https://news.bbc.co.uk/x").unwrap().country, "GB");
    assert!(from_url("https://youtu.be/abc").is_none(), "a shortener");
    assert!(from_url("https://example.io/").is_none(), "a generic ccTLD");
    assert!(from_url("https://x.com/a/status/1").is_none());
    let t = from_text("Trois heures d'attente à Lyon Part-Dieu, merci la SNCF");
    assert_eq!(
        (t.country.as_str(), t.city.as_str(), t.source),
        ("FR", "Lyon", PlaceSource::Text)
    );
    assert!(t.confidence < 0.6, "{}", t.confidence);
    assert_eq!(from_text("Worst service ever in the UK").country, "GB");
    assert_eq!(from_text("in love with this phone").country, "");
    assert_eq!(from_text("Lyon is great").country, "", "no preposition, no place");
}

#[test]
fn city_filters_compare_the_gazetteer_names() {
    assert_eq!(city_keys("München"), ["munich", "munchen"]);
    assert_eq!(city_keys("MUNICH")[0], "munich");
    assert!(city_keys("Saint Etienne").contains(&"saint etienne".to_string()));
    assert_eq!(city_keys("Trifouilly-les-Oies"), ["trifouilly les oies"]);
    // The platform's "St Petersburg" in Russia is stored under the gazetteer's name there,
    // and a filter on the same words reaches it.
    let stored = key(&canonical_city("St Petersburg", "RU"));
    assert!(
        city_keys("St Petersburg").contains(&stored),
        "{stored} in {:?}",
        city_keys("St Petersburg")
    );
}

#[test]
fn texts_give_filterable_places_only_by_a_country_name() {
    assert!(from_text("Grosse panne en France ce matin").filterable());
    assert!(from_text("deliveries in the UK are slow").filterable());
    for text in [
        "I work in IT",
        "en DM svp",
        "see you in March",
        "au Carrefour du coin",
        "at Google today",
    ] {
        let p = from_text(text);
        assert!(!p.filterable(), "{text}: {p:?}");
    }
    // 🇪🇺 is not a country.
    assert_eq!(from_profile("🇪🇺").country, "");
    assert_eq!(from_profile("Paris 🇪🇺").country, "FR");
}
