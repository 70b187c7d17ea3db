//! Which articles a list page holds, at a cost that does not grow with the table: each list is
//! read from the rows that define it (articles, a tag's links, a fan's favorites), which carry
//! the article's creation time, so one index serves the filter and the order; its size is a
//! maintained count (`db::counts`), never a count of the list.

use crate::domain::articles::Articles;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{ArticleFilter, IdPage, Page};
use crate::db::counts;
use crate::db::entities::{article_tags, articles, favorites, tags, users};
use crate::error::Result;

/// A list as rows of one table: `filter` picks them, `(created, id)` orders them newest first
/// (an index on the filter's column, then those two, serves both), and `total` is its size.
struct Source {
    table: &'static str,
    created: &'static str,
    id: &'static str,
    filter: Condition,
    total: u64,
}

/// The rows a filter names: its tag, its author and its fan.
type FilterRows = (
    Option<tags::Model>,
    Option<users::Model>,
    Option<users::Model>,
);

impl Source {
    fn articles(filter: Condition, total: u64) -> Self {
        Source {
            table: "articles",
            created: "created_at",
            id: "id",
            filter,
            total,
        }
    }

    fn col(&self, name: &'static str) -> Expr {
        Expr::col((Alias::new(self.table), Alias::new(name)))
    }
}

impl Articles {
    /// The ids of a page of the articles `filter` selects, newest first; `None` when a name
    /// in it matches nothing.
    pub(super) async fn list_page(&self, filter: ArticleFilter, page: Page) -> Result<IdPage> {
        match self.list_source(filter).await? {
            Some(source) => self.id_page(source, page).await,
            None => Ok(IdPage::empty(0)),
        }
    }

    /// Articles by the authors `followees`, newest first.
    pub(super) async fn authors_page(&self, followees: Vec<i64>, page: Page) -> Result<IdPage> {
        let total: Vec<i64> = users::Entity::find()
            .select_only()
            .column(users::Column::ArticlesCount)
            .filter(users::Column::Id.is_in(followees.iter().copied()))
            .into_tuple()
            .all(&self.core.db)
            .await?;
        let total = total.iter().map(|n| u64::try_from(*n).unwrap_or(0)).sum();
        let filter = Condition::all().add(articles::Column::AuthorId.is_in(followees));
        self.id_page(Source::articles(filter, total), page).await
    }

    async fn list_source(&self, filter: ArticleFilter) -> Result<Option<Source>> {
        let Some((tag, author, fan)) = self.filter_rows(filter).await? else {
            return Ok(None);
        };
        Ok(Some(match (tag, author, fan) {
            (None, None, None) => {
                Source::articles(Condition::all(), counts::all_articles(&self.core.db).await?)
            }
            (Some(tag), None, None) => Source {
                table: "article_tags",
                created: "created_at",
                id: "article_id",
                filter: Condition::all().add(article_tags::Column::TagId.eq(tag.id)),
                total: u64::try_from(tag.articles_count).unwrap_or(0),
            },
            (None, Some(author), None) => Source::articles(
                Condition::all().add(articles::Column::AuthorId.eq(author.id)),
                u64::try_from(author.articles_count).unwrap_or(0),
            ),
            (None, None, Some(fan)) => Source {
                table: "favorites",
                created: "article_created_at",
                id: "article_id",
                filter: Condition::all().add(favorites::Column::UserId.eq(fan.id)),
                total: u64::try_from(fan.favorites_count).unwrap_or(0),
            },
            (tag, author, fan) => self.combined_source(tag, author, fan).await?,
        }))
    }

    /// The tag, author and fan a filter names; `None` when one of them does not exist (the
    /// list is empty).
    async fn filter_rows(&self, filter: ArticleFilter) -> Result<Option<FilterRows>> {
        let ArticleFilter {
            tag,
            author,
            favorited_by,
        } = filter;
        // No name holds a NUL (and PostgreSQL refuses one in a text parameter).
        let names = [&tag, &author, &favorited_by];
        if names
            .iter()
            .any(|n| n.as_ref().is_some_and(|n| n.contains('\0')))
        {
            return Ok(None);
        }
        let tag = match tag {
            Some(name) => match self.tag_named(&name).await? {
                Some(tag) => Some(tag),
                None => return Ok(None),
            },
            None => None,
        };
        let mut people = [None, None];
        for (row, name) in people.iter_mut().zip([author, favorited_by]) {
            if let Some(name) = name {
                match self.core.user_by_username(&name).await? {
                    Some(user) => *row = Some(user),
                    None => return Ok(None),
                }
            }
        }
        let [author, fan] = people;
        Ok(Some((tag, author, fan)))
    }

