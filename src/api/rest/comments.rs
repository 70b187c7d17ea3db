//! An article's comments: the thread, adding one, deleting one.

use super::refusals::{Invalid, Missing, NotYours, OtherRefusals, Unauthenticated};
use super::unwrap_envelope;
use super::wire::{
    CommentBody, CommentEnvelope, CommentJson, MultipleCommentsResponse, SingleCommentResponse,
};
use crate::domain::articles::Articles;
use crate::domain::input;
use crate::domain::values::Slug;
use crate::error::{Error, Result, Violations};
use crate::http::auth::{AuthUser, MaybeUser};
use crate::http::error::ErrorBody;
use crate::http::extract::{JsonBody, PathParams, QueryParams};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

#[utoipa::path(
    get,
    path = "/api/articles/{slug}/comments",
    tag = "Comments",
    operation_id = "GetArticleComments",
    summary = "Get comments for an article",
    params(
        ("slug" = String, Path, description = "The article's slug"),
        ("limit" = Option<u64>, Query, minimum = 1, maximum = 1000, description = "Comments per page (default: the whole thread, up to 1000)"),
        ("offset" = Option<u64>, Query, minimum = 0, description = "Comments to skip (default 0)"),
    ),
    responses(
        (status = 200, description = "The comments, newest first", body = MultipleCommentsResponse),
        (status = 422, description = "A bad limit or offset, named", body = ErrorBody),
        Missing,
        OtherRefusals,
    ),
    security((), ("Token" = [])),
)]
pub async fn comments(
    State(articles): State<Articles>,
    MaybeUser(viewer): MaybeUser,
    PathParams(slug): PathParams<Slug>,
    query: QueryParams,
) -> Result<Json<MultipleCommentsResponse>> {
    let mut violations = Violations::default();
    let limit = violations.check("limit", input::comments_limit(query.get("limit")));
    let offset = violations.check("offset", input::page_offset(query.get("offset")));
    violations.finish()?;
    let page = (limit.unwrap_or_default(), offset.unwrap_or_default());
    let comments = articles.comments(viewer, &slug, page).await?;
    let comments: Vec<CommentJson> = comments.into_iter().map(Into::into).collect();
    Ok(Json(MultipleCommentsResponse { comments }))
}

#[utoipa::path(
    post,
    path = "/api/articles/{slug}/comments",
    tag = "Comments",
    operation_id = "CreateArticleComment",
    summary = "Create a comment for an article",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body = CommentEnvelope<CommentBody>,
    responses(
        (status = 200, description = "The new comment", body = SingleCommentResponse),
        Unauthenticated,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn add_comment(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams(slug): PathParams<Slug>,
    JsonBody(body): JsonBody<CommentEnvelope<CommentBody>>,
) -> Result<Json<SingleCommentResponse>> {
    let body = unwrap_envelope("comment", body.comment)?;
    let comment = articles.add_comment(user, &slug, body.body).await?;
    Ok(Json(SingleCommentResponse {
        comment: CommentJson::from(comment),
    }))
}

#[utoipa::path(
    delete,
    path = "/api/articles/{slug}/comments/{id}",
    tag = "Comments",
    operation_id = "DeleteArticleComment",
    summary = "Delete a comment for an article",
    params(
        ("slug" = String, Path, description = "The article's slug"),
        ("id" = i64, Path, description = "The comment's id")
    ),
    responses(
        (status = 204, description = "Deleted"),
        Unauthenticated,
        NotYours,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn delete_comment(
    State(articles): State<Articles>,
    AuthUser(user): AuthUser,
    PathParams((slug, id)): PathParams<(Slug, String)>,
) -> Result<StatusCode> {
    let id: i64 = id
        .parse()
        .map_err(|_| Error::field("id", "must be an integer"))?;
    articles.delete_comment(user, &slug, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
