use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As the user typed it; shown everywhere.
    pub username: String,
    /// Lower-cased username: the case-insensitive unique key used for lookups.
    #[sea_orm(unique)]
    pub username_key: String,
    /// Stored lower-cased, so unique case-insensitively.
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: String,
    #[sea_orm(column_type = "Text")]
    pub bio: String,
    #[sea_orm(column_type = "Text")]
    pub image: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// Access tokens issued before this time (ms) are refused: set by a password change and by
    /// "log out everywhere".
    pub tokens_valid_after: i64,
    /// When the owner of `email` proved it (ms); `None` while it is only claimed. Cleared
    /// when the address changes.
    pub email_verified_at: Option<i64>,
    /// Articles they wrote (maintained; see `db::counts`).
    pub articles_count: i64,
    /// Articles they favorited (maintained).
    pub favorites_count: i64,
}

impl ActiveModelBehavior for ActiveModel {}
