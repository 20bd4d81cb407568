//! The query language end to end: parsing, refusals and evaluation against documents.

use super::*;
use crate::document::Document;
use crate::proto::{Author, Mention, Source};

fn m(q: &str, text: &str) -> bool {
    Query::parse(q)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .matches(&Document::from_text(text))
}

fn doc(title: &str, text: &str, source: Source, followers: u64, url: &str) -> Document {
    let mention = Mention {
        text: text.into(),
        title: title.into(),
        source: source as i32,
        kind: crate::proto::Kind::Article as i32,
        visibility: crate::proto::Visibility::Public as i32,
        url: url.into(),
        country: "FR".into(),
        author: Some(Author {
            handle: "Jean_Dupont".into(),
            followers,
            verified: true,
            ..Default::default()
        }),
        ..Default::default()
    };
    Document::from_mention(&mention, "fr")
}

#[test]
fn terms_are_case_and_accent_insensitive() {
    assert!(m("securite", "Problème de SÉCURITÉ chez Acme"));
    assert!(m("aime", "j'aime pas du tout"));
    assert!(!m("aime", "aimer"));
    assert!(m("aim*", "aimer"));
    assert!(m("=Orange", "Mon forfait Orange"));
    assert!(!m("=Orange", "une orange pressée"));
    assert!(m("=\"Crédit Agricole\"", "le Crédit Agricole ferme"));
    assert!(!m("=\"Crédit Agricole\"", "le credit agricole ferme"));
}

#[test]
fn boolean_operators_and_phrases() {
    assert!(m(
        "acme AND (malade OR intoxication)",
        "Intoxication après un menu Acme"
    ));
    assert!(!m("acme AND (malade OR intoxication)", "menu Acme délicieux"));
    assert!(m("acme -promo", "acme en panne"));
    assert!(!m("acme -promo", "acme promo du jour"));
    assert!(!m("acme NOT promo", "acme promo du jour"));
    assert!(m(
        "\"service client\" acme",
        "le Service-Client d'Acme ne répond pas"
    ));
    assert!(!m("\"service client\"", "client du service"));
    assert!(m("coca-cola", "J'ai bu du Coca Cola"));
}

#[test]
fn near_and_ordered_near() {
    assert!(m("acme NEAR/3 panne", "Acme est encore en panne"));
    assert!(m("acme NEAR/3 panne", "panne générale chez Acme"));
    assert!(!m("acme NEAR/1 panne", "Acme est encore en panne"));
    assert!(m("acme ONEAR/3 panne", "Acme est en panne"));
    assert!(!m("acme ONEAR/3 panne", "panne chez Acme"));
    assert!(m(
        "\"service client\" NEAR/2 injoignable",
        "service client toujours injoignable"
    ));
    assert!(Query::parse("(a OR b) NEAR/2 c").is_err());
    assert!(Query::parse("a NEAR/0 b").is_err());
    assert!(Query::parse("a NEAR/x b")
        .unwrap_err()
        .message
        .contains("distance"));
}

#[test]
fn hashtags_and_handles_are_first_class() {
    assert!(m("#boycottacme", "#BoycottAcme maintenant"));
    assert!(!m("#boycottacme", "boycottacme maintenant"));
    assert!(m("boycottacme", "#BoycottAcme maintenant"));
    assert!(m("@acme", "merci @Acme"));
    assert!(m("#boycott*", "#BoycottAcme"));
}

#[test]
fn field_filters() {
    let d = doc(
        "Rappel de produits",
        "Acme rappelle ses burgers",
        Source::News,
        250_000,
        "https://www.lemonde.fr/eco/1",
    );
    let q = |s: &str| Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).matches(&d);
    assert!(q("acme lang:fr"));
    assert!(!q("acme lang:en"));
    assert!(q("acme country:fr source:news kind:article visibility:public"));
    assert!(q("acme site:lemonde.fr"));
    assert!(!q("acme site:monde.fr"));
    assert!(q("acme site:https://www.LeMonde.fr/eco"));
    assert!(q("acme author:jean_dupont"));
    assert!(q("acme author:@Jean_Dupont"));
    assert!(q("title:rappel acme"));
    assert!(!q("title:burgers"));
    assert!(q("title:\"rappel de produits\""));
    assert!(q("acme followers:>100000"));
    assert!(q("acme followers:>=250k"));
    assert!(!q("acme followers:<1000"));
    assert!(q("acme verified:true"));
    assert!(q("source:news AND followers:>1000"));
    assert!(Query::parse("lang:french").unwrap_err().message.contains("lang"));
    assert!(Query::parse("source:myspace").is_err());
    assert!(Query::parse("followers:>many")
        .unwrap_err()
        .message
        .contains("followers"));
}

#[test]
fn errors_give_position_and_expectation() {
    let e = Query::parse("acme AND (burger OR").unwrap_err();
    assert_eq!(e.position, 19);
    assert!(e.message.contains("expected a term"), "{e}");
    let e = Query::parse("acme )").unwrap_err();
    assert_eq!(e.position, 5);
    assert!(Query::parse("\"open").unwrap_err().message.contains("closing"));
    assert!(Query::parse("").is_err());
    assert!(Query::parse("-acme")
        .unwrap_err()
        .message
        .contains("only excludes"));
    assert!(Query::parse("NOT a OR NOT b").is_err());
    assert!(Query::parse("a*b").is_err());
    assert!(Query::parse("#coca-cola")
        .unwrap_err()
        .message
        .contains("hashtag"));
}

#[test]
fn hostile_queries_are_refused() {
    let deep = format!("{}a{}", "(".repeat(200), ")".repeat(200));
    assert!(Query::parse(&deep).unwrap_err().message.contains("nesting"));
    let long = "a ".repeat(3000);
    assert!(Query::parse(&long).unwrap_err().message.contains("longer"));
    let many = vec!["a"; 1500].join(" ");
    assert!(Query::parse(&many[..]).is_err());
    let many_short = vec!["ab"; 1100].join(" ");
    assert!(Query::parse(&many_short[..many_short.len().min(4096)]).is_err());
    let nots = format!("{}a", "NOT ".repeat(100));
    assert!(Query::parse(&nots).is_err());
}
