//! What every domain service stands on: the database and the cache, read through
//! [`Core::cached`], written in [`Core::in_transaction`], invalidated with [`Core::invalidate`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rand::Rng;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::cache_keys::{Kind, Write};
use crate::cache::{Bytes, Cache, Lookup, Ticket, tracking};
use crate::db::is_transient;
use crate::error::{Error, Result};

/// The database and the cache (each clone shares them).
#[derive(Clone)]
pub struct Core {
    pub db: DatabaseConnection,
    pub cache: Cache,
}

/// What a cache lookup found for [`Core::cached`].
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

impl Core {
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