    /// Combined filters: the articles both select, counted. The narrower side drives (an
    /// author's articles, a fan's favorites), so the count is bounded by it.
    async fn combined_source(
        &self,
        tag: Option<tags::Model>,
        author: Option<users::Model>,
        fan: Option<users::Model>,
    ) -> Result<Source> {
        let mut filter = Condition::all();
        if let Some(tag) = tag {
            filter = filter.add(
                articles::Column::Id.in_subquery(
                    Query::select()
                        .column(article_tags::Column::ArticleId)
                        .from(article_tags::Entity)
                        .and_where(article_tags::Column::TagId.eq(tag.id))
                        .take(),
                ),
            );
        }
        if let Some(author) = author {
            filter = filter.add(articles::Column::AuthorId.eq(author.id));
        }
        if let Some(fan) = fan {
            filter = filter.add(
                articles::Column::Id.in_subquery(
                    Query::select()
                        .column(favorites::Column::ArticleId)
                        .from(favorites::Entity)
                        .and_where(favorites::Column::UserId.eq(fan.id))
                        .take(),
                ),
            );
        }
        let counted = Query::select()
            .expr(Expr::cust("COUNT(*)"))
            .from(articles::Entity)
            .cond_where(filter.clone())
            .take();
        let total: i64 = match self.core.db.query_one(&counted).await? {
            Some(row) => row.try_get_by_index(0)?,
            None => 0,
        };
        Ok(Source::articles(filter, u64::try_from(total).unwrap_or(0)))
    }

    async fn tag_named(&self, name: &str) -> Result<Option<tags::Model>> {
        Ok(tags::Entity::find()
            .filter(tags::Column::Name.eq(name))
            .one(&self.core.db)
            .await?)
    }

    /// One page of `source`. A deep offset past the middle is read from the other end of the
    /// index (the size is known), so the last pages cost what the first ones do.
    async fn id_page(&self, source: Source, page: Page) -> Result<IdPage> {
        let total = source.total;
        if page.after.is_none() && total <= page.offset {
            return Ok(IdPage::empty(total));
        }
        // One more than asked for tells whether more follow.
        let wanted = page.limit + 1;
        let from_end = page.after.is_none() && page.offset > total / 2;
        let (order, offset, limit) = if from_end {
            // Newest-first positions offset..offset+wanted are these, counted from the oldest.
            let last = total - 1 - page.offset;
            let first = last.saturating_sub(page.limit);
            (Order::Asc, first, last - first + 1)
        } else {
            (Order::Desc, page.offset, wanted)
        };
        let mut select = Query::select();
        select
            .expr(source.col(source.id))
            .from(Alias::new(source.table))
            .order_by_expr(source.col(source.created), order.clone())
            .order_by_expr(source.col(source.id), order)
            .limit(limit)
            .offset(offset);
        select.cond_where(source.filter.clone());
        if let Some(after) = page.after {
            // Written so that every engine ranges over the index: `created <= x`, then the
            // tie-break among equal times.
            select.and_where(source.col(source.created).lte(after.created_at));
            select.and_where(
                source
                    .col(source.created)
                    .lt(after.created_at)
                    .or(source.col(source.id).lt(after.id)),
            );
        }
        let mut ids = Vec::new();
        for row in self.core.db.query_all(&select).await? {
            ids.push(row.try_get_by_index::<i64>(0)?);
        }
        if from_end {
            ids.reverse();
        }
        let more = ids.len() as u64 > page.limit;
        ids.truncate(page.limit as usize);
        Ok(IdPage { ids, total, more })
    }
}
