use sea_orm::entity::prelude::*;

/// An OAuth2 access or refresh token (its SHA-256 only). Tokens of one grant share a `family`;
/// `granted_at` is when the user (or the client, for itself: `user_id` null) was granted it,
/// kept across refreshes so that a password change revokes the whole family. A refresh token
/// is `spent` by its use.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_digest: String,
    pub refresh: bool,
    pub family: String,
    pub client_id: i64,
    pub user_id: Option<i64>,
    pub scopes: String,
    pub granted_at: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub spent_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
