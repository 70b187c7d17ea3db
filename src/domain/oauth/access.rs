//! What an OAuth2 token lets its bearer do, and the client's own views of a token: revoking
//! it (RFC 7009) and introspecting it (RFC 7662).

use crate::domain::oauth::OAuth;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::store::{find, is_live, revoke_family};
use crate::db::entities::{oauth_clients, oauth_tokens, users};
use crate::domain::now_ms;
use crate::domain::oauth_clients::{Client, Scopes};
use crate::error::{Error, OAuthCode, Result};

/// Who an access token acts for (no user: a client's token for itself) and what it may do.
#[derive(Debug, Clone, Copy)]
pub struct AppGrant {
    pub user_id: Option<i64>,
    pub scopes: Scopes,
}

/// An active token as introspection describes it.
pub struct TokenInfo {
    pub client_id: String,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub scopes: Scopes,
    pub refresh: bool,
    pub issued_at_ms: i64,
    pub expires_at_ms: i64,
}

impl OAuth {
    /// The grant of a live access token; 401 otherwise.
    pub async fn app_grant(&self, token: &str) -> Result<AppGrant> {
        let token = find(&self.core.db, token)
            .await?
            .filter(|t| !t.refresh && is_live(t, now_ms()))
            .ok_or(Error::InvalidAccessToken)?;
        self.active(&token).await?.ok_or(Error::InvalidAccessToken)
    }

    /// The grant of `token` if it is live and its user's credentials were not all revoked
    /// after it was granted.
    async fn active(&self, token: &oauth_tokens::Model) -> Result<Option<AppGrant>> {
        if !is_live(token, now_ms()) {
            return Ok(None);
        }
        if let Some(user_id) = token.user_id
            && !self.grant_still_valid(user_id, token.granted_at).await?
        {
            return Ok(None);
        }
        Ok(Some(AppGrant {
            user_id: token.user_id,
            scopes: Scopes::stored(&token.scopes),
        }))
    }

    /// Revokes `token` if `client` holds it: a refresh token with its whole grant, an access
    /// token alone. Another client's token is refused, and the client told (RFC 7009 §2.1);
    /// an unknown token changes nothing and says nothing (§2.2).
    pub async fn revoke_token(&self, client: &Client, token: &str) -> Result<()> {
        let Some(token) = find(&self.core.db, token).await? else {
            return Ok(());
        };
        if token.client_id != client.id {
            return Err(Error::oauth(
                OAuthCode::UnauthorizedClient,
                "this token was not issued to the client revoking it",
            ));
        }
        let now = now_ms();
        if token.refresh {
            revoke_family(&self.core.db, &token.family, now).await?;
        } else {
            oauth_tokens::Entity::update_many()
                .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
                .filter(oauth_tokens::Column::Id.eq(token.id))
                .filter(oauth_tokens::Column::RevokedAt.is_null())
                .exec(&self.core.db)
                .await?;
        }
        Ok(())
    }

    /// What an active token is; `None` for anything else (RFC 7662 §2.2: inactive).
    pub async fn introspect(&self, token: &str) -> Result<Option<TokenInfo>> {
        let Some(token) = find(&self.core.db, token).await? else {
            return Ok(None);
        };
        if self.active(&token).await?.is_none() {
            return Ok(None);
        }
        let Some(client) = oauth_clients::Entity::find_by_id(token.client_id)
            .one(&self.core.db)
            .await?
        else {
            return Ok(None);
        };
        let username = match token.user_id {
            Some(id) => users::Entity::find_by_id(id)
                .one(&self.core.db)
                .await?
                .map(|user| user.username),
            None => None,
        };
        Ok(Some(TokenInfo {
            client_id: client.client_id,
            user_id: token.user_id,
            username,
            scopes: Scopes::stored(&token.scopes),
            refresh: token.refresh,
            issued_at_ms: token.created_at,
            expires_at_ms: token.expires_at,
        }))
    }
}

/// Revokes every live token `user_id` granted to `client` (`oauth_clients.id`).
pub(super) async fn revoke_user_tokens(
    db: &impl sea_orm::ConnectionTrait,
    user_id: i64,
    client: i64,
    now: i64,
) -> Result<(), sea_orm::DbErr> {
    oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::UserId.eq(user_id))
        .filter(oauth_tokens::Column::ClientId.eq(client))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
