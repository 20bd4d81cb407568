//! Validation and conversion of mentions, and RFC 3339 times.

use super::*;
use crate::proto::{Kind, Mention, Visibility};
use serde_json::json;

const NOW: i64 = 1_780_000_000_000;

fn ok(v: serde_json::Value) -> Mention {
    mention_from_json(v, &Limits::default(), NOW).expect("valid mention")
}

fn err(v: serde_json::Value) -> FieldError {
    mention_from_json(v, &Limits::default(), NOW).expect_err("invalid mention")
}

#[test]
fn a_minimal_mention_gets_id_defaults_and_times() {
    let m = ok(json!({"tenant":"acme","source":"whatsapp","native_id":"42","text":"allo"}));
    assert_eq!(m.id, "acme:whatsapp:42");
    assert_eq!(m.visibility, Visibility::Private as i32);
    assert_eq!(m.kind, Kind::DirectMessage as i32);
    assert_eq!(m.created_at_ms, NOW);
    assert_eq!(m.received_at_ms, NOW);
}

#[test]
fn errors_name_the_field_and_reason() {
    let e = err(json!({"tenant":"acme","source":"myspace","native_id":"1","text":"x"}));
    assert_eq!(e.field, "source");
    assert!(e.reason.contains("myspace"));
    let e = err(json!({"tenant":"acme","source":"x","native_id":"1"}));
    assert_eq!(e.field, "text");
    let e = err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","lang":"french"}));
    assert_eq!(e.field, "language_hint");
    let e = err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","txet":"typo"}));
    assert_eq!(e.field, "txet");
    let e = err(json!({"source":"x","native_id":"1","text":"x"}));
    assert_eq!(e.field, "tenant");
    let e = err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","created_at":"yesterday"}));
    assert_eq!(e.field, "created_at");
    let e =
        err(json!({"tenant":"acme","source":"x","native_id":"1","text":"x","author":{"followers":"many"}}));
    assert!(e.reason.contains("invalid type"), "{}", e.reason);
}

#[test]
fn text_length_limit_is_enforced() {
    let limits = Limits { max_text_chars: 10 };
    let e = mention_from_json(
        json!({"tenant":"acme","source":"x","native_id":"1","text":"é".repeat(11)}),
        &limits,
        NOW,
    )
    .unwrap_err();
    assert_eq!(e.field, "text");
    assert!(e.reason.contains("11 characters"));
}

#[test]
fn rfc3339_round_trips() {
    let ms = parse_rfc3339_ms("2026-03-01T10:20:30.123Z").unwrap();
    assert_eq!(format_rfc3339_ms(ms), "2026-03-01T10:20:30.123Z");
    assert_eq!(
        parse_rfc3339_ms("2026-03-01T11:20:30+01:00").unwrap(),
        parse_rfc3339_ms("2026-03-01T10:20:30Z").unwrap()
    );
    assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_rfc3339_ms("2026-13-01T00:00:00Z"), None);
    // Days that do not exist and offsets beyond ±23:59 are refused, not rolled over.
    assert_eq!(parse_rfc3339_ms("2026-02-31T00:00:00Z"), None);
    assert_eq!(parse_rfc3339_ms("2026-04-31T00:00:00Z"), None);
    assert_eq!(parse_rfc3339_ms("2026-02-29T00:00:00Z"), None);
    assert!(parse_rfc3339_ms("2028-02-29T00:00:00Z").is_some());
    assert!(parse_rfc3339_ms("2000-02-29T00:00:00Z").is_some());
    assert_eq!(parse_rfc3339_ms("2100-02-29T00:00:00Z"), None);
    assert_eq!(parse_rfc3339_ms("2026-03-01T10:00:00+99:99"), None);
    assert_eq!(parse_rfc3339_ms("2026-03-01T10:00:00+24:00"), None);
    assert!(parse_rfc3339_ms("2026-03-01T10:00:00-23:59").is_some());
}

#[test]
fn publication_times_before_2000_are_refused_with_what_they_probably_were() {
    let at = |v: serde_json::Value| {
        mention_from_json(
            json!({"tenant":"acme","source":"x","native_id":"1","text":"x","created_at": v}),
            &Limits::default(),
            NOW,
        )
    };
    // Epoch seconds, the usual unit mistake, would land in January 1970.
    let e = at(json!(1_780_000_000)).unwrap_err();
    assert_eq!(e.field, "created_at");
    assert!(e.reason.contains("looks like epoch seconds"), "{}", e.reason);
    assert!(e.reason.contains("1780000000000"), "{}", e.reason);
    // The epoch itself is not "no date": it is refused rather than replaced by reception time.
    for zero in [json!("1970-01-01T00:00:00Z"), json!(0)] {
        let e = at(zero).unwrap_err();
        assert!(e.reason.contains("before 2000-01-01"), "{}", e.reason);
    }
    assert!(at(json!("1999-12-31T23:59:59Z")).is_err());
    assert_eq!(
        at(json!("2000-01-01T00:00:00Z")).unwrap().created_at_ms,
        MIN_CREATED_AT_MS
    );
    assert_eq!(at(json!(NOW - 1000)).unwrap().created_at_ms, NOW - 1000);
    // A gRPC mention (already a protobuf) is held to the same rule; zero means "not given".
    let mut m = ok(json!({"tenant":"acme","source":"x","native_id":"1","text":"x"}));
    m.created_at_ms = 1_780_000_000;
    let e = validate_and_complete(&mut m, &Limits::default(), NOW).unwrap_err();
    assert!(e.reason.contains("looks like epoch seconds"), "{}", e.reason);
    m.created_at_ms = 0;
    validate_and_complete(&mut m, &Limits::default(), NOW).unwrap();
    assert_eq!(m.created_at_ms, NOW);
}
