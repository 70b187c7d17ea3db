//! What users granted OAuth2 clients: remembered consents, authorization codes and the tokens
//! issued from them (or to a client for itself). Deleting a client or a user deletes all of it.

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct OauthGrants;

#[async_trait::async_trait]
impl MigrationTrait for OauthGrants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut consents = parts::table("oauth_consents");
        consents
            .col(parts::id())
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
            .foreign_key(&mut parts::cascade("oauth_consents", "user_id", "users"))
            .foreign_key(&mut parts::cascade(
                "oauth_consents",
                "client_id",
                "oauth_clients",
            ));

        let mut codes = parts::table("oauth_codes");
        codes
            .col(parts::id())
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
            .foreign_key(&mut parts::cascade("oauth_codes", "user_id", "users"))
            .foreign_key(&mut parts::cascade(
                "oauth_codes",
                "client_id",
                "oauth_clients",
            ));

        let mut tokens = parts::table("oauth_tokens");
        tokens
            .col(parts::id())
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
            .foreign_key(&mut parts::cascade("oauth_tokens", "user_id", "users"))
            .foreign_key(&mut parts::cascade(
                "oauth_tokens",
                "client_id",
                "oauth_clients",
            ));

        parts::create_tables(manager, [consents, codes, tokens]).await?;
        parts::create_indexes(
            manager,
            &[
                ("idx_oauth_codes_family", "oauth_codes", &["family"]),
                ("idx_oauth_tokens_family", "oauth_tokens", &["family"]),
                ("idx_oauth_tokens_user", "oauth_tokens", &["user_id"]),
            ],
        )
        .await?;
        Ok(())
    }
}
