//! Near-duplicate clustering: copy-paste campaigns and forwarded chain messages get a shared
//! cluster id, so alerting can count a story rather than its copies.
//!
//! The id is a MinHash over word 3-shingles of the normalised text (case, accents, URLs,
//! handles, numbers and punctuation removed), scoped by tenant: two mentions share it with
//! probability equal to the Jaccard similarity of their shingle sets — 1 for copies, high for
//! lightly edited forwards, near 0 for unrelated texts. Texts under five words are clustered by
//! their exact normalised words. It needs no state, so every enrich instance, before and after
//! a restart, gives the same mention the same cluster.

use crate::model::features::hash_bytes;
use vigie_core::text::{tokenize, Token};

/// Shortest text (in words) clustered by shingles; shorter texts cluster only as exact copies.
const MIN_WORDS: usize = 5;

/// The cluster id of `text` for `tenant` (never 0).
pub fn cluster_id(tenant: &str, text: &str) -> u64 {
    cluster_of_tokens(tenant, &tokenize(text))
}

/// The cluster id of already tokenised text for `tenant` (never 0).
pub fn cluster_of_tokens(tenant: &str, tokens: &[Token]) -> u64 {
    let words: Vec<&str> = tokens
        .iter()
        .filter(|t| !t.text.starts_with('#') && !t.text.starts_with('@'))
        .map(|t| t.text.as_str())
        .filter(|w| {
            !w.chars().all(|c| c.is_ascii_digit()) && !matches!(*w, "http" | "https" | "www" | "co" | "com")
        })
        .collect();
    let seed = hash_bytes(7, tenant.as_bytes());
    let id = if words.len() < MIN_WORDS {
        hash_bytes(seed, words.join(" ").as_bytes())
    } else {
        let hashes: Vec<u64> = words.iter().map(|w| hash_bytes(seed, w.as_bytes())).collect();
        hashes
            .windows(3)
            .map(|h| (h[0] ^ h[1].rotate_left(21) ^ h[2].rotate_left(42)).wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .min()
            .unwrap_or(seed)
    };
    id.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_and_light_edits_share_a_cluster() {
        let original = "Transférez à tous vos contacts : plusieurs personnes malades après avoir mangé chez Verdier rue de la République, évitez ce restaurant";
        let copy = "TRANSFÉREZ à tous vos contacts: plusieurs personnes malades après avoir mangé chez Verdier rue de la République, évitez ce restaurant !! http://t.co/x";
        assert_eq!(cluster_id("t", original), cluster_id("t", copy));
        // A light edit keeps most shingles; over many independent edits most stay together.
        let other = "Le nouveau wrap végé de chez Verdier est vraiment bon, je recommande à tout le monde";
        assert_ne!(cluster_id("t", original), cluster_id("t", other));
        assert_ne!(
            cluster_id("t", original),
            cluster_id("u", original),
            "scoped by tenant"
        );
        assert_eq!(cluster_id("t", "ok merci"), cluster_id("t", "OK, merci !"));
    }

    #[test]
    fn edited_forwards_mostly_stay_together() {
        let base: Vec<String> = (0..30).map(|i| format!("mot{i}")).collect();
        let mut same = 0;
        for edit in 0..30 {
            let mut words = base.clone();
            words[edit] = "changé".into();
            if cluster_id("t", &words.join(" ")) == cluster_id("t", &base.join(" ")) {
                same += 1;
            }
        }
        // One changed word removes at most 3 of 28 shingles: Jaccard ≥ 25/31 ≈ 0.8.
        assert!(same >= 18, "{same} of 30 edits kept the cluster");
    }
}
