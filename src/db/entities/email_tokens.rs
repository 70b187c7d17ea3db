use sea_orm::entity::prelude::*;

/// A single-use token mailed to an address (its SHA-256 only): `verify` proves the address
/// `email` for `user_id`; `reset` sets the account's password.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_digest: String,
    pub purpose: String,
    pub user_id: i64,
    /// The address the token was sent to: it proves only that one.
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
