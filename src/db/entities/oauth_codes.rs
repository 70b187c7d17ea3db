use sea_orm::entity::prelude::*;

/// An authorization code (its SHA-256 only), spent by its first exchange. `family` names the
/// tokens that exchange issued, revoked if the code is presented again. `redirect_uri` is the
/// one the authorization request named (null when it named none), `code_challenge` its PKCE
/// S256 challenge.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_codes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code_digest: String,
    pub family: String,
    pub client_id: i64,
    pub user_id: i64,
    pub redirect_uri: Option<String>,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
