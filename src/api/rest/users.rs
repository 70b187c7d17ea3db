use super::refusals::{Invalid, OtherRefusals, Unauthenticated};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::unwrap_envelope;
use super::wire::{LoginBody, RegisterBody, UpdateUserBody, UserEnvelope, UserJson, UserResponse};
use crate::domain::accounts::Accounts;
use crate::domain::users::{Credentials, Registration, SignedIn, UserChanges};
use crate::error::Result;
use crate::http::auth::{AuthUser, app_token};
use crate::http::extract::JsonBody;

/// The account as its caller may see it: an application gets back its own access token, not
/// a JWT with every right of the account.
fn with_credential(mut user: SignedIn, headers: &HeaderMap) -> SignedIn {
    if let Some(token) = app_token(headers) {
        user.token = token.to_owned();
    }
    user
}

fn user_json(user: SignedIn) -> Json<UserResponse> {
    Json(UserResponse {
        user: UserJson::from(user),
    })
}

#[utoipa::path(
    post,
    path = "/api/users",
    tag = "User and Authentication",
    operation_id = "CreateUser",
    summary = "Register a user",
    request_body = UserEnvelope<RegisterBody>,
    responses(
        (status = 201, description = "The new user, with a token", body = UserResponse),
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn register(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<UserEnvelope<RegisterBody>>,
) -> Result<(StatusCode, Json<UserResponse>)> {
    let body = unwrap_envelope("user", body.user)?;
    let user = accounts
        .register(Registration {
            username: body.username,
            email: body.email,
            password: body.password,
        })
        .await?;
    Ok((StatusCode::CREATED, user_json(user)))
}

#[utoipa::path(
    post,
    path = "/api/users/login",
    tag = "User and Authentication",
    operation_id = "Login",
    summary = "Existing user login",
    request_body = UserEnvelope<LoginBody>,
    responses(
        (status = 200, description = "The user, with a fresh token", body = UserResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
)]
pub async fn login(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<UserEnvelope<LoginBody>>,
) -> Result<Json<UserResponse>> {
    let body = unwrap_envelope("user", body.user)?;
    let user = accounts
        .login(Credentials {
            email: body.email,
            password: body.password,
        })
        .await?;
    Ok(user_json(user))
}

#[utoipa::path(
    get,
    path = "/api/user",
    tag = "User and Authentication",
    operation_id = "GetCurrentUser",
    summary = "Get current user",
    responses(
        (status = 200, description = "The user, with a fresh token", body = UserResponse),
        Unauthenticated,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn current(
    State(accounts): State<Accounts>,
    AuthUser(id): AuthUser,
    headers: HeaderMap,
) -> Result<Json<UserResponse>> {
    let user = accounts.current_user(id).await?;
    Ok(user_json(with_credential(user, &headers)))
}

#[utoipa::path(
    put,
    path = "/api/user",
    tag = "User and Authentication",
    operation_id = "UpdateCurrentUser",
    summary = "Update current user",
    request_body = UserEnvelope<UpdateUserBody>,
    responses(
        (status = 200, description = "The user, with a fresh token", body = UserResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn update(
    State(accounts): State<Accounts>,
    AuthUser(id): AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UserEnvelope<UpdateUserBody>>,
) -> Result<Json<UserResponse>> {
    let body = unwrap_envelope("user", body.user)?;
    let changes = UserChanges {
        username: body.username,
        email: body.email,
        password: body.password,
        bio: body.bio,
        image: body.image,
    };
    let user = accounts.update_user(id, changes).await?;
    Ok(user_json(with_credential(user, &headers)))
}

/// PATCH is the same partial update: RealWorld's PUT already changes only the fields given.
#[utoipa::path(
    patch,
    path = "/api/user",
    tag = "User and Authentication",
    operation_id = "PatchCurrentUser",
    summary = "Change some of the current user's fields (as PUT does)",
    request_body = UserEnvelope<UpdateUserBody>,
    responses(
        (status = 200, description = "The user, with a fresh token", body = UserResponse),
        Unauthenticated,
        Invalid,
        OtherRefusals,
    ),
    security(("Token" = [])),
)]
pub async fn patch(
    accounts: State<Accounts>,
    user: AuthUser,
    headers: HeaderMap,
    body: JsonBody<UserEnvelope<UpdateUserBody>>,
) -> Result<Json<UserResponse>> {
    update(accounts, user, headers, body).await
}
