use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::unwrap_envelope;
use super::wire::{
    ArticleBody, ArticleEnvelope, ArticleJson, ArticlesJson, CommentBody, CommentEnvelope,
    CommentJson,
};
use crate::domain::Domain;
use crate::domain::articles::{Article, ArticleChanges, ArticleFilter, NewArticle, Page};
use crate::domain::input;
use crate::error::{Error, Result, Violations};
use crate::http::auth::{AuthUser, MaybeUser};
use crate::http::extract::{JsonBody, PathParams, QueryParams};

fn article_json(article: Article) -> Json<Value> {
    Json(json!({ "article": ArticleJson::from(article) }))
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

pub async fn list(
    State(domain): State<Domain>,
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
        domain.list_articles(viewer, filter, page).await?.into(),
    ))
}

pub async fn feed(
    State(domain): State<Domain>,
    AuthUser(viewer): AuthUser,
    query: QueryParams,
) -> Result<Json<ArticlesJson>> {
    let page = page(&query)?;
    Ok(Json(domain.feed(viewer, page).await?.into()))
}

pub async fn get(
    State(domain): State<Domain>,
    MaybeUser(viewer): MaybeUser,
    PathParams(slug): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(article_json(domain.read_article(viewer, &slug).await?))
}

pub async fn create(
    State(domain): State<Domain>,
    AuthUser(author): AuthUser,
    JsonBody(body): JsonBody<ArticleEnvelope<ArticleBody>>,
) -> Result<(StatusCode, Json<Value>)> {
    let body = unwrap_envelope("article", body.article)?;
    let article = domain
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

pub async fn update(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<String>,
    JsonBody(body): JsonBody<ArticleEnvelope<ArticleBody>>,
) -> Result<Json<Value>> {
    let body = unwrap_envelope("article", body.article)?;
    let changes = ArticleChanges {
        title: body.title,
        description: body.description,
        body: body.body,
        tags: body.tag_list,
    };
    Ok(article_json(
        domain.update_article(user, &slug, changes).await?,
    ))
}

pub async fn remove(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<String>,
) -> Result<StatusCode> {
    domain.delete_article(user, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn favorite(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(article_json(domain.favorite(user, &slug).await?))
}

pub async fn unfavorite(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(article_json(domain.unfavorite(user, &slug).await?))
}

pub async fn comments(
    State(domain): State<Domain>,
    MaybeUser(viewer): MaybeUser,
    PathParams(slug): PathParams<String>,
) -> Result<Json<Value>> {
    let comments = domain.comments(viewer, &slug).await?;
    let comments: Vec<CommentJson> = comments.into_iter().map(Into::into).collect();
    Ok(Json(json!({ "comments": comments })))
}

pub async fn add_comment(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<String>,
    JsonBody(body): JsonBody<CommentEnvelope<CommentBody>>,
) -> Result<Json<Value>> {
    let body = unwrap_envelope("comment", body.comment)?;
    let comment = domain.add_comment(user, &slug, body.body).await?;
    Ok(Json(json!({ "comment": CommentJson::from(comment) })))
}

pub async fn delete_comment(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
    PathParams((slug, id)): PathParams<(String, String)>,
) -> Result<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| Error::field("id", "must be an integer"))?;
    domain.delete_comment(user, &slug, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn tags(State(domain): State<Domain>) -> Result<Json<Value>> {
    Ok(Json(json!({ "tags": domain.tags().await? })))
}
