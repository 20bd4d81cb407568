//! API tokens: bearer tokens bound to one tenant and one role, stored hashed.
//!
//! A token reads `vigie_<id>_<secret>`; only its SHA-256 is kept, on the compacted topic
//! `vigie.tokens` (key: id), which every service materialises like the watches. Verifying
//! looks the id up, checks it is not revoked, and compares hashes in constant time. `vigie token
//! create|revoke|list` manages them.

use crate::bus::{Bus, BusError, OutRecord, Publisher};
use crate::proto::{ApiToken, Role};
use crate::topics;
use prost::Message;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

/// Protobuf type name of token records.
pub const SCHEMA: &str = "vigie.v1.ApiToken";
const PREFIX: &str = "vigie_";

/// Who is calling: the tenant every call is scoped to, and what they may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's tenant.
    pub tenant: String,
    /// The token's role.
    pub role: Role,
    /// The token id (for logs; never the secret).
    pub token_id: String,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token, or one that does not authenticate (HTTP 401, gRPC UNAUTHENTICATED).
    #[error("unauthenticated: {0}")]
    Unauthenticated(String),
    /// A valid token whose role does not allow the call (HTTP 403, gRPC PERMISSION_DENIED).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
}

/// The name of a role ("reader", "operator", "admin").
pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Reader => "reader",
        Role::Operator => "operator",
        Role::Admin => "admin",
        Role::Unspecified => "none",
    }
}

/// The role named `name`.
pub fn parse_role(name: &str) -> Option<Role> {
    [Role::Reader, Role::Operator, Role::Admin]
        .into_iter()
        .find(|r| role_name(*r) == name)
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Makes a new token for `tenant` with `role`: the token to hand out (shown once) and the
/// record to store.
pub fn make(tenant: &str, role: Role, name: &str) -> std::io::Result<(String, ApiToken)> {
    // 128 random bits: ids never collide in practice (a collision would replace a token).
    let id = random_hex(16)?;
    let token = format!("{PREFIX}{id}_{}", random_hex(24)?);
    let record = ApiToken {
        id,
        tenant: tenant.to_string(),
        role: role as i32,
        name: name.to_string(),
        sha256: sha256_hex(&token),
        created_at_ms: crate::now_ms(),
        revoked_at_ms: 0,
    };
    Ok((token, record))
}

/// Publishes token records (creation or revocation) to `vigie.tokens`.
pub async fn publish(publisher: &Publisher, records: &[ApiToken]) -> Result<(), BusError> {
    let out = records
        .iter()
        .map(|t| OutRecord::message(t.id.clone(), SCHEMA, t.encode_to_vec()))
        .collect();
    publisher.publish(topics::TOKENS, out).await
}

/// The known tokens, by id; cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct TokenStore {
    tokens: Arc<RwLock<HashMap<String, ApiToken>>>,
}

impl TokenStore {
    /// Adds or replaces a token record.
    pub fn upsert(&self, token: ApiToken) {
        // A panic elsewhere while holding the lock must not stop tokens from being recorded.
        let mut map = self.tokens.write().unwrap_or_else(|p| p.into_inner());
        map.insert(token.id.clone(), token);
    }

    /// Every token record (hashes only), for listing.
    pub fn all(&self) -> Vec<ApiToken> {
        let map = self.tokens.read().unwrap_or_else(|p| p.into_inner());
        map.values().cloned().collect()
    }

    fn apply(&self, key: &str, payload: Option<&[u8]>) {
        match payload {
            None | Some([]) => {
                // Never skipped, not even after a panic elsewhere: a revoked token must stop working.
                let mut map = self.tokens.write().unwrap_or_else(|p| p.into_inner());
                map.remove(key);
            }
            Some(bytes) => match ApiToken::decode(bytes) {
                Ok(t) if t.id == key => self.upsert(t),
                Ok(t) => {
                    crate::metrics::record_skipped(crate::topics::TOKENS, "key_mismatch");
                    tracing::warn!("ignoring token record {:?} under key {key:?}", t.id)
                }
                Err(e) => {
                    crate::metrics::record_skipped(crate::topics::TOKENS, "undecodable");
                    tracing::warn!("ignoring unreadable token record {key:?}: {e}")
                }
            },
        }
    }

    /// Who `authorization` (an HTTP/gRPC header value, `Bearer <token>`) authenticates, if they
    /// hold at least `required`.
    pub fn authorize(&self, authorization: Option<&str>, required: Role) -> Result<Principal, AuthError> {
        let header = authorization.ok_or_else(|| {
            AuthError::Unauthenticated("missing authorization header (expected \"Bearer <token>\")".into())
        })?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .ok_or_else(|| AuthError::Unauthenticated("authorization must be \"Bearer <token>\"".into()))?;
        let id = token
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split_once('_'))
            .map(|(id, _)| id)
            .ok_or_else(|| AuthError::Unauthenticated("not a Vigie token".into()))?;
        let record = self
            .tokens
            .read()
            .ok()
            .and_then(|m| m.get(id).cloned())
            .ok_or_else(|| AuthError::Unauthenticated("unknown or revoked token".into()))?;
        let given = sha256_hex(token);
        // Constant time: compare every byte whatever the first difference.
        let same = given.len() == record.sha256.len()
            && given
                .bytes()
                .zip(record.sha256.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if !same || record.revoked_at_ms != 0 {
            return Err(AuthError::Unauthenticated("unknown or revoked token".into()));
        }
        let role = Role::try_from(record.role).unwrap_or(Role::Unspecified);
        if (role as i32) < (required as i32) {
            return Err(AuthError::PermissionDenied(format!(
                "this token's role is {}; the call needs {}",
                role_name(role),
                role_name(required)
            )));
        }
        Ok(Principal {
            tenant: record.tenant,
            role,
            token_id: record.id,
        })
    }
}

/// Reads `vigie.tokens` into `store`, returns once caught up, and keeps following it until
/// `cancel` (a revocation applies within moments).
pub async fn materialise(
    bus: &Bus,
    store: TokenStore,
    cancel: CancellationToken,
) -> Result<tokio::task::JoinHandle<()>, BusError> {
    crate::bus::materialise(bus, topics::TOKENS, cancel, move |r| {
        store.apply(&r.key_str(), r.payload.as_deref())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_authenticate_by_hash_with_their_tenant_and_role() {
        let store = TokenStore::default();
        let (token, record) = make("acme", Role::Operator, "test").unwrap();
        assert!(
            !record.sha256.contains(&token) && record.sha256.len() == 64,
            "only a hash is kept"
        );
        store.upsert(record.clone());
        let header = format!("Bearer {token}");
        let p = store.authorize(Some(&header), Role::Reader).unwrap();
        assert_eq!((p.tenant.as_str(), p.role), ("acme", Role::Operator));
        assert!(matches!(
            store.authorize(Some(&header), Role::Admin),
            Err(AuthError::PermissionDenied(_))
        ));
        for bad in [None, Some("Basic abc"), Some("Bearer nope")] {
            assert!(matches!(
                store.authorize(bad, Role::Reader),
                Err(AuthError::Unauthenticated(_))
            ));
        }
        // Right id, wrong secret.
        let forged = format!("Bearer vigie_{}_{}", record.id, "0".repeat(48));
        assert!(matches!(
            store.authorize(Some(&forged), Role::Reader),
            Err(AuthError::Unauthenticated(_))
        ));
        // Revoked.
        store.upsert(ApiToken {
            revoked_at_ms: 1,
            ..record
        });
        assert!(matches!(
            store.authorize(Some(&header), Role::Reader),
            Err(AuthError::Unauthenticated(_))
        ));
    }
}
