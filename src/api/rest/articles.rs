use super::refusals::{Invalid, Missing, NotYours, OtherRefusals, Unauthenticated};
use super::unwrap_envelope;
use super::wire::{
    ArticleBody, ArticleEnvelope, ArticleJson, ArticlesJson, SingleArticleResponse, TagsResponse,
};
use crate::domain::articles::Articles;
use crate::domain::articles::{Article, ArticleChanges, ArticleFilter, NewArticle, Page};
use crate::domain::input;
use crate::domain::values::Slug;
use crate::error::{Result, Violations};
use crate::http::auth::{AuthUser, MaybeUser};
use crate::http::extract::{JsonBody, PathParams, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

fn article_json(article: Article) -> Json<SingleArticleResponse> {
    Json(SingleArticleResponse {
        article: ArticleJson::from(article),
    })
}

pub(super) fn page(query: &QueryParams) -> Result<Page> {
    let mut violations = Violations::default();
    let limit = violations.check("limit", input::page_limit(query.get("limit")));
    let offset = violations.check("offset", input::page_offset(query.get("offset")));
    violations.finish()?;
    Ok(Page {
        limit: limit.unwrap_or_default(),
        offset: offset.unwrap_or_default(),
        after: None,
    })
}

#[utoipa::path(
    get,
    path = "/api/articles",
    tag = "Articles",
    operation_id = "GetArticles",
    summary = "Get recent articles globally",
    params(
        ("tag" = Option<String>, Query, description = "Filter by tag"),
        ("author" = Option<String>, Query, description = "Filter by author (username)"),
        ("favorited" = Option<String>, Query, description = "Filter by favorites of a user (username)"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "Articles per page (default 20)"),
        ("offset" = Option<u64>, Query, minimum = 0, maximum = 1000000000, description = "Articles to skip")
    ),
    responses(
        (status = 200, description = "A page of articles, newest first, without bodies", body = ArticlesJson),
        Invalid,
        OtherRefusals,
    ),
    security((), ("Token" = [])),
)]
pub async fn list(
    State(articles): State<Articles>,
    MaybeUser(viewer): MaybeUser,
    query: QueryParams,
) -> Result<Json<ArticlesJson>> {
    let filter = ArticleFilter {
        tag: query.filter("tag"),
        author: query.filter("author"),
        favorited_by: query.filter("favorited"),
    };
    let page = page(&query)?;
    Ok(Json(
        articles.list_articles(viewer, filter, page).await?.into(),
    ))
}

#[utoipa::path(
    get,
    path = "/api/articles/feed",
    tag = "Articles",
    operation_id = "GetArticlesFeed",
    summary = "Get recent articles from users you follow",
    params(
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 100, description = "Articles per page (default 20)"),
        ("offset" = Option<u64>, Query, minimum = 0, maximum = 1000000000, description = "Articles to skip")
    ),
    responses(
        (status = 200, description = "A page of articles, newest first, without bodies", body = ArticlesJson),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn feed(
    State(articles): State<Articles>,
    AuthUser(viewer): AuthUser,
    query: QueryParams,
) -> Result<Json<ArticlesJson>> {
    let page = page(&query)?;
    Ok(Json(articles.feed(viewer, page).await?.into()))
}

#[utoipa::path(
    get,
    path = "/api/articles/{slug}",
    tag = "Articles",
    operation_id = "GetArticle",
    summary = "Get an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        Missing,
        OtherRefusals,
    ),
    security((), ("Token" = [])),
)]
pub async fn get(
    State(articles): State<Articles>,
    MaybeUser(viewer): MaybeUser,
    PathParams(slug): PathParams<Slug>,
) -> Result<Json<SingleArticleResponse>> {
    Ok(article_json(articles.read_article(viewer, &slug).await?))
}

#[utoipa::path(
    post,
    path = "/api/articles",
    tag = "Articles",
    operation_id = "CreateArticle",
    summary = "Create an article",
    request_body = ArticleEnvelope<ArticleBody>,
    responses(
        (status = 201, description = "The new article", body = SingleArticleResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn create(
    State(articles): State<Articles>,
    AuthUser(author): AuthUser,
    JsonBody(body): JsonBody<ArticleEnvelope<ArticleBody>>,
) -> Result<(StatusCode, Json<SingleArticleResponse>)> {
    let body = unwrap_envelope("article", body.article)?;
    let article = articles
        .create_article(
            author,
            NewArticle {
                title: body.title,
                description: body.description,
                body: body.body,
                tags: body.tag_list,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, article_json(article)))
}

#[utoipa::path(
    put,
    path = "/api/articles/{slug}",
    tag = "Articles",
    operation_id = "UpdateArticle",
    summary = "Update an article",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = ArticleEnvelope<ArticleBody>,
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        Unauthenticated,
        NotYours,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn update(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<Slug>,
    JsonBody(body): JsonBody<ArticleEnvelope<ArticleBody>>,
) -> Result<Json<SingleArticleResponse>> {
    let body = unwrap_envelope("article", body.article)?;
    let changes = ArticleChanges {
        title: body.title,
        description: body.description,
        body: body.body,
        tags: body.tag_list,
    };
    Ok(article_json(
        articles.update_article(user, &slug, changes).await?,
    ))
}

/// PATCH is the same partial update: RealWorld's PUT already changes only the fields given.
#[utoipa::path(
    patch,
    path = "/api/articles/{slug}",
    tag = "Articles",
    operation_id = "PatchArticle",
    summary = "Change some of an article's fields (as PUT does)",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = ArticleEnvelope<ArticleBody>,
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        Unauthenticated,
        NotYours,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn patch(
    articles: State<Articles>,
    user: AuthUser,
    slug: PathParams<Slug>,
    body: JsonBody<ArticleEnvelope<ArticleBody>>,
) -> Result<Json<SingleArticleResponse>> {
    update(articles, user, slug, body).await
}

#[utoipa::path(
    delete,
    path = "/api/articles/{slug}",
    tag = "Articles",
    operation_id = "DeleteArticle",
    summary = "Delete an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 204, description = "Deleted"),
        Unauthenticated,
        NotYours,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn remove(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<Slug>,
) -> Result<StatusCode> {
    articles.delete_article(user, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/articles/{slug}/favorite",
    tag = "Favorites",
    operation_id = "CreateArticleFavorite",
    summary = "Favorite an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn favorite(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<Slug>,
) -> Result<Json<SingleArticleResponse>> {
    Ok(article_json(articles.favorite(user, &slug).await?))
}

#[utoipa::path(
    delete,
    path = "/api/articles/{slug}/favorite",
    tag = "Favorites",
    operation_id = "DeleteArticleFavorite",
    summary = "Unfavorite an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article", body = SingleArticleResponse),
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn unfavorite(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<Slug>,
) -> Result<Json<SingleArticleResponse>> {
    Ok(article_json(articles.unfavorite(user, &slug).await?))
}

#[utoipa::path(
    get,
    path = "/api/tags",
    tag = "Tags",
    operation_id = "GetTags",
    summary = "Get tags",
    responses(
        (status = 200, description = "Every tag in use", body = TagsResponse),
        OtherRefusals,
    ),
)]
pub async fn tags(State(articles): State<Articles>) -> Result<Json<TagsResponse>> {
    Ok(Json(TagsResponse {
        tags: articles.tags().await?,
    }))
}
