//! Bearer tokens with refresh: `/api/auth/token`, `/refresh`, `/logout`, `/logout-all`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::domain::Domain;
use crate::domain::tokens::TokenPair;
use crate::domain::users::Credentials;
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::JsonBody;

#[derive(Deserialize)]
pub struct TokenRequest {
    email: Option<String>,
    password: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshRequest {
    refresh_token: Option<String>,
}

#[derive(Serialize)]
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

pub async fn token(
    State(domain): State<Domain>,
    JsonBody(body): JsonBody<TokenRequest>,
) -> Result<Json<TokenJson>> {
    let credentials = Credentials {
        email: body.email,
        password: body.password,
    };
    Ok(Json(domain.issue_tokens(credentials).await?.into()))
}

pub async fn refresh(
    State(domain): State<Domain>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<Json<TokenJson>> {
    Ok(Json(domain.refresh(body.refresh_token).await?.into()))
}

pub async fn logout(
    State(domain): State<Domain>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> Result<StatusCode> {
    domain.logout(body.refresh_token).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn logout_all(
    State(domain): State<Domain>,
    AuthUser(user): AuthUser,
) -> Result<StatusCode> {
    domain.logout_everywhere(user).await?;
    Ok(StatusCode::NO_CONTENT)
}
