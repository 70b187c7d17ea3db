//! Rate limits per GraphQL operation: a query spends the read budget, a mutation the write
//! budget, and `login`, `register` and the mail mutations the per-address sign-in budget, as their REST twins do.

use std::net::IpAddr;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use axum::http::HeaderMap;

use super::document;
use crate::domain::Domain;
use crate::error::Error;
use crate::http::rate_limit::{address_key, requester_key};
use crate::limits::{Class, Decision};

/// Mutations that sign in, create credentials or send mail about an account.
const SIGN_IN_FIELDS: &[&str] = &[
    "login",
    "register",
    "verifyEmail",
    "resendVerification",
    "requestPasswordReset",
    "resetPassword",
];

/// Spends every budget the operation draws on; the first one spent is the error. Otherwise the
/// last decision, for the response's `RateLimit` headers (`None` with limits off).
pub(super) async fn spend(
    domain: &Domain,
    headers: &HeaderMap,
    client: IpAddr,
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> Result<Option<Decision>, Error> {
    let mut classes = Vec::with_capacity(2);
    match document::operation_type(document, operation_name) {
        Some(OperationType::Mutation) => {
            let fields = document::root_field_names(document, operation_name);
            if fields.iter().any(|name| SIGN_IN_FIELDS.contains(name)) {
                classes.push(Class::Auth);
            }
            if fields
                .iter()
                .any(|name| !SIGN_IN_FIELDS.contains(name) && *name != "__typename")
            {
                classes.push(Class::Write);
            }
        }
        _ => classes.push(Class::Read),
    }
    let mut last = None;
    for class in classes {
        let key = match class {
            Class::Auth => address_key(client),
            _ => requester_key(&domain.accounts.tokens, headers, client),
        };
        match domain.limiter.check(class, key).await {
            Some(decision) if !decision.allowed => return Err(Error::RateLimited(decision)),
            decision => last = decision.or(last),
        }
    }
    Ok(last)
}
