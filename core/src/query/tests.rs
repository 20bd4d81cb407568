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
    assert!(m("(a OR b) NEAR/2 c", "b x c"));
    assert!(m("a NEAR/0 b", "b a"));
    assert!(!m("a NEAR/0 b", "a x b"));
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
    let sixteen: Vec<String> = std::iter::once("x".to_string())
        .chain((0..15).map(|i| format!("xy{i}")))
        .collect();
    let sixteen: Vec<&str> = sixteen.iter().map(String::as_str).collect();
    let mut runs = vec!["x"; 1_023];
    runs.push("y");
    let texts = [
        ("x x x", repeated(&["x"], 20_000), 20_000),
        ("runs of 1,023 x", repeated(&runs, 20_000), 20_000),
        ("#x tags", repeated(&["#x"], 20_000), 20_000),
        ("xy0 xy1 …", repeated(&prefixed, 20_000), 20_000),
        ("x X spellings", repeated(&["x", "X", "#X"], 20_000), 20_000),
        ("200,000 characters", repeated(&["x"], 20_000), 200_000),
        ("x xy0 y …", repeated(&["x", "xy0", "y"], 20_000), 20_000),
        (
            "wildcard phrases broken at the end",
            repeated(&["xy1", "x", "xy1", "x", "xy1", "x", "xy1", "y"], 20_000),
            20_000,
        ),
        ("x xy0 … xy14", repeated(&sixteen, 20_000), 20_000),
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
        // Issue 12: the new constructs at the budget.
        ("64 wildcard words never matching", vec!["xy?z"; 64].join(" OR ")),
        ("64 inner-star wildcards", vec!["xy*z"; 64].join(" OR ")),
        (
            "a NEAR of two groups of 32 prefixes",
            format!("({0}) NEAR/100 ({0})", vec!["xy*"; 32].join(" OR ")),
        ),
        (
            "a NEAR of two groups of 32 words never that close",
            format!("({0}) ONEAR/0 ({0})", vec!["y"; 32].join(" OR ")),
        ),
        (
            "6 nested NEARs of groups",
            ["((x OR xy*) NEAR/100 (x OR \"x x\")) NEAR/100 (xy* OR X)"; 5].join(" "),
        ),
        ("21 proximities of 3 parts", vec!["(x xy* y)~100"; 21].join(" ")),
        (
            "4 proximities of 16 parts",
            vec![
                format!(
                    "(x {})~100",
                    (0..15).map(|i| format!("xy{i}")).collect::<Vec<_>>().join(" ")
                );
                4
            ]
            .join(" "),
        ),
        (
            "32 wildcard phrases",
            vec!["\"xy?* x xy?* x xy?* x xy?* x\""; 32].join(" OR "),
        ),
        ("21 phrase proximities", vec!["(\"x x\" x)~100"; 21].join(" ")),
    ];
    let mut worst = (0, "", "");
    for (qname, q) in &queries {
        assert!(q.len() <= MAX_QUERY_BYTES, "{qname}");
        let parsed = Query::parse(q).unwrap_or_else(|e| panic!("{qname}: {e}"));
        for (tname, text, chars) in &texts {
            let text = if *chars > text.len() {
                text.repeat(chars / text.len())
            } else {
                text.clone()
            };
            let doc = Document::from_title_and_text(&text, &text);
            let (_, ops) = parsed.matches_counting(&doc);
            if std::env::var("VIGIE_SHOW_OPS").is_ok() {
                println!("{qname} against {tname}: {ops}");
            }
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
    assert_eq!(at("acme (a AND b) NEAR/2 c"), 5);
    assert_eq!(at("acme engagementType:COMMENT"), 5);
    assert_eq!(at("acme NOT (iphone or x)"), 17);
    assert_eq!(at("acme juice~5"), 5);
    assert_eq!(at("acme \"open"), 5);
    assert_eq!(at("(-x OR y)"), 1);
    assert!(
        Query::parse("acme (x OR -y)").is_ok(),
        "a positive term elsewhere is enough"
    );
}

/// A mention with fields, for the field filters of issue 12.
fn mention_doc(text: &str, url: &str, country: &str, followers: u64, verified: bool) -> Document {
    let mention = Mention {
        text: text.into(),
        url: url.into(),
        country: country.into(),
        author: Some(Author {
            handle: "jean".into(),
            followers,
            verified,
            ..Default::default()
        }),
        ..Default::default()
    };
    Document::from_mention(&mention, "en")
}

/// Issue 12, item 1: each silent misread of the issue is now read as documented or refused
/// with where, what and what to write.
#[test]
fn the_issues_silent_misreads_are_read_as_documented_or_refused() {
    let d = mention_doc(
        "apple and orange juice",
        "https://www.cnet.com/news/1",
        "GB",
        1_000,
        true,
    );
    let q = |s: &str| Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).matches(&d);
    // `language:` is `lang:`; `authorVerified:` is `verified:`.
    assert!(q("juice language:en") && !q("juice language:fr"));
    assert!(q("juice authorVerified:true") && !q("juice authorVerified:false"));
    // Unknown fields are refused, listing the known ones.
    for unknown in [
        "engagementType:COMMENT",
        "sourcetype:SOCIALMEDIA_TWITTER",
        "continent:europe",
    ] {
        let e = Query::parse(&format!("apple {unknown}")).unwrap_err();
        assert_eq!(e.position, 6, "{unknown}: {e}");
        assert!(
            e.message.contains("unknown field")
                && e.message.contains("lang (or language)")
                && e.message.contains("quote"),
            "{e}"
        );
    }
    // `~5` is a proximity, not the word "5".
    assert!(q("\"apple juice\"~5") && q("\"juice apple\"~5"));
    assert!(!q("\"apple juice\"~1"));
    // Comments are left out, preferences ignored.
    assert!(q("apple <<<the fruit, not the brand>>> juice"));
    assert!(q("apple^9 (juice OR soda)^2"));
    // Lower-case operators between terms are refused with what to write.
    let meltwater = "apple AND (watch OR iwatch) NOT (IPHONE or \"apple sauce\")";
    let e = Query::parse(meltwater).unwrap_err();
    assert!(
        e.message.contains("write OR (upper case)") && e.message.contains("quote \"or\""),
        "{e}"
    );
    assert_eq!(e.position, meltwater.find(" or ").unwrap() + 1);
    for word in ["and", "Or", "not", "near"] {
        assert!(Query::parse(&format!("apple {word} juice")).is_err(), "{word}");
    }
    assert!(q("\"apple and orange\"") && q("apple AND \"and\""));
    assert!(
        Query::parse("apple why not").is_ok(),
        "not before nothing is a word"
    );
    assert!(
        Query::parse("why not apple").is_err(),
        "not before a term reads as NOT"
    );
    // Typographic quotes are quotes.
    assert!(q("“orange juice”") && !q("“juice orange”"));
    assert!(q("«orange juice»") && q("‘orange juice’"));
    // `{BT}` is exact case.
    let bt = Document::from_text("BT Sport, not bt");
    assert!(Query::parse("{BT}").unwrap().matches(&bt));
    assert!(!Query::parse("{BT}")
        .unwrap()
        .matches(&Document::from_text("bt sport")));
}

