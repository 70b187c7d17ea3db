//! Writing articles: create, update (a new title gives a new slug), delete.

use crate::domain::Core;
use crate::domain::articles::Articles;
use rand::Rng;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QuerySelect,
};
use serde_json::json;

use super::{Article, ArticleChanges, NewArticle};
use crate::db::counts;
use crate::db::entities::{article_tags, articles, favorites, tags, users};
use crate::domain::cache_keys::Write;
use crate::domain::touched::{lock_article, tag_names, tags_of};
use crate::domain::values::{Slug, TagName, tag_strings};
use crate::domain::webhooks::{self, Event};
use crate::domain::{TxnWork, input, is_unique_violation, now_ms};
use crate::error::{Error, Result, Violations};

/// Attempts at a fresh random slug suffix before giving up (collisions are astronomically rare).
const SLUG_ATTEMPTS: usize = 5;

impl Articles {
    pub async fn create_article(&self, author: i64, input: NewArticle) -> Result<Article> {
        let mut violations = Violations::default();
        let title = violations.check("title", input::title(input.title));
        let description = violations.check("description", input::description(input.description));
        let body = violations.check("body", input::article_body(input.body));
        let tags = violations.check("tagList", TagName::parse_list(input.tags));
        let (title, description, body, tags) =
            violations.finish_with(|| Some((title?, description?, body?, tags?)))?;
        let base = Slug::of_title(&title);
        let now = now_ms();
        let model = self
            .write_with_free_slug(Some(&base), |slug, txn| {
                let model = articles::ActiveModel {
                    slug: Set(slug.map(Slug::into_string).unwrap_or_default()),
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
                    // Users' rows before tags' rows in every write: no lock cycle between them.
                    counts::move_author(txn, author, 1).await?;
                    set_tags(txn, model.id, model.created_at, &tags).await?;
                    let data = || webhooks::article_data(&model, &tag_strings(&tags));
                    webhooks::emit(txn, (author, author), Event::ArticlePublished, data).await?;
                    counts::move_all_articles(txn, 1).await?;
                    Ok(model)
                })
            })
            .await?;
        let tags = tag_strings(&tags);
        let known = Write::Known {
            article: Some((Some(model.id), model.slug.clone())),
            tags: tags.clone(),
            user: Some(author),
        };
        let slug = model.slug.clone();
        let read = move |core: Core| {
            let (slug, tags) = (slug.clone(), tags.clone());
            async move {
                let author = core.author(author).await?;
                Ok(Some(Write::ArticleCreated { slug, tags, author }))
            }
        };
        self.core.invalidate_touched(read, known).await;
        self.full_article(model).await
    }

    pub async fn update_article(
        &self,
        user: i64,
        slug: &Slug,
        changes: ArticleChanges,
    ) -> Result<Article> {
        let ParsedChanges {
            title,
            description,
            body,
            tags,
        } = changes.parsed()?;
        let current = self.article_by_slug(slug).await?;
        if current.author_id != user {
            return Err(Error::Forbidden("only the author can change this article"));
        }
        // A new title gives a new slug; a title that slugifies the same keeps the old one.
        let new_base = title
            .as_deref()
            .map(Slug::of_title)
            .filter(|base| *base != Slug::of_title(&current.title));
        let new_tags = tags.as_deref().map(tag_strings);
        let updated_at = std::cmp::max(now_ms(), current.updated_at);
        let id = current.id;
        let (updated, old_slug, old_tags) = self
            .write_with_free_slug(new_base.as_ref(), |slug, txn| {
                let mut model: articles::ActiveModel = current.clone().into();
                if let Some(slug) = slug {
                    model.slug = Set(slug.into_string());
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
                model.updated_at = Set(updated_at);
                let (tags, new_tags) = (tags.clone(), new_tags.clone());
                Box::pin(async move {
                    // Locked, so that the slug and tags it had are the ones this write replaces.
                    let before = lock_article(txn, id)
                        .await?
                        .ok_or(Error::NotFound("article"))?;
                    let old_tags = tag_names(txn, id).await?;
                    let updated = model.update(txn).await?;
                    if let Some(tags) = &tags {
                        counts::move_tags(txn, tags_of(updated.id), -1).await?;
                        article_tags::Entity::delete_many()
                            .filter(article_tags::Column::ArticleId.eq(updated.id))
                            .exec(txn)
                            .await?;
                        set_tags(txn, updated.id, updated.created_at, tags).await?;
                    }
                    let shown = new_tags.as_ref().unwrap_or(&old_tags);
                    let data = || webhooks::article_data(&updated, shown);
                    webhooks::emit(txn, (user, user), Event::ArticleUpdated, data).await?;
                    Ok((updated, before.slug, old_tags))
                })
            })
            .await?;
        let mut all_tags = old_tags;
        all_tags.extend(new_tags.unwrap_or_default());
        self.invalidate_article_change(id, vec![old_slug, updated.slug.clone()], all_tags, user)
            .await;
        let mut article = self.full_article(updated).await?;
        self.overlay_articles(Some(user), std::slice::from_mut(&mut article))
            .await?;
        Ok(article)
    }

    /// Comments, favorites and tag links go with the article (foreign keys cascade).
    pub async fn delete_article(&self, user: i64, slug: &Slug) -> Result<()> {
        let article = self.article_by_slug(slug).await?;
        if article.author_id != user {
            return Err(Error::Forbidden("only the author can delete this article"));
        }
        let id = article.id;
        let deleted = self
            .core
            .in_transaction::<_, DbErr, _>(|txn| {
                Box::pin(async move {
                    // Locked, so that the slug and tags read are the ones it is deleted with.
                    let Some(before) = lock_article(txn, id).await? else {
                        return Ok(None);
                    };
                    let tags = tag_names(txn, id).await?;
                    // The links go with the article: their counts go first.
                    counts::move_fans(txn, fans_of(id), -1).await?;
                    counts::move_author(txn, user, -1).await?;
                    counts::move_tags(txn, tags_of(id), -1).await?;
                    articles::Entity::delete_by_id(id).exec(txn).await?;
                    let data = || json!({"article": {"slug": before.slug, "title": before.title}});
                    webhooks::emit(txn, (user, user), Event::ArticleDeleted, data).await?;
                    counts::move_all_articles(txn, -1).await?;
                    Ok(Some((before.slug, tags)))
                })
            })
            .await?;
        // Already deleted by a concurrent request, which invalidated what it showed.
        let Some((slug, tags)) = deleted else {
            return Ok(());
        };
        self.invalidate_article_change(id, vec![slug], tags, user)
            .await;
        Ok(())
    }

    /// After article `id` by `author` was updated (`slugs` old and new) or deleted.
    async fn invalidate_article_change(
        &self,
        id: i64,
        slugs: Vec<String>,
        tags: Vec<String>,
        author: i64,
    ) {
        let known = Write::Known {
            article: slugs.last().map(|slug| (Some(id), slug.clone())),
            tags: tags.clone(),
            user: Some(author),
        };
        let read = move |core: Core| {
            let (slugs, tags) = (slugs.clone(), tags.clone());
            async move {
                let author = core.author(author).await?;
                Ok(Some(Write::ArticleChanged {
                    id,
                    slugs,
                    tags,
                    author,
                }))
            }
        };
        self.core.invalidate_touched(read, known).await;
    }

    /// Runs `write` in a transaction with a slug for `base` (or `None` when the slug stays as
    /// it is): the bare base when it is free and not a route's name, otherwise the base with a
    /// random suffix. A write that loses the slug to a concurrent one runs again with another.
    async fn write_with_free_slug<T, F>(&self, base: Option<&Slug>, write: F) -> Result<T>
    where
        T: Send,
        F: for<'c> Fn(Option<Slug>, &'c DatabaseTransaction) -> TxnWork<'c, T, Error> + Send + Sync,
    {
        for attempt in 0..SLUG_ATTEMPTS {
            let slug = match base {
                Some(base) => Some(self.candidate_slug(base, attempt).await?),
                None => None,
            };
            match self
                .core
                .in_transaction(|txn| write(slug.clone(), txn))
                .await
            {
                Ok(value) => return Ok(value),
                Err(err)
                    if slug.is_some() && err.database_error().is_some_and(is_unique_violation) =>
                {
                    continue;
                }
                Err(err) => return Err(err),
            }
        }
        Err(Error::Internal(anyhow::anyhow!(
            "no free slug for '{}'",
            base.map(Slug::as_str).unwrap_or_default()
        )))
    }

    /// The bare slug when it is free (first attempt), otherwise the slug with a random suffix.
    async fn candidate_slug(&self, base: &Slug, attempt: usize) -> Result<Slug> {
        if attempt == 0 && !base.is_reserved() {
            let taken = articles::Entity::find()
                .filter(articles::Column::Slug.eq(base.as_str()))
                .count(&self.core.db)
                .await?
                > 0;
            if !taken {
                return Ok(base.clone());
            }
        }
        Ok(base.with_suffix(&random_suffix()))
    }
}

