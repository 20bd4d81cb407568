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
                let word_at = |i: usize, t: &crate::text::Token| w.accepts_token(i, t);
                let last = w.words.len() as u32 - 1;
                tokens
                    .iter()
                    .filter(|t| word_at(0, t))
                    .filter(|start| {
                        (1..w.words.len()).all(|i| {
                            let p = start.position + i as u32;
                            tokens.iter().any(|t| t.position == p && word_at(i, t))
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

    /// Issues 11 (item 3) and 12 (item 5): the bounded evaluator (index lookups, one-pass
    /// phrases, NEAR and proximity over sets of positions) gives the answers of the reference
    /// evaluator, on short mentions (scanned) and long ones (indexed), for every construct of
    /// the grammar (groups and nested NEAR, NEAR/nf, NEAR/0, bare NEAR, `~n` on phrases and
    /// groups, `?` and inner `*`, wildcard phrases, `{Exact}`, field aliases and ranges).
    #[test]
    fn bounded_evaluator_agrees_with_the_reference() {
        let mut r = Rng(0x2545_f491_4f6c_dd1d);
        let queries: Vec<Query> = (0..900)
            .filter_map(|_| Query::parse(&random_query(&mut r, 3)).ok())
            .collect();
        assert!(
            queries.len() > 650,
            "generator produces mostly valid queries ({})",
            queries.len()
        );
        let has = |f: &dyn Fn(&Query) -> bool| queries.iter().filter(|q| contains(q, f)).count();
        assert!(has(&|q| matches!(q, Query::Near(n) if matches!(n.left, Span::Or(_)))) > 20);
        assert!(has(&|q| matches!(q, Query::Near(n) if matches!(n.left, Span::Near(_)))) > 20);
        assert!(has(&|q| matches!(q, Query::Proximity { .. })) > 20);
        assert!(
            has(&|q| matches!(q, Query::Words(w) if w.words.iter().any(|t| matches!(t, Term::Pattern(_)))))
                > 20
        );
        let (mut matched, mut checked) = (0, 0);
        for i in 0..300 {
            let m = random_mention(&mut r, if i % 2 == 0 { 12 } else { 90 });
            let doc = Document::from_mention(&m, "fr");
            for q in &queries {
                let expected = reference(q, &doc);
                assert_eq!(q.matches(&doc), expected, "{q:?}\n{:?} / {:?}", m.title, m.text);
                matched += expected as usize;
                checked += 1;
            }
        }
        assert!(
            matched > checked / 10,
            "the property is exercised on real matches ({matched}/{checked})"
        );
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
