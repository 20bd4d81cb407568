//! Scenario `shutdown`: the API's own metrics count calls by method and status, a revoked token
//! stops working within moments, and each service drains and exits 0 on SIGTERM.

use crate::fixture::*;
use crate::World;
use std::time::Duration;

/// Runs the scenario.
pub fn run(w: &mut World) {
    let stack = &w.stack;
    let [k1, _, _] = &w.tokens;
    // The API's own metrics count the calls by method and status, refusals included.
    let (status, metrics) = http("GET", &stack.api_metrics, "/metrics", b"").unwrap();
    assert_eq!(status, 200);
    for line in [
        r#"vigie_api_requests_total{code="NotFound",method="/vigie.v1.WatchService/GetWatch"}"#,
        r#"vigie_api_requests_total{code="Ok",method="/vigie.v1.MentionService/Search"}"#,
    ] {
        assert!(metrics.contains(line), "{line} missing from\n{metrics}");
    }
    terminate(w.api.take().expect("api running"), "api", stack);

    // A revoked token stops working within moments.
    let id = k1.split('_').nth(1).unwrap().to_string();
    stack.run(&["token", "revoke", &id]);
    wait_until("the revocation to reach ingest", Duration::from_secs(30), || {
        http_as(Some(k1), "POST", &stack.http, "/v1/mentions", b"[]")
            .map(|(s, _)| s == 401)
            .unwrap_or(false)
    });

    // Graceful shutdown: each service drains and exits 0 on SIGTERM.
    terminate(w.ingest.take().expect("ingest running"), "ingest", stack);
    terminate(w.enrich.take().expect("enrich running"), "enrich", stack);
    terminate(w.alerting.take().expect("alerting running"), "alerting", stack);
    assert!(
        stack.log("enrich").contains("enrich: stopped"),
        "{}",
        stack.log("enrich")
    );
}