fn random_suffix() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// `users.id IN (the fans of article_id)`.
fn fans_of(article_id: i64) -> SimpleExpr {
    users::Column::Id.in_subquery(
        Query::select()
            .column(favorites::Column::UserId)
            .from(favorites::Entity)
            .and_where(Expr::col(favorites::Column::ArticleId).eq(article_id))
            .take(),
    )
}

/// Links an article (created at `created_at`) to its tags, creating the tags that do not
/// exist yet, and counts it in each.
async fn set_tags(
    txn: &DatabaseTransaction,
    article_id: i64,
    created_at: i64,
    names: &[TagName],
) -> Result<(), DbErr> {
    if names.is_empty() {
        return Ok(());
    }
    tags::Entity::insert_many(names.iter().map(|name| tags::ActiveModel {
        name: Set(name.as_str().to_owned()),
        ..Default::default()
    }))
    .on_conflict(
        OnConflict::column(tags::Column::Name)
            .do_nothing_on([tags::Column::Name])
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let mut tag_ids: Vec<i64> = tags::Entity::find()
        .select_only()
        .column(tags::Column::Id)
        .filter(tags::Column::Name.is_in(names.iter().map(TagName::as_str)))
        .into_tuple()
        .all(txn)
        .await?;
    tag_ids.sort_unstable();
    article_tags::Entity::insert_many(tag_ids.iter().map(|tag_id| article_tags::ActiveModel {
        article_id: Set(article_id),
        tag_id: Set(*tag_id),
        created_at: Set(created_at),
    }))
    .exec_without_returning(txn)
    .await?;
    counts::move_tags(txn, tags::Column::Id.is_in(tag_ids), 1).await
}

/// [`ArticleChanges`] parsed: each field that is to change, as its domain value.
struct ParsedChanges {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
    tags: Option<Vec<TagName>>,
}

impl ArticleChanges {
    /// The changes with every present field parsed (a change with none is refused).
    fn parsed(self) -> Result<ParsedChanges> {
        if self.title.is_none()
            && self.description.is_none()
            && self.body.is_none()
            && self.tags.is_none()
        {
            return Err(Error::field("article", "at least one field is required"));
        }
        let mut violations = Violations::default();
        let title = self
            .title
            .and_then(|v| violations.check("title", input::title(Some(v))));
        let description = self
            .description
            .and_then(|v| violations.check("description", input::description(Some(v))));
        let body = self
            .body
            .and_then(|v| violations.check("body", input::article_body(Some(v))));
        let tags = self
            .tags
            .and_then(|v| violations.check("tagList", TagName::parse_list(Some(v))));
        violations.finish()?;
        Ok(ParsedChanges {
            title,
            description,
            body,
            tags,
        })
    }
}
