use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::wire::ProfileJson;
use crate::domain::Domain;
use crate::domain::Profile;
use crate::error::Result;
use crate::http::auth::{AuthUser, MaybeUser};
use crate::http::extract::PathParams;

fn profile_json(profile: Profile) -> Json<Value> {
    Json(json!({ "profile": ProfileJson::from(profile) }))
}

pub async fn get(
    State(domain): State<Domain>,
    MaybeUser(viewer): MaybeUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(domain.profile(viewer, &username).await?))
}

pub async fn follow(
    State(domain): State<Domain>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(domain.follow(viewer, &username).await?))
}

pub async fn unfollow(
    State(domain): State<Domain>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(domain.unfollow(viewer, &username).await?))
}
