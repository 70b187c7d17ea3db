//! The scenarios: what each request of one is, and the writes of `mixed`.

use std::sync::LazyLock;

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::seed::{Fixture, PASSWORD};

/// Distinguishes this run's created articles from every earlier run's.
static RUN_ID: LazyLock<String> = LazyLock::new(|| {
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(rng.random_range(b'a'..=b'z')))
        .collect()
});

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Tags,
    ArticlesList,
    ArticlesByTag,
    Article,
    Comments,
    Feed,
    User,
    CreateArticle,
    Login,
    Ceiling,
    GraphqlArticles,
    /// The reads of `mixed` alone: its baseline in the same run.
    MixedReads,
    /// Reads (`articles`, `articles_by_tag`, `article`, `comments`, `feed` in turn) while a
    /// steady stream of writes (create, favorite or unfavorite, comment) goes on.
    Mixed,
    /// The list's middle page (`offset` half the articles).
    ArticlesDeep,
    /// The list's last page.
    ArticlesLast,
    /// The least used tag's first page.
    ArticlesByRareTag,
    /// The first page of a prolific author's articles.
    ArticlesByAuthor,
    /// The first page of a busy fan's favorites.
    ArticlesFavorited,
    /// The comments of the most commented article.
    HotComments,
    /// Every connection at once on one article, as after a link goes viral: each signed-in
    /// user favorites, unfavorites, comments on and reads it at the same moment.
    Burst,
}

/// The reads `mixed` and `mixed_reads` rotate through.
const MIXED_READS: [Scenario; 5] = [
    Scenario::ArticlesList,
    Scenario::ArticlesByTag,
    Scenario::Article,
    Scenario::Comments,
    Scenario::Feed,
];

/// The GraphQL scenario's query: a page of 20 articles with their authors, the viewer's
/// flags, tags and the first 5 comments of each with their authors.
const GRAPHQL_ARTICLES: &str = "{ articles(first: 20) { totalCount edges { node { \
    slug title description body tagList createdAt favorited favoritesCount \
    author { username image following } \
    comments(first: 5) { id body createdAt author { username image following } } } } } }";

/// One request of a scenario.
pub struct Call {
    pub method: Method,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<serde_json::Value>,
    pub expect: StatusCode,
    /// A GraphQL answer is 200 even when it failed: its body must hold no `errors`.
    pub graphql: bool,
}

impl Call {
    pub fn succeeded(&self, status: StatusCode, body: &[u8]) -> bool {
        status == self.expect
            && !(self.graphql && body.windows(8).any(|window| window == b"\"errors\""))
    }
}

