//! What `vigie load` sends: tenants with brand watches (two rules each), a probe watch per
//! tenant, and mentions that talk about the brands in English and French — deterministic for a
//! seed, so two runs send the same traffic.

use vigie_core::proto::{Author, Engagement, Kind, Mention, Source, Watch};

/// A small deterministic generator (SplitMix64): the same seed gives the same run.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &'a [&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ver", "dor", "sa", "ni", "quo", "ta", "rel", "bri", "zen", "mar", "vel", "to", "lu",
    "na", "cor", "pi", "den",
];

/// The brand name of watch `index` (distinct for every index below 8,000; beyond, a number
/// keeps them apart).
pub fn brand(index: usize) -> String {
    let n = SYLLABLES.len();
    let (a, b, c) = (index % n, (index / n) % n, (index / (n * n)) % n);
    let name = format!("{}{}{}", SYLLABLES[a], SYLLABLES[b], SYLLABLES[c]);
    if index < n * n * n {
        name
    } else {
        format!("{name}{}", index / (n * n * n))
    }
}

/// The tenant names of a run.
pub fn tenants(count: usize) -> Vec<String> {
    (1..=count).map(|i| format!("load{i}")).collect()
}

/// The word every probe mention carries (and only they).
pub const PROBE_WORD: &str = "vigieprobe";

/// The watches of a run, as a TOML watches file: `per_tenant` brand watches per tenant (a
/// volume spike and a risky-mention rule each) and one probe watch (a risky-mention rule that
/// fires on every one-star review mentioning [`PROBE_WORD`]). `extra_rules` (TOML
/// `[[watch.rule]]` tables) are added to every brand watch.
pub fn watches_toml(tenants: &[String], per_tenant: usize, extra_rules: &str) -> String {
    let mut out = String::new();
    for (t, tenant) in tenants.iter().enumerate() {
        for w in 0..per_tenant {
            let name = brand(t * per_tenant + w);
            // A third of the queries are boolean: the brand and a complaint word, or the brand
            // without its jobs posts.
            let query = match w % 3 {
                0 => format!("{name} OR #{name} OR @{name}"),
                1 => format!("{name} AND (panne OR broken OR late OR rembourse* OR refund*)"),
                _ => format!("({name} OR #{name}) -job -emploi"),
            };
            out.push_str(&format!(
                "[[watch]]\ntenant = \"{tenant}\"\nid = \"w{w}\"\nname = \"{name}\"\nquery = \"{query}\"\n\
                 [[watch.rule]]\nname = \"spike\"\ntype = \"volume_spike\"\n\
                 [[watch.rule]]\nname = \"risky\"\ntype = \"risky_mention\"\npress_and_reviews = false\n{extra_rules}\n"
            ));
        }
        out.push_str(&format!(
            "[[watch]]\ntenant = \"{tenant}\"\nid = \"probe\"\nname = \"load probe\"\nquery = \"{PROBE_WORD}\"\n\
             [[watch.rule]]\nname = \"probe\"\ntype = \"risky_mention\"\npress_and_reviews = true\n\n"
        ));
    }
    out
}

/// Parses [`watches_toml`] into watches.
pub fn watches(tenants: &[String], per_tenant: usize, extra_rules: &str) -> anyhow::Result<Vec<Watch>> {
    Ok(vigie_core::watches::parse_file(
        &watches_toml(tenants, per_tenant, extra_rules),
        "vigie load",
    )?)
}

const EN: &[&str] = &[
    "just tried {b} and honestly it was great",
    "{b} customer service kept me waiting for an hour, not happy",
    "anyone else having trouble with the {b} app today? it keeps crashing",
    "my order from {b} arrived late again #fail",
    "love the new {b} collection, so good",
    "thinking about switching to {b}, any opinions?",
    "{b} refund still not processed after two weeks",
    "the {b} store downtown is packed this morning",
];

const FR: &[&str] = &[
    "super expérience chez {b} aujourd'hui, je recommande",
    "toujours pas remboursé par {b}, c'est n'importe quoi",
    "quelqu'un a testé le nouveau service de {b} ?",
    "livraison {b} en retard encore une fois #panne",
    "j'adore la nouvelle gamme {b}",
    "file d'attente interminable au magasin {b}",
];

const FILLER: &[&str] = &[
    "",
    " lol",
    " #monday",
    " anyway",
    " (again)",
    " thanks @support",
    " just saying",
    " 🙄",
    " 😍",
];

const SOURCES: &[(Source, &str)] = &[
    (Source::X, "x"),
    (Source::Facebook, "facebook"),
    (Source::Instagram, "instagram"),
    (Source::Tiktok, "tiktok"),
    (Source::Forum, "forum"),
];

