//! The query and mutation roots: each field parses its arguments, calls one domain service and
//! wraps the result. No business rule lives here.

use async_graphql::{Context, ID, Object, Result, ResultExt};

use super::types::{
    ArticleConnection, ArticleNode, CommentNode, CreateArticleInput, LOOKUP_COST, LoginInput,
    PASSWORD_COST, ProfileNode, RegisterInput, UpdateArticleInput, UpdateUserInput, UserNode,
    WRITE_COST, account_node, article_connection, articles, cost, domain, page, viewer,
};
use crate::domain::articles::{ArticleChanges, ArticleFilter, NewArticle};
use crate::domain::input;
use crate::domain::users::{Credentials, Registration, UserChanges};
use crate::domain::values::Slug;
use crate::error::Error;

/// An empty filter value means no filter, as in REST's query string.
fn filter_value(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

pub struct QueryRoot;

#[Object(name = "Query")]
impl QueryRoot {
    /// The signed-in user.
    #[graphql(complexity = "LOOKUP_COST + child_complexity")]
    async fn me(&self, ctx: &Context<'_>) -> Result<UserNode> {
        let user = viewer(ctx).required().extend()?;
        let account = domain(ctx).accounts.current_user(user).await.extend()?;
        Ok(account_node(ctx, account))
    }

    /// A user's profile; null (with a `NOT_FOUND` error) when there is no such user.
    #[graphql(complexity = "LOOKUP_COST + child_complexity")]
    async fn profile(&self, ctx: &Context<'_>, username: String) -> Result<Option<ProfileNode>> {
        let viewer = viewer(ctx).optional().extend()?;
        let profile = domain(ctx)
            .profiles
            .profile(viewer, &username)
            .await
            .extend()?;
        Ok(Some(ProfileNode(profile)))
    }

    /// One article; null (with a `NOT_FOUND` error) when there is no such article.
    #[graphql(complexity = "LOOKUP_COST + child_complexity")]
    async fn article(&self, ctx: &Context<'_>, slug: String) -> Result<Option<ArticleNode>> {
        let viewer = viewer(ctx).optional().extend()?;
        let article = domain(ctx)
            .articles
            .read_article(viewer, &named(&slug).extend()?)
            .await
            .extend()?;
        Ok(Some(ArticleNode(article)))
    }

    /// Articles, newest first, optionally filtered (filters combine).
    #[graphql(complexity = "LOOKUP_COST + cost(first) * child_complexity")]
    async fn articles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only articles with this tag.")] tag: Option<String>,
        #[graphql(desc = "Only articles by this username.")] author: Option<String>,
        #[graphql(desc = "Only articles this username has favorited.")] favorited_by: Option<
            String,
        >,
        #[graphql(default = 20, desc = "Page size (0 to 100).")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ArticleConnection> {
        let filter = ArticleFilter {
            tag: filter_value(tag),
            author: filter_value(author),
            favorited_by: filter_value(favorited_by),
        };
        articles(ctx, filter, first, after).await
    }

    /// Articles by the users the viewer follows, newest first.
    #[graphql(complexity = "LOOKUP_COST + cost(first) * child_complexity")]
    async fn feed(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, desc = "Page size (0 to 100).")] first: i32,
        #[graphql(desc = "The `endCursor` of the previous page.")] after: Option<String>,
    ) -> Result<ArticleConnection> {
        let user = viewer(ctx).required().extend()?;
        let page = page(first, after.as_deref()).extend()?;
        let result = domain(ctx).articles.feed(user, page).await.extend()?;
        Ok(article_connection(result, page))
    }

    /// Every tag in use, alphabetically.
    #[graphql(complexity = "LOOKUP_COST + child_complexity")]
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        viewer(ctx).optional().extend()?;
        domain(ctx).articles.tags().await.extend()
    }

    /// An article's comments, newest first (at most the 1,000 newest).
    #[graphql(complexity = "LOOKUP_COST + child_complexity")]
    async fn comments(&self, ctx: &Context<'_>, slug: String) -> Result<Vec<CommentNode>> {
        let viewer = viewer(ctx).optional().extend()?;
        let whole = (input::COMMENTS_MAX, 0);
        let thread = domain(ctx)
            .articles
            .comments(viewer, &named(&slug).extend()?, whole)
            .await
            .extend()?;
        Ok(thread.into_iter().map(CommentNode).collect())
    }
}

pub struct MutationRoot;

#[Object(name = "Mutation")]
impl MutationRoot {
    /// Creates an account and signs it in.
    #[graphql(complexity = "PASSWORD_COST + child_complexity")]
    async fn register(&self, ctx: &Context<'_>, input: RegisterInput) -> Result<UserNode> {
        let registration = Registration {
            username: Some(input.username),
            email: Some(input.email),
            password: Some(input.password),
        };
        Ok(domain(ctx)
            .accounts
            .register(registration)
            .await
            .extend()?
            .into())
    }

    #[graphql(complexity = "PASSWORD_COST + child_complexity")]
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> Result<UserNode> {
        let credentials = Credentials {
            email: Some(input.email),
            password: Some(input.password),
        };
        Ok(domain(ctx)
            .accounts
            .login(credentials)
            .await
            .extend()?
            .into())
    }

