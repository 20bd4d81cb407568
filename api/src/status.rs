//! How a storage failure answers a gRPC call: the one place a [`StoreError`] becomes a
//! `tonic::Status`, with the code that tells a client what to do — UNAVAILABLE when trying
//! again may work (ClickHouse unreachable or overloaded), DEADLINE_EXCEEDED when ClickHouse
//! stopped the query at the call's deadline, INTERNAL when the query itself was refused.

use crate::store::StoreError;
use tonic::Status;

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Self {
        let message = e.to_string();
        match e {
            StoreError::Unavailable(_) | StoreError::Overloaded(_) => Status::unavailable(message),
            StoreError::DeadlineExceeded(_) => Status::deadline_exceeded(message),
            StoreError::Refused(_) | StoreError::Unsupported { .. } => Status::internal(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clickhouse_failures_map_to_what_a_client_should_do() {
        use clickhouse::error::Error;
        let code = |e: Error| Status::from(StoreError::from(e)).code();
        assert_eq!(code(Error::TimedOut), tonic::Code::Unavailable);
        let timeout = "Code: 159, e.displayText() = DB::Exception: Timeout exceeded: elapsed 1.0 seconds";
        assert_eq!(
            code(Error::BadResponse(timeout.into())),
            tonic::Code::DeadlineExceeded
        );
        let busy = "Code: 202, e.displayText() = DB::Exception: Too many simultaneous queries";
        assert_eq!(code(Error::BadResponse(busy.into())), tonic::Code::Unavailable);
        let wrong = "Code: 47, e.displayText() = DB::Exception: Unknown identifier: nope";
        assert_eq!(code(Error::BadResponse(wrong.into())), tonic::Code::Internal);
        // The messages are the ClickHouse client's, with what it means.
        let status = Status::from(StoreError::from(Error::BadResponse(busy.into())));
        assert_eq!(
            status.message(),
            format!("ClickHouse overloaded: bad response: {busy}")
        );
        let refused = Status::from(StoreError::Unsupported {
            condition: "text",
            table: "mentions_per_hour_v",
        });
        assert_eq!(refused.code(), tonic::Code::Internal);
    }
}
