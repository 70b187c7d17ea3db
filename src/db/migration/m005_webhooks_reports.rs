//! Webhook subscriptions and their delivery log; reports and their files (stored in chunks, so
//! that writing and downloading a large one keeps memory bounded on any instance).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct WebhooksReports;

fn id() -> ColumnDef {
    ColumnDef::new("id")
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn owned_by(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(parent, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for WebhooksReports {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut webhooks = Table::create();
        webhooks
            .table("webhooks")
            .if_not_exists()
            .col(id())
            .col(ColumnDef::new("user_id").big_integer().not_null())
            .col(ColumnDef::new("url").string_len(2048).not_null())
            .col(ColumnDef::new("events").string_len(512).not_null())
            .col(ColumnDef::new("secret").string_len(128).not_null())
            .col(ColumnDef::new("enabled").boolean().not_null())
            .col(ColumnDef::new("disabled_reason").text().null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .foreign_key(&mut owned_by("webhooks", "user_id", "users"));
        let mut deliveries = Table::create();
        deliveries
            .table("webhook_deliveries")
            .if_not_exists()
            .col(id())
            .col(ColumnDef::new("webhook_id").big_integer().not_null())
            .col(ColumnDef::new("delivery").string_len(64).not_null())
            .col(ColumnDef::new("event").string_len(64).not_null())
            .col(ColumnDef::new("attempt").integer().not_null())
            .col(ColumnDef::new("at").big_integer().not_null())
            .col(ColumnDef::new("status_code").integer().null())
            .col(ColumnDef::new("latency_ms").big_integer().not_null())
            .col(ColumnDef::new("error").text().null())
            .foreign_key(&mut owned_by(
                "webhook_deliveries",
                "webhook_id",
                "webhooks",
            ));
        let mut reports = Table::create();
        reports
            .table("reports")
            .if_not_exists()
            .col(id())
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
            .foreign_key(&mut owned_by("reports", "user_id", "users"));
        let mut chunks = Table::create();
        chunks
            .table("report_chunks")
            .if_not_exists()
            .col(ColumnDef::new("report_id").big_integer().not_null())
            .col(ColumnDef::new("seq").integer().not_null())
            .col(ColumnDef::new("data").blob().not_null())
            .primary_key(Index::create().col("report_id").col("seq"))
            .foreign_key(&mut owned_by("report_chunks", "report_id", "reports"));
        let tables = [&mut webhooks, &mut deliveries, &mut reports, &mut chunks];
        for table in tables {
            if backend == DbBackend::MySql {
                table
                    .engine("InnoDB")
                    .character_set("utf8mb4")
                    .collate("utf8mb4_bin");
            }
            manager.create_table(table.take()).await?;
        }
        for (name, table, columns) in [
            ("idx_webhooks_user", "webhooks", &["user_id", "id"][..]),
            (
                "idx_webhook_deliveries_webhook",
                "webhook_deliveries",
                &["webhook_id", "id"][..],
            ),
            (
                "idx_webhook_deliveries_at",
                "webhook_deliveries",
                &["at"][..],
            ),
            ("idx_reports_user", "reports", &["user_id", "id"][..]),
            ("idx_reports_expiry", "reports", &["expires_at"][..]),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table(table);
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }
}
