//! OAuth2 token rows: issuing a grant's tokens (only their digests are kept), finding one by
//! its text, revoking a family.

use std::time::Duration;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use crate::auth::jwt::TokenIssuer;
use crate::auth::refresh::{digest, random_text};
use crate::db::entities::oauth_tokens;
use crate::db::now_ms;
use crate::domain::oauth_clients::Scopes;

/// Prefixes that tell Quire's OAuth2 credentials apart from each other and from JWTs.
pub const ACCESS_PREFIX: &str = "qoa_";
pub(super) const REFRESH_PREFIX: &str = "qor_";
pub(super) const CODE_PREFIX: &str = "qoc_";

/// A new random credential with `prefix`.
pub(super) fn credential(prefix: &str) -> String {
    format!("{prefix}{}", random_text(32))
}

/// Who a family of tokens acts for, and what it may do.
pub(super) struct Grant<'a> {
    pub family: &'a str,
    /// `oauth_clients.id`.
    pub client: i64,
    pub user_id: Option<i64>,
    pub granted_at: i64,
}

/// What the token endpoint hands out.
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    /// Seconds the access token lives.
    pub expires_in: u64,
    pub refresh_token: Option<String>,
    pub scopes: Scopes,
}

/// How the issued credentials are made: at random, or derived from the refresh token a
/// rotation spends (so a retry within the reuse window gets the same ones).
#[derive(Clone, Copy)]
pub(super) enum Minting<'a> {
    Random,
    Successors {
        tokens: &'a TokenIssuer,
        spent: &'a str,
    },
}

impl Minting<'_> {
    fn credential(self, prefix: &str) -> String {
        match self {
            Minting::Random => credential(prefix),
            Minting::Successors { tokens, spent } => {
                format!("{prefix}{}", tokens.successor(spent, prefix))
            }
        }
    }

    /// What a rotation issues, without storing it (a retry of one that already did).
    pub(super) fn reissued(self, scopes: Scopes, lifetimes: &Lifetimes) -> Issued {
        Issued {
            access_token: self.credential(ACCESS_PREFIX),
            expires_in: lifetimes.access.as_secs(),
            refresh_token: lifetimes.refresh.map(|_| self.credential(REFRESH_PREFIX)),
            scopes,
        }
    }
}

/// Lifetimes of what is issued; `refresh: None` issues no refresh token.
pub(super) struct Lifetimes {
    pub access: Duration,
    pub refresh: Option<Duration>,
}

/// Stores an access token for `scopes` (and a refresh token for `refresh_scopes`, which a
/// refresh keeps unchanged even when the access token is narrowed, RFC 6749 §6).
pub(super) async fn issue(
    db: &impl ConnectionTrait,
    grant: &Grant<'_>,
    scopes: Scopes,
    refresh_scopes: Scopes,
    lifetimes: Lifetimes,
    minting: Minting<'_>,
) -> Result<Issued, DbErr> {
    let access_token = minting.credential(ACCESS_PREFIX);
    insert(db, grant, &access_token, false, scopes, lifetimes.access).await?;
    let refresh_token = match lifetimes.refresh {
        Some(ttl) => {
            let token = minting.credential(REFRESH_PREFIX);
            insert(db, grant, &token, true, refresh_scopes, ttl).await?;
            Some(token)
        }
        None => None,
    };
    Ok(Issued {
        access_token,
        expires_in: lifetimes.access.as_secs(),
        refresh_token,
        scopes,
    })
}

async fn insert(
    db: &impl ConnectionTrait,
    grant: &Grant<'_>,
    token: &str,
    refresh: bool,
    scopes: Scopes,
    ttl: Duration,
) -> Result<(), DbErr> {
    let now = now_ms();
    oauth_tokens::Entity::insert(oauth_tokens::ActiveModel {
        token_digest: Set(digest(token)),
        refresh: Set(refresh),
        family: Set(grant.family.to_owned()),
        client_id: Set(grant.client),
        user_id: Set(grant.user_id),
        scopes: Set(scopes.names()),
        granted_at: Set(grant.granted_at),
        created_at: Set(now),
        expires_at: Set(now.saturating_add(ttl.as_millis() as i64)),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The token whose text is `token`, whatever its state.
pub(super) async fn find(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<oauth_tokens::Model>, DbErr> {
    oauth_tokens::Entity::find()
        .filter(oauth_tokens::Column::TokenDigest.eq(digest(token)))
        .one(db)
        .await
}

/// Whether `token` can still be used now (a refresh token only once).
pub(super) fn is_live(token: &oauth_tokens::Model, now: i64) -> bool {
    token.revoked_at.is_none() && token.spent_at.is_none() && token.expires_at > now
}

/// Revokes every live token of `family`.
pub(super) async fn revoke_family(
    db: &impl ConnectionTrait,
    family: &str,
    now: i64,
) -> Result<(), DbErr> {
    oauth_tokens::Entity::update_many()
        .col_expr(oauth_tokens::Column::RevokedAt, Expr::value(now))
        .filter(oauth_tokens::Column::Family.eq(family))
        .filter(oauth_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
