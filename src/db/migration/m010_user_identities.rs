//! Accounts at OpenID Connect providers linked to users, and the one-time codes that hand a
//! sign-in to a single-page app.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct UserIdentities;

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn user_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_user_id"))
        .from(table.to_owned(), "user_id")
        .to("users", "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for UserIdentities {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut identities = Table::create();
        identities
            .table("user_identities")
            .if_not_exists()
            .col(id())
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
            .foreign_key(&mut user_fk("user_identities"));
        let mut handoffs = Table::create();
        handoffs
            .table("login_handoffs")
            .if_not_exists()
            .col(id())
            .col(
                ColumnDef::new("code_digest")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("used_at").big_integer().null())
            .foreign_key(&mut user_fk("login_handoffs"));
        for table in [&mut identities, &mut handoffs] {
            if manager.get_database_backend() == DbBackend::MySql {
                table
                    .engine("InnoDB")
                    .character_set("utf8mb4")
                    .collate("utf8mb4_bin");
            }
            manager.create_table(table.take()).await?;
        }
        manager
            .create_index(
                Index::create()
                    .if_not_exists()
                    .name("idx_user_identities_user")
                    .table("user_identities")
                    .col("user_id")
                    .take(),
            )
            .await
    }
}
