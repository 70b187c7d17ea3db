//! Articles, their tags, favorites and comments.

use std::collections::HashMap;

use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Order, Query, WindowStatement};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseTransaction, DbErr, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{Domain, Profile, input, is_unique_violation, now_ms, sorted_unique};
use crate::cache::{Kind, keys, keys::Write};
use crate::db::entities::{article_tags, articles, comments, favorites, follows, tags};
use crate::error::{Error, Result, Violations};
use serde::{Deserialize, Serialize};

/// An article as a viewer sees it. `body` is `None` in lists (the spec omits it there).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Article {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub description: String,
    pub body: Option<String>,
    pub tags: Vec<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub favorited: bool,
    pub favorites_count: i64,
    pub author: Profile,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArticlePage {
    pub articles: Vec<Article>,
    /// Every match of the query, not just this page.
    pub total: u64,
    /// Whether more matches follow this page.
    pub more: bool,
}

impl ArticlePage {
    fn empty(total: u64) -> Self {
        ArticlePage {
            articles: vec![],
            total,
            more: false,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub author: Profile,
}

#[derive(Debug, Default, Clone)]
pub struct ArticleFilter {
    pub tag: Option<String>,
    pub author: Option<String>,
    pub favorited_by: Option<String>,
}

/// A slice of a newest-first list: `limit` items, skipping `offset`, and only items after
/// `after` when it is set.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: u64,
    pub offset: u64,
    pub after: Option<Position>,
}

/// A place in the newest-first order of articles (the order is `created_at`, then `id`, both
/// descending). Pages that continue after one neither repeat nor skip items when articles are
/// added or deleted meanwhile, as offsets would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub created_at: i64,
    pub id: i64,
}

impl Article {
    pub fn position(&self) -> Position {
        Position {
            created_at: self.created_at,
            id: self.id,
        }
    }
}

