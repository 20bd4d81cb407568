//! Scenario `ingest_and_dead_letters`: no token is 401 and another tenant's token is refused;
//! then a clean run of 2,000 mentions for tenant 1, some invalid: every accepted one in
//! ClickHouse exactly once (FINAL) with enriched fields, the invalid ones answered 400 and found
//! on the dead-letter topic, the burst alert raised exactly once.

use crate::fixture::*;
use crate::World;
use std::time::{Duration, Instant};

/// Runs the scenario.
pub fn run(w: &mut World) {
    let (stack, database) = (&w.stack, &w.stack.database);
    let http_addr = &stack.http;
    let [t1, t2, _] = &w.tenants;
    let [k1, _, k3] = &w.tokens;
    // Tokens: one per tenant. Without one, or with another tenant's, nothing is written.
    wait_until("ingest to know the tokens", Duration::from_secs(30), || {
        http_as(Some(k3), "POST", http_addr, "/v1/mentions", b"[]")
            .map(|(s, _)| s != 401)
            .unwrap_or(false)
    });
    let one = mention(t2, 0, vigie_core::now_ms(), false);
    assert_eq!(
        http("POST", http_addr, "/v1/mentions", one.as_bytes()).unwrap().0,
        401
    );
    let (status, body) = http_as(Some(k1), "POST", http_addr, "/v1/mentions", one.as_bytes()).unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("\"field\":\"items[0].tenant\""), "{body}");

    // Phase 1: a clean run.
    let started = Instant::now();
    let (accepted, rejected, posting) = post_all(stack, k1, t1, 2_000, |_| {});
    assert_eq!(accepted + rejected, 2_000);
    assert_eq!(rejected, 40);
    wait_until("phase 1 rows", Duration::from_secs(120), || {
        count(
            database,
            &format!("SELECT count() FROM mentions FINAL WHERE tenant = '{t1}'"),
        ) >= accepted
    });
    let elapsed = started.elapsed();
    eprintln!(
        "phase 1: {accepted} mentions posted over HTTP by one sequential client in {:.2} s ({:.0}/s, \
         each acknowledged by the broker); all enriched and in ClickHouse {:.2} s after the first post, \
         {:.2} s after the last (the first seconds are the consumer groups joining)",
        posting.as_secs_f64(),
        accepted as f64 / posting.as_secs_f64(),
        elapsed.as_secs_f64(),
        (elapsed - posting).as_secs_f64(),
    );
    assert_tenant_complete(database, t1, accepted, rejected, 200);
    w.accepted[0] = accepted;
}
