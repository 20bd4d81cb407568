//! Matching every watch of every tenant against each mention at once, in the spirit of Lucene
//! Monitor: index the queries, not the documents.
//!
//! For each query the presearcher extracts a set of *keys* such that any matching mention
//! contains at least one of them (a word, a 2–3 letter prefix — of a `term*` or of a
//! wildcard's literal start —, or a field value; for a `NEAR` or a proximity, the keys of one
//! of its operands, for a group the keys of all its alternatives); queries are
//! indexed under `hash(tenant, key)`. A mention is turned into its own small key set, the index
//! yields the candidate queries, and only those are verified with the exact evaluator
//! ([`Query::matches`]). Queries with no usable key (only negations, follower ranges or links)
//! are verified for every mention of their tenant.
//!
//! Adding, changing or removing a query touches only its own keys.

use crate::document::Document;
use crate::query::{Query, Span};
use crate::text::normalize;
use crate::vocabulary::{Field, Term, Words};
use std::collections::HashMap;

/// A presearch key: what a mention must contain for a query to possibly match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Word(String),
    Prefix(String),
    Field(Field, String),
}

impl Key {
    /// Rough cost of a key: how many mentions are likely to carry it (lower is more selective).
    fn cost(&self) -> u32 {
        match self {
            Key::Word(w) if w.chars().count() <= 2 => 8,
            Key::Word(_) => 1,
            Key::Prefix(p) if p.chars().count() <= 2 => 40,
            Key::Prefix(_) => 10,
            Key::Field(Field::Author | Field::Site, _) => 2,
            Key::Field(..) => 200,
        }
    }

    fn hash(&self) -> u64 {
        match self {
            Key::Word(w) => hash_str(1, w),
            Key::Prefix(p) => hash_str(2, p),
            Key::Field(f, v) => hash_str(3 + *f as u64, v),
        }
    }
}

/// Fast, stable 64-bit string hash (FxHash-style multiply-rotate over bytes).
fn hash_str(seed: u64, s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = seed.wrapping_mul(K);
    for chunk in s.as_bytes().chunks(8) {
        let mut buf = [0u8; 8];
        buf[..chunk.len()].copy_from_slice(chunk);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
    }
    (h.rotate_left(5) ^ s.len() as u64).wrapping_mul(K)
}

/// Hashes integer keys with one multiplication: index keys are already well mixed and query
/// ids are small integers, so SipHash (the default) would only cost time on every lookup.
#[derive(Default, Clone, Copy)]
struct IntHasher(u64);

