//! Views counted per row: a batch folds the reads of one article by one viewer within the same
//! second into one row with their number, so a popular article read thousands of times a second
//! costs the database a row per second, not a row per read.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct ViewCounts;

#[async_trait::async_trait]
impl MigrationTrait for ViewCounts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if !manager.has_column("article_views", "views").await? {
            manager
                .alter_table(
                    Table::alter()
                        .table("article_views")
                        .add_column(ColumnDef::new("views").integer().not_null().default(1))
                        .take(),
                )
                .await?;
        }
        Ok(())
    }
}