/// Issue 12, item 1: a number or symbol that looks like an operator's argument is never a word.
#[test]
fn operator_arguments_are_never_words() {
    for (query, expected) in [
        ("apple juice~5", "proximity"),
        ("apple ~5", "proximity"),
        ("apple NEAR /5 juice", "NEAR/5"),
        ("apple NEAR/ 5 juice", "distance"),
        ("apple near/5 juice", "upper case"),
        ("apple WITHIN/5 juice", "unknown operator"),
        ("+apple", "required"),
        ("!apple", "exact"),
        ("google+", "'+'"),
        ("apple | juice", "OR"),
        ("'apple juice'", "single quotes"),
        ("apple^ juice", "preference"),
        ("followers:[1 TO x]", "number"),
        ("authorFollowers:{1 TO 5}", "[a TO b]"),
        ("{BT Sport}", "exact phrase"),
    ] {
        let e = Query::parse(query).unwrap_err();
        assert!(e.message.contains(expected), "{query}: {e}");
    }
}

/// Issue 12, item 2: NEAR between any two sub-expressions.
#[test]
fn near_takes_groups_phrases_wildcards_and_nested_nears() {
    let q = "(Christmas OR Xmas) NEAR/2 (Gift OR Present)";
    assert!(m(q, "a lovely xmas wrapped present"));
    assert!(m(q, "the gift of Christmas"));
    assert!(!m(q, "Christmas is here and I bought a gift"));
    // Nested: the words of the inner NEAR that have a partner.
    let nested = "((Christmas OR Xmas) NEAR/2 (Gift OR Present)) NEAR/2 (wife OR \"girl friend\")";
    assert!(m(nested, "a christmas gift for my wife"));
    assert!(m(nested, "my girl friend got a xmas present"));
    assert!(!m(nested, "a christmas gift and then much later for my wife"));
    assert!(!m(nested, "christmas with my wife, the gift came later on"));
    // Forward, adjacent, bare.
    assert!(m("logitech NEAR/2f keyboard", "Logitech Solar Keyboard"));
    assert!(!m("logitech NEAR/2f keyboard", "keyboard by logitech"));
    assert!(m(
        "(Christmas OR Xmas) NEAR/0f (\"Mince Pie\" OR Pudding)",
        "xmas pudding"
    ));
    assert!(!m(
        "(Christmas OR Xmas) NEAR/0f (\"Mince Pie\" OR Pudding)",
        "pudding xmas"
    ));
    assert!(m("Apple NEAR watch", "apple makes a very nice watch"));
    assert!(!m("Apple NEAR watch", "apple makes a very very nice watch"));
    assert!(!m("Apple ONEAR watch", "watch made by apple"));
    // Wildcards and phrases on either side; overlapping spans are not near.
    assert!(m(
        "rembours* NEAR/3 \"service client\"",
        "toujours pas remboursé par le service client"
    ));
    assert!(!m("acme NEAR/3 acme", "acme"));
    assert!(m("acme NEAR/3 acme", "acme et acme"));
    // AND, NOT and filters have no place in the text: refused with what to write.
    for (query, expected) in [
        ("(a AND b) NEAR/2 c", "(a NEAR/5 c) AND (b NEAR/5 c)"),
        ("(a -b) NEAR/2 c", "NOT outside"),
        ("(a OR lang:fr) NEAR/2 c", "filter"),
    ] {
        let e = Query::parse(query).unwrap_err();
        assert!(e.message.contains(expected), "{query}: {e}");
    }
}

