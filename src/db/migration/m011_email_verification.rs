//! Proven e-mail addresses: when an account's address was verified, the single-use tokens that
//! verify an address or reset a password (digests only), and the OpenID Connect sign-in
//! attempts already spent (each attempt is usable once, on every instance).

use sea_orm_migration::prelude::*;

use super::parts;

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
        let mut tokens = parts::table("email_tokens");
        tokens
            .col(parts::id())
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
            .foreign_key(&mut parts::cascade("email_tokens", "user_id", "users"));
        let mut attempts = parts::table("oidc_attempts_spent");
        attempts
            .col(
                ColumnDef::new("attempt_id")
                    .string_len(64)
                    .not_null()
                    .primary_key(),
            )
            .col(ColumnDef::new("expires_at").big_integer().not_null());
        parts::create_tables(manager, [tokens, attempts]).await?;
        parts::create_indexes(
            manager,
            &[
                ("idx_email_tokens_user", "email_tokens", &["user_id"]),
                ("idx_email_tokens_expires", "email_tokens", &["expires_at"]),
                (
                    "idx_oidc_attempts_spent_expires",
                    "oidc_attempts_spent",
                    &["expires_at"],
                ),
            ],
        )
        .await?;
        Ok(())
    }
}
