//! Domain services: the only place business rules live. REST (and later GraphQL) call these.

pub mod accounts;
pub mod articles;
pub mod cache_keys;
mod core;
pub mod email;
pub mod input;
pub mod oauth;
pub mod oauth_clients;
pub mod oidc;
pub mod profiles;
pub mod reports;
pub mod sessions;
pub mod tags;
pub mod tokens;
mod touched;
pub mod users;
pub mod values;
pub mod webhooks;

use std::sync::Arc;

use sea_orm::DbErr;
use serde::{Deserialize, Serialize};

pub use self::core::Core;
pub(crate) use self::core::TxnWork;
use crate::auth::jwt::TokenIssuer;
use crate::auth::oidc::OidcProviders;
use crate::auth::session::SessionStore;
pub(crate) use crate::db::is_unique_violation;
pub use crate::db::now_ms;
use crate::limits::RateLimiter;
use crate::mail::Mailer;
use crate::views::ViewRecorder;
use accounts::Accounts;
use accounts::MailPolicy;
use articles::Articles;
use oauth::OAuth;
use profiles::Profiles;
use reports::Reports;
use webhooks::Webhooks;

/// Every domain service, for what assembles the application (the state, GraphQL's schema):
/// handlers take the one they need through `FromRef`. Cloned with every request, so a clone
/// is one reference count, not one per service.
#[derive(Clone)]
pub struct Domain(Arc<Services>);

/// The services, each with one job and holding only what it needs.
pub struct Services {
    pub core: Core,
    pub profiles: Profiles,
    pub articles: Articles,
    pub accounts: Accounts,
    pub oauth: OAuth,
    pub webhooks: Webhooks,
    pub reports: Reports,
    /// Sign-in through OpenID Connect providers (their discovery, keys and code exchange).
    pub oidc: Arc<OidcProviders>,
    /// The rate limits (requests are spent by `http`; sign-ins by [`Accounts`]).
    pub limiter: RateLimiter,
    /// Article views, recorded off the request path (by [`Articles`] and the answer caches).
    pub views: ViewRecorder,
}

/// What the services are made of.
pub struct Parts {
    pub core: Core,
    pub tokens: TokenIssuer,
    pub sessions: SessionStore,
    pub limiter: RateLimiter,
    pub views: ViewRecorder,
    pub oidc: OidcProviders,
    pub webhooks: Webhooks,
    pub reports: Reports,
    /// Where mail goes (the worker sends it; the domain only enqueues).
    pub mailer: Mailer,
    pub mail: MailPolicy,
    /// Every authorization request must carry a PKCE challenge (OAuth 2.1).
    pub oauth_require_pkce: bool,
}

impl Domain {
    pub fn new(parts: Parts) -> Self {
        let Parts {
            core,
            tokens,
            sessions,
            limiter,
            views,
            oidc,
            webhooks,
            reports,
            mailer,
            mail,
            oauth_require_pkce,
        } = parts;
        let profiles = Profiles::new(core.clone());
        let accounts = Accounts::new(accounts::AccountParts {
            core: core.clone(),
            tokens,
            sessions,
            limiter: limiter.clone(),
            mailer,
            mail,
        });
        Domain(Arc::new(Services {
            articles: Articles::new(core.clone(), profiles.clone(), views.clone()),
            oauth: OAuth::new(accounts.clone(), oauth_require_pkce),
            core,
            profiles,
            accounts,
            webhooks,
            reports,
            oidc: Arc::new(oidc),
            limiter,
            views,
        }))
    }
}

impl std::ops::Deref for Domain {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// A user as others see them, with the viewer's `following` flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub id: i64,
    pub username: String,
    pub bio: String,
    pub image: String,
    pub following: bool,
}

/// `ids` sorted, without repeats: one lookup per id, and a stable cache key.
pub(crate) fn sorted_unique(ids: &[i64]) -> Vec<i64> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// True when a database error is a foreign-key violation: the row a write refers to was
/// deleted by a concurrent request.
pub(crate) fn is_foreign_key_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
    )
}