/// Issue 12, item 2: `"phrase"~n` and `(…)~n`.
#[test]
fn proximity_of_phrases_and_groups() {
    assert!(m("\"social media\"~10", "media is not always social"));
    assert!(m("\"apple juice\"~0", "juice apple"));
    // Three parts: a window with at most n other words, any order.
    assert!(m("\"pizza pasta wine\"~2", "wine and pizza with pasta"));
    assert!(!m("\"pizza pasta wine\"~1", "wine and pizza with pasta"));
    let group = "((cake OR \"ice cream\" OR cookie) AND (birthday OR birthdays))~5";
    assert!(m(group, "ice cream for my birthday"));
    assert!(!m(
        group,
        "ice cream, then a long walk, a nap and later on a birthday"
    ));
    assert!(m(
        "((cake OR cookie) birthday party)~3",
        "party: cookie and birthday"
    ));
    let e = Query::parse("(apple OR juice)~5").unwrap_err();
    assert!(e.message.contains("two or more parts"), "{e}");
    let e = Query::parse("(\"ice cream\" birthday party)~5").unwrap_err();
    assert!(e.message.contains("NEAR"), "{e}");
    let e = Query::parse("\"apple pie apple\"~5").unwrap_err();
    assert!(e.message.contains("same word"), "{e}");
    assert!(Query::parse("(rembours* remboursement client)~3").is_err());
    assert!(
        Query::parse("(#acme acme client)~3").is_err(),
        "a tag shares its position"
    );
}

/// Issue 12, item 2: `?` and inner `*`, bounded and refused without two letters before them.
#[test]
fn wildcards_inside_words_and_phrases() {
    assert!(m("customi?e", "customise it") && m("customi?e", "CUSTOMIZE"));
    assert!(!m("customi?e", "customised"));
    assert!(m("colo*r", "colour") && m("colo*r", "color") && !m("colo*r", "colors"));
    assert!(m("bel??ve", "I believe") && !m("bel??ve", "belove"));
    assert!(m("\"apple orchard*\"", "apple orchards in bloom"));
    assert!(!m("\"apple orchard*\"", "apple trees in the orchard"));
    assert!(m("\"colo*r televi?ion\"", "colour television"));
    assert!(m("=Col*r", "Colour") && !m("=Col*r", "colour"));
    assert!(m("#boy?ott", "#boycott now") && !m("#boy?ott", "boycott now"));
    for bad in ["*apple", "a*ple", "?pple", "co*l*r", "a?"] {
        let e = Query::parse(bad).unwrap_err();
        assert!(
            e.message.contains("wildcard") || e.message.contains("at most one"),
            "{bad}: {e}"
        );
    }
}

