//! The job queue: jobs waiting, running (under a lease) or dead (kept for inspection), and the
//! ticks of periodic schedules already enqueued (one row per schedule and tick, so that any
//! number of instances enqueue each tick once).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Jobs;

#[async_trait::async_trait]
impl MigrationTrait for Jobs {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let mut jobs = Table::create();
        jobs.table("jobs")
            .if_not_exists()
            .col(
                ColumnDef::new("id")
                    .big_integer()
                    .not_null()
                    .auto_increment()
                    .primary_key(),
            )
            .col(ColumnDef::new("kind").string_len(64).not_null())
            .col(ColumnDef::new("payload").text().not_null())
            .col(ColumnDef::new("state").string_len(16).not_null())
            .col(ColumnDef::new("priority").integer().not_null().default(0))
            .col(ColumnDef::new("run_at").big_integer().not_null())
            .col(ColumnDef::new("attempts").integer().not_null().default(0))
            .col(ColumnDef::new("max_attempts").integer().not_null())
            .col(ColumnDef::new("lease_owner").string_len(64).null())
            .col(ColumnDef::new("lease_until").big_integer().null())
            .col(ColumnDef::new("last_error").text().null())
            .col(ColumnDef::new("created_at").big_integer().not_null())
            .col(ColumnDef::new("updated_at").big_integer().not_null());
        let mut ticks = Table::create();
        ticks
            .table("job_ticks")
            .if_not_exists()
            .col(ColumnDef::new("schedule").string_len(64).not_null())
            .col(ColumnDef::new("tick").big_integer().not_null())
            .primary_key(Index::create().col("schedule").col("tick"));
        if backend == DbBackend::MySql {
            for table in [&mut jobs, &mut ticks] {
                table
                    .engine("InnoDB")
                    .character_set("utf8mb4")
                    .collate("utf8mb4_bin");
            }
        }
        manager.create_table(jobs.take()).await?;
        manager.create_table(ticks.take()).await?;
        for (name, columns) in [
            // Claiming: the next due job by priority.
            ("idx_jobs_due", &["state", "priority", "run_at", "id"][..]),
            // Reaping: running jobs whose lease ran out.
            ("idx_jobs_lease", &["state", "lease_until"][..]),
            ("idx_jobs_kind", &["kind", "state"][..]),
        ] {
            let mut index = Index::create();
            index.if_not_exists().name(name).table("jobs");
            for column in columns {
                index.col(*column);
            }
            manager.create_index(index.take()).await?;
        }
        Ok(())
    }
}
