//! Proven e-mail addresses: when an account's address was verified, the single-use tokens that
//! verify an address or reset a password (digests only), and the OpenID Connect sign-in
//! attempts already spent (each attempt is usable once, on every instance).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct EmailVerification;

#[async_trait::async_trait]
impl MigrationTrait for EmailVerification {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("users")
                    .add_column(ColumnDef::new("email_verified_at").big_integer().null())
                    .take(),
            )
            .await?;
        let mut tokens = Table::create();
        tokens
            .table("email_tokens")
            .if_not_exists()
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new("token_digest")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("purpose").string_len(16).not_null())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("email").string_len(254).not_null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("used_at").big_integer().null())
            .foreign_key(
                ForeignKey::create()
                    .name("fk_email_tokens_user_id")
                    .from("email_tokens", "user_id")
                    .to("users", "id")
                    .on_delete(ForeignKeyAction::Cascade),
            );
        let mut attempts = Table::create();
        attempts
            .table("oidc_attempts_spent")
            .if_not_exists()
            .col(
                ColumnDef::new("attempt_id")
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new("expires_at").big_integer().not_null());
        for table in [&mut tokens, &mut attempts] {
            if manager.get_database_backend() == DbBackend::MySql {
                table
                    .engine("InnoDB")
                    .character_set("utf8mb4")
                    .collate("utf8mb4_bin");
            }
            manager.create_table(table.take()).await?;
        }
        for (name, table, column) in [
            ("idx_email_tokens_user", "email_tokens", "user_id"),
            ("idx_email_tokens_expires", "email_tokens", "expires_at"),
            (
                "idx_oidc_attempts_spent_expires",
                "oidc_attempts_spent",
                "expires_at",
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .if_not_exists()
                        .name(name)
                        .table(table)
                        .col(column)
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
