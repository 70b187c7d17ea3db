//! Schema migrations (sea-orm-migration), one file each, portable across SQLite, PostgreSQL and
//! MySQL/MariaDB, with backend-specific SQL where the backends differ.

mod m001_core_schema;
mod m002_exact_text;
mod m003_refresh_tokens;
mod m004_jobs;
mod m005_webhooks_reports;
mod m006_article_views;
mod m007_view_counts;
mod m008_oauth_clients;
mod m009_oauth_grants;
mod m010_user_identities;
mod m011_email_verification;
mod m012_list_counts;
mod parts;

use sea_orm_migration::prelude::*;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m001_core_schema::CoreSchema),
            Box::new(m002_exact_text::ExactText),
            Box::new(m003_refresh_tokens::RefreshTokens),
            Box::new(m004_jobs::Jobs),
            Box::new(m005_webhooks_reports::WebhooksReports),
            Box::new(m006_article_views::ArticleViews),
            Box::new(m007_view_counts::ViewCounts),
            Box::new(m008_oauth_clients::OauthClients),
            Box::new(m009_oauth_grants::OauthGrants),
            Box::new(m010_user_identities::UserIdentities),
            Box::new(m011_email_verification::EmailVerification),
            Box::new(m012_list_counts::ListCounts),
        ]
    }
}
