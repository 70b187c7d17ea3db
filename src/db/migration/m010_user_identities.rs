//! Accounts at OpenID Connect providers linked to users, and the one-time codes that hand a
//! sign-in to a single-page app.

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct UserIdentities;

#[async_trait::async_trait]
impl MigrationTrait for UserIdentities {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut identities = parts::table("user_identities");
        identities
            .col(parts::id())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("provider").string_len(40).not_null())
            .col(ColumnDef::new("subject").string_len(255).not_null())
            .col(ColumnDef::new("email").string_len(255).null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .index(
                Index::create()
                    .name("uq_user_identities_provider_subject")
                    .col("provider")
                    .col("subject")
                    .unique(),
            )
            .foreign_key(&mut parts::cascade("user_identities", "user_id", "users"));
        let mut handoffs = parts::table("login_handoffs");
        handoffs
            .col(parts::id())
            .col(
                ColumnDef::new("code_digest")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("used_at").big_integer().null())
            .foreign_key(&mut parts::cascade("login_handoffs", "user_id", "users"));
        parts::create_tables(manager, [identities, handoffs]).await?;
        parts::create_indexes(
            manager,
            &[("idx_user_identities_user", "user_identities", &["user_id"])],
        )
        .await
    }
}
