//! What a committed write touched, read from the database for its invalidation: the tags and
//! author of an article, everything a profile is shown in. When that cannot be read, what is
//! known without reading is invalidated and the rest retried in the background.

use sea_orm::sea_query::{Expr, ExprTrait, Query, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, QuerySelect,
};

use std::future::Future;
use std::time::{Duration, Instant};

use super::Core;
use super::cache_keys::{Author, Write};
use crate::db::entities::{article_tags, articles, comments, tags, users};
use crate::domain::values::username_key;
use crate::error::{Error, Result};

/// The pauses before each quick attempt at reading what a write touched (milliseconds).
const QUICK_ATTEMPTS: [u64; 3] = [0, 20, 100];
/// How long a background task keeps trying after that.
const PATIENCE: Duration = Duration::from_secs(60);

impl Core {
    /// Invalidates what the committed write touched, as `read` finds it (`None`: the article
    /// is gone meanwhile, and its delete invalidated what it showed). When it cannot be read
    /// (the database busy or unreachable right after the commit) what is `known` is
    /// invalidated at once and the rest when a background task can read it, for up to a
    /// minute; entries it still could not name expire with their time to live. Never every
    /// entry: a flush under load would send every reader to a database that is already
    /// struggling.
    pub(crate) async fn invalidate_touched<F, Fut>(&self, read: F, known: Write)
    where
        F: Fn(Core) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Option<Write>>> + Send,
    {
        for pause in QUICK_ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(pause)).await;
            match read(self.clone()).await {
                Ok(Some(write)) => return self.invalidate(write).await,
                Ok(None) => return,
                Err(err) => {
                    tracing::debug!(error = %err, "reading what a write changed failed; retrying")
                }
            }
        }
        tracing::warn!(
            "could not read what a write changed; invalidating what is known and retrying in the background"
        );
        self.invalidate(known).await;
        let core = self.clone();
        tokio::spawn(async move {
            let deadline = Instant::now() + PATIENCE;
            let mut pause = Duration::from_millis(250);
            loop {
                tokio::time::sleep(pause).await;
                match read(core.clone()).await {
                    Ok(Some(write)) => return core.invalidate(write).await,
                    Ok(None) => return,
                    Err(err) if Instant::now() >= deadline => {
                        tracing::error!(error = %err, "gave up reading what a write changed; the entries it changed expire with their time to live");
                        return;
                    }
                    Err(_) => pause = (pause * 2).min(Duration::from_secs(5)),
                }
            }
        });
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
    /// The user with this name (the one lookup by name every area uses).
    pub(crate) async fn user_by_username(&self, username: &str) -> Result<Option<users::Model>> {
        // No username holds a NUL (and PostgreSQL refuses one in a text parameter).
        if username.contains('\0') {
            return Ok(None);
        }
        Ok(users::Entity::find()
            .filter(users::Column::UsernameKey.eq(username_key(username)))
            .one(&self.db)
            .await?)
    }

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

/// `tags.id IN (the tags of article_id)`.
pub(crate) fn tags_of(article_id: i64) -> SimpleExpr {
    tags::Column::Id.in_subquery(
        Query::select()
            .column(article_tags::Column::TagId)
            .from(article_tags::Entity)
            .and_where(Expr::col(article_tags::Column::ArticleId).eq(article_id))
            .take(),
    )
}

/// The tag names of `article_id`, on `db` (a transaction, where the caller holds the row).
pub(crate) async fn tag_names(
    db: &impl ConnectionTrait,
    article_id: i64,
) -> Result<Vec<String>, DbErr> {
    tags::Entity::find()
        .select_only()
        .column(tags::Column::Name)
        .filter(tags_of(article_id))
        .into_tuple()
        .all(db)
        .await
}
