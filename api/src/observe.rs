//! Metrics of every gRPC call (`vigie_api_requests_total{method,code}`,
//! `vigie_api_request_seconds{method}`), as a tower layer around the whole server: health,
//! reflection and ingest calls are counted like the API's own.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

/// The layer to add to the server.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Observe { inner }
    }
}

/// A service counting and timing the calls it passes on.
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

/// The method label of a request path: Vigie's and the standard gRPC services' full method
/// names; anything else (a client's typo) is `other`, so labels stay few (so is a made-up
/// method under a known prefix, once it is answered UNIMPLEMENTED).
fn method_label(path: &str) -> String {
    if path.starts_with("/vigie.v1.") || path.starts_with("/grpc.") {
        path.to_string()
    } else {
        "other".to_string()
    }
}

/// The status code of a response whose headers are `headers`: a call that failed at once
/// carries `grpc-status` in its headers; otherwise it started well (`Ok`; a stream's later end
/// is in its trailers, not counted here).
fn code_label(headers: &http::HeaderMap) -> String {
    match headers.get("grpc-status").and_then(|v| v.to_str().ok()) {
        Some(code) => format!("{:?}", tonic::Code::from(code.parse::<i32>().unwrap_or(2))),
        None => "Ok".to_string(),
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    R: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let method = method_label(request.uri().path());
        let started = Instant::now();
        let call = self.inner.call(request);
        Box::pin(async move {
            let result = call.await;
            let code = match &result {
                Ok(response) => code_label(response.headers()),
                Err(_) => "transport_error".to_string(),
            };
            // A method that does not exist is not a label of its own (a client could make up
            // any number of them).
            let method = if code == "Unimplemented" {
                "other".to_string()
            } else {
                method
            };
            vigie_core::metrics::api_request(&method, &code, started.elapsed());
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_stay_few_and_name_the_status() {
        assert_eq!(
            method_label("/vigie.v1.AlertService/ListAlerts"),
            "/vigie.v1.AlertService/ListAlerts"
        );
        assert_eq!(method_label("/evil/../path"), "other");
        let mut headers = http::HeaderMap::new();
        assert_eq!(code_label(&headers), "Ok");
        headers.insert("grpc-status", "16".parse().unwrap());
        assert_eq!(code_label(&headers), "Unauthenticated");
    }
}
