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

/// Issue 11, item 9: a watch is not dodged by invisible characters, fullwidth forms or
/// look-alike letters, and genuinely Cyrillic or Greek queries still match their own script.
#[test]
fn watches_are_not_dodged_by_invisible_fullwidth_or_lookalike_characters() {
    for text in [
        "ver\u{200B}dier",
        "v\u{0435}rdier",
        "ｖｅｒｄｉｅｒ",
        "VER\u{00AD}DIER",
        "v\u{0435}r\u{200B}ｄｉｅｒ",
    ] {
        assert!(m("verdier", text), "{text:?}");
        assert!(m("\"chez verdier\"", &format!("chez {text}")), "{text:?}");
        assert!(m("verdier NEAR/1 malade", &format!("{text} malade")), "{text:?}");
        assert!(m("verd*", text), "{text:?}");
    }
    assert!(m("=Verdier", "V\u{0435}rdier"));
    assert!(m("=Verdier", "Ｖｅｒ\u{200B}ｄｉｅｒ"));
    assert!(!m("=Verdier", "vеrdier"));
    assert!(m("#verdier", "＃ｖｅｒｄｉｅｒ"));
    assert!(m("#verdier", "#v\u{0435}r\u{200D}dier"));
    // Both sides are normalised alike: Cyrillic and Greek queries match their own script.
    assert!(m("собака", "СОБАКА"));
    assert!(m("нет", "НЕТ"));
    assert!(m("сок", "СОК"));
    assert!(m("\"τοπος καλος\"", "ΤΟΠΟΣ ΚΑΛΟΣ"));
    assert!(!m("собака", "sobaka"));
    // The query side: a disguised query means the word it disguises.
    assert!(m("v\u{0435}r\u{200B}dier", "Verdier"));
    // The mention is stored as written: only matching sees the normalised form.
    let doc = Document::from_text("ver\u{200B}dier");
    assert_eq!(doc.tokens()[0].text, "verdier");
}

/// A title and a text of `words` (each repeated to `chars` characters).
fn repeated(words: &[&str], chars: usize) -> String {
    let mut s = String::new();
    for w in words.iter().cycle() {
        if s.len() + w.len() + 1 > chars {
            break;
        }
        s.push_str(w);
        s.push(' ');
    }
    s
}

/// The bound of [`the_costliest_accepted_queries_stay_under_a_fixed_number_of_operations`]:
/// per cost unit ([`MAX_COST`]), two reads of the considered tokens (2 × 4,096 positions, up to
/// two tokens each) and a merge, plus an index lookup for every word the longest query holds.
const MAX_OPS: u64 = MAX_COST as u64 * 3 * 16_384 + (MAX_QUERY_BYTES as u64 / 2) * 64;

