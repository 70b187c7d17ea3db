//! Every cache key and every invalidation rule, in one place.
//!
//! Two generations version all entries:
//! - `content`: articles, their tags and favorites counts, and users' public profiles (which are
//!   embedded in articles and comments). Bumped by article create/update/delete,
//!   favorite/unfavorite and user updates.
//! - `comments`: comment threads. Bumped by comment add/delete.
//!
//! Follows are not part of any cached entry: the viewer's `following` and `favorited` flags are
//! overlaid per request, so follow/unfollow invalidates nothing. A new registration cannot
//! change any cached entry either (lists by an unknown author are empty before and after).

use sha2::{Digest, Sha256};

use crate::domain::articles::{ArticleFilter, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Content = 0,
    Comments = 1,
}

impl Generation {
    pub const COUNT: usize = 2;
    pub const ALL: [Generation; Self::COUNT] = [Generation::Content, Generation::Comments];

    pub fn name(self) -> &'static str {
        match self {
            Generation::Content => "content",
            Generation::Comments => "comments",
        }
    }
}

/// A snapshot of every generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Generations([u64; Generation::COUNT]);

impl Generations {
    pub fn from_fn(f: impl Fn(Generation) -> u64) -> Self {
        Generations(Generation::ALL.map(f))
    }

    pub fn get(&self, generation: Generation) -> u64 {
        self.0[generation as usize]
    }
}

/// What a write changed; [`Write::invalidates`] is the rule for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    Article,
    Favorite,
    UserProfile,
    Comment,
}

impl Write {
    pub fn invalidates(self) -> &'static [Generation] {
        match self {
            Write::Article | Write::Favorite | Write::UserProfile => &[Generation::Content],
            Write::Comment => &[Generation::Comments],
        }
    }
}

/// The kinds of entry, for hit/miss/error counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ArticleList = 0,
    Article = 1,
    Comments = 2,
    Tags = 3,
    Profile = 4,
    Response = 5,
}

impl Kind {
    pub const COUNT: usize = 6;
    pub const ALL: [Kind; Self::COUNT] = [
        Kind::ArticleList,
        Kind::Article,
        Kind::Comments,
        Kind::Tags,
        Kind::Profile,
        Kind::Response,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::ArticleList => "article_list",
            Kind::Article => "article",
            Kind::Comments => "comments",
            Kind::Tags => "tags",
            Kind::Profile => "profile",
            Kind::Response => "response",
        }
    }
}

/// Length-prefixed, so that no combination of user-supplied values can collide with another.
fn part(value: &str) -> String {
    format!("{}:{value}", value.len())
}

pub fn article_list(g: &Generations, filter: &ArticleFilter, page: Page) -> String {
    format!(
        "list:c{}:{}{}{}:{}:{}:{}",
        g.get(Generation::Content),
        part(filter.tag.as_deref().unwrap_or_default()),
        part(&filter.author.as_deref().unwrap_or_default().to_lowercase()),
        part(
            &filter
                .favorited_by
                .as_deref()
                .unwrap_or_default()
                .to_lowercase()
        ),
        page.limit,
        page.offset,
        page.after
            .map_or_else(|| "-".to_owned(), |p| format!("{}.{}", p.created_at, p.id))
    )
}

pub fn article(g: &Generations, slug: &str) -> String {
    format!("article:c{}:{}", g.get(Generation::Content), part(slug))
}

pub fn comments(g: &Generations, slug: &str) -> String {
    format!(
        "comments:c{}:m{}:{}",
        g.get(Generation::Content),
        g.get(Generation::Comments),
        part(slug)
    )
}

/// A short digest of `parts` for keys whose inputs can be long. Each part is length-prefixed,
/// so that no two inputs run together into the same bytes.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A set of article ids, digested: a GraphQL page can name a thousand of them.
fn id_set(ids: &[i64]) -> String {
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    digest(&[joined.as_bytes()])
}

/// The bodies of the articles `ids` (sorted, unique).
pub fn article_bodies(g: &Generations, ids: &[i64]) -> String {
    format!("bodies:c{}:{}", g.get(Generation::Content), id_set(ids))
}

/// The newest `first` comments of each of the articles `ids` (sorted, unique).
pub fn latest_comments(g: &Generations, ids: &[i64], first: u64) -> String {
    format!(
        "latest-comments:c{}:m{}:{first}:{}",
        g.get(Generation::Content),
        g.get(Generation::Comments),
        id_set(ids)
    )
}

pub fn tags(g: &Generations) -> String {
    format!("tags:c{}", g.get(Generation::Content))
}

pub fn profile(g: &Generations, username: &str) -> String {
    format!(
        "profile:c{}:{}",
        g.get(Generation::Content),
        part(&username.to_lowercase())
    )
}

/// A rendered anonymous GraphQL answer to `query` with its operation name and variables.
pub fn graphql_response(
    g: &Generations,
    query: &str,
    operation_name: &str,
    variables: &[u8],
) -> String {
    format!(
        "graphql:c{}:m{}:{}",
        g.get(Generation::Content),
        g.get(Generation::Comments),
        digest(&[query.as_bytes(), operation_name.as_bytes(), variables])
    )
}

/// A rendered anonymous REST response: `path_and_query` as the client sent it.
pub fn anonymous_response(g: &Generations, path_and_query: &str) -> String {
    let comments = if path_and_query
        .split('?')
        .next()
        .unwrap_or_default()
        .ends_with("/comments")
    {
        g.get(Generation::Comments)
    } else {
        0
    };
    format!(
        "response:c{}:m{comments}:{}",
        g.get(Generation::Content),
        part(path_and_query)
    )
}