impl Scenario {
    pub fn all() -> Vec<Scenario> {
        use Scenario::*;
        vec![
            Ceiling,
            Tags,
            ArticlesList,
            ArticlesByTag,
            Article,
            Comments,
            Feed,
            User,
            CreateArticle,
            Login,
            GraphqlArticles,
            MixedReads,
            Mixed,
            ArticlesDeep,
            ArticlesLast,
            ArticlesByRareTag,
            ArticlesByAuthor,
            ArticlesFavorited,
            HotComments,
            Burst,
        ]
    }

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Tags => "tags",
            Scenario::ArticlesList => "articles",
            Scenario::ArticlesByTag => "articles_by_tag",
            Scenario::Article => "article",
            Scenario::Comments => "comments",
            Scenario::Feed => "feed",
            Scenario::User => "user",
            Scenario::CreateArticle => "create_article",
            Scenario::Login => "login",
            Scenario::Ceiling => "ceiling",
            Scenario::GraphqlArticles => "graphql_articles",
            Scenario::MixedReads => "mixed_reads",
            Scenario::Mixed => "mixed",
            Scenario::ArticlesDeep => "articles_deep",
            Scenario::ArticlesLast => "articles_last",
            Scenario::ArticlesByRareTag => "articles_by_rare_tag",
            Scenario::ArticlesByAuthor => "articles_by_author",
            Scenario::ArticlesFavorited => "articles_favorited",
            Scenario::HotComments => "hot_comments",
            Scenario::Burst => "burst",
        }
    }

    /// The `n`-th request of this scenario; `page_bytes` sizes the ceiling response.
    pub fn call(self, fixture: &Fixture, n: u64, page_bytes: usize) -> Call {
        let n = n as usize;
        let user = &fixture.users[n % fixture.users.len()];
        let slug = &fixture.slugs[n % fixture.slugs.len()];
        let get = |path: String, token: Option<&str>| Call {
            method: Method::GET,
            path,
            token: token.map(str::to_owned),
            body: None,
            expect: StatusCode::OK,
            graphql: false,
        };
        let marks = &fixture.landmarks;
        match self {
            Scenario::ArticlesDeep => get(
                format!("/api/articles?limit=20&offset={}", marks.total / 2),
                None,
            ),
            Scenario::ArticlesLast => get(
                format!(
                    "/api/articles?limit=20&offset={}",
                    marks.total.saturating_sub(20)
                ),
                None,
            ),
            Scenario::ArticlesByRareTag => {
                get(format!("/api/articles?tag={}", marks.rare_tag), None)
            }
            Scenario::ArticlesByAuthor => {
                get(format!("/api/articles?author={}", marks.author), None)
            }
            Scenario::ArticlesFavorited => {
                get(format!("/api/articles?favorited={}", marks.fan), None)
            }
            Scenario::HotComments => {
                get(format!("/api/articles/{}/comments", marks.hot_slug), None)
            }
            Scenario::Burst => {
                // Each user's four requests are consecutive, so they are in flight together.
                let user = &fixture.users[(n / 4) % fixture.users.len()];
                let path = format!("/api/articles/{}", marks.hot_slug);
                let write = |method: Method, path: String, body: serde_json::Value| Call {
                    method,
                    path,
                    token: Some(user.token.clone()),
                    body: Some(body),
                    expect: StatusCode::OK,
                    graphql: false,
                };
                match n % 4 {
                    0 => write(Method::POST, format!("{path}/favorite"), json!({})),
                    1 => write(Method::DELETE, format!("{path}/favorite"), json!({})),
                    2 => write(
                        Method::POST,
                        format!("{path}/comments"),
                        json!({"comment": {"body": "Seen it: a comment in the burst."}}),
                    ),
                    _ => get(path, Some(&user.token)),
                }
            }
            Scenario::MixedReads | Scenario::Mixed => {
                MIXED_READS[n % MIXED_READS.len()].call(fixture, (n / MIXED_READS.len()) as u64, 0)
            }
            Scenario::Tags => get("/api/tags".into(), None),
            Scenario::ArticlesList => get("/api/articles?limit=20".into(), None),
            Scenario::ArticlesByTag => get(
                format!(
                    "/api/articles?tag={}",
                    fixture.top_tags[n % fixture.top_tags.len()]
                ),
                None,
            ),
            Scenario::Article => get(format!("/api/articles/{slug}"), None),
            Scenario::Comments => get(format!("/api/articles/{slug}/comments"), None),
            Scenario::Feed => get("/api/articles/feed".into(), Some(&user.token)),
            Scenario::User => get("/api/user".into(), Some(&user.token)),
            Scenario::Ceiling => get(format!("/bench/ceiling?bytes={page_bytes}"), None),
            Scenario::CreateArticle => Call {
                method: Method::POST,
                path: "/api/articles".into(),
                token: Some(user.token.clone()),
                body: Some(json!({"article": {
                    // Unique across requests, targets and runs: some servers refuse a title
                    // (or its slug) that exists already.
                    "title": format!("Load test article {} {n}", *RUN_ID),
                    "description": "Written by the benchmark",
                    "body": "A short body written under load.",
                    "tagList": ["benchmark"]
                }})),
                expect: StatusCode::CREATED,
                graphql: false,
            },
            Scenario::Login => Call {
                method: Method::POST,
                path: "/api/users/login".into(),
                token: None,
                body: Some(json!({"user": {"email": user.email, "password": PASSWORD}})),
                expect: StatusCode::OK,
                graphql: false,
            },
            Scenario::GraphqlArticles => Call {
                method: Method::POST,
                path: "/graphql".into(),
                token: Some(user.token.clone()),
                body: Some(json!({ "query": GRAPHQL_ARTICLES })),
                expect: StatusCode::OK,
                graphql: true,
            },
        }
    }
}

/// The `k`-th write of the `mixed` stream: a new article, a favorite (or, every other time
/// round, its removal, so counts stay bounded) or a comment.
pub fn mixed_write(fixture: &Fixture, k: u64) -> Call {
    let k = k as usize;
    let user = &fixture.users[k % fixture.users.len()];
    let slug = &fixture.slugs[(k * 7) % fixture.slugs.len()];
    let call = |method: Method, path: String, body: serde_json::Value, expect: StatusCode| Call {
        method,
        path,
        token: Some(user.token.clone()),
        body: Some(body),
        expect,
        graphql: false,
    };
    match k % 3 {
        0 => call(
            Method::POST,
            "/api/articles".into(),
            json!({"article": {
                "title": format!("Mixed load article {} {k}", *RUN_ID),
                "description": "Written by the benchmark",
                "body": "A short body written while others read.",
                "tagList": [fixture.top_tags[k % fixture.top_tags.len()]]
            }}),
            StatusCode::CREATED,
        ),
        1 if (k / 3).is_multiple_of(2) => call(
            Method::POST,
            format!("/api/articles/{slug}/favorite"),
            json!({}),
            StatusCode::OK,
        ),
        1 => call(
            Method::DELETE,
            format!("/api/articles/{slug}/favorite"),
            json!({}),
            StatusCode::OK,
        ),
        _ => call(
            Method::POST,
            format!("/api/articles/{slug}/comments"),
            json!({"comment": {"body": "A comment written while others read."}}),
            StatusCode::OK,
        ),
    }
}
