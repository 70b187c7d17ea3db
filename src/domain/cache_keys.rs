//! Every cache key that names domain data, and every invalidation rule, in one place.
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

use crate::cache::{Generations, Layout, digest, part};
use crate::domain::articles::{ArticleFilter, Page};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Generation {
    Content = 0,
    Comments = 1,
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

/// What the cache is told about the domain's generations and kinds, in index order.
pub const LAYOUT: Layout = Layout {
    generations: &["content", "comments"],
    kinds: &[
        "article_list",
        "article",
        "comments",
        "tags",
        "profile",
        "response",
    ],
};

fn content(g: &Generations) -> u64 {
    g.get(Generation::Content as usize)
}

fn thread(g: &Generations) -> u64 {
    g.get(Generation::Comments as usize)
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
    pub fn invalidates(self) -> &'static [usize] {
        match self {
            Write::Article | Write::Favorite | Write::UserProfile => {
                &[Generation::Content as usize]
            }
            Write::Comment => &[Generation::Comments as usize],
        }
    }
}

pub fn article_list(g: &Generations, filter: &ArticleFilter, page: Page) -> String {
    format!(
        "list:c{}:{}{}{}:{}:{}:{}",
        content(g),
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
    format!("article:c{}:{}", content(g), part(slug))
}

pub fn comments(g: &Generations, slug: &str) -> String {
    format!("comments:c{}:m{}:{}", content(g), thread(g), part(slug))
}

/// A set of article ids, digested: a GraphQL page can name a thousand of them.
fn id_set(ids: &[i64]) -> String {
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    digest(&[joined.as_bytes()])
}

/// The bodies of the articles `ids` (sorted, unique).
pub fn article_bodies(g: &Generations, ids: &[i64]) -> String {
    format!("bodies:c{}:{}", content(g), id_set(ids))
}

/// The body sizes of the articles `ids` (sorted, unique).
pub fn article_body_sizes(g: &Generations, ids: &[i64]) -> String {
    format!("body-sizes:c{}:{}", content(g), id_set(ids))
}

/// The newest `first` comments of each of the articles `ids` (sorted, unique).
pub fn latest_comments(g: &Generations, ids: &[i64], first: u64) -> String {
    format!(
        "latest-comments:c{}:m{}:{first}:{}",
        content(g),
        thread(g),
        id_set(ids)
    )
}

pub fn tags(g: &Generations) -> String {
    format!("tags:c{}", content(g))
}

pub fn profile(g: &Generations, username: &str) -> String {
    format!("profile:c{}:{}", content(g), part(&username.to_lowercase()))
}

/// A rendered anonymous answer of either API, named by `what` (the request, digested by the
/// caller where it can be long). `with_comments` says whether it can show comment threads.
pub fn anonymous_answer(g: &Generations, with_comments: bool, what: &str) -> String {
    let comments = if with_comments { thread(g) } else { 0 };
    format!("answer:c{}:m{comments}:{}", content(g), part(what))
}
