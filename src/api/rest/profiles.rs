use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::extract::{AuthUser, MaybeUser, PathParams};
use super::wire::ProfileJson;
use crate::app::AppState;
use crate::domain::Profile;
use crate::error::Result;

fn profile_json(profile: Profile) -> Json<Value> {
    Json(json!({ "profile": ProfileJson::from(profile) }))
}

pub async fn get(
    State(state): State<AppState>,
    MaybeUser(viewer): MaybeUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(state.domain.profile(viewer, &username).await?))
}

pub async fn follow(
    State(state): State<AppState>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(state.domain.follow(viewer, &username).await?))
}

pub async fn unfollow(
    State(state): State<AppState>,
    AuthUser(viewer): AuthUser,
    PathParams(username): PathParams<String>,
) -> Result<Json<Value>> {
    Ok(profile_json(
        state.domain.unfollow(viewer, &username).await?,
    ))
}