/// Mention number `n` of run `run` for `tenant`, about one of its `per_tenant` brands (number
/// `about` when given, else one drawn at random), created at `now_ms`.
pub fn mention(
    run: &str,
    tenant_index: usize,
    tenant: &str,
    per_tenant: usize,
    n: u64,
    now_ms: i64,
    about: Option<usize>,
) -> Mention {
    let mut rng = Rng::new(n ^ ((tenant_index as u64) << 40) ^ 0x5eed);
    let drawn = rng.below(per_tenant.max(1));
    let b = brand(tenant_index * per_tenant.max(1) + about.unwrap_or(drawn) % per_tenant.max(1));
    let french = rng.below(3) == 0;
    let template = if french { rng.pick(FR) } else { rng.pick(EN) };
    let text = format!("{}{}", template.replace("{b}", &b), rng.pick(FILLER));
    let (source, source_name) = SOURCES[rng.below(SOURCES.len())];
    let user = rng.below(50_000);
    Mention {
        tenant: tenant.to_string(),
        source: source as i32,
        native_id: format!("{run}-{source_name}-{n}"),
        text,
        country: if french { "FR".into() } else { String::new() },
        created_at_ms: now_ms - rng.below(2_000) as i64,
        author: Some(Author {
            id: format!("u{user}"),
            handle: format!("user{user}"),
            followers: rng.below(5_000) as u64,
            ..Default::default()
        }),
        engagement: Some(Engagement {
            likes: rng.below(40) as u64,
            shares: rng.below(5) as u64,
            comments: rng.below(5) as u64,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Probe number `n` of run `run`: a one-star review of [`PROBE_WORD`], which the tenant's probe
/// watch turns into an alert of its own (id ending in the mention's id).
pub fn probe(run: &str, tenant: &str, n: u64, now_ms: i64) -> Mention {
    Mention {
        tenant: tenant.to_string(),
        source: Source::Review as i32,
        kind: Kind::Review as i32,
        native_id: probe_id(run, n),
        text: format!("{PROBE_WORD} one star, order {n} never arrived"),
        rating: 1.0,
        created_at_ms: now_ms,
        author: Some(Author {
            id: "u-probe".into(),
            handle: "probe".into(),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The native id of probe `n` of run `run`.
pub fn probe_id(run: &str, n: u64) -> String {
    format!("{run}-probe-{n}")
}

/// The probe number in an alert id, when the alert is one of run `run`'s probes.
pub fn probe_of_alert(run: &str, alert_id: &str) -> Option<u64> {
    let marker = format!("{run}-probe-");
    let at = alert_id.find(&marker)?;
    alert_id[at + marker.len()..].parse().ok()
}

/// The JSON form of a mention, as `POST /v1/mentions` takes it.
pub fn to_json(m: &Mention) -> serde_json::Value {
    let source = vigie_core::names::source_name(Source::try_from(m.source).unwrap_or(Source::Other));
    let author = m.author.clone().unwrap_or_default();
    let engagement = m.engagement.unwrap_or_default();
    let mut v = serde_json::json!({
        "tenant": m.tenant,
        "source": source,
        "native_id": m.native_id,
        "text": m.text,
        "created_at": vigie_core::model::format_rfc3339_ms(m.created_at_ms),
        "author": { "id": author.id, "handle": author.handle, "followers": author.followers },
        "engagement": { "likes": engagement.likes, "shares": engagement.shares, "comments": engagement.comments },
    });
    if !m.country.is_empty() {
        v["country"] = m.country.clone().into();
    }
    if author.verified {
        v["author"]["verified"] = true.into();
    }
    if m.rating > 0.0 {
        v["rating"] = m.rating.into();
        v["kind"] = "review".into();
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watches_parse_and_every_mention_is_about_a_watched_brand() {
        let tenants = tenants(2);
        let watches = watches(&tenants, 5, "").unwrap();
        assert_eq!(watches.len(), 2 * 6, "five brands and a probe per tenant");
        let brands: std::collections::HashSet<String> = (0..10).map(brand).collect();
        assert_eq!(brands.len(), 10, "distinct brand names");
        for n in 0..50 {
            let m = mention("r1", 1, "load2", 5, n, 0, None);
            assert!(
                (5..10).any(|i| m.text.contains(&brand(i))),
                "{} names none of load2's brands",
                m.text
            );
            assert_eq!(m, mention("r1", 1, "load2", 5, n, 0, None), "deterministic");
        }
    }

    #[test]
    fn probes_are_found_again_in_their_alert_ids() {
        let p = probe("r7", "load1", 42, 0);
        let alert_id = format!("load1:probe:probe:load1:review:{}", p.native_id);
        assert_eq!(probe_of_alert("r7", &alert_id), Some(42));
        assert_eq!(probe_of_alert("r8", &alert_id), None);
        let json = to_json(&p);
        assert_eq!(json["rating"], 1.0);
        assert_eq!(json["source"], "review");
    }
}
