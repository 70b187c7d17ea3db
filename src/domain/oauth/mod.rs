//! Quire as an OAuth2 authorization server (RFC 6749 with PKCE, RFC 7636): authorization
//! requests and consent ([`authorize`]), the token endpoint's grants ([`grants`]), the tokens
//! themselves ([`store`]), what a token lets its bearer do, revocation (RFC 7009) and
//! introspection (RFC 7662) ([`access`]), and the apps a user has authorized
//! ([`authorizations`]). The clients are registered in `domain::oauth_clients`.

pub mod access;
pub mod authorizations;
pub mod authorize;
pub mod grants;
pub mod store;

use super::accounts::Accounts;
use super::core::Core;
use super::oauth_clients::{Client, find};
use crate::error::{Error, OAuthCode, Result};

/// The authorization server: clients, authorization requests and consent, grants, tokens.
#[derive(Clone)]
pub struct OAuth {
    pub(crate) core: Core,
    /// Whose accounts the grants are for (and the token issuer, the mail they send).
    pub(crate) accounts: Accounts,
    /// Every authorization request must carry a PKCE challenge (OAuth 2.1).
    pub(crate) require_pkce: bool,
}

impl OAuth {
    pub fn new(accounts: Accounts, require_pkce: bool) -> Self {
        OAuth {
            core: accounts.core.clone(),
            accounts,
            require_pkce,
        }
    }
}

/// How a client identified itself at the token, revocation or introspection endpoint.
pub struct ClientCredentials {
    pub client_id: String,
    pub secret: Option<String>,
}

impl OAuth {
    /// The client a request comes from: a confidential client by its secret, a public one by
    /// its id alone (it has no secret to send).
    pub async fn authenticate_client(&self, credentials: ClientCredentials) -> Result<Client> {
        let refused = || Error::oauth(OAuthCode::InvalidClient, "client authentication failed");
        let client = find(&self.core.db, &credentials.client_id)
            .await?
            .ok_or_else(refused)?;
        let authenticated = match &credentials.secret {
            Some(secret) => client.confidential && client.secret_matches(secret),
            None => !client.confidential,
        };
        if authenticated {
            Ok(client)
        } else {
            Err(refused())
        }
    }
}
