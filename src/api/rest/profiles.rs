use super::wire::{ProfileJson, ProfileResponse};
use crate::domain::Domain;
use crate::domain::Profile;
use crate::error::Result;
use crate::http::auth::{AuthUser, MaybeUser};
use crate::http::error::ErrorBody;
use crate::http::extract::PathParams;
use axum::Json;
use axum::extract::State;

fn profile_json(profile: Profile) -> Json<ProfileResponse> {
    Json(ProfileResponse {
        profile: ProfileJson::from(profile),
    })
}

#[utoipa::path(
    get,
    path = "/api/profiles/{username}",
    tag = "Profile",
    operation_id = "GetProfileByUsername",
    summary = "Get a profile",
    params(("username" = String, Path, description = "The profile's username")),
    responses(
        (status = 200, description = "The profile", body = ProfileResponse),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security((), ("Token" = [])),
)]
pub async fn get(
    State(domain): State<Domain>,
    MaybeUser(viewer): MaybeUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(domain.profile(viewer, &username).await?))
}

#[utoipa::path(
    post,
    path = "/api/profiles/{username}/follow",
    tag = "Profile",
    operation_id = "FollowUserByUsername",
    summary = "Follow a user",
    params(("username" = String, Path, description = "The profile's username")),
    responses(
        (status = 200, description = "The profile, followed", body = ProfileResponse),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = 422, description = "Invalid input: each failing field with its messages", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn follow(
    State(domain): State<Domain>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(domain.follow(viewer, &username).await?))
}

#[utoipa::path(
    delete,
    path = "/api/profiles/{username}/follow",
    tag = "Profile",
    operation_id = "UnfollowUserByUsername",
    summary = "Unfollow a user",
    params(("username" = String, Path, description = "The profile's username")),
    responses(
        (status = 200, description = "The profile, not followed", body = ProfileResponse),
        (status = 401, description = "Missing, malformed or expired credentials", body = ErrorBody),
        (status = 404, description = "No such resource", body = ErrorBody),
        (status = "default", description = "Any other error (413, 415, 429, 503...), in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn unfollow(
    State(domain): State<Domain>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(domain.unfollow(viewer, &username).await?))
}
