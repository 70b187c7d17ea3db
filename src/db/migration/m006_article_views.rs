//! Article views, partitioned by month where the database can (see `db::partitions`), with the
//! current month's partition and the next ones created at once.

use sea_orm_migration::prelude::*;

use crate::db::partitions;

#[derive(DeriveMigrationName)]
pub(super) struct ArticleViews;

/// Retention is applied by the upkeep job, with the configured setting; the migration drops
/// nothing.
const KEEP_EVERYTHING: u32 = 1_000;

#[async_trait::async_trait]
impl MigrationTrait for ArticleViews {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        partitions::create_table(db).await?;
        partitions::upkeep(db, crate::db::now_ms(), KEEP_EVERYTHING).await?;
        Ok(())
    }
}
