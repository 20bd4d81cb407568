//! The filtered stream's rules kept as the configuration says: read with
//! `GET /2/tweets/search/stream/rules`, the missing ones added and the stale ones deleted with
//! `POST /2/tweets/search/stream/rules`. Vigie tags its rules `vigie:<rule>`; only rules so
//! tagged are ever deleted, so the rules other tools put on the same app are left alone.

use super::tweet::{bounded_bytes, describe_errors};
use crate::connectors::api::{error, Api};
use crate::connectors::map;
use crate::connectors::poll::PollError;
use hyper::Method;
use serde_json::{json, Value};

/// The rules endpoint.
pub const RULES_PATH: &str = "/2/tweets/search/stream/rules";
/// The prefix of the tags of Vigie's rules.
pub const TAG_PREFIX: &str = "vigie:";

/// The tag Vigie gives `rule`.
pub fn tag(rule: &str) -> String {
    format!("{TAG_PREFIX}{rule}")
}

/// What a sync changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// The rules added (their values).
    pub added: Vec<String>,
    /// The ids of the rules deleted.
    pub deleted: Vec<String>,
}

/// Makes the app's rules hold `wanted`: adds those missing (a rule of the same value under any
/// tag counts as there: X refuses duplicates), deletes the `vigie:`-tagged ones not wanted;
/// deletions first, as X bounds the number of rules.
pub async fn sync(api: &Api, authorization: &str, wanted: &[String]) -> Result<Changes, PollError> {
    let headers = [("Authorization", authorization), ("Accept", "application/json")];
    let answer = api.call(Method::GET, RULES_PATH, &headers, None).await?;
    if !answer.status.is_success() {
        return Err(refused(api, answer.status, &answer.body));
    }
    let existing = answer.json("stream rules")?;
    let rules: Vec<(String, String, String)> = existing
        .get("data")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some((
                map::id(r, &["id"])?,
                map::text(r, &["value"])?.to_string(),
                map::text(r, &["tag"]).unwrap_or_default().to_string(),
            ))
        })
        .collect();
    let deleted: Vec<String> = rules
        .iter()
        .filter(|(_, value, tag)| tag.starts_with(TAG_PREFIX) && !wanted.contains(value))
        .map(|(id, ..)| id.clone())
        .collect();
    let added: Vec<String> = wanted
        .iter()
        .filter(|w| !rules.iter().any(|(_, value, _)| value == *w))
        .cloned()
        .collect();
    if !deleted.is_empty() {
        post(api, authorization, json!({ "delete": { "ids": deleted } })).await?;
    }
    if !added.is_empty() {
        let add: Vec<Value> = added
            .iter()
            .map(|value| json!({ "value": value, "tag": tag(value) }))
            .collect();
        post(api, authorization, json!({ "add": add })).await?;
    }
    Ok(Changes { added, deleted })
}

/// One change of the rules; its errors other than a duplicate rule refuse the sync.
async fn post(api: &Api, authorization: &str, body: Value) -> Result<(), PollError> {
    let headers = [
        ("Authorization", authorization),
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
    ];
    let answer = api
        .call(
            Method::POST,
            RULES_PATH,
            &headers,
            Some(body.to_string().into_bytes()),
        )
        .await?;
    if !answer.status.is_success() {
        return Err(refused(api, answer.status, &answer.body));
    }
    let answer = answer.json("stream rules change")?;
    let errors: Vec<Value> = answer
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|e| map::text(e, &["title"]) != Some("DuplicateRule"))
        .cloned()
        .collect();
    if errors.is_empty() {
        return Ok(());
    }
    let rules: Vec<&str> = errors.iter().filter_map(|e| map::text(e, &["value"])).collect();
    Err(error(
        "rules",
        format!(
            "X refused the rules {rules:?}: {}",
            describe_errors(&Value::Array(errors.clone()))
        ),
    ))
}

fn refused(api: &Api, status: hyper::StatusCode, body: &[u8]) -> PollError {
    error(
        "rules",
        format!(
            "{}: HTTP {status}: {}",
            api.url(RULES_PATH),
            bounded_bytes(&String::from_utf8_lossy(body), 512)
        ),
    )
}
