//! Domain services: the only place business rules live. REST (and later GraphQL) call these.

pub mod articles;
pub mod input;
pub mod profiles;
pub mod tags;
pub mod users;

use sea_orm::DatabaseConnection;

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
pub(crate) fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
