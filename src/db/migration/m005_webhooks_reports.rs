//! Webhook subscriptions and their delivery log; reports and their files (stored in chunks, so
//! that writing and downloading a large one keeps memory bounded on any instance).

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct WebhooksReports;

#[async_trait::async_trait]
impl MigrationTrait for WebhooksReports {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut webhooks = parts::table("webhooks");
        webhooks
            .col(parts::id())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("url").string_len(2048).not_null())
            .col(ColumnDef::new("events").string_len(512).not_null())
            .col(ColumnDef::new("secret").string_len(128).not_null())
            .col(ColumnDef::new("enabled").boolean().not_null())
            .col(ColumnDef::new("disabled_reason").text().null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .foreign_key(&mut parts::cascade("webhooks", "user_id", "users"));
        let mut deliveries = parts::table("webhook_deliveries");
        deliveries
            .col(parts::id())
            .col(ColumnDef::new("webhook_id").big_integer().not_null())
            .col(ColumnDef::new("delivery").string_len(64).not_null())
            .col(ColumnDef::new("event").string_len(64).not_null())
            .col(ColumnDef::new("attempt").integer().not_null())
            .col(ColumnDef::new("at").big_integer().not_null())
            .col(ColumnDef::new("status_code").integer().null())
            .col(ColumnDef::new("latency_ms").big_integer().not_null())
            .col(ColumnDef::new("error").text().null())
            .foreign_key(&mut parts::cascade(
                "webhook_deliveries",
                "webhook_id",
                "webhooks",
            ));
        let mut reports = parts::table("reports");
        reports
            .col(parts::id())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("kind").string_len(32).not_null())
            .col(ColumnDef::new("from_day").string_len(10).not_null())
            .col(ColumnDef::new("to_day").string_len(10).not_null())
            .col(ColumnDef::new("format").string_len(8).not_null())
            .col(ColumnDef::new("state").string_len(16).not_null())
            .col(ColumnDef::new("error").text().null())
            .col(ColumnDef::new("bytes").big_integer().not_null().default(0))
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("finished_at").big_integer().null())
            .col(ColumnDef::new("expires_at").big_integer().not_null())
            .foreign_key(&mut parts::cascade("reports", "user_id", "users"));
        let mut chunks = parts::table("report_chunks");
        chunks
            .col(ColumnDef::new("report_id").big_integer().not_null())
            .col(ColumnDef::new("seq").integer().not_null())
            .col(ColumnDef::new("data").blob().not_null())
            .primary_key(Index::create().col("report_id").col("seq"))
            .foreign_key(&mut parts::cascade("report_chunks", "report_id", "reports"));
        parts::create_tables(manager, [webhooks, deliveries, reports, chunks]).await?;
        parts::create_indexes(
            manager,
            &[
                ("idx_webhooks_user", "webhooks", &["user_id", "id"]),
                (
                    "idx_webhook_deliveries_webhook",
                    "webhook_deliveries",
                    &["webhook_id", "id"],
                ),
                ("idx_webhook_deliveries_at", "webhook_deliveries", &["at"]),
                ("idx_reports_user", "reports", &["user_id", "id"]),
                ("idx_reports_expiry", "reports", &["expires_at"]),
            ],
        )
        .await?;
        Ok(())
    }
}
