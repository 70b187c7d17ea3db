//! The key and topics of every kind of entry: what a read looks up and what invalidates it.

use super::{
    LIST_ALL, LIST_FAVORITED, TAGS, account, article, author_feed, body, card, comments_of,
    favorites, follows, list_author, list_tag, members, profile, thread,
};
use crate::cache::{digest, part};
use crate::domain::articles::{ArticleFilter, Page};
use crate::domain::values::username_key;

/// A list page: its key and topics (one per filter it applies).
pub fn article_list(filter: &ArticleFilter, page: Page) -> (String, Vec<String>) {
    let (what, topics) = list_page(filter, page);
    (format!("list:{what}"), topics)
}

/// The ids of the articles of a list page: its key and topics.
pub fn article_ids(filter: &ArticleFilter, page: Page) -> (String, Vec<String>) {
    let (what, topics) = list_page(filter, page);
    let topics = topics.iter().map(|t| members(t)).collect();
    (format!("ids:{what}"), topics)
}

/// The card of article `id`.
pub fn article_card(id: i64) -> (String, Vec<String>) {
    (card(id), vec![card(id)])
}

/// What names a list page (its filters and place), and its `list:` topics.
fn list_page(filter: &ArticleFilter, page: Page) -> (String, Vec<String>) {
    let tag = filter.tag.as_deref();
    let author = filter.author.as_deref().map(str::to_lowercase);
    let fan = filter.favorited_by.as_deref().map(str::to_lowercase);
    let key = format!(
        "{}{}{}:{}:{}:{}",
        part(tag.unwrap_or_default()),
        part(author.as_deref().unwrap_or_default()),
        part(fan.as_deref().unwrap_or_default()),
        page.limit,
        page.offset,
        page.after
            .map_or_else(|| "-".to_owned(), |p| format!("{}.{}", p.created_at, p.id))
    );
    let mut topics = vec![];
    topics.extend(tag.map(list_tag));
    topics.extend(author.as_deref().map(list_author));
    if fan.is_some() {
        topics.push(LIST_FAVORITED.to_owned());
    }
    if topics.is_empty() {
        topics.push(LIST_ALL.to_owned());
    }
    (key, topics)
}

pub fn article_by_slug(slug: &str) -> (String, Vec<String>) {
    (format!("article:{}", part(slug)), vec![article(slug)])
}

pub fn comments(slug: &str, limit: u64, offset: u64) -> (String, Vec<String>) {
    (
        format!("comments:{}:{limit}:{offset}", part(slug)),
        vec![thread(slug)],
    )
}

/// A set of article ids, digested: a GraphQL page can name a thousand of them.
fn id_set(ids: &[i64]) -> String {
    let joined = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    digest(&[joined.as_bytes()])
}

/// The bodies of the articles `ids` (sorted, unique).
pub fn article_bodies(ids: &[i64]) -> (String, Vec<String>) {
    let topics = ids.iter().map(|id| body(*id)).collect();
    (format!("bodies:{}", id_set(ids)), topics)
}

/// The body sizes of the articles `ids` (sorted, unique).
pub fn article_body_sizes(ids: &[i64]) -> (String, Vec<String>) {
    let topics = ids.iter().map(|id| body(*id)).collect();
    (format!("body-sizes:{}", id_set(ids)), topics)
}

/// The newest `first` comments of each of the articles `ids` (sorted, unique).
pub fn latest_comments(ids: &[i64], first: u64) -> (String, Vec<String>) {
    let topics = ids.iter().map(|id| comments_of(*id)).collect();
    (format!("latest-comments:{first}:{}", id_set(ids)), topics)
}

pub fn tags() -> (String, Vec<String>) {
    ("tags".to_owned(), vec![TAGS.to_owned()])
}

pub fn user_profile(username: &str) -> (String, Vec<String>) {
    let name = username_key(username);
    (format!("profile:{}", part(&name)), vec![profile(&name)])
}

/// What authenticating `user_id` reads.
pub fn user_account(user_id: i64) -> (String, Vec<String>) {
    (format!("account:{user_id}"), vec![account(user_id)])
}

/// Whom `user_id` follows.
pub fn followees(user_id: i64) -> (String, Vec<String>) {
    (format!("followees:{user_id}"), vec![follows(user_id)])
}

/// The topics of the articles of `authors` (by id), for a feed.
pub fn authors_feed(authors: &[i64]) -> Vec<String> {
    authors.iter().map(|id| author_feed(*id)).collect()
}

/// A page of `viewer`'s feed (kept with the versions it was assembled from).
pub fn feed(viewer: i64, page: Page) -> String {
    format!(
        "feed:{viewer}:{}:{}:{}",
        page.limit,
        page.offset,
        page.after
            .map_or_else(|| "-".to_owned(), |p| format!("{}.{}", p.created_at, p.id))
    )
}

/// The viewer's favorites among `article_ids` and followees among `author_ids` (sorted, unique).
pub fn viewer_flags(viewer: i64, article_ids: &[i64], author_ids: &[i64]) -> (String, Vec<String>) {
    (
        format!(
            "flags:{viewer}:{}:{}",
            id_set(article_ids),
            id_set(author_ids)
        ),
        vec![favorites(viewer), follows(viewer)],
    )
}

/// A rendered anonymous answer of either API, named by `what` (the request, digested by the
/// caller where it can be long). It is kept with the topics its parts were read under.
pub fn anonymous_answer(what: &str) -> String {
    // `part(what)` written in place: one allocation on every anonymous GET.
    format!("answer:{}:{what}", what.len())
}
