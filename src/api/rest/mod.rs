//! The RealWorld REST API: thin handlers that parse, call one domain function and render.

mod articles;
mod auth;
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
        .route("/users", post(users::register))
        .route("/users/login", post(users::login))
        .route("/user", get(users::current).put(users::update))
        .route("/profiles/{username}", get(profiles::get))
        .route(
            "/profiles/{username}/follow",
            post(profiles::follow).delete(profiles::unfollow),
        )
        .route("/articles", get(articles::list).post(articles::create))
        .route("/articles/feed", get(articles::feed))
        .route(
            "/articles/{slug}",
            get(articles::get)
                .put(articles::update)
                .delete(articles::remove),
        )
        .route(
            "/articles/{slug}/favorite",
            post(articles::favorite).delete(articles::unfavorite),
        )
        .route(
            "/articles/{slug}/comments",
            get(articles::comments).post(articles::add_comment),
        )
        .route(
            "/articles/{slug}/comments/{id}",
            delete(articles::delete_comment),
        )
        .route("/tags", get(articles::tags))
        .route("/auth/token", post(auth::token))
        .route("/auth/refresh", post(auth::refresh))
        .route("/auth/logout", post(auth::logout))
        .route("/auth/logout-all", post(auth::logout_all))
        .route("/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/webhooks/{id}", delete(webhooks::remove))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/reports", post(reports::create))
        .route("/reports/{id}", get(reports::get))
        .route("/reports/{id}/download", get(reports::download))
        .route("/session/csrf", get(session::csrf_token))
        .route(
            "/session",
            get(session::current)
                .post(session::sign_in)
                .delete(session::sign_out),
        )
}

/// The object inside a request envelope, or 422 naming the missing envelope key.
fn unwrap_envelope<T>(key: &str, inner: Option<T>) -> Result<T, Error> {
    inner.ok_or_else(|| Error::field(key, "is required"))
}
