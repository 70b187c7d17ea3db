use sea_orm::entity::prelude::*;

/// A third-party application allowed to ask users for access. `redirect_uris` holds one URI a
/// line (matched exactly), `scopes` the scopes it may ask for, space-separated. A confidential
/// client authenticates with a secret of which only the SHA-256 is kept.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub client_id: String,
    pub name: String,
    pub confidential: bool,
    pub secret_digest: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
