//! Third-party applications registered as OAuth2 clients (`quire oauth-client`).

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct OauthClients;

#[async_trait::async_trait]
impl MigrationTrait for OauthClients {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut clients = parts::table("oauth_clients");
        clients
            .col(parts::id())
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
        parts::create_tables(manager, [clients]).await
    }
}
