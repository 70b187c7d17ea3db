//! What users granted OAuth2 clients: remembered consents, authorization codes and the tokens
//! issued from them (or to a client for itself). Deleting a client or a user deletes all of it.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct OauthGrants;

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn cascade(table: &str, column: &str, to: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table.to_owned(), column.to_owned())
        .to(to.to_owned(), "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for OauthGrants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut consents = Table::create();
        consents
            .table("oauth_consents")
            .if_not_exists()
            .col(id())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("client_id").big_integer().not_null())
            .col(ColumnDef::new("scopes").string_len(64).not_null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("updated_at").big_integer().not_null())
            .index(
                Index::create()
                    .name("uq_oauth_consents_user_client")
                    .col("user_id")
                    .col("client_id")
                    .unique(),
            )
            .foreign_key(&mut cascade("oauth_consents", "user_id", "users"))
            .foreign_key(&mut cascade("oauth_consents", "client_id", "oauth_clients"));

        let mut codes = Table::create();
        codes
            .table("oauth_codes")
            .if_not_exists()
            .col(id())
            .col(
                ColumnDef::new("code_digest")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("family").string_len(64).not_null())
            .col(ColumnDef::new("client_id").big_integer().not_null())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("redirect_uri").string_len(2048).null())
            .col(ColumnDef::new("scopes").string_len(64).not_null())
            .col(ColumnDef::new("code_challenge").string_len(128).null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("used_at").big_integer().null())
            .foreign_key(&mut cascade("oauth_codes", "user_id", "users"))
            .foreign_key(&mut cascade("oauth_codes", "client_id", "oauth_clients"));

        let mut tokens = Table::create();
        tokens
            .table("oauth_tokens")
            .if_not_exists()
            .col(id())
            .col(
                ColumnDef::new("token_digest")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("refresh").boolean().not_null())
            .col(ColumnDef::new("family").string_len(64).not_null())
            .col(ColumnDef::new("client_id").big_integer().not_null())
            .col(ColumnDef::new("user_id").big_integer().null())
            .col(ColumnDef::new("scopes").string_len(64).not_null())
            .col(ColumnDef::new("granted_at").big_integer().not_null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .col(ColumnDef::new("spent_at").big_integer().null())
            .col(ColumnDef::new("revoked_at").big_integer().null())
            .foreign_key(&mut cascade("oauth_tokens", "user_id", "users"))
            .foreign_key(&mut cascade("oauth_tokens", "client_id", "oauth_clients"));

        for table in [&mut consents, &mut codes, &mut tokens] {
            if manager.get_database_backend() == DbBackend::MySql {
                table
                    .engine("InnoDB")
                    .character_set("utf8mb4")
                    .collate("utf8mb4_bin");
            }
            manager.create_table(table.take()).await?;
        }
        for (name, table, column) in [
            ("idx_oauth_codes_family", "oauth_codes", "family"),
            ("idx_oauth_tokens_family", "oauth_tokens", "family"),
            ("idx_oauth_tokens_user", "oauth_tokens", "user_id"),
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
