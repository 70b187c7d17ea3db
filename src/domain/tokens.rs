//! Bearer access tokens with refresh tokens: issue, rotate (a refresh token is spent by its
//! use; presenting a spent one again within the reuse window gets the same successor, later it
//! revokes its whole family), log out, and log out everywhere. The RealWorld `user.token` is untouched by all of this.

use crate::domain::accounts::Accounts;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter};

use super::cache_keys::Write;
use super::now_ms;
use super::users::Credentials;
use crate::auth::jwt::TokenIssuer;
use crate::auth::refresh::{
    digest, find, insert, insert_token, random_text, revoke_all, revoke_family,
};
use crate::db::entities::{refresh_tokens, users};
use crate::error::{Error, Result};

/// An access token with the refresh token that renews it.
#[derive(Debug, Clone)]
pub struct TokenPair {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub refresh_token: String,
}

const REUSED: &str =
    "this refresh token was already used: every token of its login is revoked, sign in again";
const INVALID: &str = "the refresh token is invalid, expired or revoked";

/// What presenting a refresh token came to.
enum Refreshed {
    Renewed { user_id: i64, refresh_token: String },
    Reused,
    Refused,
}

impl Accounts {
    /// Signs in with e-mail and password and starts a new token family.
    pub async fn issue_tokens(&self, credentials: Credentials) -> Result<TokenPair> {
        let user = self.check_credentials(credentials).await?;
        let family = random_text(16);
        let refresh_token = self
            .core
            .in_transaction(|txn| {
                let family = family.clone();
                let ttl = self.tokens.refresh_ttl;
                Box::pin(async move { insert(txn, user.id, &family, ttl).await })
            })
            .await?;
        self.token_pair(user.id, refresh_token)
    }

    /// Spends `refresh_token` for a new pair. A token presented twice (a stolen copy, or the
    /// owner after the thief) revokes its whole family.
    pub async fn refresh(&self, refresh_token: Option<String>) -> Result<TokenPair> {
        let presented = required(refresh_token)?;
        let outcome = self
            .core
            .in_transaction(|txn| {
                let (presented, tokens) = (presented.clone(), self.tokens.clone());
                Box::pin(async move { spend(txn, &tokens, &presented).await })
            })
            .await?;
        match outcome {
            Refreshed::Renewed {
                user_id,
                refresh_token,
            } => self.token_pair(user_id, refresh_token),
            Refreshed::Reused => Err(Error::Unauthorized(REUSED)),
            Refreshed::Refused => Err(Error::Unauthorized(INVALID)),
        }
    }

    /// Revokes the family of `refresh_token`. An unknown token changes nothing (and says
    /// nothing about which tokens exist).
    pub async fn logout(&self, refresh_token: Option<String>) -> Result<()> {
        let hash = digest(&required(refresh_token)?);
        let now = now_ms();
        self.core
            .in_transaction::<_, DbErr, _>(|txn| {
                let hash = hash.clone();
                Box::pin(async move {
                    if let Some(token) = find(txn, &hash).await? {
                        revoke_family(txn, &token.family, now).await?;
                    }
                    Ok(())
                })
            })
            .await?;
        Ok(())
    }

    /// Revokes every refresh token of `user_id` and every access token issued so far.
    pub async fn logout_everywhere(&self, user_id: i64) -> Result<()> {
        let now = now_ms();
        self.core
            .in_transaction(|txn| {
                Box::pin(async move {
                    users::Entity::update_many()
                        .col_expr(users::Column::TokensValidAfter, Expr::value(now))
                        .filter(users::Column::Id.eq(user_id))
                        .exec(txn)
                        .await?;
                    revoke_all(txn, user_id, now).await
                })
            })
            .await?;
        self.core.invalidate(Write::Account { user_id }).await;
        Ok(())
    }

    fn token_pair(&self, user_id: i64, refresh_token: String) -> Result<TokenPair> {
        let ttl = self.tokens.access_ttl;
        Ok(TokenPair {
            access_token: self.tokens.issue_for(user_id, ttl)?,
            expires_in: ttl.as_secs(),
            refresh_token,
        })
    }
}

fn required(token: Option<String>) -> Result<String> {
    token
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::field("refreshToken", "can't be blank"))
}

/// Spends `presented` if it is live, issuing the next of its family (derived from it, so a
/// retry within the reuse window is answered with the same one).
async fn spend(
    txn: &DatabaseTransaction,
    tokens: &TokenIssuer,
    presented: &str,
) -> Result<Refreshed, DbErr> {
    let hash = &digest(presented);
    let successor = tokens.successor(presented, "refresh");
    let now = now_ms();
    // One statement decides which of two concurrent refreshes wins.
    let spent = refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::SpentAt, Expr::value(now))
        .filter(refresh_tokens::Column::TokenHash.eq(hash))
        .filter(refresh_tokens::Column::SpentAt.is_null())
        .filter(refresh_tokens::Column::RevokedAt.is_null())
        .filter(refresh_tokens::Column::ExpiresAt.gt(now))
        .exec(txn)
        .await?
        .rows_affected;
    let Some(token) = find(txn, hash).await? else {
        return Ok(Refreshed::Refused);
    };
    if spent == 1 {
        let ttl = tokens.refresh_ttl;
        insert_token(txn, token.user_id, &token.family, ttl, &successor).await?;
        return Ok(Refreshed::Renewed {
            user_id: token.user_id,
            refresh_token: successor,
        });
    }
    let window = tokens.reuse_window.as_millis() as i64;
    if let Some(spent_at) = token.spent_at
        && token.revoked_at.is_none()
        && now - spent_at < window
    {
        // A retry (another tab, an answer lost on the way): the successor already issued.
        return Ok(Refreshed::Renewed {
            user_id: token.user_id,
            refresh_token: successor,
        });
    }
    if token.spent_at.is_some() && token.revoked_at.is_none() {
        revoke_family(txn, &token.family, now).await?;
        return Ok(Refreshed::Reused);
    }
    Ok(Refreshed::Refused)
}
