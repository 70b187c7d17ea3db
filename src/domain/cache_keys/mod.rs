//! Every cache key and topic that names domain data, and every invalidation rule, in one place.
//!
//! An entry is kept with the versions of its *topics* (see `cache`); a write bumps the topics
//! of what it changed, after it commits. The topics, and what bumps them:
//! - `article:{slug}`: the article shown at that slug (its fields, tags, favorites count and
//!   author's profile). Its create, update (old and new slug), delete and favorites, and its
//!   author's profile edits.
//! - `card:{id}`: the article as list pages and feeds show it (the same, without its body).
//!   Its update, delete and favorites, and its author's profile edits.
//! - `thread:{slug}` / `comments:{id}`: the article's comments with their authors' profiles, by
//!   slug (REST) and by id (GraphQL). Comments added or deleted, the article's update and delete,
//!   and profile edits of anyone who commented there.
//! - `body:{id}`: the article's body (GraphQL loads bodies by id). Update and delete.
//! - `list:all`, `list:tag:{tag}`, `list:author:{username}`: list pages with that filter: any
//!   write that adds to, removes from or changes an article of that list (a new article, an
//!   update, a delete, a favorite, the author's profile edit). `list:favorited` covers every
//!   favorited-by list (a favorite changes counts in the lists of all the article's fans, who
//!   can be many, so one topic stands for them all).
//! - `members:all`, `members:tag:{tag}`, `members:author:{username}`, `members:favorited`:
//!   which articles those lists hold (the ids of a page, whose cards are cached apart, so that
//!   rebuilding a page after a favorite reads no more than the one card it changed). New,
//!   changed and deleted articles; favorites for `members:favorited`; registration and renames
//!   for `members:author`, renames for `members:favorited` (lists name their fan).
//! - `tags`: the tag list. New, changed and deleted articles.
//! - `profile:{username}`: that profile. Its user's edits (old and new name) and registration.
//! - `account:{id}`: what authenticating a request reads (and `GET /user` shows). Profile
//!   edits, password changes and "log out everywhere".
//! - `author:{id}`: the articles of that author as a feed shows them: the same writes as
//!   `list:author:{username}`, named by id because a feed knows its authors by id.
//! - `follows:{id}` / `favorites:{id}`: whom that user follows and what they favorited, for
//!   the viewer's flags and feed. Their follows and favorites.
//!
//! Shared entries hold no viewer's flags: they are overlaid per request from the viewer's own
//! entries. Usernames are case-insensitive and appear lowercased.

mod entries;

use std::collections::BTreeSet;

use crate::cache::{EPOCH, Layout};
use crate::domain::values::username_key;

pub use self::entries::*;

/// The kinds of entry, for hit/miss/error counters: the cache knows each by its index and
/// names it by its variant's name (`article_list`...), both read off this one declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::VariantNames)]
#[strum(serialize_all = "snake_case")]
pub enum Kind {
    ArticleList,
    Article,
    Comments,
    Tags,
    Profile,
    Response,
    Viewer,
}

impl From<Kind> for usize {
    fn from(kind: Kind) -> usize {
        kind as usize
    }
}

/// What the cache is told about the domain's kinds, in index order.
pub const LAYOUT: Layout = Layout {
    kinds: <Kind as strum::VariantNames>::VARIANTS,
};

/// More topics than this in one write bump the epoch instead (every entry at once): a profile
/// edit of a prolific author should not send thousands of bumps.
const MOST_TOPICS: usize = 2_000;

/// What a write changed; [`Write::topics`] is the rule for each. Names and slugs are what
/// the write's data held (read after it committed, or before a delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// A new article.
    ArticleCreated {
        slug: String,
        tags: Vec<String>,
        author: Author,
    },
    /// An update (`slugs` old and new, `tags` old and new) or a delete.
    ArticleChanged {
        id: i64,
        slugs: Vec<String>,
        tags: Vec<String>,
        author: Author,
    },
    /// A favorite of article `id` added or removed by `fan`.
    Favorite {
        id: i64,
        slug: String,
        tags: Vec<String>,
        author: Author,
        fan: i64,
    },
    /// A follow added or removed by `follower`.
    Follow { follower: i64 },
    /// A password change or "log out everywhere".
    Account { user_id: i64 },
    /// A comment added or deleted.
    Comment { article_id: i64, slug: String },
    /// A new account.
    Registered { username: String },
    /// A profile edit: `usernames` old and new; the user's articles (id, slug) and their tags,
    /// and the articles they commented on (id, slug).
    Profile {
        user_id: i64,
        usernames: Vec<String>,
        articles: Vec<(i64, String)>,
        tags: Vec<String>,
        commented: Vec<(i64, String)>,
    },
    /// What a write is known to have changed before anything is read back: its article (id
    /// when it has one, slug) and tags, the fan or user it was for, and the lists every article
    /// is in. Used when the rest cannot be read (see `domain::touched`).
    Known {
        article: Option<(Option<i64>, String)>,
        tags: Vec<String>,
        user: Option<i64>,
    },
}

/// An article's author, by id and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub id: i64,
    pub username: String,
}

impl Author {
    fn topics(&self) -> [String; 2] {
        [list_author(&self.username), author_feed(self.id)]
    }
}

impl Write {
    /// The topics this write bumps: sorted, each once, or only the epoch when too many.
    pub fn topics(&self) -> Vec<String> {
        let mut topics = self.changed();
        topics.sort_unstable();
        topics.dedup();
        if topics.len() > MOST_TOPICS {
            return vec![EPOCH.to_owned()];
        }
        topics
    }

