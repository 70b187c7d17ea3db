//! Comment threads: whole threads (REST), the newest few per article (GraphQL), add, delete.

use crate::domain::Core;
use crate::domain::articles::Articles;
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Order, Query, WindowStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect,
};

use serde_json::json;

use super::{Comment, comment_of};
use crate::db::entities::comments;
use crate::domain::cache_keys::{self as keys, Kind, Write};
use crate::domain::values::Slug;
use crate::domain::webhooks::{self, Event};
use crate::domain::{input, is_foreign_key_violation, now_ms, sorted_unique};
use crate::error::{Error, Result, Violations};

/// Every column of `comments`, for queries built by hand.
const COMMENT_COLUMNS: [comments::Column; 6] = [
    comments::Column::Id,
    comments::Column::ArticleId,
    comments::Column::AuthorId,
    comments::Column::Body,
    comments::Column::CreatedAt,
    comments::Column::UpdatedAt,
];

impl Articles {
    /// Newest first, `limit` from `offset` (a thread is never loaded whole past
    /// `input::COMMENTS_MAX`); the shared page comes from the cache, the viewer's flags are
    /// overlaid.
    pub async fn comments(
        &self,
        viewer: Option<i64>,
        slug: &Slug,
        (limit, offset): (u64, u64),
    ) -> Result<Vec<Comment>> {
        let mut thread = self
            .core
            .cached(
                Kind::Comments,
                keys::comments(slug.as_str(), limit, offset),
                || self.query_comments(slug, limit, offset),
            )
            .await?;
        self.overlay_comments(viewer, thread.iter_mut().collect())
            .await?;
        Ok(thread)
    }

    /// Sets the viewer's `following` flag on the authors of shared comments.
    async fn overlay_comments(
        &self,
        viewer: Option<i64>,
        comments: Vec<&mut Comment>,
    ) -> Result<()> {
        let Some(viewer) = viewer else { return Ok(()) };
        let authors: Vec<i64> = comments.iter().map(|c| c.author.id).collect();
        let flags = self.profiles.viewer_flags(viewer, &[], &authors).await?;
        for comment in comments {
            comment.author.following = flags.following.contains(&comment.author.id);
        }
        Ok(())
    }

    async fn query_comments(&self, slug: &Slug, limit: u64, offset: u64) -> Result<Vec<Comment>> {
        let article = self.article_by_slug(slug).await?;
        let rows = comments::Entity::find()
            .filter(comments::Column::ArticleId.eq(article.id))
            .order_by_desc(comments::Column::CreatedAt)
            .order_by_desc(comments::Column::Id)
            .limit(limit)
            .offset(offset)
            .all(&self.core.db)
            .await?;
        self.with_authors(rows).await
    }

    /// Comments with their authors' shared profiles, in the order given (one query).
    async fn with_authors(&self, rows: Vec<comments::Model>) -> Result<Vec<Comment>> {
        let author_ids: Vec<i64> = rows.iter().map(|c| c.author_id).collect();
        let authors = self.profiles.profiles_of(&author_ids).await?;
        rows.into_iter()
            .map(|c| {
                let author = authors.get(&c.author_id).cloned().ok_or_else(|| {
                    Error::Internal(anyhow::anyhow!("author {} missing", c.author_id))
                })?;
                Ok(comment_of(c, author))
            })
            .collect()
    }

    /// The newest `first` comments of each article in `article_ids` (newest first), with the
    /// viewer's flags: one ranked query for all the articles, however many there are.
    pub async fn latest_comments(
        &self,
        viewer: Option<i64>,
        article_ids: &[i64],
        first: u64,
    ) -> Result<HashMap<i64, Vec<Comment>>> {
        let ids = sorted_unique(article_ids);
        if ids.is_empty() || first == 0 {
            return Ok(HashMap::new());
        }
        let mut threads = self
            .core
            .cached(Kind::Comments, keys::latest_comments(&ids, first), || {
                self.query_latest_comments(&ids, first)
            })
            .await?;
        self.overlay_comments(viewer, threads.values_mut().flatten().collect())
            .await?;
        Ok(threads)
    }

