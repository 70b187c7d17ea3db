use sea_orm::entity::prelude::*;

/// A user's remembered consent to a client (`oauth_clients.id`) for a set of scopes
/// (space-separated): asking again for no more than these skips the consent page.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_consents")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub client_id: i64,
    pub scopes: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