pub struct NewArticle {
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// Absent fields are left as they are; `tags` replaces the whole list when present.
#[derive(Default)]
pub struct ArticleChanges {
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub tags: Option<Vec<String>>,
}

/// The columns of a list item: everything but the body.
#[derive(Debug, FromQueryResult)]
struct SummaryRow {
    id: i64,
    slug: String,
    title: String,
    description: String,
    author_id: i64,
    favorites_count: i64,
    created_at: i64,
    updated_at: i64,
}

struct ArticleRow {
    id: i64,
    slug: String,
    title: String,
    description: String,
    body: Option<String>,
    author_id: i64,
    favorites_count: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<SummaryRow> for ArticleRow {
    fn from(r: SummaryRow) -> Self {
        ArticleRow {
            id: r.id,
            slug: r.slug,
            title: r.title,
            description: r.description,
            body: None,
            author_id: r.author_id,
            favorites_count: r.favorites_count,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

impl From<articles::Model> for ArticleRow {
    fn from(m: articles::Model) -> Self {
        ArticleRow {
            id: m.id,
            slug: m.slug,
            title: m.title,
            description: m.description,
            body: Some(m.body),
            author_id: m.author_id,
            favorites_count: m.favorites_count,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// Every column of `comments`, for queries built by hand.
const COMMENT_COLUMNS: [comments::Column; 6] = [
    comments::Column::Id,
    comments::Column::ArticleId,
    comments::Column::AuthorId,
    comments::Column::Body,
    comments::Column::CreatedAt,
    comments::Column::UpdatedAt,
];

/// Attempts at a fresh random slug suffix before giving up (collisions are astronomically rare).
const SLUG_ATTEMPTS: usize = 5;

impl Domain {
    /// The shared (anonymous) page comes from the cache; the viewer's flags are overlaid.
    pub async fn list_articles(
        &self,
        viewer: Option<i64>,
        filter: ArticleFilter,
        page: Page,
    ) -> Result<ArticlePage> {
        let mut result = self
            .cached(
                Kind::ArticleList,
                |g| keys::article_list(g, &filter, page),
                || self.query_articles(filter.clone(), page),
            )
            .await?;
        self.overlay_articles(viewer, &mut result.articles).await?;
        Ok(result)
    }

    async fn query_articles(&self, filter: ArticleFilter, page: Page) -> Result<ArticlePage> {
        let mut condition = Condition::all();
        if let Some(tag) = filter.tag {
            if tag.contains('\0') {
                return Ok(ArticlePage::empty(0));
            }
            condition = condition.add(
                articles::Column::Id.in_subquery(
                    Query::select()
                        .column((article_tags::Entity, article_tags::Column::ArticleId))
                        .from(article_tags::Entity)
                        .inner_join(
                            tags::Entity,
                            Expr::col((tags::Entity, tags::Column::Id))
                                .equals((article_tags::Entity, article_tags::Column::TagId)),
                        )
                        .and_where(Expr::col((tags::Entity, tags::Column::Name)).eq(tag))
                        .take(),
                ),
            );
        }
        if let Some(author) = filter.author {
            match self.user_by_username(&author).await? {
                Some(user) => condition = condition.add(articles::Column::AuthorId.eq(user.id)),
                None => {
                    return Ok(ArticlePage::empty(0));
                }
            }
        }
        if let Some(fan) = filter.favorited_by {
            match self.user_by_username(&fan).await? {
                Some(user) => {
                    condition = condition.add(
                        articles::Column::Id.in_subquery(
                            Query::select()
                                .column(favorites::Column::ArticleId)
                                .from(favorites::Entity)
                                .and_where(Expr::col(favorites::Column::UserId).eq(user.id))
                                .take(),
                        ),
                    )
                }
                None => {
                    return Ok(ArticlePage::empty(0));
                }
            }
        }
        self.article_page(condition, page).await
    }

    /// Articles by the authors the viewer follows, newest first.
    pub async fn feed(&self, viewer: i64, page: Page) -> Result<ArticlePage> {
        let condition = Condition::all().add(
            articles::Column::AuthorId.in_subquery(
                Query::select()
                    .column(follows::Column::FolloweeId)
                    .from(follows::Entity)
                    .and_where(Expr::col(follows::Column::FollowerId).eq(viewer))
                    .take(),
            ),
        );
        let mut result = self.article_page(condition, page).await?;
        self.overlay_articles(Some(viewer), &mut result.articles)
            .await?;
        Ok(result)
    }

    async fn article_page(&self, condition: Condition, page: Page) -> Result<ArticlePage> {
        let total = articles::Entity::find()
            .filter(condition.clone())
            .count(&self.db)
            .await?;
        if total <= page.offset {
            return Ok(ArticlePage::empty(total));
        }
        let condition = match page.after {
            None => condition,
            Some(after) => condition.add(
                Expr::tuple([
                    Expr::col(articles::Column::CreatedAt),
                    Expr::col(articles::Column::Id),
                ])
                .lt(Expr::tuple([
                    Expr::val(after.created_at),
                    Expr::val(after.id),
                ])),
            ),
        };
        let mut rows: Vec<SummaryRow> = articles::Entity::find()
            .select_only()
            .columns([
                articles::Column::Id,
                articles::Column::Slug,
                articles::Column::Title,
                articles::Column::Description,
                articles::Column::AuthorId,
                articles::Column::FavoritesCount,
                articles::Column::CreatedAt,
                articles::Column::UpdatedAt,
            ])
            .filter(condition)
            .order_by_desc(articles::Column::CreatedAt)
            .order_by_desc(articles::Column::Id)
            // One more than asked for tells whether more follow.
            .limit(page.limit + 1)
            .offset(page.offset)
            .into_model()
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > page.limit;
        rows.truncate(page.limit as usize);
        let articles = self
            .assemble(rows.into_iter().map(Into::into).collect())
            .await?;
        Ok(ArticlePage {
            articles,
            total,
            more,
        })
    }

    /// Adds tags and authors to rows with a fixed number of queries. The result is the shared
    /// view: no viewer's flags (see [`Domain::overlay_articles`]).
    async fn assemble(&self, rows: Vec<ArticleRow>) -> Result<Vec<Article>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let author_ids: Vec<i64> = rows.iter().map(|r| r.author_id).collect();
        let mut tags_by_article = self.tags_of(&ids).await?;
        let authors = self.profiles_of(&author_ids).await?;
        rows.into_iter()
            .map(|r| {
                let author = authors.get(&r.author_id).cloned().ok_or_else(|| {
                    Error::Internal(anyhow::anyhow!("author {} missing", r.author_id))
                })?;
                Ok(Article {
                    tags: tags_by_article.remove(&r.id).unwrap_or_default(),
                    favorited: false,
                    id: r.id,
                    slug: r.slug,
                    title: r.title,
                    description: r.description,
                    body: r.body,
                    created_at: r.created_at,
                    updated_at: r.updated_at,
                    favorites_count: r.favorites_count,
                    author,
                })
            })
            .collect()
    }

    /// Sets the viewer's `favorited` and `following` flags on shared views.
    async fn overlay_articles(&self, viewer: Option<i64>, articles: &mut [Article]) -> Result<()> {
        let Some(viewer) = viewer else { return Ok(()) };
        let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
        let authors: Vec<i64> = articles.iter().map(|a| a.author.id).collect();
        let flags = self.viewer_flags(viewer, &ids, &authors).await?;
        for article in articles {
            article.favorited = flags.favorited.contains(&article.id);
            article.author.following = flags.following.contains(&article.author.id);
        }
        Ok(())
    }

    /// Sorted tag names per article id.
    async fn tags_of(&self, article_ids: &[i64]) -> Result<HashMap<i64, Vec<String>>> {
        let mut by_article: HashMap<i64, Vec<String>> = HashMap::new();
        if article_ids.is_empty() {
            return Ok(by_article);
        }
        let stmt = Query::select()
            .column((article_tags::Entity, article_tags::Column::ArticleId))
            .column((tags::Entity, tags::Column::Name))
            .from(article_tags::Entity)
            .inner_join(
                tags::Entity,
                Expr::col((tags::Entity, tags::Column::Id))
                    .equals((article_tags::Entity, article_tags::Column::TagId)),
            )
            .and_where(
                Expr::col((article_tags::Entity, article_tags::Column::ArticleId))
                    .is_in(article_ids.iter().copied()),
            )
            .take();
        for row in self.db.query_all(&stmt).await? {
            let article_id: i64 = row.try_get("", "article_id")?;
            let name: String = row.try_get("", "name")?;
            by_article.entry(article_id).or_default().push(name);
        }
        for names in by_article.values_mut() {
            names.sort();
        }
        Ok(by_article)
    }

    async fn article_by_slug(&self, slug: &str) -> Result<articles::Model> {
        // No slug holds a NUL (and PostgreSQL refuses one in a text parameter).
        if slug.contains('\0') {
            return Err(Error::NotFound("article"));
        }
        articles::Entity::find()
            .filter(articles::Column::Slug.eq(slug))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound("article"))
    }

    async fn full_article(&self, model: articles::Model) -> Result<Article> {
        let mut assembled = self.assemble(vec![model.into()]).await?;
        assembled
            .pop()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("assembled article missing")))
    }

    pub async fn article(&self, viewer: Option<i64>, slug: &str) -> Result<Article> {
        let mut article = self
            .cached(
                Kind::Article,
                |g| keys::article(g, slug),
                || async { self.full_article(self.article_by_slug(slug).await?).await },
            )
            .await?;
        self.overlay_articles(viewer, std::slice::from_mut(&mut article))
            .await?;
        Ok(article)
    }

    pub async fn create_article(&self, author: i64, input: NewArticle) -> Result<Article> {
        let mut violations = Violations::default();
        let title = violations.check("title", input::title(input.title));
        let description = violations.check("description", input::description(input.description));
        let body = violations.check("body", input::article_body(input.body));
        let tags = violations.check("tagList", input::tag_list(input.tags));
        violations.finish()?;
        let (title, description, body, tags) = (
            title.unwrap(),
            description.unwrap(),
            body.unwrap(),
            tags.unwrap(),
        );

        let base = input::slugify(&title);
        for attempt in 0..SLUG_ATTEMPTS {
            let slug = self.candidate_slug(&base, attempt).await?;
            let now = now_ms();
            let created = self
                .in_transaction(|txn| {
                    let model = articles::ActiveModel {
                        slug: Set(slug.clone()),
                        title: Set(title.clone()),
                        description: Set(description.clone()),
                        body: Set(body.clone()),
                        author_id: Set(author),
                        favorites_count: Set(0),
                        created_at: Set(now),
                        updated_at: Set(now),
                        ..Default::default()
                    };
                    let tags = tags.clone();
                    Box::pin(async move {
                        let model = model.insert(txn).await?;
                        set_tags(txn, model.id, &tags).await?;
                        Ok(model)
                    })
                })
                .await;
            match created {
                Ok(model) => {
                    self.invalidate(Write::Article).await;
                    return self.full_article(model).await;
                }
                // Another writer took this slug between the check and the insert: try another.
                Err(err) if is_unique_violation(&err) => continue,
                Err(err) => return Err(err.into()),
            }
        }
        Err(Error::Internal(anyhow::anyhow!(
            "no free slug for '{base}'"
        )))
    }

    /// The bare slug when it is free (first attempt), otherwise the slug with a random suffix.
    async fn candidate_slug(&self, base: &str, attempt: usize) -> Result<String> {
        if attempt == 0 {
            let taken = articles::Entity::find()
                .filter(articles::Column::Slug.eq(base))
                .count(&self.db)
                .await?
                > 0;
            if !taken {
                return Ok(base.to_owned());
            }
        }
        Ok(format!("{base}-{}", random_suffix()))
    }

    pub async fn update_article(
        &self,
        user: i64,
        slug: &str,
        changes: ArticleChanges,
    ) -> Result<Article> {
        if changes.title.is_none()
            && changes.description.is_none()
            && changes.body.is_none()
            && changes.tags.is_none()
        {
            return Err(Error::field("article", "at least one field is required"));
        }
        let mut violations = Violations::default();
        let title = changes
            .title
            .and_then(|v| violations.check("title", input::title(Some(v))));
        let description = changes
            .description
            .and_then(|v| violations.check("description", input::description(Some(v))));
        let body = changes
            .body
            .and_then(|v| violations.check("body", input::article_body(Some(v))));
        let tags = changes
            .tags
            .and_then(|v| violations.check("tagList", input::tag_list(Some(v))));
        violations.finish()?;

        let current = self.article_by_slug(slug).await?;
        if current.author_id != user {
            return Err(Error::Forbidden("only the author can change this article"));
        }
        // A new title gives a new slug; a title that slugifies the same keeps the old one.
        let new_base = title
            .as_deref()
            .map(input::slugify)
            .filter(|base| *base != input::slugify(&current.title));
        for attempt in 0..SLUG_ATTEMPTS {
            let mut model: articles::ActiveModel = current.clone().into();
            if let Some(base) = &new_base {
                model.slug = Set(self.candidate_slug(base, attempt).await?);
            }
            if let Some(title) = &title {
                model.title = Set(title.clone());
            }
            if let Some(description) = &description {
                model.description = Set(description.clone());
            }
            if let Some(body) = &body {
                model.body = Set(body.clone());
            }
            model.updated_at = Set(std::cmp::max(now_ms(), current.updated_at));
            let updated = self
                .in_transaction(|txn| {
                    let (model, tags) = (model.clone(), tags.clone());
                    Box::pin(async move {
                        let updated = model.update(txn).await?;
                        if let Some(tags) = tags {
                            article_tags::Entity::delete_many()
                                .filter(article_tags::Column::ArticleId.eq(updated.id))
                                .exec(txn)
                                .await?;
                            set_tags(txn, updated.id, &tags).await?;
                        }
                        Ok(updated)
                    })
                })
                .await;
            match updated {
                Ok(updated) => {
                    self.invalidate(Write::Article).await;
                    let mut article = self.full_article(updated).await?;
                    self.overlay_articles(Some(user), std::slice::from_mut(&mut article))
                        .await?;
                    return Ok(article);
                }
                Err(err) if is_unique_violation(&err) => continue,
                // Deleted by a concurrent request.
                Err(DbErr::RecordNotUpdated) => return Err(Error::NotFound("article")),
                Err(err) => return Err(err.into()),
            }
        }
        Err(Error::Internal(anyhow::anyhow!(
            "no free slug for the new title"
        )))
    }

    /// Comments, favorites and tag links go with the article (foreign keys cascade).
    pub async fn delete_article(&self, user: i64, slug: &str) -> Result<()> {
        let article = self.article_by_slug(slug).await?;
        if article.author_id != user {
            return Err(Error::Forbidden("only the author can delete this article"));
        }
        articles::Entity::delete_by_id(article.id)
            .exec(&self.db)
            .await?;
        self.invalidate(Write::Article).await;
        Ok(())
    }

    pub async fn favorite(&self, user: i64, slug: &str) -> Result<Article> {
        let article_id = self.article_by_slug(slug).await?.id;
        // The count is bumped first: that locks the article row before the favorite's foreign
        // key check does, so concurrent favorites queue instead of deadlocking.
        let inserted = self
            .in_transaction(|txn| {
                Box::pin(async move {
                    adjust_favorites_count(txn, article_id, 1).await?;
                    favorites::ActiveModel {
                        user_id: Set(user),
                        article_id: Set(article_id),
                        created_at: Set(now_ms()),
                    }
                    .insert(txn)
                    .await
                })
            })
            .await;
        match inserted {
            Ok(_) => self.invalidate(Write::Favorite).await,
            // Already a favorite: the rollback undid the bump, so the count did not move.
            Err(err) if is_unique_violation(&err) => {}
            Err(err) => return Err(err.into()),
        }
        self.article(Some(user), slug).await
    }

    pub async fn unfavorite(&self, user: i64, slug: &str) -> Result<Article> {
        let article_id = self.article_by_slug(slug).await?.id;
        let removed = self
            .in_transaction(|txn| {
                Box::pin(async move {
                    let removed = favorites::Entity::delete_many()
                        .filter(favorites::Column::UserId.eq(user))
                        .filter(favorites::Column::ArticleId.eq(article_id))
                        .exec(txn)
                        .await?
                        .rows_affected;
                    if removed > 0 {
                        adjust_favorites_count(txn, article_id, -1).await?;
                    }
                    Ok(removed)
                })
            })
            .await?;
        if removed > 0 {
            self.invalidate(Write::Favorite).await;
        }
        self.article(Some(user), slug).await
    }

    /// Newest first; the shared thread comes from the cache, the viewer's flags are overlaid.
    pub async fn comments(&self, viewer: Option<i64>, slug: &str) -> Result<Vec<Comment>> {
        let mut thread = self
            .cached(
                Kind::Comments,
                |g| keys::comments(g, slug),
                || self.query_comments(slug),
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
        let flags = self.viewer_flags(viewer, &[], &authors).await?;
        for comment in comments {
            comment.author.following = flags.following.contains(&comment.author.id);
        }
        Ok(())
    }

    async fn query_comments(&self, slug: &str) -> Result<Vec<Comment>> {
        let article = self.article_by_slug(slug).await?;
        let rows = comments::Entity::find()
            .filter(comments::Column::ArticleId.eq(article.id))
            .order_by_desc(comments::Column::CreatedAt)
            .order_by_desc(comments::Column::Id)
            .all(&self.db)
            .await?;
        self.with_authors(rows).await
    }

    /// Comments with their authors' shared profiles, in the order given (one query).
    async fn with_authors(&self, rows: Vec<comments::Model>) -> Result<Vec<Comment>> {
        let author_ids: Vec<i64> = rows.iter().map(|c| c.author_id).collect();
        let authors = self.profiles_of(&author_ids).await?;
        rows.into_iter()
            .map(|c| {
                let author = authors.get(&c.author_id).cloned().ok_or_else(|| {
                    Error::Internal(anyhow::anyhow!("author {} missing", c.author_id))
                })?;
                Ok(comment_of(c, author))
            })
            .collect()
    }

    /// The bodies of the articles `ids` (list pages leave them out), through the cache.
    pub async fn article_bodies(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let ids = sorted_unique(ids);
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.cached(
            Kind::Article,
            |g| keys::article_bodies(g, &ids),
            || async {
                let rows: Vec<(i64, String)> = articles::Entity::find()
                    .select_only()
                    .columns([articles::Column::Id, articles::Column::Body])
                    .filter(articles::Column::Id.is_in(ids.iter().copied()))
                    .into_tuple()
                    .all(&self.db)
                    .await?;
                Ok(rows.into_iter().collect())
            },
        )
        .await
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
            .cached(
                Kind::Comments,
                |g| keys::latest_comments(g, &ids, first),
                || self.query_latest_comments(&ids, first),
            )
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
        let rows = comments::Model::find_by_statement(self.db.get_database_backend().build(&stmt))
            .all(&self.db)
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
        slug: &str,
        body: Option<String>,
    ) -> Result<Comment> {
        let mut violations = Violations::default();
        let body = violations.check("body", input::comment_body(body));
        violations.finish()?;
        let article = self.article_by_slug(slug).await?;
        let now = now_ms();
        let comment = comments::ActiveModel {
            article_id: Set(article.id),
            author_id: Set(user),
            body: Set(body.unwrap()),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&self.db)
        .await?;
        self.invalidate(Write::Comment).await;
        let author = self
            .profiles_of(&[user])
            .await?
            .remove(&user)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("comment author {user} missing")))?;
        Ok(comment_of(comment, author))
    }

    pub async fn delete_comment(&self, user: i64, slug: &str, id: i64) -> Result<()> {
        let article = self.article_by_slug(slug).await?;
        let comment = comments::Entity::find_by_id(id)
            .filter(comments::Column::ArticleId.eq(article.id))
            .one(&self.db)
            .await?
            .ok_or(Error::NotFound("comment"))?;
        if comment.author_id != user {
            return Err(Error::Forbidden("only the author can delete this comment"));
        }
        comments::Entity::delete_by_id(comment.id)
            .exec(&self.db)
            .await?;
        self.invalidate(Write::Comment).await;
        Ok(())
    }
}

fn comment_of(c: comments::Model, author: Profile) -> Comment {
    Comment {
        id: c.id,
        body: c.body,
        created_at: c.created_at,
        updated_at: c.updated_at,
        author,
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// Links an article to its tags, creating the tags that do not exist yet.
async fn set_tags(
    txn: &DatabaseTransaction,
    article_id: i64,
    names: &[String],
) -> Result<(), DbErr> {
    if names.is_empty() {
        return Ok(());
    }
    tags::Entity::insert_many(names.iter().map(|name| tags::ActiveModel {
        name: Set(name.clone()),
        ..Default::default()
    }))
    .on_conflict(
        OnConflict::column(tags::Column::Name)
            .do_nothing_on([tags::Column::Name])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let tag_ids: Vec<i64> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Id)
        .filter(tags::Column::Name.is_in(names.iter().cloned()))
        .into_tuple()
        .all(txn)
        .await?;
    article_tags::Entity::insert_many(tag_ids.into_iter().map(|tag_id| {
        article_tags::ActiveModel {
            article_id: Set(article_id),
            tag_id: Set(tag_id),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

async fn adjust_favorites_count(
    txn: &DatabaseTransaction,
    article_id: i64,
    delta: i64,
) -> Result<(), DbErr> {
    articles::Entity::update_many()
        .col_expr(
            articles::Column::FavoritesCount,
            Expr::col(articles::Column::FavoritesCount).add(delta),
        )
        .filter(articles::Column::Id.eq(article_id))
        .exec(txn)
        .await?;
    Ok(())
}
