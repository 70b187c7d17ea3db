//! Reading articles: lists, the feed, one article, and bodies for pages that left them out.

use crate::domain::articles::Articles;
use std::collections::HashMap;

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QuerySelect};

use super::{Article, ArticleFilter, ArticlePage, ArticleRow, Page};
use crate::cache::tracking;
use crate::db::entities::{article_tags, articles, follows, tags};
use crate::domain::cache_keys::{self as keys, Kind};
use crate::domain::sorted_unique;
use crate::domain::values::Slug;
use crate::error::{Error, Result};

impl Articles {
    /// The shared (anonymous) page comes from the cache; the viewer's flags are overlaid. A
    /// page that changed is rebuilt from its ids and its articles' cards, themselves cached.
    pub async fn list_articles(
        &self,
        viewer: Option<i64>,
        filter: ArticleFilter,
        page: Page,
    ) -> Result<ArticlePage> {
        let mut result = self
            .core
            .cached(Kind::ArticleList, keys::article_list(&filter, page), || {
                // The page's topics cover everything its parts show, so their own topics
                // need not be tracked for an answer that holds the page.
                tracking::isolate(async {
                    let ids = self
                        .core
                        .cached(Kind::ArticleList, keys::article_ids(&filter, page), || {
                            self.list_page(filter.clone(), page)
                        })
                        .await?;
                    self.page_of_cards(ids).await
                })
            })
            .await?;
        self.overlay_articles(viewer, &mut result.articles).await?;
        Ok(result)
    }

    /// Articles by the authors the viewer follows, newest first. The page is kept with the
    /// versions of the viewer's follows and of each followed author's articles.
    pub async fn feed(&self, viewer: i64, page: Page) -> Result<ArticlePage> {
        let key = keys::feed(viewer, page);
        let kept = self.core.cache.recall(Kind::ArticleList, &key).await;
        let mut result = match kept.and_then(|bytes| serde_json::from_slice(&bytes).ok()) {
            Some(result) => result,
            None => {
                let (result, tracked) = tracking::track(self.build_feed(viewer, page)).await;
                let result = result?;
                if let Some(reads) = tracked.reads
                    && let Ok(bytes) = serde_json::to_vec(&result)
                {
                    self.core.cache.keep(&key, reads, bytes.into()).await;
                }
                result
            }
        };
        self.overlay_articles(Some(viewer), &mut result.articles)
            .await?;
        Ok(result)
    }

    async fn build_feed(&self, viewer: i64, page: Page) -> Result<ArticlePage> {
        let followees: Vec<i64> = self
            .core
            .cached(Kind::Viewer, keys::followees(viewer), || async {
                Ok(follows::Entity::find()
                    .select_only()
                    .column(follows::Column::FolloweeId)
                    .filter(follows::Column::FollowerId.eq(viewer))
                    .into_tuple()
                    .all(&self.core.db)
                    .await?)
            })
            .await?;
        if followees.is_empty() {
            return Ok(ArticlePage::default());
        }
        // Read before the articles, so that a later write by any of them is seen.
        self.core
            .cache
            .observe(&keys::authors_feed(&followees))
            .await;
        let ids = self.authors_page(followees, page).await?;
        // The authors' topics cover the cards.
        tracking::isolate(self.page_of_cards(ids)).await
    }

