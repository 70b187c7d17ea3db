//! Refresh tokens (opaque, stored hashed, in families) and a per-user time before which every
//! access token is refused (set by a password change or "log out everywhere").

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct RefreshTokens;

#[async_trait::async_trait]
impl MigrationTrait for RefreshTokens {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
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
        let mut table = Table::create();
        table
            .table("refresh_tokens")
            .if_not_exists()
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
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
            .foreign_key(
                ForeignKey::create()
                    .name("fk_refresh_tokens_user_id")
                    .from("refresh_tokens", "user_id")
                    .to("users", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        if backend == DbBackend::MySql {
            table
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate("utf8mb4_bin");
        }
        manager.create_table(table.take()).await?;
        for (name, column) in [
            ("idx_refresh_tokens_family", "family"),
            ("idx_refresh_tokens_user", "user_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table("refresh_tokens")
                        .col(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
