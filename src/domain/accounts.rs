//! The accounts service: what registration, sign-in, the current user and mail about an
//! account stand on (the rules are in `users`, `tokens`, `sessions`, `oidc` and `email`).

use std::sync::Arc;

use super::core::Core;
use crate::auth::jwt::TokenIssuer;
use crate::auth::session::SessionStore;
use crate::limits::RateLimiter;
use crate::mail::Mailer;

/// Accounts: registration, sign-in (passwords, token pairs, sessions, OpenID Connect), the
/// current user and its changes, e-mail verification and recovery.
#[derive(Clone)]
pub struct Accounts(Arc<AccountParts>);

/// What [`Accounts`] holds.
pub struct AccountParts {
    pub core: Core,
    pub tokens: TokenIssuer,
    pub sessions: SessionStore,
    pub limiter: RateLimiter,
    /// Seals the mail the domain enqueues (the worker sends it).
    pub mailer: Mailer,
    pub mail: MailPolicy,
}

impl Accounts {
    pub fn new(parts: AccountParts) -> Self {
        Accounts(Arc::new(parts))
    }
}

impl std::ops::Deref for Accounts {
    type Target = AccountParts;

    fn deref(&self) -> &AccountParts {
        &self.0
    }
}

/// What mail may be sent and what its links point to.
#[derive(Debug, Clone)]
pub struct MailPolicy {
    /// False in production without `QUIRE_SMTP_URL`: what needs mail is refused.
    pub enabled: bool,
    /// The base of links in mail (`QUIRE_PUBLIC_URL`, else this server's address).
    pub base_url: String,
    pub site_name: String,
}
