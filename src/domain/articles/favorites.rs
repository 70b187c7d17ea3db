//! Favorites and the maintained `favorites_count`.

use crate::domain::Core;
use crate::domain::articles::Articles;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};

use serde_json::json;

use super::Article;
use crate::db::counts;
use crate::db::entities::{articles, favorites, users};
use crate::domain::cache_keys::Write;
use crate::domain::values::Slug;
use crate::domain::webhooks::{self, Event};
use crate::domain::{is_foreign_key_violation, is_unique_violation, now_ms};
use crate::error::{Error, Result};

impl Articles {
    pub async fn favorite(&self, user: i64, slug: &Slug) -> Result<Article> {
        let article = self.article_by_slug(slug).await?;
        let (article_id, author, created_at) = (article.id, article.author_id, article.created_at);
        let shown = json!({"article": {"slug": article.slug, "title": article.title}});
        // The article's row is locked first in both directions (here by bumping its count), so
        // a favorite and an unfavorite of it queue instead of deadlocking: PostgreSQL would
        // notice only after a second, with every other writer of the article queued behind.
        let inserted = self
            .core
            .in_transaction(|txn| {
                let shown = shown.clone();
                Box::pin(async move {
                    if adjust_favorites_count(txn, article_id, 1).await? == 0 {
                        return Err(Error::NotFound("article"));
                    }
                    favorites::Entity::insert(favorites::ActiveModel {
                        user_id: Set(user),
                        article_id: Set(article_id),
                        created_at: Set(now_ms()),
                        article_created_at: Set(created_at),
                    })
                    .exec_without_returning(txn)
                    .await?;
                    counts::move_fans(txn, users::Column::Id.eq(user), 1).await?;
                    webhooks::emit(txn, (author, user), Event::ArticleFavorited, || shown).await?;
                    Ok(())
                })
            })
            .await;
        match inserted {
            Ok(()) => {
                self.invalidate_favorite(article_id, slug.as_str(), user)
                    .await
            }
            // Already a favorite: the rollback undid the bump, so the count did not move.
            Err(err) if err.database_error().is_some_and(is_unique_violation) => {}
            // The article was deleted meanwhile (the key check found none).
            Err(err) if err.database_error().is_some_and(is_foreign_key_violation) => {
                return Err(Error::NotFound("article"));
            }
            Err(err) => return Err(err),
        }
        self.article(Some(user), slug).await
    }

    pub async fn unfavorite(&self, user: i64, slug: &Slug) -> Result<Article> {
        let article_id = self.article_by_slug(slug).await?.id;
        let removed = self
            .core
            .in_transaction::<_, DbErr, _>(|txn| {
                Box::pin(async move {
                    // The count moves first, as in `favorite`, and back when there was none.
                    if adjust_favorites_count(txn, article_id, -1).await? == 0 {
                        return Ok(0);
                    }
                    let removed = favorites::Entity::delete_many()
                        .filter(favorites::Column::UserId.eq(user))
                        .filter(favorites::Column::ArticleId.eq(article_id))
                        .exec(txn)
                        .await?
                        .rows_affected;
                    if removed > 0 {
                        counts::move_fans(txn, users::Column::Id.eq(user), -1).await?;
                    } else {
                        adjust_favorites_count(txn, article_id, 1).await?;
                    }
                    Ok(removed)
                })
            })
            .await?;
        if removed > 0 {
            self.invalidate_favorite(article_id, slug.as_str(), user)
                .await;
        }
        self.article(Some(user), slug).await
    }

    async fn invalidate_favorite(&self, article_id: i64, slug: &str, fan: i64) {
        let known = Write::Known {
            article: Some((Some(article_id), slug.to_owned())),
            tags: Vec::new(),
            user: Some(fan),
        };
        let read = move |core: Core| async move { core.favorite_touched(article_id, fan).await };
        self.core.invalidate_touched(read, known).await;
    }
}

/// Moves the count by `delta`; returns how many articles it touched (0 when it is gone).
async fn adjust_favorites_count(
    txn: &DatabaseTransaction,
    article_id: i64,
    delta: i64,
) -> Result<u64, DbErr> {
    let updated = articles::Entity::update_many()
        .col_expr(
            articles::Column::FavoritesCount,
            Expr::col(articles::Column::FavoritesCount).add(delta),
        )
        .filter(articles::Column::Id.eq(article_id))
        .exec(txn)
        .await?;
    Ok(updated.rows_affected)
}
