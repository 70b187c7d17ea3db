//! GraphQL object types over the domain's views, and the cursor pagination they share.

use async_graphql::connection::{Connection, CursorType, Edge, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, ErrorExtensions, InputObject, Object, Result, ResultExt, SimpleObject,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::budget::ResponseBudget;
use super::loaders::{ArticleBodies, LatestComments, LatestCommentsKey};
use crate::api::timestamp;
use crate::domain::articles::{Article, ArticleFilter, ArticlePage, Comment, Page, Position};
use crate::domain::users::SignedIn;
use crate::domain::{Domain, Profile};
use crate::error::{Error, Violations};
use crate::http::auth::Viewer;

/// The largest page, as REST's `limit`.
pub(crate) const MAX_PAGE: i32 = 100;

pub(crate) fn domain<'a>(ctx: &Context<'a>) -> &'a Domain {
    ctx.data_unchecked::<Domain>()
}

pub(crate) fn viewer(ctx: &Context<'_>) -> Viewer {
    *ctx.data_unchecked::<Viewer>()
}

/// The complexity of a field that runs queries of its own each time it appears (it is not
/// batched), so that aliasing it many times is refused: 500 of them exceed the default limit.
pub(crate) const LOOKUP_COST: usize = 10;

/// The complexity of a mutation: writes run one after another, so aliasing one many times
/// would make a request hold the database for long.
pub(crate) const WRITE_COST: usize = 100;

/// The complexity of a mutation that hashes a password: two fit under the default limit, so
/// aliases cannot turn one request into a burst of password guesses or argon2 work.
pub(crate) const PASSWORD_COST: usize = 2_000;

/// The complexity of an article's body: bodies run to 100,000 characters, so aliases cannot
/// multiply pages of them within the cost limit (the answer budget bounds what is left).
pub(crate) const BODY_COST: usize = 5;

/// Counts text about to go into the answer against the request's budget.
fn answer_text<'a>(ctx: &Context<'_>, text: &'a str) -> Result<&'a str> {
    ctx.data_unchecked::<std::sync::Arc<ResponseBudget>>()
        .answer(text.len())?;
    Ok(text)
}

/// The cost factor of a list field asking for `first` items (for the complexity limit).
pub(crate) fn cost(first: i32) -> usize {
    first.clamp(1, MAX_PAGE) as usize
}

/// An article's place in its list, as a cursor. Opaque to clients.
pub(crate) struct Cursor(Position);

impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "is not a valid cursor")?;
        let text = std::str::from_utf8(&bytes).map_err(|_| "is not a valid cursor")?;
        let (created_at, id) = text
            .strip_prefix("a:")
            .and_then(|rest| rest.split_once('.'))
            .ok_or("is not a valid cursor")?;
        match (created_at.parse(), id.parse()) {
            (Ok(created_at), Ok(id)) => Ok(Cursor(Position { created_at, id })),
            _ => Err("is not a valid cursor"),
        }
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("a:{}.{}", self.0.created_at, self.0.id))
    }
}

/// `first` and `after` as a page of the domain's lists.
pub(crate) fn page(first: i32, after: Option<&str>) -> Result<Page, Error> {
    let mut violations = Violations::default();
    if !(0..=MAX_PAGE).contains(&first) {
        violations.add("first", format!("must be between 0 and {MAX_PAGE}"));
    }
    let after = after.and_then(|cursor| {
        violations.check(
            "after",
            Cursor::decode_cursor(cursor)
                .map(|Cursor(position)| position)
                .map_err(str::to_owned),
        )
    });
    violations.finish()?;
    Ok(Page {
        limit: first as u64,
        offset: 0,
        after,
    })
}

#[derive(SimpleObject)]
pub(crate) struct ConnectionTotals {
    /// Every article that matches, on every page.
    total_count: u64,
}

pub(crate) type ArticleConnection = Connection<Cursor, ArticleNode, ConnectionTotals, EmptyFields>;

pub(crate) fn article_connection(result: ArticlePage, page: Page) -> ArticleConnection {
    let mut connection = Connection::with_additional_fields(
        page.after.is_some(),
        result.more,
        ConnectionTotals {
            total_count: result.total,
        },
    );
    connection.edges.extend(
        result
            .articles
            .into_iter()
            .map(|article| Edge::new(Cursor(article.position()), ArticleNode(article))),
    );
    connection
}

/// The articles matching `filter`, as a connection.
pub(crate) async fn articles(
    ctx: &Context<'_>,
    filter: ArticleFilter,
    first: i32,
    after: Option<String>,
) -> Result<ArticleConnection> {
    let page = page(first, after.as_deref()).extend()?;
    let viewer = viewer(ctx).optional().extend()?;
    let result = domain(ctx)
        .articles
        .list_articles(viewer, filter, page)
        .await
        .extend()?;
    Ok(article_connection(result, page))
}

pub(crate) struct ArticleNode(pub Article);