impl std::hash::Hasher for IntHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.write_u64(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        // The high bits pick the control byte in hashbrown: the multiplication spreads them.
        self.0 = (self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

type IntMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<IntHasher>>;

fn combine(tenant: u64, key: u64) -> u64 {
    (tenant.rotate_left(29) ^ key).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// The prefix key of a word prefix: its first two or three characters.
fn prefix_key(p: &str) -> Key {
    Key::Prefix(p.chars().take(3).collect())
}

fn words_keys(w: &Words) -> Vec<Key> {
    // The normalised form of an exact or accented word is what the mention's tokens index.
    let norm = |s: &str| {
        if w.exact || w.accents {
            normalize(s)
        } else {
            s.to_string()
        }
    };
    let best = w
        .words
        .iter()
        .map(|term| match term {
            Term::Word(word) => Key::Word(norm(word)),
            Term::Prefix(p) => prefix_key(&norm(p)),
            // A wildcard's literal start (at least two letters) is a prefix of every word it
            // accepts.
            Term::Pattern(p) => prefix_key(p.key()),
        })
        .min_by_key(|k| (k.cost(), std::cmp::Reverse(key_len(k))));
    best.into_iter().collect()
}

/// Keys such that every occurrence of `span` is at a word carrying one: a group's are its
/// alternatives' together, a `NEAR`'s those of its cheaper side (both sides occur).
fn span_keys(span: &Span) -> Vec<Key> {
    match span {
        Span::Words(w) => words_keys(w),
        Span::Or(items) => union(items.iter().map(span_keys)),
        Span::Near(n) => cheaper(span_keys(&n.left), span_keys(&n.right)),
    }
}

fn cheaper(a: Vec<Key>, b: Vec<Key>) -> Vec<Key> {
    if cost(&a) <= cost(&b) {
        a
    } else {
        b
    }
}

/// The keys of alternatives together, deduplicated in a stable order.
fn union(alternatives: impl Iterator<Item = Vec<Key>>) -> Vec<Key> {
    let mut all: Vec<Key> = alternatives.flatten().collect();
    all.sort_by(|a, b| {
        key_len(a)
            .cmp(&key_len(b))
            .then_with(|| format!("{a:?}").cmp(&format!("{b:?}")))
    });
    all.dedup();
    all
}

fn key_len(k: &Key) -> usize {
    match k {
        Key::Word(s) | Key::Prefix(s) | Key::Field(_, s) => s.len(),
    }
}

/// Keys such that every mention matching `q` carries at least one; `None` when no such finite
/// set exists (negations, follower ranges).
fn required_keys(q: &Query) -> Option<Vec<Key>> {
    match q {
        Query::Words(w) => Some(words_keys(w)),
        Query::Near(n) => Some(cheaper(span_keys(&n.left), span_keys(&n.right))),
        Query::Proximity { parts, .. } => parts.iter().map(span_keys).min_by_key(|k| cost(k)),
        // An address is on its site: the host is a site field of the mention.
        Query::Field(Field::Url, v) => {
            let host = v.split('/').next().unwrap_or(v);
            Some(vec![Key::Field(Field::Site, host.to_string())])
        }
        // Links are not among the document's keys: verified for every mention.
        Query::Field(Field::Links, _) => None,
        Query::Field(f, v) => Some(vec![Key::Field(*f, v.clone())]),
        Query::Followers(_) | Query::Not(_) => None,
        Query::And(items) => items
            .iter()
            .filter_map(required_keys)
            .min_by_key(|keys| cost(keys)),
        Query::Or(items) => {
            let keys: Option<Vec<Vec<Key>>> = items.iter().map(required_keys).collect();
            Some(union(keys?.into_iter()))
        }
    }
}

fn cost(keys: &[Key]) -> u32 {
    keys.iter().map(Key::cost).sum()
}

/// The keys a document carries (hashed as [`Key::hash`] would, without building keys).
fn document_keys(doc: &Document) -> Vec<u64> {
    let mut keys = Vec::with_capacity(doc.tokens().len() * 3 + doc.fields().len());
    for t in doc.considered() {
        keys.push(hash_str(1, &t.text));
        // The 2- and 3-character prefixes, under which `term*` queries are indexed.
        let ends = t
            .text
            .char_indices()
            .map(|(i, c)| i + c.len_utf8())
            .skip(1)
            .take(2);
        for end in ends {
            keys.push(hash_str(2, &t.text[..end]));
        }
    }
    for (f, v) in doc.fields() {
        keys.push(hash_str(3 + *f as u64, v));
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

struct Entry {
    key: String,
    tenant: String,
    query: Query,
    index_keys: Vec<u64>,
}

/// The index of every stored query.
#[derive(Default)]
pub struct Matcher {
    entries: IntMap<u32, Entry>,
    by_key: HashMap<String, u32>,
    index: IntMap<u64, Vec<u32>>,
    /// Per tenant, queries verified for every mention.
    always: HashMap<String, Vec<u32>>,
    next_id: u32,
}

impl std::fmt::Debug for Matcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Matcher")
            .field("queries", &self.entries.len())
            .finish()
    }
}

impl Matcher {
    /// Adds or replaces the query stored under `key` for `tenant`.
    pub fn insert(&mut self, key: &str, tenant: &str, query: Query) {
        self.remove(key);
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        let tenant_hash = hash_str(0, tenant);
        let index_keys: Vec<u64> = match required_keys(&query) {
            Some(keys) => {
                let mut hashes: Vec<u64> = keys.iter().map(|k| combine(tenant_hash, k.hash())).collect();
                hashes.sort_unstable();
                hashes.dedup();
                hashes
            }
            None => Vec::new(),
        };
        if index_keys.is_empty() {
            self.always.entry(tenant.to_string()).or_default().push(id);
        }
        for h in &index_keys {
            self.index.entry(*h).or_default().push(id);
        }
        self.by_key.insert(key.to_string(), id);
        self.entries.insert(
            id,
            Entry {
                key: key.to_string(),
                tenant: tenant.to_string(),
                query,
                index_keys,
            },
        );
    }

    /// Removes the query stored under `key`.
    pub fn remove(&mut self, key: &str) {
        let Some(id) = self.by_key.remove(key) else { return };
        let Some(entry) = self.entries.remove(&id) else {
            return;
        };
        if entry.index_keys.is_empty() {
            if let Some(list) = self.always.get_mut(&entry.tenant) {
                list.retain(|x| *x != id);
                if list.is_empty() {
                    self.always.remove(&entry.tenant);
                }
            }
        }
        for h in entry.index_keys {
            if let Some(list) = self.index.get_mut(&h) {
                list.retain(|x| *x != id);
                if list.is_empty() {
                    self.index.remove(&h);
                }
            }
        }
    }

    /// Number of stored queries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no query is stored.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Keys of the queries of `tenant` that match `doc`, sorted.
    pub fn matches(&self, tenant: &str, doc: &Document) -> Vec<String> {
        if self.entries.is_empty() {
            return Vec::new();
        }
        let mut out: Vec<String> = self
            .candidates(tenant, doc)
            .into_iter()
            .filter_map(|id| self.entries.get(&id))
            .filter(|e| e.tenant == tenant && e.query.matches(doc))
            .map(|e| e.key.clone())
            .collect();
        out.sort();
        out
    }

    /// Number of candidate queries the presearcher yields for `doc` (for tests and tuning).
    pub fn candidate_count(&self, tenant: &str, doc: &Document) -> usize {
        self.candidates(tenant, doc).len()
    }

    /// Ids of the queries of `tenant` that `doc` may match: those indexed under one of its keys,
    /// and those verified for every mention.
    fn candidates(&self, tenant: &str, doc: &Document) -> Vec<u32> {
        let tenant_hash = hash_str(0, tenant);
        let mut candidates: Vec<u32> = Vec::new();
        for k in document_keys(doc) {
            if let Some(ids) = self.index.get(&combine(tenant_hash, k)) {
                candidates.extend_from_slice(ids);
            }
        }
        if let Some(ids) = self.always.get(tenant) {
            candidates.extend_from_slice(ids);
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{Author, Mention, Source};
    use crate::query::dialect::{syntax_named, SYNTAXES};
    use crate::query::Syntax;

    /// A small deterministic generator (xorshift) for property tests without extra crates.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
        fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
            xs[self.below(xs.len())]
        }
    }

    const WORDS: &[&str] = &[
        "acme",
        "panne",
        "Sécurité",
        "client",
        "rembourse",
        "boycott",
        "ok",
        "livraison",
        "colis",
        "merci",
        "colour",
        "color",
    ];

    /// Three different words of [`WORDS`].
    fn distinct3<'a>(r: &mut Rng) -> [&'a str; 3] {
        let a = r.below(WORDS.len());
        let b = (a + 1 + r.below(WORDS.len() - 1)) % WORDS.len();
        let mut c = r.below(WORDS.len());
        while c == a || c == b {
            c = (c + 1) % WORDS.len();
        }
        [WORDS[a], WORDS[b], WORDS[c]]
    }

    /// A wildcard word from [`WORDS`]: a `?` for one letter, or a `*` inside, after at least
    /// two letters.
    fn wildcard_word(r: &mut Rng) -> String {
        let w: Vec<char> =
            normalize(r.pick(&["panne", "colour", "client", "livraison", "merci", "rembourse"]))
                .chars()
                .collect();
        let at = 2 + r.below(w.len() - 2);
        let head: String = w[..at].iter().collect();
        match r.below(3) {
            0 => format!("{head}?{}", w[at + 1..].iter().collect::<String>()),
            1 => format!("{head}*{}", w[(at + 1).min(w.len())..].iter().collect::<String>()),
            _ => format!("{head}*{}", w[w.len() - 1]),
        }
    }

    fn random_leaf(r: &mut Rng) -> String {
        match r.below(36) {
            0 => format!("\"{} {}\"", r.pick(WORDS), r.pick(WORDS)),
            1 => {
                let w = normalize(r.pick(WORDS));
                format!("{}*", &w[..2 + r.below(w.len() - 1).min(w.len() - 2)])
            }
            2 => format!("#{}", r.pick(WORDS)),
            3 => format!("{} NEAR/{} {}", r.pick(WORDS), 1 + r.below(3), r.pick(WORDS)),
            4 => format!("{} ONEAR/{} {}", r.pick(WORDS), 1 + r.below(3), r.pick(WORDS)),
            5 => format!("lang:{}", r.pick(&["fr", "en"])),
            6 => format!("source:{}", r.pick(&["x", "news", "whatsapp"])),
            7 => format!("followers:>{}", r.below(2000)),
            8 => format!("title:{}", r.pick(WORDS)),
            9 => format!("={}", r.pick(&["Acme", "acme", "Sécurité"])),
            10 => format!("\"{} {} {}\"", r.pick(WORDS), r.pick(WORDS), r.pick(WORDS)),
            11 => format!("=\"{} {}\"", r.pick(&["Acme", "acme", "Sécurité"]), r.pick(WORDS)),
            12 => format!("={}*", r.pick(&["Ac", "ac", "Séc", "SÉC"])),
            13 => format!("title:\"{} {}\"", r.pick(WORDS), r.pick(WORDS)),
            14 => format!(
                "\"{} {}\" NEAR/{} {}*",
                r.pick(WORDS),
                r.pick(WORDS),
                1 + r.below(4),
                &normalize(r.pick(WORDS))[..2]
            ),
            15 => format!(
                "{} ONEAR/{} \"{} {}\"",
                r.pick(WORDS),
                1 + r.below(4),
                r.pick(WORDS),
                r.pick(WORDS)
            ),
            // Issue 12: NEAR between groups, forward, adjacent, bare and nested.
            16 => format!(
                "({} OR {}) NEAR/{} ({} OR \"{} {}\")",
                r.pick(WORDS),
                wildcard_word(r),
                r.below(4),
                r.pick(WORDS),
                r.pick(WORDS),
                r.pick(WORDS)
            ),
            17 => format!("{} NEAR/{}f {}", r.pick(WORDS), r.below(3), r.pick(WORDS)),
            18 => format!(
                "({} OR #{}) NEAR/0 {}",
                r.pick(WORDS),
                r.pick(WORDS),
                r.pick(WORDS)
            ),
            19 => format!(
                "{} {} {}",
                r.pick(WORDS),
                r.pick(&["NEAR", "ONEAR"]),
                r.pick(WORDS)
            ),
            20 => format!(
                "(({} OR {}) NEAR/{} {}) {} ({} OR {})",
                r.pick(WORDS),
                r.pick(WORDS),
                r.below(3),
                r.pick(WORDS),
                r.pick(&["NEAR/1", "ONEAR/2", "NEAR/3f"]),
                r.pick(WORDS),
                wildcard_word(r)
            ),
            // Proximity: phrases and groups, of two parts or more.
            21 => {
                let [a, b, c] = distinct3(r);
                format!("\"{a} {b} {c}\"~{}", r.below(6))
            }
            22 => {
                let [a, b, c] = distinct3(r);
                format!("(({a} OR {a}s) {b} {c})~{}", r.below(6))
            }
            23 => format!(
                "(\"{} {}\" {})~{}",
                r.pick(WORDS),
                r.pick(WORDS),
                r.pick(WORDS),
                r.below(5)
            ),
            24 => format!("\"{} {}\"~{}", r.pick(WORDS), r.pick(WORDS), r.below(4)),
            // Wildcards, alone and in phrases.
            25 => wildcard_word(r),
            26 => format!("\"{} {}*\"", r.pick(WORDS), &normalize(r.pick(WORDS))[..2]),
            27 => format!("\"{} {}\"", wildcard_word(r), r.pick(WORDS)),
            28 => format!("={}", r.pick(&["Col*r", "Séc?rité", "Ac?e", "ACM?"])),
            // Exact words, comments, preferences, typographic quotes.
            29 => r
                .pick(&[
                    "{Acme}",
                    "{acme}",
                    "<<<brand>>> acme",
                    "panne^3",
                    "“service client”",
                    "«colis perdu»",
                ])
                .to_string(),
            // Field aliases, ranges, countries, addresses and links.
            30 => r
                .pick(&[
                    "language:fr",
                    "authorFollowers:[500 TO 2000]",
                    "followers:[* TO 100]",
                    "country:fra",
                    "country:GB",
                    "authorVerified:true",
                    "url:lemonde.fr/eco",
                    "url:news.acme.com",
                    "site:\"www.acme.com\"",
                    "links:acme.com",
                    "links:lemonde.fr/eco",
                ])
                .to_string(),
            31 => format!("{} {}", r.pick(&["title:", "text:", "message: "]), r.pick(WORDS)),
            32 => format!("title:({} OR {})", r.pick(WORDS), wildcard_word(r)),
            _ => r.pick(WORDS).to_string(),
        }
    }

    fn random_query(r: &mut Rng, depth: usize) -> String {
        if depth == 0 || r.below(3) == 0 {
            return random_leaf(r);
        }
        let n = 2 + r.below(2);
        let parts: Vec<String> = (0..n).map(|_| random_query(r, depth - 1)).collect();
        match r.below(4) {
            0 => format!("({})", parts.join(" OR ")),
            1 => format!("({})", parts.join(" AND ")),
            2 => format!("({} -{})", parts[0], random_leaf(r)),
            _ => format!("({})", parts.join(" ")),
        }
    }

    fn random_doc(r: &mut Rng) -> Document {
        let m = random_mention(r, 12);
        Document::from_mention(&m, ["fr", "en"][r.below(2)])
    }

    /// A mention of 1 to `max_words` words of [`WORDS`] (tags, upper case, plurals), sometimes
    /// with a 3-word title.
    fn random_mention(r: &mut Rng, max_words: usize) -> Mention {
        let words = |r: &mut Rng, n: usize| -> String {
            (0..n)
                .map(|_| {
                    let w = r.pick(WORDS);
                    match r.below(6) {
                        0 => format!("#{w}"),
                        1 => w.to_uppercase(),
                        2 => format!("{w}s"),
                        _ => w.to_string(),
                    }
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        let title = if r.below(3) == 0 {
            words(r, 3)
        } else {
            String::new()
        };
        let n = 1 + r.below(max_words);
        let mut text = words(r, n);
        if r.below(4) == 0 {
            let link = r.pick(&[
                "https://www.acme.com/promo",
                "www.lemonde.fr/eco/1",
                "(http://news.acme.com).",
            ]);
            text = format!("{text} {link}");
        }
        Mention {
            title,
            text,
            source: [Source::X, Source::News, Source::Whatsapp][r.below(3)] as i32,
            url: r
                .pick(&[
                    "",
                    "https://www.lemonde.fr/eco/2",
                    "https://news.acme.com/panne",
                    "https://acme.com",
                ])
                .to_string(),
            country: r.pick(&["", "FR", "GB"]).to_string(),
            author: Some(Author {
                followers: r.below(3000) as u64,
                verified: r.below(2) == 0,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// What a dodger does to a text (issue 11, item 9): invisible characters inserted, letters
    /// replaced by their fullwidth forms or by Cyrillic and Greek look-alikes, `#` by `＃`.
    fn disguise(r: &mut Rng, text: &str) -> String {
        const INVISIBLE: &[char] = &[
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{00AD}', '\u{FEFF}',
        ];
        let lookalike = |c: char, greek: bool| -> Option<char> {
            Some(match c {
                'a' => 'а',
                'c' => 'с',
                'e' => 'е',
                'i' => 'і',
                'o' if greek => 'ο',
                'o' => 'о',
                'p' => 'р',
                's' => 'ѕ',
                'x' => 'х',
                'y' => 'у',
                'k' => 'к',
                'v' => 'ν',
                'A' => 'А',
                'C' => 'С',
                'E' => 'Е',
                'O' => 'О',
                'P' => 'Р',
                'S' => 'Ѕ',
                'K' => 'К',
                _ => return None,
            })
        };
        let mut out = String::new();
        for c in text.chars() {
            let c = match r.below(8) {
                0 | 1 if c.is_ascii_alphabetic() || c == '#' => {
                    char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap_or(c)
                }
                2 | 3 => lookalike(c, r.below(2) == 0).unwrap_or(c),
                _ => c,
            };
            out.push(c);
            if r.below(4) == 0 {
                out.push(INVISIBLE[r.below(INVISIBLE.len())]);
            }
        }
        out
    }

    /// The evaluator as it was before matching was bounded (issue 11), extended with the
    /// constructs of issue 12 by their definitions: every token scanned, a phrase checked from
    /// each occurrence of its first word, `NEAR` over every pair of spans (a `NEAR` inside a
    /// `NEAR` standing for its spans with a partner), a proximity by trying every window and
    /// every choice of distinct positions in it.
    fn reference(q: &Query, doc: &Document) -> bool {
        match q {
            Query::Words(w) => !reference_spans(&Span::Words(w.clone()), doc).is_empty(),
            Query::Near(n) => {
                let (l, r) = (reference_spans(&n.left, doc), reference_spans(&n.right, doc));
                l.iter()
                    .any(|a| r.iter().any(|b| reference_near(*a, *b, n.distance, n.ordered)))
            }
            Query::Proximity { parts, distance } => {
                let sets: Vec<Vec<u32>> = parts
                    .iter()
                    .map(|p| reference_spans(p, doc).into_iter().map(|(s, _)| s).collect())
                    .collect();
                let width = distance + parts.len() as u32;
                fn distinct(sets: &[Vec<u32>], from: u32, to: u32, used: &mut Vec<u32>) -> bool {
                    let Some((first, rest)) = sets.split_first() else {
                        return true;
                    };
                    first.iter().any(|&p| {
                        if p < from || p > to || used.contains(&p) {
                            return false;
                        }
                        used.push(p);
                        let ok = distinct(rest, from, to, used);
                        used.pop();
                        ok
                    })
                }
                sets.iter()
                    .flatten()
                    .any(|&a| distinct(&sets, a, a + width - 1, &mut Vec::new()))
            }
            Query::Field(..) | Query::Followers(_) => q.matches(doc),
            Query::And(items) => items.iter().all(|q| reference(q, doc)),
            Query::Or(items) => items.iter().any(|q| reference(q, doc)),
            Query::Not(q) => !reference(q, doc),
        }
    }

    /// At most `distance` words between two spans that do not overlap, `r` after `l` (or either
    /// way unless `ordered`).
    fn reference_near(l: (u32, u32), r: (u32, u32), distance: u32, ordered: bool) -> bool {
        (r.0 > l.1 && r.0 - l.1 - 1 <= distance) || (!ordered && l.0 > r.1 && l.0 - r.1 - 1 <= distance)
    }

    /// Whether `term` of a [`Words`] that is `exact` or keeps `accents` accepts the token `t`,
    /// by the definitions: an exact term compares with the token as written; an
    /// accent-sensitive one with its normalised text or its text as written in lower case
    /// (accents kept); any other with its normalised text. A wildcard (`pattern`, as written)
    /// is matched by trying every length for its `*`.
    fn reference_accepts(
        term: &Term,
        pattern: &str,
        exact: bool,
        accents: bool,
        t: &crate::text::Token,
    ) -> bool {
        fn glob(p: &str, s: &str) -> bool {
            let mut pc = p.chars();
            let mut sc = s.chars();
            match pc.next() {
                None => s.is_empty(),
                Some('*') => s
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([s.len()])
                    .any(|i| glob(pc.as_str(), &s[i..])),
                Some('?') => sc.next().is_some() && glob(pc.as_str(), sc.as_str()),
                Some(c) => sc.next() == Some(c) && glob(pc.as_str(), sc.as_str()),
            }
        }
        let accepts = |form: &str| match term {
            Term::Word(word) => form == word,
            Term::Prefix(p) => form.starts_with(p.as_str()),
            Term::Pattern(_) => glob(pattern, form),
        };
        if exact {
            accepts(t.raw())
        } else {
            accepts(&t.text) || (accents && accepts(&t.raw().to_lowercase()))
        }
    }

    /// Every span of `span` in `doc`, sorted, by scanning every token.
    fn reference_spans(span: &Span, doc: &Document) -> Vec<(u32, u32)> {
        use crate::document::TEXT_OFFSET;
        use crate::vocabulary::Scope;
        let mut out = match span {
            Span::Words(w) => {
                let tokens: Vec<&crate::text::Token> = doc
                    .tokens()
                    .iter()
                    .filter(|t| match w.scope {
                        Scope::Any => true,
                        Scope::Title => t.position < TEXT_OFFSET,
                        Scope::Text => t.position >= TEXT_OFFSET,
                    })
                    .collect();
                let patterns: Vec<String> = w.words.iter().map(Term::text).collect();
                let word_at = |i: usize, t: &crate::text::Token| {
                    reference_accepts(&w.words[i], &patterns[i], w.exact, w.accents, t)
                };
                let last = w.words.len() as u32 - 1;
                tokens
                    .iter()
                    .filter(|t| word_at(0, t))
                    .filter(|start| {
                        (1..w.words.len()).all(|i| {
                            let p = start.position + i as u32;
                            let from = tokens.partition_point(|t| t.position < p);
                            tokens[from..]
                                .iter()
                                .take_while(|t| t.position == p)
                                .any(|t| word_at(i, t))
                        })
                    })
                    .map(|start| (start.position, start.position + last))
                    .collect()
            }
            Span::Or(items) => items.iter().flat_map(|s| reference_spans(s, doc)).collect(),
            Span::Near(n) => {
                let (l, r) = (reference_spans(&n.left, doc), reference_spans(&n.right, doc));
                let near = |a, b| reference_near(a, b, n.distance, n.ordered);
                let mut out: Vec<(u32, u32)> = l
                    .iter()
                    .copied()
                    .filter(|&a| r.iter().any(|&b| near(a, b)))
                    .collect();
                out.extend(r.iter().copied().filter(|&b| l.iter().any(|&a| near(a, b))));
                out
            }
        };
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Words the mentions of [`bounded_evaluator_agrees_with_the_reference`] are written with:
    /// spellings of the same word in several cases and with or without accents, words that the
    /// wildcards of [`QUERY_WILDCARDS`] accept or just miss, and `or`/`and` as words.
    const DOC_WORDS: &[&str] = &[
        "acme",
        "Acme",
        "ACME",
        "café",
        "Café",
        "CAFÉ",
        "cafe",
        "colour",
        "color",
        "Colors",
        "colr",
        "customise",
        "customize",
        "customised",
        "US",
        "us",
        "panne",
        "Panne",
        "sécurité",
        "Sécurité",
        "securite",
        "service",
        "client",
        "Client",
        "or",
        "and",
        "gift",
        "Gift",
        "xmas",
        "Noël",
        "noel",
        "cœur",
        "coeur",
        "pie",
    ];

    /// Words that only put distance between the others.
    const FILLERS: &[&str] = &["le", "de", "très", "the", "with", "un"];

    /// Pairs that mentions often hold side by side, for phrases to hit.
    const DOC_PAIRS: &[&str] = &[
        "service client",
        "acme panne",
        "xmas gift",
        "Noël cœur",
        "colour pie",
        "café US",
    ];

    /// Query words: the same spellings, capitals, accents, tags and handles.
    const QUERY_WORDS: &[&str] = &[
        "acme",
        "Acme",
        "ACME",
        "café",
        "Café",
        "cafe",
        "CAFE",
        "colour",
        "color",
        "US",
        "us",
        "panne",
        "sécurité",
        "securite",
        "Sécurité",
        "service",
        "client",
        "gift",
        "xmas",
        "noël",
        "noel",
        "cœur",
        "coeur",
        "pie",
        "#acme",
        "#café",
        "@acme",
    ];

    /// Wildcards that accept some of [`DOC_WORDS`] and miss others: `?` and inner `*`, with
    /// accents, capitals and tags, and final `*` prefixes.
    const QUERY_WILDCARDS: &[&str] = &[
        "colo*r",
        "customi?e",
        "custom*",
        "cust*ise",
        "se?urite",
        "sé?urité",
        "sécu*",
        "secu*",
        "caf*",
        "co?ur",
        "cœ*r",
        "cl?ent",
        "pa*e",
        "ac?e",
        "AC*E",
        "Col*r",
        "#ac*",
        "xm?s",
        "gi*t",
        "serv*",
        "No?l",
        "noë*",
    ];

    /// Phrases likely to hit [`DOC_PAIRS`], some with a wildcard inside.
    const QUERY_PAIRS: &[&str] = &[
        "service client",
        "service cli*",
        "serv* client",
        "colo*r pie",
        "xm?s gift",
        "acme pa*e",
        "ACME panne",
        "Noël cœur",
        "noel coeur",
        "café US",
        "cafe us",
    ];

    /// Exact words, phrases and wildcards (`=…`, `{…}`).
    const QUERY_EXACT: &[&str] = &[
        "{Acme}",
        "{ACME}",
        "{acme}",
        "=Café",
        "=café",
        "=acme",
        "=US",
        "=us",
        "{US}",
        "=\"Service Client\"",
        "{\"Acme panne\"}",
        "=\"service client\"",
        "=Col*r",
        "=Séc*",
        "=Cœur",
        "{Noël}",
        "=ACME",
    ];

    /// Spellings of one word each (words and wildcards): parts taken from different ones can
    /// never be the same word, so a proximity of them is accepted.
    const STEMS: &[&[&str]] = &[
        &["acme", "Acme", "ACME", "ac?e", "#acme"],
        &["café", "Café", "cafe", "CAFE", "caf*"],
        &["colour", "color", "colo*r", "Col*r"],
        &["customi?e", "custom*", "cust*ise"],
        &["US", "us"],
        &["panne", "pa*e"],
        &["sécurité", "securite", "Sécurité", "se?urite", "sé?urité"],
        &["service", "serv*"],
        &["client", "cl?ent"],
        &["gift", "gi*t"],
        &["xmas", "xm?s"],
        &["noël", "noel", "No?l"],
        &["cœur", "coeur", "co?ur", "cœ*r"],
        &["pie"],
    ];

    fn quoted(r: &mut Rng, inside: &str) -> String {
        let (open, close) = [("\"", "\""), ("\"", "\""), ("“", "”"), ("«", "»"), ("„", "“")][r.below(5)];
        format!("{open}{inside}{close}")
    }

    /// A phrase of two or three words or wildcards, or one of [`QUERY_PAIRS`], in straight or
    /// typographic quotes.
    fn dq_phrase(r: &mut Rng) -> String {
        if r.below(2) == 0 {
            let pair = r.pick(QUERY_PAIRS);
            return quoted(r, pair);
        }
        let words: Vec<&str> = (0..2 + r.below(2))
            .map(|_| {
                if r.below(4) == 0 {
                    r.pick(QUERY_WILDCARDS)
                } else {
                    r.pick(QUERY_WORDS)
                }
            })
            .collect();
        quoted(r, &words.join(" "))
    }

    /// What NEAR and a two-part `~n` take: a word, a wildcard, a phrase, an exact word, an OR
    /// of operands, or a NEAR.
    fn dq_operand(r: &mut Rng, depth: usize) -> String {
        match r.below(if depth == 0 { 8 } else { 11 }) {
            0..=2 => r.pick(QUERY_WORDS).to_string(),
            3 | 4 => r.pick(QUERY_WILDCARDS).to_string(),
            5 | 6 => dq_phrase(r),
            7 => r.pick(QUERY_EXACT).to_string(),
            8 | 9 => {
                let items: Vec<String> = (0..2 + r.below(2)).map(|_| dq_operand(r, depth - 1)).collect();
                format!("({})", items.join(" OR "))
            }
            _ => format!("({})", dq_near(r, depth - 1)),
        }
    }

    /// `NEAR/n`, `ONEAR/n`, `NEAR/nf`, `NEAR/0`, bare `NEAR`/`ONEAR`, and lower-case ones
    /// (Meltwater's).
    fn dq_near_operator(r: &mut Rng) -> String {
        match r.below(14) {
            0 | 1 => format!("NEAR/{}", r.below(5)),
            2 => format!("ONEAR/{}", r.below(4)),
            3 => format!("NEAR/{}f", r.below(4)),
            4 => r.pick(&["NEAR", "ONEAR"]).to_string(),
            5 => r.pick(&["NEAR/0", "NEAR/0f"]).to_string(),
            6 => r.pick(&["near", "onear", "Near"]).to_string(),
            _ => format!("NEAR/{}", r.below(4)),
        }
    }

    /// A NEAR between two operands (sometimes a chain of three).
    fn dq_near(r: &mut Rng, depth: usize) -> String {
        let mut out = format!(
            "{} {} {}",
            dq_operand(r, depth),
            dq_near_operator(r),
            dq_operand(r, depth)
        );
        if r.below(6) == 0 {
            out = format!("{out} {} {}", dq_near_operator(r), dq_operand(r, 0));
        }
        out
    }

    /// `"a b c"~n`, `(a b c)~n` and `(a AND b AND c)~n` (parts of distinct [`STEMS`], an OR
    /// of spellings, sometimes two parts that may be the same word), and two-part `(a b)~n`.
    fn dq_proximity(r: &mut Rng) -> String {
        let n = r.below(6);
        let spelling = |r: &mut Rng, stem: usize| STEMS[stem][r.below(STEMS[stem].len())];
        let mut stems: Vec<usize> = Vec::new();
        for _ in 0..2 + r.below(3) {
            let mut s = r.below(STEMS.len());
            while stems.contains(&s) {
                s = (s + 1) % STEMS.len();
            }
            stems.push(s);
        }
        if r.below(8) == 0 {
            // Two parts that can be the same word: refused, or else the reference (distinct
            // positions) tells.
            stems[1] = stems[0];
        }
        match r.below(5) {
            0 | 1 => {
                let words: Vec<&str> = stems.iter().map(|&s| spelling(r, s)).collect();
                let phrase = quoted(r, &words.join(" "));
                format!("{phrase}~{n}")
            }
            2 | 3 => {
                let parts: Vec<String> = stems
                    .iter()
                    .map(|&s| match r.below(4) {
                        0 => format!("({} OR {})", spelling(r, s), spelling(r, s)),
                        _ => spelling(r, s).to_string(),
                    })
                    .collect();
                format!("({})~{n}", parts.join(r.pick(&[" ", " AND "])))
            }
            _ => format!("({} {})~{n}", dq_operand(r, 1), dq_operand(r, 1)),
        }
    }

    /// Field filters, `title:`/`text:`/`message:` on words, phrases, groups and exact words.
    fn dq_field(r: &mut Rng) -> String {
        match r.below(7) {
            0 => format!("title:{}", dq_operand(r, 0)),
            1 => format!(
                "{}({} OR {})",
                r.pick(&["title:", "text:", "message:"]),
                r.pick(QUERY_WORDS),
                r.pick(QUERY_WILDCARDS)
            ),
            2 => format!("text:{}", dq_phrase(r)),
            3 => format!("title:{}", r.pick(QUERY_EXACT)),
            _ => r
                .pick(&[
                    "lang:fr",
                    "language:en",
                    "source:news",
                    "source:x",
                    "followers:>1000",
                    "authorFollowers:[500 TO 2000]",
                    "country:fra",
                    "site:acme.com",
                    "url:news.acme.com",
                    "links:acme.com",
                    "verified:true",
                    "authorVerified:false",
                ])
                .to_string(),
        }
    }

    /// One term of a dialect query: an operand, a NEAR, a proximity, an exact word, a filter, a
    /// preference `^n`, a `<<<comment>>>`, words in capitals, words side by side, or a leaf of
    /// [`random_leaf`].
    fn dq_leaf(r: &mut Rng) -> String {
        match r.below(24) {
            0..=3 => dq_operand(r, 1),
            4..=7 => dq_near(r, 2),
            8..=10 => dq_proximity(r),
            11 => r.pick(QUERY_EXACT).to_string(),
            12 | 13 => dq_field(r),
            14 => format!("{}^{}", dq_operand(r, 1), 1 + r.below(9)),
            15 => format!(
                "<<<{}>>> {}",
                r.pick(&["the brand", "acme OR panne", "NEAR/2 \"x\""]),
                dq_operand(r, 0)
            ),
            16 => format!("{} <<<not {}>>>", dq_operand(r, 0), r.pick(QUERY_WORDS)),
            17 => r
                .pick(&[
                    "ACME",
                    "US",
                    "CAFÉ",
                    "ACME panne",
                    "US café",
                    "SÉCURITÉ",
                    "COLOR",
                    "GIFT xmas",
                ])
                .to_string(),
            18 | 19 => {
                let words: Vec<String> = (0..2 + r.below(2)).map(|_| dq_operand(r, 0)).collect();
                words.join(" ")
            }
            20 | 21 => random_leaf(r),
            _ => r.pick(QUERY_WORDS).to_string(),
        }
    }

    /// A query text for every dialect: terms joined by operators (upper and lower case),
    /// juxtaposition and new lines, with negations and parentheses.
    fn dialect_query(r: &mut Rng, depth: usize) -> String {
        if depth == 0 || r.below(3) == 0 {
            return dq_leaf(r);
        }
        let mut out = dialect_query(r, depth - 1);
        for _ in 0..1 + r.below(2) {
            // Lower-case operators are rarer: `vigie` refuses them.
            let sep = match r.below(16) {
                0 => r.pick(&[" or ", " and "]),
                _ => r.pick(&[" AND ", " OR ", " OR ", " ", " ", "\n", " OR\n", "\n\n", " \n "]),
            };
            out.push_str(sep);
            out.push_str(&dialect_query(r, depth - 1));
        }
        if r.below(5) == 0 {
            let not = r.pick(&[" -", " NOT ", " AND NOT ", " not ", "\n-"]);
            out = format!("{out}{not}{}", dq_leaf(r));
        }
        if r.below(2) == 0 {
            format!("({out})")
        } else {
            out
        }
    }

    /// A mention of `min` to `max` words, mostly a few words of [`DOC_WORDS`] repeated (near
    /// and far from each other), with fillers, pairs, tags, capitals and line breaks; fields as
    /// [`random_mention`] draws them.
    fn dialect_mention(r: &mut Rng, min: usize, max: usize) -> Mention {
        let theme: Vec<&str> = (0..5).map(|_| r.pick(DOC_WORDS)).collect();
        let words = |r: &mut Rng, n: usize| -> String {
            let mut out = String::new();
            for i in 0..n {
                if i > 0 {
                    out.push_str(r.pick(&[" ", " ", " ", ", ", "\n", " - "]));
                }
                let w = match r.below(10) {
                    0 => r.pick(DOC_PAIRS),
                    1..=3 => r.pick(FILLERS),
                    4 => r.pick(DOC_WORDS),
                    _ => theme[r.below(theme.len())],
                };
                let w = match r.below(10) {
                    0 => format!("#{w}"),
                    1 => w.to_uppercase(),
                    2 => {
                        let mut c = w.chars();
                        c.next()
                            .map(|f| f.to_uppercase().chain(c).collect())
                            .unwrap_or_default()
                    }
                    _ => w.to_string(),
                };
                out.push_str(&w);
            }
            out
        };
        let mut m = random_mention(r, 1);
        m.title = if r.below(3) == 0 {
            words(r, 3)
        } else {
            String::new()
        };
        let n = min + r.below(max - min + 1);
        m.text = words(r, n);
        if r.below(5) == 0 {
            m.text
                .push_str(r.pick(&[" https://www.acme.com/promo", " (http://news.acme.com)."]));
        }
        m
    }

    /// Every [`Words`] of a query, in its spans too.
    fn all_words<'a>(q: &'a Query, out: &mut Vec<&'a Words>) {
        fn spans<'a>(s: &'a Span, out: &mut Vec<&'a Words>) {
            match s {
                Span::Words(w) => out.push(w),
                Span::Or(items) => items.iter().for_each(|s| spans(s, out)),
                Span::Near(n) => {
                    spans(&n.left, out);
                    spans(&n.right, out);
                }
            }
        }
        match q {
            Query::Words(w) => out.push(w),
            Query::Near(n) => {
                spans(&n.left, out);
                spans(&n.right, out);
            }
            Query::Proximity { parts, .. } => parts.iter().for_each(|s| spans(s, out)),
            Query::And(items) | Query::Or(items) => items.iter().for_each(|q| all_words(q, out)),
            Query::Not(q) => all_words(q, out),
            Query::Field(..) | Query::Followers(_) => {}
        }
    }

    /// Issues 11 (item 3) and 12 (item 5): the bounded evaluator (index lookups, one-pass
    /// phrases, NEAR and proximity over sets of positions) gives the answers of the reference
    /// evaluator, and the matcher (presearch, then the evaluator) finds the same queries, on
    /// short mentions (scanned) and long ones (indexed), for every construct of the grammar
    /// read in every dialect of [`SYNTAXES`]: NEAR/n, ONEAR/n and NEAR/nf between groups,
    /// phrases and wildcards, nested NEAR, bare NEAR and NEAR/0, `~n` on phrases and groups,
    /// `?` and inner `*`, wildcard phrases, `{Exact}` and `=Exact`, words in capitals
    /// (Talkwalker: exact case) and with accents (Brandwatch: that spelling), lower-case
    /// operators (Meltwater), new lines (Visibrain: OR), words side by side (Talkwalker: near),
    /// comments, preferences, typographic quotes, field filters, aliases and ranges. A text a
    /// dialect refuses is skipped for that dialect.
    #[test]
    fn bounded_evaluator_agrees_with_the_reference() {
        const TEXTS: usize = 600;
        const DOCS: usize = 150;
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let syntaxes: Vec<Syntax> = SYNTAXES.iter().map(|n| syntax_named(n).unwrap()).collect();
        // Each distinct tree once, with a text that gave it and the dialects that read it so.
        let mut trees: Vec<(Query, String, Vec<usize>)> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut parsed = [0usize; SYNTAXES.len()];
        let mut read_otherwise = [0usize; SYNTAXES.len()];
        for i in 0..TEXTS {
            let text = if i % 4 == 0 {
                random_query(&mut r, 3)
            } else {
                dialect_query(&mut r, 3)
            };
            let mut vigie = None;
            for (d, syntax) in syntaxes.iter().enumerate() {
                let q = Query::parse_with(&text, syntax).ok();
                if d == 0 {
                    vigie.clone_from(&q);
                } else if q != vigie {
                    read_otherwise[d] += 1;
                }
                let Some(q) = q else { continue };
                parsed[d] += 1;
                let id = *seen.entry(format!("{q:?}")).or_insert_with(|| {
                    trees.push((q, text.clone(), Vec::new()));
                    trees.len() - 1
                });
                trees[id].2.push(d);
            }
        }
        for (d, name) in SYNTAXES.iter().enumerate() {
            assert!(
                parsed[d] > TEXTS / 2,
                "{name}: the generator produces mostly valid queries ({}/{TEXTS})",
                parsed[d]
            );
            // A dialect's own readings are exercised (new lines, capitals, accents, lower-case
            // operators, words side by side).
            if syntaxes[d] != Syntax::vigie() {
                assert!(
                    read_otherwise[d] > TEXTS / 20,
                    "{name} reads few texts otherwise than vigie ({})",
                    read_otherwise[d]
                );
            }
        }
        let has = |f: &dyn Fn(&Query) -> bool| trees.iter().filter(|(q, ..)| contains(q, f)).count();
        assert!(has(&|q| matches!(q, Query::Near(n) if matches!(n.left, Span::Or(_)))) > 20);
        assert!(has(&|q| matches!(q, Query::Near(n) if matches!(n.left, Span::Near(_)))) > 20);
        assert!(has(&|q| matches!(q, Query::Near(n) if n.ordered)) > 20);
        assert!(has(&|q| matches!(q, Query::Near(n) if n.distance == 0)) > 20);
        assert!(has(&|q| matches!(q, Query::Proximity { .. })) > 20);
        let words = |f: &dyn Fn(&Words) -> bool| {
            trees
                .iter()
                .filter(|(q, ..)| {
                    let mut all = Vec::new();
                    all_words(q, &mut all);
                    all.into_iter().any(f)
                })
                .count()
        };
        let term = |f: fn(&Term) -> bool| move |w: &Words| w.words.iter().any(f);
        assert!(words(&term(|t| matches!(t, Term::Pattern(_)))) > 20);
        assert!(words(&term(|t| matches!(t, Term::Prefix(_)))) > 20);
        assert!(words(&|w| w.words.len() > 1 && w.words.iter().any(|t| !matches!(t, Term::Word(_)))) > 20);
        assert!(words(&|w| w.exact) > 20);
        assert!(words(&|w| w.accents && !w.exact) > 20);
        assert!(words(&|w| w.scope != crate::vocabulary::Scope::Any) > 20);

        let docs: Vec<(Mention, Document)> = (0..DOCS)
            .map(|i| {
                let mut m = if i % 2 == 0 {
                    dialect_mention(&mut r, 1, 12)
                } else {
                    dialect_mention(&mut r, 40, 90)
                };
                if i % 5 == 0 {
                    // Fullwidth forms, look-alikes and invisible characters: exact and
                    // accent-sensitive words compare the text as written, as read through them.
                    m.title = disguise(&mut r, &m.title);
                    m.text = disguise(&mut r, &m.text);
                }
                let doc = Document::from_mention(&m, ["fr", "en"][i % 3 % 2]);
                (m, doc)
            })
            .collect();
        let mut matcher = Matcher::default();
        for (i, (q, ..)) in trees.iter().enumerate() {
            matcher.insert(&format!("q{i:05}"), "acme", q.clone());
        }
        let mut hits = vec![0usize; trees.len()];
        for (k, (m, doc)) in docs.iter().enumerate() {
            let mut expected = Vec::new();
            for (i, (q, text, dialects)) in trees.iter().enumerate() {
                let want = reference(q, doc);
                if q.matches(doc) != want {
                    let mut ds = dialects.clone();
                    ds.sort_unstable();
                    ds.dedup();
                    let names: Vec<&str> = ds.iter().map(|&d| SYNTAXES[d]).collect();
                    panic!(
                        "{text:?} read by {names:?} as {q:?}\nthe evaluator says {}, the reference {want}, \
                         on {:?} / {:?}",
                        !want, m.title, m.text
                    );
                }
                if want {
                    hits[i] += 1;
                    expected.push(format!("q{i:05}"));
                }
            }
            // The presearcher loses none of them (on a third of the mentions, for time).
            if k % 3 == 0 {
                let found = matcher.matches("acme", doc);
                assert_eq!(found, expected, "{:?} / {:?}", m.title, m.text);
            }
        }
        // Per dialect: evaluations that matched and that did not, and queries that match some
        // mentions and not others.
        for (d, name) in SYNTAXES.iter().enumerate() {
            let (mut matched, mut checked, mut telling) = (0, 0, 0);
            for (i, (.., dialects)) in trees.iter().enumerate() {
                let times = dialects.iter().filter(|&&x| x == d).count();
                matched += hits[i] * times;
                checked += DOCS * times;
                telling += times * usize::from(hits[i] > 0 && hits[i] < DOCS);
            }
            assert!(
                matched > checked / 10 && checked - matched > checked / 10,
                "{name}: the property is exercised on matches and misses ({matched}/{checked})"
            );
            assert!(
                telling > parsed[d] / 4,
                "{name}: queries that match some mentions and not others ({telling}/{})",
                parsed[d]
            );
            eprintln!(
                "{name}: {}/{TEXTS} texts parsed ({} read otherwise than vigie), {matched}/{checked} matched, \
                 {telling} queries telling mentions apart",
                parsed[d], read_otherwise[d]
            );
        }
    }

    /// Whether `q` or one of its sub-queries is such that `f`.
    fn contains(q: &Query, f: &dyn Fn(&Query) -> bool) -> bool {
        f(q) || match q {
            Query::And(items) | Query::Or(items) => items.iter().any(|q| contains(q, f)),
            Query::Not(q) => contains(q, f),
            _ => false,
        }
    }

    /// Issue 11, item 9: invisible characters, fullwidth forms and look-alike letters inserted
    /// anywhere in a mention do not change which (Latin) queries match it, through the
    /// presearcher and the evaluator alike.
    #[test]
    fn disguised_mentions_match_like_plain_ones() {
        let mut r = Rng(0x6a09_e667_f3bc_c908);
        let mut matcher = Matcher::default();
        let mut queries = Vec::new();
        for i in 0..400 {
            let text = random_query(&mut r, 3);
            // Links are compared as written: a look-alike host is another site.
            let Ok(q) = Query::parse(&text) else {
                continue;
            };
            if text.contains("links:") {
                continue;
            }
            let key = format!("acme/q{i}");
            matcher.insert(&key, "acme", q.clone());
            queries.push((key, q));
        }
        let mut matched = 0;
        for i in 0..1_500 {
            let m = random_mention(&mut r, if i % 3 == 0 { 60 } else { 12 });
            let mut d = m.clone();
            d.title = disguise(&mut r, &m.title);
            d.text = disguise(&mut r, &m.text);
            let (plain, disguised) = (Document::from_mention(&m, "fr"), Document::from_mention(&d, "fr"));
            let expected = matcher.matches("acme", &plain);
            assert_eq!(
                matcher.matches("acme", &disguised),
                expected,
                "{:?} / {:?}",
                d.title,
                d.text
            );
            for (_, q) in &queries {
                assert_eq!(q.matches(&disguised), q.matches(&plain), "{q:?}: {:?}", d.text);
            }
            matched += expected.len();
        }
        assert!(
            matched > 1_000,
            "the property is exercised on real matches ({matched})"
        );
    }

    /// The presearcher never loses a match: for random queries and documents, the matcher's
    /// result equals evaluating every query directly.
    #[test]
    fn matcher_agrees_with_evaluating_every_query() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let mut matcher = Matcher::default();
        let mut queries = Vec::new();
        for i in 0..400 {
            let text = random_query(&mut r, 3);
            let Ok(q) = Query::parse(&text) else { continue };
            let tenant = if i % 5 == 0 { "other" } else { "acme" };
            let key = format!("{tenant}/q{i}");
            matcher.insert(&key, tenant, q.clone());
            queries.push((key, tenant, q));
        }
        assert!(queries.len() > 300, "generator produces mostly valid queries");
        let mut matched = 0;
        for _ in 0..2_000 {
            let doc = random_doc(&mut r);
            let mut expected: Vec<String> = queries
                .iter()
                .filter(|(_, t, q)| *t == "acme" && q.matches(&doc))
                .map(|(k, _, _)| k.clone())
                .collect();
            expected.sort();
            matched += expected.len();
            assert_eq!(matcher.matches("acme", &doc), expected);
        }
        assert!(
            matched > 1_000,
            "the property is exercised on real matches ({matched})"
        );
    }

    #[test]
    fn live_updates_and_tenant_isolation() {
        let mut m = Matcher::default();
        m.insert("acme/a", "acme", Query::parse("panne").unwrap());
        m.insert("other/a", "other", Query::parse("panne").unwrap());
        let doc = Document::from_text("encore une panne");
        assert_eq!(m.matches("acme", &doc), ["acme/a"]);
        m.insert("acme/a", "acme", Query::parse("livraison").unwrap());
        assert!(m.matches("acme", &doc).is_empty());
        m.remove("acme/a");
        assert!(!m.is_empty() && m.len() == 1);
        assert!(m.index.values().all(|ids| !ids.is_empty()));
    }

    /// Issue 12, item 5: a NEAR between groups is indexed under the keys of one of its sides
    /// (all the alternatives of the cheaper one), a nested NEAR and a proximity likewise, and a
    /// wildcard under its literal start: none is verified for every mention.
    #[test]
    fn presearch_keys_groups_under_near_proximity_and_wildcards() {
        let mut m = Matcher::default();
        for i in 0..1_000 {
            let queries = [
                format!("(brand{i} OR marque{i}) NEAR/3 (panne OR retard)"),
                format!("(brand{i} NEAR/2 (panne OR retard)) NEAR/5 (client OR colis)"),
                format!("(brand{i} marque{i} panne)~4"),
                format!("bq{i}?e OR \"colo{i}*r tv\""),
            ];
            for (k, q) in queries.iter().enumerate() {
                m.insert(&format!("acme/w{i}.{k}"), "acme", Query::parse(q).unwrap());
            }
        }
        assert!(m.always.is_empty(), "every query has keys");
        let doc = Document::from_text("marque7 en panne, brand7 marque7 panne, bq7xe");
        assert_eq!(m.matches("acme", &doc), ["acme/w7.0", "acme/w7.2", "acme/w7.3"]);
        // Of 4,000 queries: those of brand7 and marque7, and the wildcards under "bq7" (a prefix
        // key has three characters: bq7?e, bq70?e … bq799?e).
        let candidates = m.candidate_count("acme", &doc);
        assert!(candidates <= 120, "{candidates}");
    }

    #[test]
    fn presearch_keeps_candidates_few() {
        let mut m = Matcher::default();
        for i in 0..1_000 {
            m.insert(
                &format!("acme/w{i}"),
                "acme",
                Query::parse(&format!("brand{i} AND (panne OR retard)")).unwrap(),
            );
        }
        let doc = Document::from_text("brand7 en panne depuis ce matin");
        assert_eq!(m.matches("acme", &doc), ["acme/w7"]);
        assert!(
            m.candidate_count("acme", &doc) <= 2,
            "{}",
            m.candidate_count("acme", &doc)
        );
    }
}
