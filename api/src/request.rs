//! What every service checks in requests: enumerated values, lengths of free-text filters, page
//! sizes and keyset page tokens.

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// INVALID_ARGUMENT naming `field` and `reason`, in the message and as a
/// `google.rpc.BadRequest` field violation in the status details (what gRPC clients read to
/// point at the faulty field).
pub fn invalid(field: &str, reason: &str) -> Status {
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {reason}"),
        ErrorDetails::with_bad_request_violation(field, reason),
    )
}

/// Refuses `value` unless empty or one of `allowed`, naming `field`.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), Status> {
    if value.is_empty() || allowed.contains(&value) {
        Ok(())
    } else {
        Err(invalid(
            field,
            &format!("{value:?}: expected one of {}", allowed.join(", ")),
        ))
    }
}

/// The longest free-text filter a read accepts (`text`, `watch_id`, `language`, `source` of
/// `Search`; `watch_id` of `Stats`), in characters: more than any phrase searched for and any
/// stored name, and far under what ClickHouse accepts in one query (`max_query_size`, 256 KiB
/// by default), past which it would refuse the query and the caller get INTERNAL.
pub const MAX_FILTER_CHARS: usize = 1_024;

/// The longest page token accepted, in bytes: more than any this service hands out (a time and
/// a mention id), so a longer one is not from it.
const MAX_PAGE_TOKEN_BYTES: usize = 4_096;

/// Refuses `value` when longer than [`MAX_FILTER_CHARS`] characters, naming `field`.
pub fn bounded(field: &str, value: &str) -> Result<(), Status> {
    // Counting stops one character past the bound: a 300 KB value costs no more than that.
    if value.chars().nth(MAX_FILTER_CHARS).is_some() {
        return Err(invalid(
            field,
            &format!("is longer than {MAX_FILTER_CHARS} characters"),
        ));
    }
    Ok(())
}

/// The caller's deadline (the `grpc-timeout` header), in whole seconds rounded up: what work done
/// on its behalf elsewhere (a ClickHouse query) is bounded by. `None` without a deadline.
pub fn deadline_secs<T>(request: &tonic::Request<T>) -> Option<u64> {
    let value = request.metadata().get("grpc-timeout")?.to_str().ok()?;
    let split = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let nanos_per_unit: u64 = match unit {
        "H" => 3_600_000_000_000,
        "M" => 60_000_000_000,
        "S" => 1_000_000_000,
        "m" => 1_000_000,
        "u" => 1_000,
        "n" => 1,
        _ => return None,
    };
    let nanos = n.saturating_mul(nanos_per_unit);
    Some(nanos.div_ceil(1_000_000_000).max(1))
}

/// The page size asked for, `default` when 0, at most `max`.
pub fn page_size(asked: u32, default: u32, max: u32) -> usize {
    let n = if asked == 0 { default } else { asked.min(max) };
    n as usize
}

/// A keyset page token `"<time ms>|<id>"`: where the previous page ended (`None` for the first).
pub fn keyset(token: &str) -> Result<Option<(i64, String)>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    if token.len() > MAX_PAGE_TOKEN_BYTES {
        return Err(invalid("page_token", "not from this service"));
    }
    token
        .split_once('|')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.to_string())))
        .map(Some)
        .ok_or_else(|| invalid("page_token", "not from this service"))
}

/// The token of a page that ended at (`time_ms`, `id`), when there is more.
pub fn next_keyset(more: bool, last: Option<(i64, &str)>) -> String {
    match (more, last) {
        (true, Some((t, id))) => format!("{t}|{id}"),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_foreign_ones_are_refused() {
        let t = next_keyset(true, Some((42, "a|b")));
        assert_eq!(keyset(&t).unwrap(), Some((42, "a|b".to_string())));
        assert_eq!(keyset("").unwrap(), None);
        assert_eq!(next_keyset(false, Some((1, "x"))), "");
        assert_eq!(
            keyset("garbage").unwrap_err().code(),
            tonic::Code::InvalidArgument
        );
        let mut r = tonic::Request::new(());
        assert_eq!(deadline_secs(&r), None);
        r.set_timeout(std::time::Duration::from_millis(1_500));
        assert_eq!(deadline_secs(&r), Some(2), "rounded up to whole seconds");
        r.metadata_mut().insert("grpc-timeout", "2M".parse().unwrap());
        assert_eq!(deadline_secs(&r), Some(120));
        assert_eq!(page_size(0, 50, 500), 50);
        assert_eq!(page_size(9_999, 50, 500), 500);
        assert!(one_of("state", "", &["a"]).is_ok());
        assert_eq!(
            keyset(&format!("1|{}", "x".repeat(5_000))).unwrap_err().code(),
            tonic::Code::InvalidArgument,
            "longer than any token handed out"
        );
        // Lengths are counted in characters, not bytes.
        assert!(bounded("text", &"é".repeat(MAX_FILTER_CHARS)).is_ok());
        let long = bounded("text", &"x".repeat(MAX_FILTER_CHARS + 1)).unwrap_err();
        assert_eq!(long.code(), tonic::Code::InvalidArgument);
        assert_eq!(
            long.get_details_bad_request().unwrap().field_violations[0].field,
            "text"
        );
        // The faulty field is named in the details, where clients look for it.
        let refused = one_of("state", "nope", &["a"]).unwrap_err();
        let details = refused.get_details_bad_request().expect("a BadRequest detail");
        assert_eq!(details.field_violations[0].field, "state");
        assert!(details.field_violations[0]
            .description
            .contains("expected one of a"));
    }
}