/// An article as the viewer sees it.
#[Object(name = "Article")]
impl ArticleNode {
    /// The article's address: unique, derived from its title.
    async fn slug(&self) -> &str {
        &self.0.slug
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn description(&self, ctx: &Context<'_>) -> Result<&str> {
        answer_text(ctx, &self.0.description)
    }

    /// The full text (Markdown). Loaded in one batch for a whole page of articles.
    #[graphql(complexity = "BODY_COST")]
    async fn body(&self, ctx: &Context<'_>) -> Result<String> {
        if let Some(body) = &self.0.body {
            return answer_text(ctx, body).map(str::to_owned);
        }
        let body = ctx
            .data_unchecked::<DataLoader<ArticleBodies>>()
            .load_one(self.0.id)
            .await?
            .ok_or_else(|| Error::NotFound("article").extend())?;
        // Counted before it is copied into the answer.
        answer_text(ctx, &body).map(str::to_owned)
    }

    /// Tag names, sorted.
    async fn tag_list(&self) -> &[String] {
        &self.0.tags
    }

    /// RFC 3339, UTC, milliseconds (as REST renders it).
    async fn created_at(&self) -> String {
        timestamp(self.0.created_at)
    }

    /// RFC 3339, UTC, milliseconds (as REST renders it).
    async fn updated_at(&self) -> String {
        timestamp(self.0.updated_at)
    }

    /// Whether the viewer has favorited it (false when signed out).
    async fn favorited(&self) -> bool {
        self.0.favorited
    }

    async fn favorites_count(&self) -> i64 {
        self.0.favorites_count
    }

    async fn author(&self) -> ProfileNode {
        ProfileNode(self.0.author.clone())
    }

    /// The newest comments first. Loaded in one batch for a whole page of articles.
    #[graphql(complexity = "cost(first) * child_complexity")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "How many (0 to 100).")] first: i32,
    ) -> Result<Vec<CommentNode>> {
        if !(0..=MAX_PAGE).contains(&first) {
            return Err(
                Error::field("first", format!("must be between 0 and {MAX_PAGE}")).extend(),
            );
        }
        let key = LatestCommentsKey {
            article_id: self.0.id,
            first: first as u64,
        };
        let thread = ctx
            .data_unchecked::<DataLoader<LatestComments>>()
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(thread.into_iter().map(CommentNode).collect())
    }
}

pub(crate) struct ProfileNode(pub Profile);

/// A user as others see them.
#[Object(name = "Profile")]
impl ProfileNode {
    async fn username(&self) -> &str {
        &self.0.username
    }

    /// Empty when not set.
    async fn bio(&self) -> &str {
        &self.0.bio
    }

    /// An http(s) URL, or empty when not set.
    async fn image(&self) -> &str {
        &self.0.image
    }

    /// Whether the viewer follows them (false when signed out).
    async fn following(&self) -> bool {
        self.0.following
    }

    /// Their articles, newest first.
    #[graphql(complexity = "LOOKUP_COST + cost(first) * child_complexity")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size (0 to 100).")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ArticleConnection> {
        let filter = ArticleFilter {
            author: Some(self.0.username.clone()),
            ..Default::default()
        };
        articles(ctx, filter, first, after).await
    }
}

pub(crate) struct CommentNode(pub Comment);

#[Object(name = "Comment")]
impl CommentNode {
    /// The id REST uses too (`DELETE /api/articles/{slug}/comments/{id}`).
    async fn id(&self) -> i64 {
        self.0.id
    }

    async fn body(&self, ctx: &Context<'_>) -> Result<&str> {
        answer_text(ctx, &self.0.body)
    }

    async fn created_at(&self) -> String {
        timestamp(self.0.created_at)
    }

    async fn updated_at(&self) -> String {
        timestamp(self.0.updated_at)
    }

    async fn author(&self) -> ProfileNode {
        ProfileNode(self.0.author.clone())
    }
}

/// The access token an application called with (`http::auth::app_token`).
pub(crate) struct AppCredential(pub String);

/// The account as its caller may see it: an application gets back its own access token, not
/// a JWT with every right of the account.
pub(crate) fn account_node(ctx: &Context<'_>, mut user: SignedIn) -> UserNode {
    if let Some(AppCredential(token)) = ctx.data_opt::<AppCredential>() {
        user.token = token.clone();
    }
    user.into()
}

/// The signed-in user, with a fresh token.
#[derive(SimpleObject)]
#[graphql(name = "User")]
pub(crate) struct UserNode {
    email: String,
    username: String,
    bio: String,
    image: String,
    /// A JWT for `Authorization: Token <jwt>`.
    token: String,
    /// Whether the owner of `email` proved it (the link mailed at sign-up and at every change).
    email_verified: bool,
}

impl From<SignedIn> for UserNode {
    fn from(user: SignedIn) -> Self {
        UserNode {
            email: user.email,
            username: user.username,
            bio: user.bio,
            image: user.image,
            token: user.token,
            email_verified: user.email_verified,
        }
    }
}

#[derive(InputObject)]
pub(crate) struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: String,
}

#[derive(InputObject)]
pub(crate) struct LoginInput {
    pub email: String,
    pub password: String,
}

/// Fields left out stay as they are; an empty `password` also means unchanged.
#[derive(InputObject)]
pub(crate) struct UpdateUserInput {
    pub username: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub bio: Option<String>,
    pub image: Option<String>,
}

#[derive(InputObject)]
pub(crate) struct CreateArticleInput {
    pub title: String,
    pub description: String,
    pub body: String,
    pub tag_list: Option<Vec<String>>,
}

/// Fields left out stay as they are; `tagList` replaces the whole list.
#[derive(InputObject)]
pub(crate) struct UpdateArticleInput {
    pub title: Option<String>,
    pub description: Option<String>,
    pub body: Option<String>,
    pub tag_list: Option<Vec<String>>,
}
