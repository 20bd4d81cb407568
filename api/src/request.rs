//! What every service checks in requests: enumerated values, page sizes and keyset page tokens.

use tonic::Status;

/// Refuses `value` unless empty or one of `allowed`, naming `field`.
pub fn one_of(field: &str, value: &str, allowed: &[&str]) -> Result<(), Status> {
    if value.is_empty() || allowed.contains(&value) {
        Ok(())
    } else {
        Err(Status::invalid_argument(format!(
            "{field}: {value:?}: expected one of {}",
            allowed.join(", ")
        )))
    }
}

/// The page size asked for, `default` when 0, at most `max`.
pub fn page_size(asked: u32, default: u32, max: u32) -> usize {
    let n = if asked == 0 { default } else { asked.min(max) };
    n as usize
}

/// A keyset page token "<time ms>|<id>": where the previous page ended (`None` for the first).
pub fn keyset(token: &str) -> Result<Option<(i64, String)>, Status> {
    if token.is_empty() {
        return Ok(None);
    }
    token
        .split_once('|')
        .and_then(|(t, id)| Some((t.parse().ok()?, id.to_string())))
        .map(Some)
        .ok_or_else(|| Status::invalid_argument("page_token: not from this service"))
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
        assert_eq!(page_size(0, 50, 500), 50);
        assert_eq!(page_size(9_999, 50, 500), 500);
        assert!(one_of("state", "nope", &["a"]).is_err() && one_of("state", "", &["a"]).is_ok());
    }
}
