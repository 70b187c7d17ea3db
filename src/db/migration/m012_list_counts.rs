//! Lists that do not grow with the table: the number of articles in each list is kept as a
//! count updated in the transaction of every write that changes it (all articles, per tag, per
//! author, favorited by a user), and the rows that link a tag or a fan to an article carry the
//! article's creation time, so an index serves each list page in its order directly.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct ListCounts;

/// A `BIGINT NOT NULL DEFAULT 0` column.
fn count(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(0)
        .take()
}

#[async_trait::async_trait]
impl MigrationTrait for ListCounts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("users", "articles_count"),
            ("users", "favorites_count"),
            ("tags", "articles_count"),
            ("article_tags", "created_at"),
            ("favorites", "article_created_at"),
        ] {
            if !manager.has_column(table, column).await? {
                manager
                    .alter_table(Table::alter().table(table).add_column(count(column)).take())
                    .await?;
            }
        }
        manager
            .create_table(
                Table::create()
                    .table("list_counts")
                    .if_not_exists()
                    .col(
                        ColumnDef::new("name")
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(count("total"))
                    .take(),
            )
            .await?;
        // The tag's page in order; it also serves the foreign key on `tag_id` (MySQL needs one),
        // so it replaces the old `(tag_id, article_id)` index.
        for (table, name, columns) in [
            (
                "article_tags",
                "idx_article_tags_tag_created",
                ["tag_id", "created_at", "article_id"],
            ),
            (
                "favorites",
                "idx_favorites_user_created",
                ["user_id", "article_created_at", "article_id"],
            ),
        ] {
            if !manager.has_index(table, name).await? {
                let mut index = Index::create();
                index.name(name).table(table);
                for column in columns {
                    index.col(column);
                }
                manager.create_index(index).await?;
            }
        }
        if manager
            .has_index("article_tags", "idx_article_tags_tag")
            .await?
        {
            manager
                .drop_index(
                    Index::drop()
                        .name("idx_article_tags_tag")
                        .table("article_tags")
                        .to_owned(),
                )
                .await?;
        }
        backfill(manager.get_connection()).await
    }
}

/// Fills the new columns and counts from the rows already there (once, while migrating).
async fn backfill(db: &SchemaManagerConnection<'_>) -> Result<(), DbErr> {
    for sql in [
        "UPDATE article_tags SET created_at = \
         (SELECT a.created_at FROM articles a WHERE a.id = article_tags.article_id)",
        "UPDATE favorites SET article_created_at = \
         (SELECT a.created_at FROM articles a WHERE a.id = favorites.article_id)",
    ] {
        db.execute_unprepared(sql).await?;
    }
    crate::db::counts::recount(db).await
}
