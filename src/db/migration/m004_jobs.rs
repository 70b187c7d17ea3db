//! The job queue: jobs waiting, running (under a lease) or dead (kept for inspection), and the
//! ticks of periodic schedules already enqueued (one row per schedule and tick, so that any
//! number of instances enqueue each tick once).

use sea_orm_migration::prelude::*;

use super::parts;

#[derive(DeriveMigrationName)]
pub(super) struct Jobs;

#[async_trait::async_trait]
impl MigrationTrait for Jobs {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut jobs = parts::table("jobs");
        jobs.col(parts::id())
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
        let mut ticks = parts::table("job_ticks");
        ticks
            .col(ColumnDef::new("schedule").string_len(64).not_null())
            .col(ColumnDef::new("tick").big_integer().not_null())
            .primary_key(Index::create().col("schedule").col("tick"));
        parts::create_tables(manager, [jobs, ticks]).await?;
        parts::create_indexes(
            manager,
            &[
                // Claiming: the next due job by priority.
                (
                    "idx_jobs_due",
                    "jobs",
                    &["state", "priority", "run_at", "id"],
                ),
                // Reaping: running jobs whose lease ran out.
                ("idx_jobs_lease", "jobs", &["state", "lease_until"]),
                ("idx_jobs_kind", "jobs", &["kind", "state"]),
            ],
        )
        .await?;
        Ok(())
    }
}