/// Issue 12, item 2: field values quoted or after a space, groups, aliases, ranges, countries,
/// addresses and links.
#[test]
fn field_values_aliases_ranges_addresses_and_links() {
    let d = mention_doc(
        "Tesla recall, see https://www.msn.com/news/tesla and (www.bild.de/auto).",
        "https://www.cnet.com/news/2024/tesla",
        "GB",
        5_000,
        false,
    );
    let q = |s: &str| Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")).matches(&d);
    assert!(q("tesla site:\"www.cnet.com\"") && q("tesla site:”http://www.cnet.com”"));
    assert!(q("tesla site: cnet.com") && !q("tesla site:\"bild.de\""));
    assert!(q("site:(facebook.com OR cnet.com) tesla"));
    assert!(q("url:cnet.com/news") && q("url:\"https://www.cnet.com/news/2024\""));
    assert!(!q("url:cnet.com/newsletter") && !q("url:msn.com/news"));
    assert!(q("links:msn.com") && q("links:msn.com/news") && q("links:bild.de/auto"));
    assert!(!q("links:cnet.com") && !q("links:msn.com/sport"));
    assert!(q("authorFollowers:[500 TO 100000]") && q("followers:[5k TO *]"));
    assert!(!q("authorFollowers:[500 TO 1000]"));
    assert!(q("country:gbr") && q("country:GB") && q("country:uk") && !q("country:fra"));
    assert!(Query::parse("country:europe")
        .unwrap_err()
        .message
        .contains("ISO 3166"));
    assert!(Query::parse("country:zz").is_err());
    assert!(Query::parse("lang:english").is_err());
    assert!(Query::parse("site:(a.com OR title:x)")
        .unwrap_err()
        .message
        .contains("inside another field"));
    let titled = doc("Tesla recall", "brakes", Source::News, 0, "");
    let t = |s: &str| Query::parse(s).unwrap().matches(&titled);
    assert!(t("title: Tesla") && t("Title:tesla") && t("title:(recall OR rappel)"));
    assert!(!t("title:brakes") && t("title:(recall -brakes)"));
    assert!(t("title:\"tesla recall\"~0") && t("title:(tesla NEAR/1 recall)"));
}

/// Issue 12, item 5: the cost budget counts the new constructs where they cross it.
#[test]
fn a_lone_final_question_mark_is_refused_rather_than_read_as_one_letter() {
    // `commande?` would match "commandes" and not "commande": refused, with both rewrites.
    let e = Query::parse("commande?").unwrap_err();
    assert!(
        e.message.contains("exactly one character") && e.message.contains("commande*"),
        "{e}"
    );
    // Inside a word, or next to a '*', '?' is the documented one-letter wildcard.
    assert!(Query::parse("customi?e").is_ok());
    assert!(Query::parse("colo?r*").is_ok());
}

#[test]
fn new_constructs_count_against_the_cost_budget() {
    let group = |n: usize| format!("({}) NEAR/5 x", vec!["w"; n].join(" OR "));
    assert!(Query::parse(&group(MAX_COST - 1)).is_ok());
    let e = Query::parse(&group(MAX_COST)).unwrap_err();
    assert!(
        e.message.contains("NEAR") && e.message.contains("too costly"),
        "{e}"
    );
    let wild = vec!["ab?c"; MAX_COST].join(" OR ");
    assert!(Query::parse(&wild).is_ok());
    let e = Query::parse(&format!("{wild} OR cd?e")).unwrap_err();
    assert!(e.message.contains("wildcard"), "{e}");
    let windows = vec!["(a b c)~3"; MAX_COST / 3].join(" ");
    assert!(Query::parse(&windows).is_ok());
    assert!(Query::parse(&format!("{windows} (d e f)~3"))
        .unwrap_err()
        .message
        .contains("proximity"));
    let parts: Vec<String> = (0..=MAX_PROXIMITY_PARTS).map(|i| format!("w{i}")).collect();
    let e = Query::parse(&format!("({})~5", parts.join(" "))).unwrap_err();
    assert!(e.message.contains("at most"), "{e}");
    let long = format!("\"{}\"", ["ab?c"; MAX_WILDCARD_PHRASE + 1].join(" "));
    assert!(Query::parse(&long).unwrap_err().message.contains("at most"));
}

