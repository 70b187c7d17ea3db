//! Refresh tokens (opaque, stored hashed, in families) and a per-user time before which every
//! access token is refused (set by a password change or "log out everywhere").

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct RefreshTokens;

#[async_trait::async_trait]
impl MigrationTrait for RefreshTokens {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("users", "tokens_valid_after").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("users")
                        .add_column(
                            ColumnDef::new("tokens_valid_after")
                                .big_integer()
                                .not_null()
                                .default(0),
                        )
                        .take(),
                )
                .await?;
        }
        let mut table = parts::table("refresh_tokens");
        table
            .col(parts::id())
            .col(ColumnDef::new("family").string_len(64).not_null())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(
                ColumnDef::new("token_hash")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("spent_at").big_integer().null())
            .col(ColumnDef::new("revoked_at").big_integer().null())
            .foreign_key(&mut parts::cascade("refresh_tokens", "user_id", "users"));
        parts::create_tables(manager, [table]).await?;
        parts::create_indexes(
            manager,
            &[
                ("idx_refresh_tokens_family", "refresh_tokens", &["family"]),
                ("idx_refresh_tokens_user", "refresh_tokens", &["user_id"]),
            ],
        )
        .await?;
        Ok(())
    }
}
