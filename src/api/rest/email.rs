//! Verified e-mail and account recovery by mail, for single-page apps: verify an address with
//! the token of its link, send the link again, ask for a password reset and confirm it. The
//! links themselves open server-rendered pages (`api::account_pages`).

use super::refusals::{OtherRefusals, Unauthenticated};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::unwrap_envelope;
use super::wire::{LoginBody, ResetEnvelope, UserEnvelope};
use crate::domain::accounts::Accounts;
use crate::error::Result;
use crate::http::auth::AuthUser;
use crate::http::error::ErrorBody;
use crate::http::extract::JsonBody;

#[derive(Deserialize, ToSchema)]
pub struct TokenBody {
    /// The `token` query parameter of the link in the mail.
    token: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedResponse {
    /// The address now proven.
    email: String,
    email_verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct MessageResponse {
    message: &'static str,
}

#[derive(Deserialize, ToSchema)]
pub struct ResetBody {
    /// The `token` query parameter of the link in the mail.
    token: Option<String>,
    /// The new password (8 to 128 characters).
    password: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/users/verify-email",
    tag = "User and Authentication",
    operation_id = "VerifyEmail",
    summary = "Prove an e-mail address with the token of the link mailed to it (single use, 24 hours)",
    request_body = TokenBody,
    responses(
        (status = 200, description = "The address is verified", body = VerifiedResponse),
        (status = 422, description = "The token is missing, invalid, expired or used, or the account's address changed since", body = ErrorBody),
        OtherRefusals,
    ),
)]
pub async fn verify(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<TokenBody>,
) -> Result<Json<VerifiedResponse>> {
    let verified = accounts.verify_email(body.token).await?;
    Ok(Json(VerifiedResponse {
        email: verified.email,
        email_verified: true,
    }))
}

#[utoipa::path(
    post,
    path = "/api/user/verify-email",
    tag = "User and Authentication",
    operation_id = "ResendVerification",
    summary = "Mail the signed-in user's address a new verification link",
    responses(
        (status = 202, description = "The mail is queued", body = MessageResponse),
        Unauthenticated,
        (status = 422, description = "The address is already verified", body = ErrorBody),
        (status = 429, description = "Too many mails to this address: see Retry-After", body = ErrorBody),
        (status = 503, description = "Mail is not configured on this server (QUIRE_SMTP_URL)", body = ErrorBody),
        (status = "default", description = "Any other error, in the same shape", body = ErrorBody),
    ),
    security(("Token" = [])),
)]
pub async fn resend(
    State(accounts): State<Accounts>,
    AuthUser(id): AuthUser,
) -> Result<(StatusCode, Json<MessageResponse>)> {
    accounts.resend_verification(id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MessageResponse {
            message: "a verification link is on its way",
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/password-reset",
    tag = "User and Authentication",
    operation_id = "RequestPasswordReset",
    summary = "Mail a password-reset link (single use, 1 hour) to an account's verified address",
    description = "Answers the same whether or not an account has the address: a link is mailed only to an address its owner verified.",
    request_body = UserEnvelope<LoginBody>,
    responses(
        (status = 202, description = "Accepted, whether or not the address has an account", body = MessageResponse),
        (status = 422, description = "The address is missing or malformed", body = ErrorBody),
        (status = 429, description = "Too many requests from this client or for this address", body = ErrorBody),
        (status = 503, description = "Mail is not configured on this server (QUIRE_SMTP_URL)", body = ErrorBody),
        (status = "default", description = "Any other error, in the same shape", body = ErrorBody),
    ),
)]
pub async fn request_reset(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<UserEnvelope<LoginBody>>,
) -> Result<(StatusCode, Json<MessageResponse>)> {
    let body = unwrap_envelope("user", body.user)?;
    accounts.request_password_reset(body.email).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(MessageResponse {
            message: "if this address is an account's verified address, a reset link is on its way",
        }),
    ))
}

#[utoipa::path(
    post,
    path = "/api/users/password-reset/confirm",
    tag = "User and Authentication",
    operation_id = "ConfirmPasswordReset",
    summary = "Set a new password with the token of a reset link; signs the account out everywhere",
    request_body = ResetEnvelope<ResetBody>,
    responses(
        (status = 200, description = "The password is set; every session, token and app grant of the account is revoked", body = MessageResponse),
        (status = 422, description = "The token is invalid, expired or used, or the password is unacceptable", body = ErrorBody),
        OtherRefusals,
    ),
)]
pub async fn confirm_reset(
    State(accounts): State<Accounts>,
    JsonBody(body): JsonBody<ResetEnvelope<ResetBody>>,
) -> Result<Json<MessageResponse>> {
    let body = unwrap_envelope("reset", body.reset)?;
    accounts.reset_password(body.token, body.password).await?;
    Ok(Json(MessageResponse {
        message: "the password is reset: sign in with it",
    }))
}
