//! Domain services: the only place business rules live. REST (and later GraphQL) call these.

pub mod articles;
pub mod cache_keys;
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

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::auth::jwt::TokenIssuer;
use crate::auth::oidc::OidcProviders;
use crate::auth::session::SessionStore;
use crate::cache::{Bytes, Cache, Lookup, Ticket, tracking};
pub use crate::db::now_ms;
pub(crate) use crate::db::{is_transient, is_unique_violation};
use crate::error::Error;
use crate::error::Result;
use crate::limits::RateLimiter;
use crate::mail::Mailer;
use crate::outbound::Outbound;
use crate::views::ViewRecorder;
use cache_keys::{Kind, Write};
use email::MailPolicy;

/// Shared by every API: a handle on the [`Services`]. Cloned with every request (axum clones
/// each route's state), so a clone is one reference count, not one per service.
#[derive(Clone)]
pub struct Domain(Arc<Services>);

/// The database, the cache, the token issuer, the session store, the rate limits, the view
/// recorder and the guard on requests to users' URLs.
pub struct Services {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub tokens: TokenIssuer,
    pub sessions: SessionStore,
    pub limiter: RateLimiter,
    pub views: ViewRecorder,
    pub outbound: Outbound,
    pub oidc: OidcProviders,
    pub webhooks: webhooks::Webhooks,
    pub reports: reports::Reports,
    /// Where mail goes (the worker sends it; the domain only enqueues).
    pub mailer: Mailer,
    pub mail: MailPolicy,
    /// Every authorization request must carry a PKCE challenge (OAuth 2.1).
    pub oauth_require_pkce: bool,
}

impl Domain {
    pub fn new(services: Services) -> Self {
        Domain(Arc::new(services))
    }

    /// The services, while this is the only handle on them: to adjust before they are shared
    /// (the tests count statements this way).
    pub fn services_mut(&mut self) -> Option<&mut Services> {
        Arc::get_mut(&mut self.0)
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

/// What a cache lookup found for [`Domain::cached`].
enum Found<T> {
    Value(T),
    Build(Option<Ticket>),
}

/// The body of a transaction; it may run more than once. It fails with a database error, or
/// with the caller's own (the domain's `Error`: "the article is gone" is no database error).
pub(crate) type TxnWork<'c, T, E = DbErr> = Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>;

/// What a transaction's work may fail with: a database error converts into it, and it tells
/// whether it is a transient conflict worth running the work again for.
pub(crate) trait TxnError: From<DbErr> + Send {
    fn is_transient(&self) -> bool;
}

impl TxnError for DbErr {
    fn is_transient(&self) -> bool {
        is_transient(self)
    }
}

impl TxnError for Error {
    fn is_transient(&self) -> bool {
        self.database_error().is_some_and(is_transient)
    }
}

const TRANSIENT_RETRIES: u32 = 4;

impl Domain {
    /// The shared view `fetch` builds, through the cache under `key` and its `topics` (from
    /// `cache_keys`). Without a usable cache it is simply fetched.
    pub(crate) async fn cached<T, Fut>(
        &self,
        kind: Kind,
        (key, topics): (String, Vec<String>),
        fetch: impl FnOnce() -> Fut,
    ) -> Result<T>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = Result<T>>,
    {
        if let Some(bytes) = tracking::recall(&key)
            && let Ok(value) = serde_json::from_slice(&bytes)
        {
            return Ok(value);
        }
        let mut turn = None;
        let ticket = match self.look(kind, &key, &topics).await {
            Found::Value(value) => return Ok(value),
            Found::Build(Some(missed)) => {
                let mine = turn.insert(self.cache.turn_to_build(&missed).await);
                if !mine.waited {
                    Some(missed)
                } else {
                    // Another task built it meanwhile: most likely it is there now.
                    match self.look(kind, &key, &topics).await {
                        Found::Value(value) => return Ok(value),
                        Found::Build(ticket) => ticket,
                    }
                }
            }
            Found::Build(None) => None,
        };
        let value = fetch().await?;
        if let Some(ticket) = ticket
            && let Ok(bytes) = serde_json::to_vec(&value)
        {
            let bytes = Bytes::from(bytes);
            tracking::remember(&key, &bytes);
            self.cache.store(ticket, bytes).await;
        }
        drop(turn);
        Ok(value)
    }

    /// The entry under `key` decoded, or the ticket to build it under (none: keep nothing).
    async fn look<T: DeserializeOwned>(
        &self,
        kind: Kind,
        key: &str,
        topics: &[String],
    ) -> Found<T> {
        match self.cache.lookup(kind, key, topics).await {
            Lookup::Hit(bytes) => match serde_json::from_slice(&bytes) {
                Ok(value) => {
                    tracking::remember(key, &bytes);
                    Found::Value(value)
                }
                Err(_) => Found::Build(None),
            },
            Lookup::Miss(ticket) => Found::Build(Some(ticket)),
            Lookup::Bypass => Found::Build(None),
        }
    }

    /// Makes every cached entry `write` changed be rebuilt; call after the write commits.
    pub(crate) async fn invalidate(&self, write: Write) {
        tracking::forget();
        self.cache.bump(&write.topics()).await;
    }

    /// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails,
    /// and retried (with jittered backoff) when the database reports a transient conflict.
    pub(crate) async fn in_transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send,
        E: TxnError,
        F: for<'c> Fn(&'c DatabaseTransaction) -> TxnWork<'c, T, E> + Send + Sync,
    {
        let mut attempt = 0;
        loop {
            let txn = self.db.begin().await?;
            let outcome = match work(&txn).await {
                Ok(value) => txn.commit().await.map(|()| value).map_err(E::from),
                Err(err) => {
                    let _ = txn.rollback().await;
                    Err(err)
                }
            };
            match outcome {
                Err(err) if err.is_transient() && attempt < TRANSIENT_RETRIES => {
                    attempt += 1;
                    let backoff = rand::rng().random_range(5..20u64) << attempt;
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                other => return other,
            }
        }
    }
}