    async fn query_latest_comments(
        &self,
        article_ids: &[i64],
        first: u64,
    ) -> Result<HashMap<i64, Vec<Comment>>> {
        let mut window = WindowStatement::partition_by(comments::Column::ArticleId);
        window
            .order_by(comments::Column::CreatedAt, Order::Desc)
            .order_by(comments::Column::Id, Order::Desc);
        let ranked = Query::select()
            .columns(COMMENT_COLUMNS)
            .expr_window_as(Expr::cust("ROW_NUMBER()"), window, "position")
            .from(comments::Entity)
            .and_where(Expr::col(comments::Column::ArticleId).is_in(article_ids.iter().copied()))
            .take();
        let stmt = Query::select()
            .columns(COMMENT_COLUMNS)
            .from_subquery(ranked, "ranked")
            .and_where(Expr::col("position").lte(first))
            .order_by("position", Order::Asc)
            .take();
        let rows =
            comments::Model::find_by_statement(self.core.db.get_database_backend().build(&stmt))
                .all(&self.core.db)
                .await?;
        let article_ids: Vec<i64> = rows.iter().map(|c| c.article_id).collect();
        let mut threads: HashMap<i64, Vec<Comment>> = HashMap::new();
        for (article_id, comment) in article_ids.into_iter().zip(self.with_authors(rows).await?) {
            threads.entry(article_id).or_default().push(comment);
        }
        Ok(threads)
    }

    pub async fn add_comment(
        &self,
        user: i64,
        slug: &Slug,
        body: Option<String>,
    ) -> Result<Comment> {
        let mut violations = Violations::default();
        let body = violations.check("body", input::comment_body(body));
        let body = violations.finish_with(|| body)?;
        let article = self.article_by_slug(slug).await?;
        let now = now_ms();
        let mut comment = comments::Model {
            id: 0,
            article_id: article.id,
            author_id: user,
            body,
            created_at: now,
            updated_at: now,
        };
        let inserted = self.core
            .in_transaction(|txn| {
                let (comment, article) = (comment.clone(), article.clone());
                Box::pin(async move {
                    // Only the id is read back: re-reading the row (as an ActiveModel insert
                    // does on MySQL) would fail if the article, and with it the comment, were
                    // deleted in between.
                    let id = comments::Entity::insert(comments::ActiveModel {
                        article_id: Set(comment.article_id),
                        author_id: Set(comment.author_id),
                        body: Set(comment.body.clone()),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    })
                    .exec(txn)
                    .await?
                    .last_insert_id;
                    let data = || {
                        json!({
                            "article": {"slug": article.slug, "title": article.title},
                            "comment": {"id": id, "body": comment.body, "createdAt": crate::db::timestamp(now)},
                        })
                    };
                    let owners = (article.author_id, user);
                    webhooks::emit(txn, owners, Event::CommentCreated, data).await?;
                    Ok(id)
                })
            })
            .await;
        comment.id = match inserted {
            Ok(id) => id,
            // The article was deleted by a concurrent request.
            Err(err) if is_foreign_key_violation(&err) => return Err(Error::NotFound("article")),
            Err(err) => return Err(err.into()),
        };
        self.invalidate_comment(comment.article_id, slug.as_str())
            .await;
        let author = self
            .profiles
            .profiles_of(&[user])
            .await?
            .remove(&user)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("comment author {user} missing")))?;
        Ok(comment_of(comment, author))
    }

    pub async fn delete_comment(&self, user: i64, slug: &Slug, id: i64) -> Result<()> {
        let article = self.article_by_slug(slug).await?;
        let comment = comments::Entity::find_by_id(id)
            .filter(comments::Column::ArticleId.eq(article.id))
            .one(&self.core.db)
            .await?
            .ok_or(Error::NotFound("comment"))?;
        if comment.author_id != user {
            return Err(Error::Forbidden("only the author can delete this comment"));
        }
        comments::Entity::delete_by_id(comment.id)
            .exec(&self.core.db)
            .await?;
        self.invalidate_comment(article.id, slug.as_str()).await;
        Ok(())
    }

    /// After a comment on `article_id` (at `slug` when the request came) was added or deleted.
    async fn invalidate_comment(&self, article_id: i64, slug: &str) {
        let known = Write::Comment {
            article_id,
            slug: slug.to_owned(),
        };
        let read = move |core: Core| async move { core.comment_touched(article_id).await };
        self.core.invalidate_touched(read, known).await;
    }
}