/// Issue 11, item 3: the costliest queries the parser accepts (a 1,024-word phrase, 1,024
/// words, a chain of NEARs between long phrases, 32 NEARs of prefixes, 64 exact prefixes,
/// 64 phrases whose words all occur…) against the costliest mentions (20,000 characters of
/// `x x x …`, runs broken just before a long phrase completes, hashtags doubling the tokens,
/// thousands of distinct words sharing a prefix, mixed spellings, and a 200,000-character text)
/// each stay under [`MAX_OPS`] operations (3,276,800): no mention can stall matching.
#[test]
fn the_costliest_accepted_queries_stay_under_a_fixed_number_of_operations() {
    let xs = |n: usize| vec!["x"; n].join(" ");
    let phrase = |words: &str, n: usize| format!("\"{}\"", vec![words; n].join(" "));
    let prefixed: Vec<String> = (0..8_000).map(|i| format!("xy{i}")).collect();
    let prefixed: Vec<&str> = prefixed.iter().map(String::as_str).collect();
    let mut runs = vec!["x"; 1_023];
    runs.push("y");
    let texts = [
        ("x x x", repeated(&["x"], 20_000), 20_000),
        ("runs of 1,023 x", repeated(&runs, 20_000), 20_000),
        ("#x tags", repeated(&["#x"], 20_000), 20_000),
        ("xy0 xy1 …", repeated(&prefixed, 20_000), 20_000),
        ("x X spellings", repeated(&["x", "X", "#X"], 20_000), 20_000),
        ("200,000 characters", repeated(&["x"], 20_000), 200_000),
    ];
    let queries = [
        ("the issue's 1,024-word phrase", phrase("x", 1_024)),
        ("1,024 words", xs(1_024)),
        (
            "22 phrases of 87 words chained by NEAR",
            vec![phrase("x", 87); 22].join(" NEAR/100 "),
        ),
        (
            "32 NEARs of phrases never that close",
            vec![format!("{} NEAR/1 {}", phrase("y", 2), phrase("x", 2)); 16].join(" OR "),
        ),
        ("32 NEARs of words", vec!["x NEAR/100 x"; 32].join(" ")),
        (
            "32 NEARs of words never that close",
            vec!["y ONEAR/1 y"; 32].join(" OR "),
        ),
        ("32 NEARs of prefixes", vec!["xy* NEAR/100 xy*"; 32].join(" ")),
        ("64 exact prefixes", vec!["=XY*"; 64].join(" OR ")),
        ("64 phrases whose words occur", vec!["\"x y y\""; 64].join(" OR ")),
        (
            "64 long phrases broken at the end",
            vec![phrase("x", 28); 64].join(" OR ").replace("x x\"", "x y\""),
        ),
    ];
    let mut worst = (0, "", "");
    for (qname, q) in &queries {
        let parsed = Query::parse(q).unwrap_or_else(|e| panic!("{qname}: {e}"));
        for (tname, text, chars) in &texts {
            let text = if *chars > text.len() {
                text.repeat(chars / text.len())
            } else {
                text.clone()
            };
            let doc = Document::from_title_and_text(&text, &text);
            let (_, ops) = parsed.matches_counting(&doc);
            assert!(ops < MAX_OPS, "{qname} against {tname}: {ops} operations");
            if ops > worst.0 {
                worst = (ops, qname, tname);
            }
        }
    }
    println!(
        "costliest: {} against {}: {} operations (bound {MAX_OPS})",
        worst.1, worst.2, worst.0
    );
    assert!(
        worst.0 > MAX_OPS / 100,
        "the cases reach the costly paths ({worst:?})"
    );
}

/// Issue 11, item 3: the cost budget is checked at validation, at the term that exceeds it,
/// and names what is too costly.
#[test]
fn queries_over_the_cost_budget_are_refused_where_they_cross_it() {
    let phrases = vec!["\"a b\""; MAX_COST].join(" OR ");
    assert!(Query::parse(&phrases).is_ok());
    let over = format!("{phrases} OR \"c d\"");
    let e = Query::parse(&over).unwrap_err();
    assert_eq!(e.position, phrases.len() + 4, "{e}");
    assert!(
        e.message.contains("too costly") && e.message.contains("a phrase"),
        "{e}"
    );
    let nears = vec!["a NEAR/2 b"; MAX_COST / 2].join(" ");
    assert!(Query::parse(&nears).is_ok());
    let e = Query::parse(&format!("{nears} c NEAR/2 d")).unwrap_err();
    assert_eq!(e.position, nears.len() + 3, "{e}");
    assert!(e.message.contains("NEAR"), "{e}");
    let e = Query::parse(&format!("{phrases} =Acm*")).unwrap_err();
    assert!(e.message.contains("exact prefix"), "{e}");
    // Words and prefixes are lookups: they cost nothing against the budget.
    assert!(Query::parse(&format!("{phrases} acm* {}", vec!["w"; 900].join(" "))).is_ok());
}

/// Issue 11, item 10: refusals give the byte position of the token at fault, not 0.
#[test]
fn refusals_point_at_the_token_at_fault() {
    let at = |q: &str| Query::parse(q).unwrap_err().position;
    assert_eq!(at("acme OR -promo"), 8);
    assert_eq!(at("acme OR NOT promo"), 8);
    assert_eq!(at("acme OR (-a -b)"), 9);
    assert_eq!(at("(acme -x) OR (NOT a OR b)"), 14);
    assert_eq!(at("-acme"), 0);
    assert_eq!(at("  NOT acme"), 2);
    assert_eq!(at("acme title:"), 5);
    assert_eq!(at("acme lang:french"), 5);
    assert_eq!(at("acme \"\""), 5);
    assert_eq!(at("acme x*y"), 5);
    assert_eq!(at("acme a NEAR/500 b"), 7);
    assert_eq!(at("acme (a OR b) NEAR/2 c"), 5);
    assert_eq!(at("acme \"open"), 5);
    assert_eq!(at("(-x OR y)"), 1);
    assert!(
        Query::parse("acme (x OR -y)").is_ok(),
        "a positive term elsewhere is enough"
    );
}