    #[graphql(complexity = "PASSWORD_COST + child_complexity")]
    async fn update_user(&self, ctx: &Context<'_>, input: UpdateUserInput) -> Result<UserNode> {
        let user = viewer(ctx).required().extend()?;
        let changes = UserChanges {
            username: input.username,
            email: input.email,
            password: input.password,
            bio: input.bio,
            image: input.image,
        };
        let account = domain(ctx)
            .accounts
            .update_user(user, changes)
            .await
            .extend()?;
        Ok(account_node(ctx, account))
    }

    /// Proves an e-mail address with the token of the link mailed to it.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> Result<bool> {
        domain(ctx)
            .accounts
            .verify_email(Some(token))
            .await
            .extend()?;
        Ok(true)
    }

    /// Mails the signed-in user's address a new verification link.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn resend_verification(&self, ctx: &Context<'_>) -> Result<bool> {
        let user = viewer(ctx).required().extend()?;
        domain(ctx)
            .accounts
            .resend_verification(user)
            .await
            .extend()?;
        Ok(true)
    }

    /// Mails a password-reset link to `email` if it is an account's verified address; answers
    /// `true` either way.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn request_password_reset(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        domain(ctx)
            .accounts
            .request_password_reset(Some(email))
            .await
            .extend()?;
        Ok(true)
    }

    /// Sets a new password with the token of a reset link; signs the account out everywhere.
    #[graphql(complexity = "PASSWORD_COST + child_complexity")]
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        password: String,
    ) -> Result<bool> {
        domain(ctx)
            .accounts
            .reset_password(Some(token), Some(password))
            .await
            .extend()?;
        Ok(true)
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn follow(&self, ctx: &Context<'_>, username: String) -> Result<ProfileNode> {
        let user = viewer(ctx).required().extend()?;
        let profile = domain(ctx)
            .profiles
            .follow(user, &username)
            .await
            .extend()?;
        Ok(ProfileNode(profile))
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn unfollow(&self, ctx: &Context<'_>, username: String) -> Result<ProfileNode> {
        let user = viewer(ctx).required().extend()?;
        let profile = domain(ctx)
            .profiles
            .unfollow(user, &username)
            .await
            .extend()?;
        Ok(ProfileNode(profile))
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn create_article(
        &self,
        ctx: &Context<'_>,
        input: CreateArticleInput,
    ) -> Result<ArticleNode> {
        let user = viewer(ctx).required().extend()?;
        let new_article = NewArticle {
            title: Some(input.title),
            description: Some(input.description),
            body: Some(input.body),
            tags: input.tag_list,
        };
        let article = domain(ctx)
            .articles
            .create_article(user, new_article)
            .await
            .extend()?;
        Ok(ArticleNode(article))
    }

    /// Only the author may change an article; a new title gives it a new slug.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn update_article(
        &self,
        ctx: &Context<'_>,
        slug: String,
        input: UpdateArticleInput,
    ) -> Result<ArticleNode> {
        let user = viewer(ctx).required().extend()?;
        let changes = ArticleChanges {
            title: input.title,
            description: input.description,
            body: input.body,
            tags: input.tag_list,
        };
        let article = domain(ctx)
            .articles
            .update_article(user, &named(&slug).extend()?, changes)
            .await
            .extend()?;
        Ok(ArticleNode(article))
    }

    /// Only the author may delete an article. True once it is gone.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn delete_article(&self, ctx: &Context<'_>, slug: String) -> Result<bool> {
        let user = viewer(ctx).required().extend()?;
        domain(ctx)
            .articles
            .delete_article(user, &named(&slug).extend()?)
            .await
            .extend()?;
        Ok(true)
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn favorite(&self, ctx: &Context<'_>, slug: String) -> Result<ArticleNode> {
        let user = viewer(ctx).required().extend()?;
        let article = domain(ctx)
            .articles
            .favorite(user, &named(&slug).extend()?)
            .await
            .extend()?;
        Ok(ArticleNode(article))
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn unfavorite(&self, ctx: &Context<'_>, slug: String) -> Result<ArticleNode> {
        let user = viewer(ctx).required().extend()?;
        let article = domain(ctx)
            .articles
            .unfavorite(user, &named(&slug).extend()?)
            .await
            .extend()?;
        Ok(ArticleNode(article))
    }

    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        slug: String,
        body: String,
    ) -> Result<CommentNode> {
        let user = viewer(ctx).required().extend()?;
        let comment = domain(ctx)
            .articles
            .add_comment(user, &named(&slug).extend()?, Some(body))
            .await
            .extend()?;
        Ok(CommentNode(comment))
    }

    /// Only the comment's author may delete it. True once it is gone.
    #[graphql(complexity = "WRITE_COST + child_complexity")]
    async fn delete_comment(
        &self,
        ctx: &Context<'_>,
        slug: String,
        #[graphql(desc = "The comment's `id` (a number, or the same as a string).")] id: ID,
    ) -> Result<bool> {
        let user = viewer(ctx).required().extend()?;
        // An id that is no number names no comment.
        let id: i64 = id
            .parse()
            .map_err(|_| Error::NotFound("comment"))
            .extend()?;
        domain(ctx)
            .articles
            .delete_comment(user, &named(&slug).extend()?, id)
            .await
            .extend()?;
        Ok(true)
    }
}

/// The article a slug argument names; a slug no article could have names none.
fn named(slug: &str) -> std::result::Result<Slug, Error> {
    Slug::parse(slug).ok_or(Error::NotFound("article"))
}