/// Issue 12, item 5: the syntax is a parameter; `Query::parse` reads the `vigie` syntax.
#[test]
fn the_syntax_is_a_parameter() {
    let vigie = Syntax::default();
    assert_eq!(vigie, Syntax::vigie());
    assert_eq!(
        Query::parse("a NEAR b").unwrap(),
        Query::parse_with("a NEAR/4 b", &vigie).unwrap()
    );
    let mut meltwater_like = Syntax::vigie();
    meltwater_like.lowercase_operators = LowercaseOperators::Operators;
    meltwater_like.default_near = 3;
    let q = Query::parse_with("apple NOT (iphone or \"apple sauce\")", &meltwater_like).unwrap();
    assert!(!q.matches(&Document::from_text("apple sauce recipe")));
    assert!(q.matches(&Document::from_text("apple pie")));
    assert_eq!(
        Query::parse_with("a near b", &meltwater_like).unwrap(),
        Query::parse("a NEAR/3 b").unwrap()
    );
}

/// The documentation's examples parse, and what its table of refusals lists is refused.
#[test]
fn the_documented_examples_parse_and_the_documented_refusals_are_refused() {
    let doc = include_str!("../../../docs/query-language.md");
    let mut examples = 0;
    for block in doc.split("```text\n").skip(1) {
        let block = &block[..block.find("```").expect("a closed block")];
        for line in block
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let query = line.split("   #").next().unwrap_or(line).trim();
            Query::parse(query).unwrap_or_else(|e| panic!("{query}: {e}"));
            examples += 1;
        }
    }
    assert!(examples >= 10, "{examples} examples");
    let table = &doc[doc.find("## Refused, with what to write").expect("the table")..];
    let table = &table[..table.find("\n## ").expect("the next section")];
    let mut refused = 0;
    for row in table.lines().filter(|l| l.starts_with("| `")) {
        // A `|` inside a cell is escaped as `\|`.
        let row = row.replace("\\|", "\u{1}");
        let written = row.split('|').nth(1).unwrap_or("").replace('\u{1}', "|");
        for query in written.split('`').skip(1).step_by(2) {
            assert!(Query::parse(query).is_err(), "{query} is accepted");
            refused += 1;
        }
    }
    assert!(refused >= 25, "{refused} refusals");
}

#[test]
fn city_filters_compare_the_gazetteer_name_of_the_place() {
    use crate::places::{Place, PlaceSource};
    let mention = Mention {
        text: "Grève à la gare".into(),
        ..Default::default()
    };
    let at = |city: &str, confidence: f32| {
        let place = Place {
            country: "DE".into(),
            city: city.into(),
            confidence,
            source: PlaceSource::Profile,
        };
        Document::from_mention_at(&mention, "fr", &place)
    };
    let q = |s: &str| Query::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    let munich = at("Munich", 0.9);
    for s in [
        "city:Munich",
        "city:münchen",
        "city:MUENCHEN",
        "country:de city:munich",
    ] {
        assert!(q(s).matches(&munich), "{s}");
    }
    assert!(!q("city:berlin").matches(&munich));
    assert!(q("city:\"frankfurt am main\"").matches(&at("Frankfurt am Main", 0.9)));
    // Below the filter confidence the place is not read.
    assert!(!q("city:munich").matches(&at("Munich", 0.3)));
    assert!(!q("country:de").matches(&at("Munich", 0.3)));
    // One city per mention, whatever the names mean; codes are not names.
    for both in [
        "city:lyon city:paris",
        "city:paris city:lyon",
        "city:munich city:berlin",
    ] {
        let e = Query::parse(both).unwrap_err();
        assert!(e.message.contains("cannot both hold"), "{both}: {e}");
    }
    assert!(
        q("city:münchen city:munich").matches(&munich),
        "two names of one city"
    );
    assert!(
        q("city:NYC").matches(&at("New York City", 0.9)),
        "a name kept in capitals"
    );
    // A name several cities share reads all of them.
    assert!(q("city:paris").matches(&at("Paris", 0.9)));
    assert!(q("city:\"St. Louis\"").matches(&at("St. Louis", 0.9)));
    for bad in ["city:deu.berlin.berlin", "city:75001", "city:\"75001 Paris\""] {
        let e = Query::parse(bad).unwrap_err();
        assert!(e.message.contains("city name"), "{bad}: {e}");
    }
}
