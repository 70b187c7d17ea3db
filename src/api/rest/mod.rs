//! The RealWorld REST API: thin handlers that parse, call one domain function and render.

mod articles;
mod auth;
mod authorizations;
mod email;
mod openapi;
mod profiles;
mod reports;
mod session;
mod users;
mod webhooks;
mod wire;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::error::Error;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", post(users::register))
        .route("/api/users/login", post(users::login))
        .route("/api/users/verify-email", post(email::verify))
        .route("/api/user/verify-email", post(email::resend))
        .route("/api/users/password-reset", post(email::request_reset))
        .route(
            "/api/users/password-reset/confirm",
            post(email::confirm_reset),
        )
        .route("/api/user", get(users::current).put(users::update))
        .route("/api/user/authorizations", get(authorizations::list))
        .route(
            "/api/user/authorizations/{clientId}",
            delete(authorizations::remove),
        )
        .route("/api/profiles/{username}", get(profiles::get))
        .route(
            "/api/profiles/{username}/follow",
            post(profiles::follow).delete(profiles::unfollow),
        )
        .route("/api/articles", get(articles::list).post(articles::create))
        .route("/api/articles/feed", get(articles::feed))
        .route(
            "/api/articles/{slug}",
            get(articles::get)
                .put(articles::update)
                .delete(articles::remove),
        )
        .route(
            "/api/articles/{slug}/favorite",
            post(articles::favorite).delete(articles::unfavorite),
        )
        .route(
            "/api/articles/{slug}/comments",
            get(articles::comments).post(articles::add_comment),
        )
        .route(
            "/api/articles/{slug}/comments/{id}",
            delete(articles::delete_comment),
        )
        .route("/api/tags", get(articles::tags))
        .route("/api/auth/token", post(auth::token))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/logout-all", post(auth::logout_all))
        .route("/api/auth/oidc", post(auth::oidc_handoff))
        .route("/api/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/webhooks/{id}", delete(webhooks::remove))
        .route("/api/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/reports", post(reports::create))
        .route("/api/reports/{id}", get(reports::get))
        .route("/api/reports/{id}/download", get(reports::download))
        .route("/api/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::docs_index))
        .route("/docs/{*file}", get(openapi::docs_asset))
        .route("/api/session/csrf", get(session::csrf_token))
        .route(
            "/api/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
}

/// The object inside a request envelope, or 422 naming the missing envelope key.
fn unwrap_envelope<T>(key: &str, inner: Option<T>) -> Result<T, Error> {
    inner.ok_or_else(|| Error::field(key, "is required"))
}
