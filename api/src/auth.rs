//! Who is calling: the bearer token in the `authorization` metadata, mapped to gRPC statuses
//! (missing or wrong token: UNAUTHENTICATED; role too low: PERMISSION_DENIED).

use tonic::{Request, Status};
use vigie_core::proto::Role;
use vigie_core::tokens::{AuthError, Principal, TokenStore};

/// The caller of `request`, if its token allows `role`.
pub fn caller<T>(tokens: &TokenStore, request: &Request<T>, role: Role) -> Result<Principal, Status> {
    let header = request
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    tokens.authorize(header, role).map_err(|e| match e {
        AuthError::Unauthenticated(m) => Status::unauthenticated(m),
        AuthError::PermissionDenied(m) => Status::permission_denied(m),
    })
}

/// A request carrying `token` as a bearer token (tests and clients).
#[cfg(test)]
pub fn with<T>(token: &str, message: T) -> Request<T> {
    let mut r = Request::new(message);
    r.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ascii token"),
    );
    r
}

/// A token store holding one token per (tenant, role), and the tokens in that order (tests).
#[cfg(test)]
pub fn tokens_for(grants: &[(&str, Role)]) -> (TokenStore, Vec<String>) {
    let store = TokenStore::default();
    let tokens = grants
        .iter()
        .map(|(tenant, role)| {
            let (token, record) = vigie_core::tokens::make(tenant, *role, "test").expect("random token");
            store.upsert(record);
            token
        })
        .collect();
    (store, tokens)
}