    /// Adds tags and authors to rows with a fixed number of queries. The result is the shared
    /// view: no viewer's flags (see [`Articles::overlay_articles`]).
    pub(super) async fn assemble(&self, rows: Vec<ArticleRow>) -> Result<Vec<Article>> {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let author_ids: Vec<i64> = rows.iter().map(|r| r.author_id).collect();
        let mut tags_by_article = self.tags_of(&ids).await?;
        let authors = self.profiles.profiles_of(&author_ids).await?;
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
    pub(super) async fn overlay_articles(
        &self,
        viewer: Option<i64>,
        articles: &mut [Article],
    ) -> Result<()> {
        let Some(viewer) = viewer else { return Ok(()) };
        let ids: Vec<i64> = articles.iter().map(|a| a.id).collect();
        let authors: Vec<i64> = articles.iter().map(|a| a.author.id).collect();
        let flags = self.profiles.viewer_flags(viewer, &ids, &authors).await?;
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
        for row in self.core.db.query_all(&stmt).await? {
            let article_id: i64 = row.try_get("", "article_id")?;
            let name: String = row.try_get("", "name")?;
            by_article.entry(article_id).or_default().push(name);
        }
        for names in by_article.values_mut() {
            names.sort();
        }
        Ok(by_article)
    }

    pub(super) async fn article_by_slug(&self, slug: &Slug) -> Result<articles::Model> {
        articles::Entity::find()
            .filter(articles::Column::Slug.eq(slug.as_str()))
            .one(&self.core.db)
            .await?
            .ok_or(Error::NotFound("article"))
    }

    pub(super) async fn full_article(&self, model: articles::Model) -> Result<Article> {
        let mut assembled = self.assemble(vec![model.into()]).await?;
        assembled
            .pop()
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("assembled article missing")))
    }

    pub async fn article(&self, viewer: Option<i64>, slug: &Slug) -> Result<Article> {
        let mut article = self
            .core
            .cached(
                Kind::Article,
                keys::article_by_slug(slug.as_str()),
                || async { self.full_article(self.article_by_slug(slug).await?).await },
            )
            .await?;
        self.overlay_articles(viewer, std::slice::from_mut(&mut article))
            .await?;
        Ok(article)
    }

    /// The article as [`Self::article`] shows it, counted as a view (written in the background,
    /// see `views`). An anonymous answer that is kept records a view each time it is served.
    pub async fn read_article(&self, viewer: Option<i64>, slug: &Slug) -> Result<Article> {
        let article = self.article(viewer, slug).await?;
        self.views.record(article.id, viewer);
        if viewer.is_none() {
            tracking::note_view(article.id);
        }
        Ok(article)
    }

    /// The bodies of the articles `ids` (list pages leave them out), through the cache.
    pub async fn article_bodies(&self, ids: &[i64]) -> Result<HashMap<i64, String>> {
        let ids = sorted_unique(ids);
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.core
            .cached(Kind::Article, keys::article_bodies(&ids), || async {
                let rows: Vec<(i64, String)> = articles::Entity::find()
                    .select_only()
                    .columns([articles::Column::Id, articles::Column::Body])
                    .filter(articles::Column::Id.is_in(ids.iter().copied()))
                    .into_tuple()
                    .all(&self.core.db)
                    .await?;
                Ok(rows.into_iter().collect())
            })
            .await
    }

    /// The size in bytes of the bodies of the articles `ids`, through the cache: a caller can
    /// refuse to load bodies that would not fit its budget without reading them.
    pub async fn article_body_sizes(&self, ids: &[i64]) -> Result<HashMap<i64, u64>> {
        let ids = sorted_unique(ids);
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        self.core
            .cached(Kind::Article, keys::article_body_sizes(&ids), || async {
                let bytes = match self.core.db.get_database_backend() {
                    DbBackend::Postgres => "CAST(octet_length(body) AS BIGINT)",
                    DbBackend::MySql => "CAST(LENGTH(body) AS SIGNED)",
                    _ => "length(CAST(body AS BLOB))",
                };
                let rows: Vec<(i64, i64)> = articles::Entity::find()
                    .select_only()
                    .column(articles::Column::Id)
                    .column_as(Expr::cust(bytes), "bytes")
                    .filter(articles::Column::Id.is_in(ids.iter().copied()))
                    .into_tuple()
                    .all(&self.core.db)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, bytes)| (id, u64::try_from(bytes).unwrap_or_default()))
                    .collect())
            })
            .await
    }
}
