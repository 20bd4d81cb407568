//! Hashed text features: character n-grams within words and word (and word-pair) ids, hashed
//! into a fixed number of buckets. Hashing keeps models small and lookups allocation-free.

/// 64-bit FNV-1a style hash with a seed, over bytes.
#[inline]
pub fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^ (h >> 29)
}

/// Reduces a hash to a bucket: a mask when `buckets` is a power of two (every model's is), as
/// a 64-bit division per feature would dominate the cost of feature extraction.
#[inline]
pub fn bucket(h: u64, buckets: u32) -> u32 {
    if buckets.is_power_of_two() {
        (h as u32) & (buckets - 1)
    } else {
        (h % buckets as u64) as u32
    }
}

/// Calls `f` with the bucket of every character n-gram (n in `min..=max`) of `word` padded with
/// spaces (" word "), counted in characters. The n-grams starting at one position are hashed
/// incrementally, so each byte is hashed once per starting position.
#[inline]
pub fn char_ngrams(word: &str, min: usize, max: usize, buckets: u32, mut f: impl FnMut(u32)) {
    // " word " on the stack for ordinary words; longer ones are cut (their n-grams past 126
    // bytes add nothing).
    let bytes = word.as_bytes();
    let mut stack = [b' '; 128];
    let len = bytes.len().min(126);
    let len = (0..=len).rev().find(|&l| word.is_char_boundary(l)).unwrap_or(0);
    stack[1..=len].copy_from_slice(&bytes[..len]);
    let buf = &stack[..len + 2];
    if buf.len() <= 65 && buf.is_ascii() {
        // Most words: every byte is a character, no offsets to compute (longer words take the
        // general path, which caps them at 65 characters).
        let n_chars = buf.len();
        for start in 0..n_chars {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for n in 1..=max.min(n_chars - start) {
                h ^= buf[start + n - 1] as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
                if n >= min {
                    f(ngram_bucket(h, n, buckets));
                }
            }
        }
        return;
    }
    // Byte offsets of character starts, capped at 64 characters, plus the end.
    let mut starts = [0usize; 66];
    let mut n_chars = 0;
    for (i, &b) in buf.iter().enumerate() {
        if (b & 0xC0) != 0x80 && n_chars < 65 {
            starts[n_chars] = i;
            n_chars += 1;
        }
    }
    starts[n_chars] = buf.len();
    for start in 0..n_chars {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for n in 1..=max.min(n_chars - start) {
            for &b in &buf[starts[start + n - 1]..starts[start + n]] {
                h ^= b as u64;
                h = h.wrapping_mul(0x0000_0100_0000_01b3);
            }
            if n >= min {
                f(ngram_bucket(h, n, buckets));
            }
        }
    }
}

/// The bucket of an n-gram of `n` characters whose bytes hashed to `h`.
#[inline]
fn ngram_bucket(h: u64, n: usize, buckets: u32) -> u32 {
    let mixed = (h ^ (n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)).wrapping_mul(0xff51_afd7_ed55_8ccd);
    bucket(mixed ^ (mixed >> 29), buckets)
}

/// The bucket of a whole word (seeded apart from n-grams).
#[inline]
pub fn word_bucket(word: &str, buckets: u32) -> u32 {
    bucket(hash_bytes(101, word.as_bytes()), buckets)
}

/// The bucket of a word pair.
#[inline]
pub fn pair_bucket(a: &str, b: &str, buckets: u32) -> u32 {
    pair_bucket_of(pair_first(a), pair_second(b), buckets)
}

/// The hash of `a` as the first word of a pair (see [`pair_bucket_of`]).
#[inline]
pub fn pair_first(a: &str) -> u64 {
    hash_bytes(103, a.as_bytes())
}

/// The hash of `b` as the second word of a pair (see [`pair_bucket_of`]).
#[inline]
pub fn pair_second(b: &str) -> u64 {
    hash_bytes(107, b.as_bytes())
}

/// [`pair_bucket`] from the words' hashes, for a caller pairing one word with several others
/// (each word is hashed once instead of once per pair).
#[inline]
pub fn pair_bucket_of(first: u64, second: u64, buckets: u32) -> u32 {
    bucket(first ^ second.rotate_left(17), buckets)
}

/// The hasher of the models' static word tables (shared with the gazetteer).
pub use vigie_core::hashing::{FnvBuild, FnvHasher};

#[cfg(test)]
mod tests {
    use super::*;

    /// The general path, as written before the ASCII fast path: the reference.
    fn reference(word: &str, min: usize, max: usize, buckets: u32) -> Vec<u32> {
        let bytes = word.as_bytes();
        let mut stack = [b' '; 128];
        let len = bytes.len().min(126);
        let len = (0..=len).rev().find(|&l| word.is_char_boundary(l)).unwrap_or(0);
        stack[1..=len].copy_from_slice(&bytes[..len]);
        let buf = &stack[..len + 2];
        let mut starts = [0usize; 66];
        let mut n_chars = 0;
        for (i, &b) in buf.iter().enumerate() {
            if (b & 0xC0) != 0x80 && n_chars < 65 {
                starts[n_chars] = i;
                n_chars += 1;
            }
        }
        starts[n_chars] = buf.len();
        let mut out = Vec::new();
        for start in 0..n_chars {
            let mut h = 0xcbf2_9ce4_8422_2325u64;
            for n in 1..=max.min(n_chars - start) {
                for &b in &buf[starts[start + n - 1]..starts[start + n]] {
                    h ^= b as u64;
                    h = h.wrapping_mul(0x0000_0100_0000_01b3);
                }
                if n >= min {
                    out.push(ngram_bucket(h, n, buckets));
                }
            }
        }
        out
    }

    #[test]
    fn the_ascii_fast_path_gives_the_same_buckets() {
        let long = "a".repeat(63) + "bcdefgh";
        for word in [
            "a",
            "chez",
            "livraison",
            "sécurité",
            "été",
            long.as_str(),
            &"z".repeat(200),
        ] {
            for (min, max) in [(1, 4), (4, 5)] {
                let mut got = Vec::new();
                char_ngrams(word, min, max, 1 << 15, |b| got.push(b));
                assert_eq!(got, reference(word, min, max, 1 << 15), "{word:?} {min}..{max}");
            }
        }
    }
}
