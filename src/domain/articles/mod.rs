//! Articles: their views and the rules for reading and writing them, their tags, favorites
//! and comments (one file per concern).

mod cards;
mod comments;
mod favorites;
mod lists;
mod read;
mod write;

use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};

use super::Profile;
use super::core::Core;
use super::profiles::Profiles;
use crate::db::entities::{articles, comments as comment_rows};
use crate::views::ViewRecorder;

/// Articles: reading (one, lists, feeds, cached cards), writing, favorites, comments, tags.
#[derive(Clone)]
pub struct Articles {
    pub(crate) core: Core,
    profiles: Profiles,
    views: ViewRecorder,
}

impl Articles {
    pub fn new(core: Core, profiles: Profiles, views: ViewRecorder) -> Self {
        Articles {
            core,
            profiles,
            views,
        }
    }
}

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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ArticlePage {
    pub articles: Vec<Article>,
    /// Every match of the query, not just this page.
    pub total: u64,
    /// Whether more matches follow this page.
    pub more: bool,
}

/// A page of a list or feed as it is cached: the ids of its articles, whose cards are cached
/// one by one (see `cards`).
#[derive(Debug, Serialize, Deserialize)]
struct IdPage {
    ids: Vec<i64>,
    total: u64,
    more: bool,
}

impl IdPage {
    fn empty(total: u64) -> Self {
        IdPage {
            ids: vec![],
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

impl SummaryRow {
    const COLUMNS: [articles::Column; 8] = [
        articles::Column::Id,
        articles::Column::Slug,
        articles::Column::Title,
        articles::Column::Description,
        articles::Column::AuthorId,
        articles::Column::FavoritesCount,
        articles::Column::CreatedAt,
        articles::Column::UpdatedAt,
    ];
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

fn comment_of(c: comment_rows::Model, author: Profile) -> Comment {
    Comment {
        id: c.id,
        body: c.body,
        created_at: c.created_at,
        updated_at: c.updated_at,
        author,
    }
}
