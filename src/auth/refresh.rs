//! Refresh-token storage: opaque random tokens, kept only as digests, grouped in families (one
//! family per sign-in). The rules for spending them live in `domain::tokens`.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::db::entities::refresh_tokens;

/// The token whose digest is `hash`, spent, revoked or not.
pub async fn find(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<refresh_tokens::Model>, DbErr> {
    refresh_tokens::Entity::find()
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .one(db)
        .await
}

/// Stores a new random token of `family` for `user_id` (its digest only); returns the token.
pub async fn insert(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    ttl: Duration,
) -> Result<String, DbErr> {
    let token = random_text(32);
    insert_token(db, user_id, family, ttl, &token).await?;
    Ok(token)
}

/// Stores `token` (its digest only) as the next of `family`.
pub async fn insert_token(
    db: &impl ConnectionTrait,
    user_id: i64,
    family: &str,
    ttl: Duration,
    token: &str,
) -> Result<(), DbErr> {
    let now = chrono::Utc::now().timestamp_millis();
    refresh_tokens::Entity::insert(refresh_tokens::ActiveModel {
        family: Set(family.to_owned()),
        user_id: Set(user_id),
        token_hash: Set(digest(token)),
        created_at: Set(now),
        expires_at: Set(now.saturating_add(ttl.as_millis() as i64)),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// Revokes every live token of `family`.
pub async fn revoke_family(db: &impl ConnectionTrait, family: &str, now: i64) -> Result<(), DbErr> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::Family.eq(family))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// Revokes every live token of `user_id` (a password change, log out everywhere).
pub async fn revoke_all(db: &impl ConnectionTrait, user_id: i64, now: i64) -> Result<(), DbErr> {
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::RevokedAt, Expr::value(now))
        .filter(refresh_tokens::Column::UserId.eq(user_id))
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

/// `bytes` random bytes as URL-safe text.
pub fn random_text(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buffer);
    URL_SAFE_NO_PAD.encode(buffer)
}

/// The stored form of a token: its SHA-256, hex. A token is 256 random bits, so a plain digest
/// is enough (no salt or slow hash is needed to resist guessing).
pub fn digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}
