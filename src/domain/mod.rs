//! Domain services: the only place business rules live. REST (and later GraphQL) call these.

pub mod articles;
pub mod input;
pub mod profiles;
pub mod tags;
pub mod users;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use rand::Rng;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, TransactionTrait};

use crate::auth::jwt::TokenIssuer;

/// Shared by every API: the database and the token issuer.
#[derive(Clone)]
pub struct Domain {
    pub db: DatabaseConnection,
    pub tokens: TokenIssuer,
}

/// A user as others see them, with the viewer's `following` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub username: String,
    pub bio: String,
    pub image: String,
    pub following: bool,
}

/// Milliseconds since the Unix epoch: the timestamp unit of every table.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// True when a database error is a unique-key violation (a lost race with another writer).
pub(crate) fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Deadlocks and serialization failures (PostgreSQL, MySQL) and a busy database (SQLite) are
/// transient: the whole transaction can simply run again.
fn is_transient(err: &DbErr) -> bool {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        Some("40001" | "40P01" | "5" | "517" | "6")
    )
}

/// The body of a transaction; it may run more than once.
pub(crate) type TxnWork<'c, T> = Pin<Box<dyn Future<Output = Result<T, DbErr>> + Send + 'c>>;

const TRANSIENT_RETRIES: u32 = 4;

impl Domain {
    /// Runs `work` in one transaction: committed when it succeeds, rolled back when it fails,
    /// and retried (with jittered backoff) when the database reports a transient conflict.
    pub(crate) async fn in_transaction<T, F>(&self, work: F) -> Result<T, DbErr>
    where
        T: Send,
        F: for<'c> Fn(&'c DatabaseTransaction) -> TxnWork<'c, T> + Send + Sync,
    {
        let mut attempt = 0;
        loop {
            let txn = self.db.begin().await?;
            let outcome = match work(&txn).await {
                Ok(value) => txn.commit().await.map(|()| value),
                Err(err) => {
                    let _ = txn.rollback().await;
                    Err(err)
                }
            };
            match outcome {
                Err(err) if is_transient(&err) && attempt < TRANSIENT_RETRIES => {
                    attempt += 1;
                    let backoff = rand::rng().random_range(5..20u64) << attempt;
                    tokio::time::sleep(Duration::from_millis(backoff)).await;
                }
                other => return other,
            }
        }
    }
}
