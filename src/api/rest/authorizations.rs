//! `/api/user/authorizations`: the third-party applications the signed-in user allowed, and
//! taking that back (their tokens stop working at once).

use super::refusals::{Missing, OtherRefusals, Unauthenticated};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;

use crate::api::timestamp;
use crate::domain::oauth::OAuth;
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::PathParams;

/// `{"authorizations": [...]}`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AuthorizationsResponse {
    authorizations: Vec<AuthorizationJson>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuthorizationJson {
    client_id: String,
    name: String,
    /// The scopes granted: `read`, `write`, `profile`.
    scopes: Vec<&'static str>,
    authorized_at: String,
}

#[utoipa::path(
    get,
    path = "/api/user/authorizations",
    tag = "Authorized apps",
    operation_id = "GetAuthorizations",
    summary = "The applications the caller allowed, with their scopes",
    responses(
        (status = 200, description = "The applications the caller allowed", body = AuthorizationsResponse),
        Unauthenticated,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn list(
    State(oauth): State<OAuth>,
    AuthUser(user): AuthUser,
) -> Result<Json<AuthorizationsResponse>> {
    let authorizations = oauth
        .authorizations(user)
        .await?
        .into_iter()
        .map(|app| AuthorizationJson {
            client_id: app.client_id,
            name: app.name,
            scopes: app.scopes.list().iter().map(|s| s.name()).collect(),
            authorized_at: timestamp(app.authorized_at_ms),
        })
        .collect();
    Ok(Json(AuthorizationsResponse { authorizations }))
}

#[utoipa::path(
    delete,
    path = "/api/user/authorizations/{clientId}",
    tag = "Authorized apps",
    operation_id = "DeleteAuthorization",
    summary = "Revoke an application: its consent and every token it holds",
    params(("clientId" = String, Path, description = "The application's client_id")),
    responses(
        (status = 204, description = "Revoked"),
        Unauthenticated,
        Missing,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn remove(
    State(oauth): State<OAuth>,
    AuthUser(user): AuthUser,
    PathParams(client_id): PathParams<String>,
) -> Result<StatusCode> {
    oauth.revoke_authorization(user, &client_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
