//! Browser sessions: `/api/session/csrf`, and `/api/session` to sign in (POST), see who is
//! signed in (GET) and sign out (DELETE). The session is a cookie the server looks up; see
//! `http::csrf` for the CSRF rules.

use super::refusals::{Invalid, NotYours, OtherRefusals, Unauthenticated};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::unwrap_envelope;
use super::wire::{LoginBody, UserEnvelope};
use crate::auth::refresh::random_text;
use crate::config::Settings;
use crate::domain::accounts::Accounts;
use crate::domain::users::{Credentials, SignedIn};
use crate::error::{Error, Result};
use crate::http::csrf::{self, SESSION_COOKIE};
use crate::http::extract::JsonBody;

/// `{"user": ...}`: the signed-in user as a session sees it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SessionUserResponse {
    user: SessionUserJson,
}

/// `{"csrfToken": "..."}`: also set as the `csrftoken` cookie.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CsrfResponse {
    csrf_token: String,
}

/// RealWorld's user object without a token.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionUserJson {
    email: String,
    username: String,
    bio: String,
    image: String,
    email_verified: bool,
}

fn user_json(user: SignedIn) -> Json<SessionUserResponse> {
    Json(SessionUserResponse {
        user: SessionUserJson {
            email: user.email,
            username: user.username,
            bio: user.bio,
            image: user.image,
            email_verified: user.email_verified,
        },
    })
}

/// `GET /api/session/csrf`: sets the `csrftoken` cookie (kept if already set) and returns it.
#[utoipa::path(
    get,
    path = "/api/session/csrf",
    tag = "Sessions",
    operation_id = "GetCsrfToken",
    summary = "Get the CSRF token (also set as the csrftoken cookie)",
    responses(
        (status = 200, description = "The token, also set as the `csrftoken` cookie", body = CsrfResponse),
        OtherRefusals,
    ),
)]
pub async fn csrf_token(
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
) -> Result<Response> {
    sessions_on(&settings)?;
    let token = csrf::issued_token(&headers).unwrap_or_else(|| random_text(32));
    let mut response = Json(CsrfResponse {
        csrf_token: token.clone(),
    })
    .into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        csrf::csrf_cookie(&token, csrf::secure_cookies(&settings)),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// With `QUIRE_SESSIONS_ENABLED=false` the session routes do not exist.
fn sessions_on(settings: &Settings) -> Result<()> {
    if settings.sessions_enabled {
        Ok(())
    } else {
        Err(Error::NotFound("route"))
    }
}

/// `POST /api/session`: signs in with a cookie. Needs the CSRF token too (login CSRF: another
/// site must not sign a browser in to an account of its choosing). A new session id every
/// time, and a new CSRF token.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "Sessions",
    operation_id = "CreateSession",
    summary = "Sign in with a session cookie (needs the CSRF token in X-CSRFToken)",
    request_body = UserEnvelope<LoginBody>,
    responses(
        (status = 200, description = "The signed-in user (no token)", body = SessionUserResponse),
        Unauthenticated,
        NotYours,
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn sign_in(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UserEnvelope<LoginBody>>,
) -> Result<Response> {
    sessions_on(&settings)?;
    csrf::check(&headers, &settings)?;
    let body = unwrap_envelope("user", body.user)?;
    let credentials = Credentials {
        email: body.email,
        password: body.password,
    };
    let (user, session) = accounts.start_session(credentials).await?;
    if let Some(previous) = csrf::cookie(&headers, SESSION_COOKIE) {
        accounts.end_session(&previous).await?;
    }
    let secure = csrf::secure_cookies(&settings);
    let mut response = user_json(user).into_response();
    csrf::set_signed_in(response.headers_mut(), &session, secure);
    Ok(response)
}

/// `GET /api/session`: the user the session cookie belongs to, or 401.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "Sessions",
    operation_id = "GetSession",
    summary = "Who the session cookie belongs to",
    responses(
        (status = 200, description = "The signed-in user (no token)", body = SessionUserResponse),
        Unauthenticated,
        OtherRefusals,
    ),
)]
pub async fn current(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
) -> Result<Json<SessionUserResponse>> {
    sessions_on(&settings)?;
    let session = csrf::cookie(&headers, SESSION_COOKIE)
        .ok_or(Error::Unauthorized("no session: sign in first"))?;
    let user = accounts
        .session_user(&session)
        .await?
        .ok_or(Error::Unauthorized("the session ended: sign in again"))?;
    Ok(user_json(accounts.current_user(user).await?))
}

/// `DELETE /api/session`: ends the session on every instance and removes the cookie.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "Sessions",
    operation_id = "DeleteSession",
    summary = "Sign out (needs the CSRF token in X-CSRFToken)",
    responses(
        (status = 204, description = "Signed out"),
        NotYours,
        OtherRefusals,
    ),
)]
pub async fn sign_out(
    State(accounts): State<Accounts>,
    State(settings): State<Arc<Settings>>,
    headers: HeaderMap,
) -> Result<Response> {
    sessions_on(&settings)?;
    if let Some(session) = csrf::cookie(&headers, SESSION_COOKIE) {
        if accounts.session_user(&session).await?.is_some() {
            csrf::check(&headers, &settings)?;
        }
        accounts.end_session(&session).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        csrf::removal(SESSION_COOKIE, csrf::secure_cookies(&settings)),
    );
    Ok(response)
}
