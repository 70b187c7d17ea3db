//! The applications a user has authorized: listed, and revoked with every token they hold.

use crate::domain::oauth::OAuth;
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::access::revoke_user_tokens;
use crate::db::entities::{oauth_clients, oauth_codes, oauth_consents};
use crate::domain::now_ms;
use crate::domain::oauth_clients::{Scopes, find};
use crate::error::{Error, Result};

/// An application the user allowed, and what it may do.
pub struct AuthorizedApp {
    pub client_id: String,
    pub name: String,
    pub scopes: Scopes,
    pub authorized_at_ms: i64,
}

impl OAuth {
    pub async fn authorizations(&self, user_id: i64) -> Result<Vec<AuthorizedApp>> {
        let consents = oauth_consents::Entity::find()
            .filter(oauth_consents::Column::UserId.eq(user_id))
            .order_by_asc(oauth_consents::Column::CreatedAt)
            .all(&self.core.db)
            .await?;
        let clients: HashMap<i64, oauth_clients::Model> = oauth_clients::Entity::find()
            .filter(oauth_clients::Column::Id.is_in(consents.iter().map(|c| c.client_id)))
            .all(&self.core.db)
            .await?
            .into_iter()
            .map(|client| (client.id, client))
            .collect();
        Ok(consents
            .into_iter()
            .filter_map(|consent| {
                let client = clients.get(&consent.client_id)?;
                Some(AuthorizedApp {
                    client_id: client.client_id.clone(),
                    name: client.name.clone(),
                    scopes: Scopes::stored(&consent.scopes),
                    authorized_at_ms: consent.created_at,
                })
            })
            .collect())
    }

    /// Forgets the user's consent to `client_id` and revokes every token and code it holds
    /// for them: the app must ask again.
    pub async fn revoke_authorization(&self, user_id: i64, client_id: &str) -> Result<()> {
        let client = find(&self.core.db, client_id)
            .await?
            .ok_or(Error::NotFound("authorization"))?;
        let now = now_ms();
        let forgotten = self
            .core
            .in_transaction::<_, sea_orm::DbErr, _>(|txn| {
                let client = client.id;
                Box::pin(async move {
                    let forgotten = oauth_consents::Entity::delete_many()
                        .filter(oauth_consents::Column::UserId.eq(user_id))
                        .filter(oauth_consents::Column::ClientId.eq(client))
                        .exec(txn)
                        .await?
                        .rows_affected;
                    oauth_codes::Entity::update_many()
                        .col_expr(oauth_codes::Column::UsedAt, Expr::value(now))
                        .filter(oauth_codes::Column::UserId.eq(user_id))
                        .filter(oauth_codes::Column::ClientId.eq(client))
                        .filter(oauth_codes::Column::UsedAt.is_null())
                        .exec(txn)
                        .await?;
                    revoke_user_tokens(txn, user_id, client, now).await?;
                    Ok(forgotten)
                })
            })
            .await?;
        if forgotten == 0 {
            return Err(Error::NotFound("authorization"));
        }
        Ok(())
    }
}
