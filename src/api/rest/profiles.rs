use super::refusals::{Invalid, Missing, OtherRefusals, Unauthenticated};
use super::wire::{ProfileJson, ProfileResponse};
use crate::domain::Profile;
use crate::domain::profiles::Profiles;
use crate::error::Result;
use crate::http::auth::{AuthUser, MaybeUser};
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
        Missing,
        OtherRefusals,
    ),
    security((), ("Token" = [])),
)]
pub async fn get(
    State(profiles): State<Profiles>,
    MaybeUser(viewer): MaybeUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(profiles.profile(viewer, &username).await?))
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
        Unauthenticated,
        Missing,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn follow(
    State(profiles): State<Profiles>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(profiles.follow(viewer, &username).await?))
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
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn unfollow(
    State(profiles): State<Profiles>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<ProfileResponse>> {
    Ok(profile_json(profiles.unfollow(viewer, &username).await?))
}
