use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::unwrap_envelope;
use super::wire::{LoginBody, RegisterBody, UpdateUserBody, UserEnvelope, UserJson};
use crate::domain::Domain;
use crate::domain::users::{Credentials, Registration, UserChanges};
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::extract::JsonBody;

fn user_json(user: crate::domain::users::SignedIn) -> Json<Value> {
    Json(json!({ "user": UserJson::from(user) }))
}

pub async fn register(
    State(domain): State<Domain>,
    JsonBody(body): JsonBody<UserEnvelope<RegisterBody>>,
) -> Result<(StatusCode, Json<Value>)> {
    let body = unwrap_envelope("user", body.user)?;
    let user = domain
        .register(Registration {
            username: body.username,
            email: body.email,
            password: body.password,
        })
        .await?;
    Ok((StatusCode::CREATED, user_json(user)))
}

pub async fn login(
    State(domain): State<Domain>,
    JsonBody(body): JsonBody<UserEnvelope<LoginBody>>,
) -> Result<Json<Value>> {
    let body = unwrap_envelope("user", body.user)?;
    let user = domain
        .login(Credentials {
            email: body.email,
            password: body.password,
        })
        .await?;
    Ok(user_json(user))
}

pub async fn current(State(domain): State<Domain>, AuthUser(id): AuthUser) -> Result<Json<Value>> {
    Ok(user_json(domain.current_user(id).await?))
}

pub async fn update(
    State(domain): State<Domain>,
    AuthUser(id): AuthUser,
    JsonBody(body): JsonBody<UserEnvelope<UpdateUserBody>>,
) -> Result<Json<Value>> {
    let body = unwrap_envelope("user", body.user)?;
    let changes = UserChanges {
        username: body.username,
        email: body.email,
        password: body.password,
        bio: body.bio,
        image: body.image,
    };
    Ok(user_json(domain.update_user(id, changes).await?))
}
