//! What a committed write touched, read from the database for its invalidation: the tags and
//! author of an article, everything a profile is shown in. When that cannot be read, every
//! entry is invalidated instead: a cache is never left stale.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use super::Domain;
use super::cache_keys::{Author, Write};
use crate::cache::EPOCH;
use crate::db::entities::{article_tags, articles, comments, tags, users};
use crate::error::{Error, Result};

impl Domain {
    /// Invalidates what `write` names, or everything when it could not be learnt. `None`: the
    /// article is gone meanwhile, and its delete invalidated what it showed.
    pub(crate) async fn invalidate_touched(&self, write: Result<Option<Write>>) {
        match write {
            Ok(Some(write)) => self.invalidate(write).await,
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, "could not tell what a write changed; invalidating every cache entry");
                crate::cache::tracking::forget();
                self.cache.bump(&[EPOCH.to_owned()]).await;
            }
        }
    }

    /// A favorite added to or removed from `article_id`, with its slug, tags and author as they
    /// are now (a rename that committed meanwhile changed where it is shown).
    pub(crate) async fn favorite_touched(
        &self,
        article_id: i64,
        fan: i64,
    ) -> Result<Option<Write>> {
        let Some(article) = articles::Entity::find_by_id(article_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        Ok(Some(Write::Favorite {
            id: article.id,
            slug: article.slug,
            tags: tag_names(&self.db, article.id).await?,
            author: self.author(article.author_id).await?,
            fan,
        }))
    }

    /// A comment added to or deleted from `article_id`, at its slug as it is now.
    pub(crate) async fn comment_touched(&self, article_id: i64) -> Result<Option<Write>> {
        let slug: Option<String> = articles::Entity::find_by_id(article_id)
            .select_only()
            .column(articles::Column::Slug)
            .into_tuple()
            .one(&self.db)
            .await?;
        Ok(slug.map(|slug| Write::Comment { article_id, slug }))
    }

    /// The author `user_id` as the cache names them.
    pub(crate) async fn author(&self, user_id: i64) -> Result<Author> {
        let username = users::Entity::find_by_id(user_id)
            .select_only()
            .column(users::Column::Username)
            .into_tuple()
            .one(&self.db)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("user {user_id} missing")))?;
        Ok(Author {
            id: user_id,
            username,
        })
    }

    /// A profile edit of `user_id`, whose names were and are `usernames`: its articles, their
    /// tags, and the threads it commented in.
    pub(crate) async fn profile_touched(
        &self,
        user_id: i64,
        usernames: Vec<String>,
    ) -> Result<Option<Write>> {
        let articles: Vec<(i64, String)> = articles::Entity::find()
            .select_only()
            .columns([articles::Column::Id, articles::Column::Slug])
            .filter(articles::Column::AuthorId.eq(user_id))
            .into_tuple()
            .all(&self.db)
            .await?;
        let tags: Vec<String> = tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .distinct()
            .filter(
                tags::Column::Id.in_subquery(
                    Query::select()
                        .column((article_tags::Entity, article_tags::Column::TagId))
                        .from(article_tags::Entity)
                        .inner_join(
                            articles::Entity,
                            Expr::col((articles::Entity, articles::Column::Id))
                                .equals((article_tags::Entity, article_tags::Column::ArticleId)),
                        )
                        .and_where(
                            Expr::col((articles::Entity, articles::Column::AuthorId)).eq(user_id),
                        )
                        .take(),
                ),
            )
            .into_tuple()
            .all(&self.db)
            .await?;
        let commented: Vec<(i64, String)> = articles::Entity::find()
            .select_only()
            .columns([articles::Column::Id, articles::Column::Slug])
            .filter(
                articles::Column::Id.in_subquery(
                    Query::select()
                        .column(comments::Column::ArticleId)
                        .from(comments::Entity)
                        .and_where(Expr::col(comments::Column::AuthorId).eq(user_id))
                        .take(),
                ),
            )
            .into_tuple()
            .all(&self.db)
            .await?;
        Ok(Some(Write::Profile {
            user_id,
            usernames,
            articles,
            tags,
            commented,
        }))
    }
}

/// Takes `article_id`'s row for the rest of `txn` and reads it (`None` when it is gone): a
/// write comes first, so that SQLite takes its write lock waiting its busy time-out (a read
/// first would make the later write fail at once when another writer holds the lock), and
/// PostgreSQL and MySQL lock the row as `SELECT ... FOR UPDATE` would.
pub(crate) async fn lock_article(
    txn: &DatabaseTransaction,
    article_id: i64,
) -> Result<Option<articles::Model>, DbErr> {
    articles::Entity::update_many()
        .col_expr(articles::Column::Slug, Expr::col(articles::Column::Slug))
        .filter(articles::Column::Id.eq(article_id))
        .exec(txn)
        .await?;
    articles::Entity::find_by_id(article_id).one(txn).await
}

/// The tag names of `article_id`, on `db` (a transaction, where the caller holds the row).
pub(crate) async fn tag_names(
    db: &impl ConnectionTrait,
    article_id: i64,
) -> Result<Vec<String>, DbErr> {
    tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .filter(
            tags::Column::Id.in_subquery(
                Query::select()
                    .column(article_tags::Column::TagId)
                    .from(article_tags::Entity)
                    .and_where(Expr::col(article_tags::Column::ArticleId).eq(article_id))
                    .take(),
            ),
        )
        .into_tuple()
        .all(db)
        .await
}
