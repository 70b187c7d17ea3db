//! Third-party applications registered as OAuth2 clients (`quire oauth-client`).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct OauthClients;

#[async_trait::async_trait]
impl MigrationTrait for OauthClients {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut clients = Table::create();
        clients
            .table("oauth_clients")
            .if_not_exists()
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(
                ColumnDef::new("client_id")
                    .string_len(64)
                    .not_null()
                    .unique_key(),
            )
            .col(ColumnDef::new("name").string_len(100).not_null())
            .col(ColumnDef::new("confidential").boolean().not_null())
            .col(ColumnDef::new("secret_digest").string_len(64).null())
            .col(ColumnDef::new("redirect_uris").text().not_null())
            .col(ColumnDef::new("scopes").string_len(64).not_null())
            .col(ColumnDef::new("created_at").big_integer().not_null());
        if manager.get_database_backend() == DbBackend::MySql {
            clients
                .engine("InnoDB")
                .character_set("utf8mb4")
                .collate("utf8mb4_bin");
        }
        manager.create_table(clients.take()).await
    }
}
