//! Request signatures: HMAC-SHA256 over the raw body (Meta's `X-Hub-Signature-256`, X's
//! `x-twitter-webhooks-signature`, LinkedIn's `X-LI-Signature`), compared in constant time, and
//! constant-time comparison of shared secrets (Telegram, Trustpilot).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// HMAC-SHA256 of `data` under `key`.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Whether `expected` is the HMAC-SHA256 of `data` under `key`, compared in constant time.
pub fn hmac_sha256_matches(key: &[u8], data: &[u8], expected: &[u8]) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(expected).is_ok()
}

/// Whether a handshake's challenge is a plain token: 1 to `max` characters, each an ASCII letter
/// or digit or one of `punctuation`. A handshake that signs its challenge with the same secret
/// and MAC as deliveries must refuse anything else, or anyone could have it sign a forged body
/// (every delivery a connector maps is a JSON object, so it holds a `{`, never allowed here).
pub fn plain_challenge(token: &str, max: usize, punctuation: &str) -> bool {
    (1..=max).contains(&token.len())
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || punctuation.contains(c))
}

/// Whether `expected` is the HMAC-SHA256 of the concatenation of `parts` under `key`, compared
/// in constant time (no copy of the parts).
pub fn hmac_sha256_parts_match(key: &[u8], parts: &[&[u8]], expected: &[u8]) -> bool {
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(key) else {
        return false;
    };
    for part in parts {
        mac.update(part);
    }
    mac.verify_slice(expected).is_ok()
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hexadecimal string (either case), or `None`.
pub fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

/// Standard base64 (with padding) of `bytes`.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The bytes of a standard base64 string, or `None`.
pub fn from_base64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(s.trim()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_gives_the_published_test_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert!(hmac_sha256_matches(
            b"Jefe",
            b"what do ya want for nothing?",
            &mac
        ));
        assert!(!hmac_sha256_matches(
            b"Jefe",
            b"what do ya want for nothing!",
            &mac
        ));
        assert!(!hmac_sha256_matches(
            b"Jefe",
            b"what do ya want for nothing?",
            &mac[..31]
        ));
    }

    #[test]
    fn hex_and_base64_round_trip_and_refuse_garbage() {
        assert_eq!(from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("0FF"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("+f"), None, "a sign is not a hex digit");
        assert!(plain_challenge("a-B_9=+/", 256, "-_=+/"));
        assert!(!plain_challenge("", 256, "-_=+/"));
        assert!(!plain_challenge("{\"x\":1}", 256, "-_=+/"));
        assert!(!plain_challenge(&"a".repeat(257), 256, "-_=+/"));
        let whole = hmac_sha256(b"k", b"ab");
        assert!(hmac_sha256_parts_match(b"k", &[b"a", b"b"], &whole));
        assert!(!hmac_sha256_parts_match(b"k", &[b"a", b"c"], &whole));
        assert_eq!(from_base64(&base64(b"vigie")), Some(b"vigie".to_vec()));
        assert_eq!(from_base64("***"), None);
        assert!(same_secret(b"abc", b"abc") && !same_secret(b"abc", b"abd") && !same_secret(b"abc", b"ab"));
    }
}