    fn changed(&self) -> Vec<String> {
        match self {
            Write::ArticleCreated { slug, tags, author } => {
                let mut topics = vec![article(slug), thread(slug), LIST_ALL.into(), TAGS.into()];
                topics.extend(author.topics());
                topics.extend(tags.iter().map(|t| list_tag(t)));
                with_members(topics)
            }
            Write::ArticleChanged {
                id,
                slugs,
                tags,
                author,
            } => {
                let mut topics = vec![body(*id), card(*id), comments_of(*id), LIST_ALL.into()];
                topics.extend([LIST_FAVORITED.into(), TAGS.into()]);
                topics.extend(author.topics());
                topics.extend(slugs.iter().flat_map(|s| [article(s), thread(s)]));
                topics.extend(tags.iter().map(|t| list_tag(t)));
                with_members(topics)
            }
            Write::Favorite {
                id,
                slug,
                tags,
                author,
                fan,
            } => {
                let mut topics = vec![article(slug), card(*id), LIST_ALL.into()];
                topics.extend([LIST_FAVORITED.into(), members(LIST_FAVORITED)]);
                topics.push(favorites(*fan));
                topics.extend(author.topics());
                topics.extend(tags.iter().map(|t| list_tag(t)));
                topics
            }
            Write::Follow { follower } => vec![follows(*follower)],
            Write::Account { user_id } => vec![account(*user_id)],
            Write::Comment { article_id, slug } => vec![thread(slug), comments_of(*article_id)],
            Write::Known {
                article,
                tags,
                user,
            } => known_topics(article.as_ref(), tags, *user),
            Write::Registered { username } => {
                with_members(vec![profile(username), list_author(username)])
            }
            Write::Profile {
                user_id,
                usernames,
                articles,
                tags,
                commented,
            } => profile_topics(*user_id, usernames, articles, tags, commented),
        }
    }
}

fn known_topics(
    changed: Option<&(Option<i64>, String)>,
    tags: &[String],
    user: Option<i64>,
) -> Vec<String> {
    let mut topics = vec![LIST_ALL.to_owned(), LIST_FAVORITED.to_owned(), TAGS.into()];
    if let Some((id, slug)) = changed {
        topics.extend([article(slug), thread(slug)]);
        if let Some(id) = id {
            topics.extend([card(*id), body(*id), comments_of(*id)]);
        }
    }
    if let Some(user) = user {
        topics.extend([account(user), author_feed(user), favorites(user)]);
    }
    topics.extend(tags.iter().map(|t| list_tag(t)));
    with_members(topics)
}

fn profile_topics(
    user_id: i64,
    usernames: &[String],
    articles: &[(i64, String)],
    tags: &[String],
    commented: &[(i64, String)],
) -> Vec<String> {
    let mut topics = vec![LIST_ALL.to_owned(), LIST_FAVORITED.to_owned()];
    topics.extend([account(user_id), author_feed(user_id)]);
    topics.extend(usernames.iter().flat_map(|u| [profile(u), list_author(u)]));
    // A rename changes which articles the lists by either name hold.
    let names: BTreeSet<String> = usernames.iter().map(|u| username_key(u)).collect();
    if names.len() > 1 {
        topics.extend(names.iter().map(|u| members(&list_author(u))));
        // Favorited-by lists name their fan.
        topics.push(members(LIST_FAVORITED));
    }
    topics.extend(articles.iter().flat_map(|(id, s)| [article(s), card(*id)]));
    topics.extend(tags.iter().map(|t| list_tag(t)));
    topics.extend(
        commented
            .iter()
            .flat_map(|(id, s)| [comments_of(*id), thread(s)]),
    );
    topics
}

/// `topics` and, for each list among them, the topic of which articles it holds: for writes
/// that add, remove or move articles.
fn with_members(mut topics: Vec<String>) -> Vec<String> {
    let lists: Vec<String> = topics
        .iter()
        .filter(|t| t.starts_with("list:"))
        .map(|t| members(t))
        .collect();
    topics.extend(lists);
    topics
}

/// Which articles the list `list_topic` (`list:...`) holds.
fn members(list_topic: &str) -> String {
    format!("members:{}", list_topic.trim_start_matches("list:"))
}

const LIST_ALL: &str = "list:all";
const LIST_FAVORITED: &str = "list:favorited";
const TAGS: &str = "tags";

fn article(slug: &str) -> String {
    format!("article:{slug}")
}

fn card(article_id: i64) -> String {
    format!("card:{article_id}")
}

fn thread(slug: &str) -> String {
    format!("thread:{slug}")
}

fn comments_of(article_id: i64) -> String {
    format!("comments:{article_id}")
}

fn body(article_id: i64) -> String {
    format!("body:{article_id}")
}

fn list_tag(tag: &str) -> String {
    format!("list:tag:{tag}")
}

fn list_author(username: &str) -> String {
    format!("list:author:{}", username_key(username))
}

fn profile(username: &str) -> String {
    format!("profile:{}", username_key(username))
}

fn account(user_id: i64) -> String {
    format!("account:{user_id}")
}

fn author_feed(user_id: i64) -> String {
    format!("author:{user_id}")
}

fn follows(user_id: i64) -> String {
    format!("follows:{user_id}")
}

fn favorites(user_id: i64) -> String {
    format!("favorites:{user_id}")
}
