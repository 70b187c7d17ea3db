//! The first schema. Applied databases keep it as it is; later changes are later migrations.

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

/// Users, follows, articles, tags, favorites and comments, with an index for every query the
/// RealWorld API runs.
pub(super) struct CoreSchema;

/// The name databases recorded it under (it was first the file `migration.rs`).
impl MigrationName for CoreSchema {
    fn name(&self) -> &str {
        "migration"
    }
}

fn id(name: &'static str) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .take()
}

fn bigint(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).big_integer().not_null().take()
}

fn varchar(name: &'static str, len: u32) -> ColumnDef {
    ColumnDef::new(name).string_len(len).not_null().take()
}

fn text(name: &'static str) -> ColumnDef {
    ColumnDef::new(name).text().not_null().take()
}

fn foreign_key(
    from: (&'static str, &'static str),
    to: (&'static str, &'static str),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{}_{}", from.0, from.1))
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .take()
}

fn index(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for column in columns {
        stmt.col(*column);
    }
    stmt.take()
}

/// MySQL compares strings case- and accent-insensitively by default; binary collation makes slugs,
/// tags and keys behave exactly as on PostgreSQL and SQLite.
fn table(backend: DbBackend, name: &'static str) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(name).if_not_exists();
    if backend == DbBackend::MySql {
        stmt.engine("InnoDB")
            .character_set("utf8mb4")
            .collate("utf8mb4_bin");
    }
    stmt
}

#[async_trait::async_trait]
impl MigrationTrait for CoreSchema {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();

        manager
            .create_table(
                table(backend, "users")
                    .col(id("id"))
                    .col(varchar("username", 64))
                    .col(varchar("username_key", 64).unique_key())
                    .col(varchar("email", 254).unique_key())
                    .col(varchar("password_hash", 255))
                    .col(text("bio"))
                    .col(text("image"))
                    .col(bigint("created_at"))
                    .col(bigint("updated_at"))
                    .take(),
            )
            .await?;

        manager
            .create_table(
                table(backend, "follows")
                    .col(bigint("follower_id"))
                    .col(bigint("followee_id"))
                    .col(bigint("created_at"))
                    .primary_key(Index::create().col("follower_id").col("followee_id"))
                    .foreign_key(&mut foreign_key(
                        ("follows", "follower_id"),
                        ("users", "id"),
                    ))
                    .foreign_key(&mut foreign_key(
                        ("follows", "followee_id"),
                        ("users", "id"),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index("follows", "idx_follows_followee", &["followee_id"]))
            .await?;

        manager
            .create_table(
                table(backend, "articles")
                    .col(id("id"))
                    .col(varchar("slug", 255).unique_key())
                    .col(varchar("title", 255))
                    .col(text("description"))
                    .col(text("body"))
                    .col(bigint("author_id"))
                    .col(bigint("favorites_count").default(0))
                    .col(bigint("created_at"))
                    .col(bigint("updated_at"))
                    .foreign_key(&mut foreign_key(("articles", "author_id"), ("users", "id")))
                    .take(),
            )
            .await?;
        // Newest first with id as the tie-break, globally and per author (profile pages, feed).
        manager
            .create_index(index(
                "articles",
                "idx_articles_created",
                &["created_at", "id"],
            ))
            .await?;
        manager
            .create_index(index(
                "articles",
                "idx_articles_author_created",
                &["author_id", "created_at", "id"],
            ))
            .await?;

        manager
            .create_table(
                table(backend, "tags")
                    .col(id("id"))
                    .col(varchar("name", 64).unique_key())
                    .take(),
            )
            .await?;

        manager
            .create_table(
                table(backend, "article_tags")
                    .col(bigint("article_id"))
                    .col(bigint("tag_id"))
                    .primary_key(Index::create().col("article_id").col("tag_id"))
                    .foreign_key(&mut foreign_key(
                        ("article_tags", "article_id"),
                        ("articles", "id"),
                    ))
                    .foreign_key(&mut foreign_key(("article_tags", "tag_id"), ("tags", "id")))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "article_tags",
                "idx_article_tags_tag",
                &["tag_id", "article_id"],
            ))
            .await?;

        manager
            .create_table(
                table(backend, "favorites")
                    .col(bigint("user_id"))
                    .col(bigint("article_id"))
                    .col(bigint("created_at"))
                    .primary_key(Index::create().col("user_id").col("article_id"))
                    .foreign_key(&mut foreign_key(("favorites", "user_id"), ("users", "id")))
                    .foreign_key(&mut foreign_key(
                        ("favorites", "article_id"),
                        ("articles", "id"),
                    ))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "favorites",
                "idx_favorites_article",
                &["article_id", "user_id"],
            ))
            .await?;

        manager
            .create_table(
                table(backend, "comments")
                    .col(id("id"))
                    .col(bigint("article_id"))
                    .col(bigint("author_id"))
                    .col(text("body"))
                    .col(bigint("created_at"))
                    .col(bigint("updated_at"))
                    .foreign_key(&mut foreign_key(
                        ("comments", "article_id"),
                        ("articles", "id"),
                    ))
                    .foreign_key(&mut foreign_key(("comments", "author_id"), ("users", "id")))
                    .take(),
            )
            .await?;
        manager
            .create_index(index(
                "comments",
                "idx_comments_article_created",
                &["article_id", "created_at", "id"],
            ))
            .await?;
        manager
            .create_index(index("comments", "idx_comments_author", &["author_id"]))
            .await?;
        Ok(())
    }
}
