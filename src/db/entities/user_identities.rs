use sea_orm::entity::prelude::*;

/// A user's account at an OpenID Connect provider (`provider` is its configured name,
/// `subject` the provider's `sub`), through which they sign in.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_identities")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub provider: String,
    pub subject: String,
    pub email: Option<String>,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
