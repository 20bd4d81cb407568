//! Sending mentions through ingest's front door: NDJSON over HTTP (keep-alive connections from
//! a pool) or `IngestService.Publish` over gRPC, each tenant with its own operator token.

use http_body_util::{BodyExt, Full};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use vigie_core::config::Config;
use vigie_core::proto::ingest_service_client::IngestServiceClient;
use vigie_core::proto::{Mention, PublishRequest};

/// What the senders were told, across connections.
#[derive(Default)]
pub struct Sent {
    /// Mentions ingest acknowledged (accepted, or duplicates of ones it had accepted).
    pub accepted: AtomicU64,
    /// Mentions ingest refused.
    pub rejected: AtomicU64,
    /// Requests sent again after an error, a 5xx answer or no answer within 30 s.
    pub retried: AtomicU64,
    /// Mentions of requests given up after [`ATTEMPTS`] attempts.
    pub unanswered: AtomicU64,
}

/// Attempts per request before it is given up.
pub const ATTEMPTS: u32 = 20;
/// Longest wait for one answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// Where mentions are sent; cheap to clone.
#[derive(Clone)]
pub enum Front {
    /// `POST /v1/mentions`.
    Http {
        client: Box<vigie_core::http_client::HttpClient>,
        url: String,
        tokens: Arc<HashMap<String, String>>,
    },
    /// `IngestService.Publish`.
    Grpc {
        channel: tonic::transport::Channel,
        tokens: Arc<HashMap<String, String>>,
    },
}

impl Front {
    /// The front door `protocol` names, at the addresses of `config`.
    pub async fn new(
        config: &Config,
        protocol: &str,
        tokens: HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let tokens = Arc::new(tokens);
        match protocol {
            "http" => {
                let url = format!("http://{}/v1/mentions", config.ingest.http_listen);
                Ok(Front::Http {
                    client: Box::new(vigie_core::http_client::client(&url)?),
                    url,
                    tokens,
                })
            }
            "grpc" => {
                let listen = if config.ingest.grpc_listen.is_empty() {
                    &config.api.grpc_listen
                } else {
                    &config.ingest.grpc_listen
                };
                let channel =
                    tonic::transport::Endpoint::from_shared(format!("http://{listen}"))?.connect_lazy();
                Ok(Front::Grpc { channel, tokens })
            }
            other => anyhow::bail!("--protocol {other:?}: expected http or grpc"),
        }
    }

    /// Sends `mentions` of `tenant` once: the number acknowledged when ingest answered (200, or
    /// 400 for a batch with refused items), or why not.
    pub async fn send(&self, tenant: &str, mentions: Vec<Mention>) -> Result<(u64, u64), String> {
        match self {
            Front::Http { client, url, tokens } => {
                let mut body = String::with_capacity(mentions.len() * 400);
                for m in &mentions {
                    body.push_str(&super::corpus::to_json(m).to_string());
                    body.push('\n');
                }
                let request = hyper::Request::post(url.as_str())
                    .header(
                        "authorization",
                        format!("Bearer {}", tokens.get(tenant).map(String::as_str).unwrap_or("")),
                    )
                    .header("content-type", "application/x-ndjson")
                    .body(Full::new(bytes::Bytes::from(body)))
                    .map_err(|e| e.to_string())?;
                let response = client.request(request).await.map_err(|e| e.to_string())?;
                let status = response.status().as_u16();
                let body = response
                    .into_body()
                    .collect()
                    .await
                    .map_err(|e| e.to_string())?
                    .to_bytes();
                if status != 200 && status != 400 {
                    return Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)));
                }
                let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                let count = |k: &str| v[k].as_u64().unwrap_or(0);
                Ok((count("accepted") + count("duplicates"), count("rejected")))
            }
            Front::Grpc { channel, tokens } => {
                let mut client = IngestServiceClient::new(channel.clone());
                let mut request = tonic::Request::new(PublishRequest { mentions });
                let token = format!("Bearer {}", tokens.get(tenant).map(String::as_str).unwrap_or(""));
                request.metadata_mut().insert(
                    "authorization",
                    token.parse().map_err(|_| "token is not ASCII".to_string())?,
                );
                match client.publish(request).await {
                    Ok(r) => {
                        let r = r.into_inner();
                        Ok(((r.accepted + r.duplicates) as u64, r.rejected as u64))
                    }
                    Err(status) if status.code() == tonic::Code::InvalidArgument => {
                        Err(format!("refused: {}", status.message()))
                    }
                    Err(status) => Err(status.to_string()),
                }
            }
        }
    }

    /// Sends `mentions` until ingest answers, counting the outcome on `sent` (ids are
    /// idempotent, so a request sent again after an error acknowledges each mention once).
    pub async fn send_until_answered(&self, tenant: &str, mentions: Vec<Mention>, sent: &Sent) {
        for attempt in 0..ATTEMPTS {
            let answer = tokio::time::timeout(ANSWER_TIMEOUT, self.send(tenant, mentions.clone()))
                .await
                .unwrap_or_else(|_| Err(format!("no answer within {ANSWER_TIMEOUT:?}")));
            match answer {
                Ok((accepted, rejected)) => {
                    sent.accepted.fetch_add(accepted, Ordering::SeqCst);
                    sent.rejected.fetch_add(rejected, Ordering::SeqCst);
                    return;
                }
                Err(e) => {
                    if sent.retried.fetch_add(1, Ordering::SeqCst).is_multiple_of(100) {
                        eprintln!("[load] {tenant}: {e}; sending again");
                    }
                    // 200 ms, doubling up to 5 s: twenty attempts span about a minute and a
                    // half, enough for a service or the broker to be restarted.
                    let pause = Duration::from_millis(200 << attempt.min(5)).min(Duration::from_secs(5));
                    tokio::time::sleep(pause).await;
                }
            }
        }
        eprintln!(
            "[load] {tenant}: a request of {} mentions given up after {ATTEMPTS} attempts",
            mentions.len()
        );
        sent.unanswered.fetch_add(mentions.len() as u64, Ordering::SeqCst);
    }
}
