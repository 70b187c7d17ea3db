use sea_orm::entity::prelude::*;

/// A one-time code (its SHA-256 only) that a single-page app exchanges for the token of a
/// user who just signed in with an OpenID Connect provider.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "login_handoffs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub code_digest: String,
    pub user_id: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
