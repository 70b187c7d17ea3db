//! Bearer tokens with refresh: `/api/auth/token`, `/refresh`, `/logout`, `/logout-all`; and
//! `/api/auth/oidc`, where a single-page app trades an OpenID Connect sign-in's one-time code.

use super::refusals::{Invalid, OtherRefusals, Unauthenticated};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::wire::{UserJson, UserResponse};
use crate::domain::accounts::Accounts;
use crate::domain::tokens::TokenPair;
use crate::domain::users::Credentials;
use crate::error::{Error, Result};
use crate::http::auth::AuthUser;
use crate::http::extract::JsonBody;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenRequest {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenJson {
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
    refresh_token: String,
}

impl From<TokenPair> for TokenJson {
    fn from(pair: TokenPair) -> Self {
        TokenJson {
            access_token: pair.access_token,
            token_type: "Bearer",
            expires_in: pair.expires_in,
            refresh_token: pair.refresh_token,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/auth/token",
    tag = "Tokens",
    operation_id = "CreateTokenPair",
    summary = "Sign in for an access token and a refresh token",
    request_body = TokenRequest,
    responses(
        (status = 200, description = "A short-lived access token and its refresh token", body = TokenJson),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn token(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<Json<TokenJson>> {
    let credentials = Credentials {
        email: body.email,
        password: body.password,
    };
    Ok(Json(accounts.issue_tokens(credentials).await?.into()))
}

#[utoipa::path(
    post,
    path = "/api/auth/refresh",
    tag = "Tokens",
    operation_id = "RefreshTokenPair",
    summary = "Trade a refresh token for a new pair (the old one is spent)",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A short-lived access token and its refresh token", body = TokenJson),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn refresh(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenJson>> {
    Ok(Json(accounts.refresh(body.refresh_token).await?.into()))
}

#[utoipa::path(
    post,
    path = "/api/auth/logout",
    tag = "Tokens",
    operation_id = "RevokeRefreshToken",
    summary = "Revoke one refresh token",
    request_body = RefreshRequest,
    responses(
        (status = 204, description = "Revoked"),
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn logout(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<StatusCode> {
    accounts.logout(body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/auth/logout-all",
    tag = "Tokens",
    operation_id = "RevokeAllTokens",
    summary = "Revoke every token and session of the caller",
    responses(
        (status = 204, description = "Revoked"),
        Unauthenticated,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn logout_all(
    State(accounts): State<Accounts>,
    AuthUser(user): AuthUser,
) -> Result<StatusCode> {
    accounts.logout_everywhere(user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct HandoffRequest {
    code: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/auth/oidc",
    tag = "Tokens",
    operation_id = "ExchangeSignInCode",
    summary = "Trade the one-time code of an OpenID Connect sign-in (mode=spa) for the user and a token",
    request_body = HandoffRequest,
    responses(
        (status = 200, description = "The user, with a token, as login answers", body = UserResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn oidc_handoff(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<HandoffRequest>,
) -> Result<Json<UserResponse>> {
    let code = body
        .code
        .filter(|code| !code.trim().is_empty())
        .ok_or_else(|| Error::field("code", "can't be blank"))?;
    let user = accounts.take_handoff(code.trim()).await?;
    Ok(Json(UserResponse {
        user: UserJson::from(user),
    }))
}
