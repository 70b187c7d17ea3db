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
use axum::routing::{delete, get, post, put};

use crate::error::Error;
use crate::http::caching::HttpCacheLayer;
use crate::state::AppState;

/// Every REST route. Caching is declared here, beside the routes: reads that are the same for
/// every anonymous reader are `shared`, reads of the caller's own data `private`; any other
/// answer is the handler's to describe (and `no-store` when it does not).
pub fn router(state: &AppState) -> Router<AppState> {
    let shared = HttpCacheLayer::shared(state.domain.clone());
    let private = HttpCacheLayer::private(state.domain.clone());
    let shared_reads = Router::new()
        .route("/api/profiles/{username}", get(profiles::get))
        .route("/api/articles", get(articles::list))
        .route("/api/articles/feed", get(articles::feed))
        .route("/api/articles/{slug}", get(articles::get))
        .route("/api/articles/{slug}/comments", get(articles::comments))
        .route("/api/tags", get(articles::tags))
        .route("/api/openapi.json", get(openapi::document))
        .route_layer(shared);
    let private_reads = Router::new()
        .route("/api/user", get(users::current))
        .route("/api/user/authorizations", get(authorizations::list))
        .route("/api/webhooks", get(webhooks::list))
        .route("/api/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/reports/{id}", get(reports::get))
        .route("/api/reports/{id}/download", get(reports::download))
        .route_layer(private);
    Router::new()
        .merge(shared_reads)
        .merge(private_reads)
        .route("/api/users", post(users::register))
        .route("/api/users/login", post(users::login))
        .route("/api/users/verify-email", post(email::verify))
        .route("/api/user/verify-email", post(email::resend))
        .route("/api/users/password-reset", post(email::request_reset))
        .route(
            "/api/users/password-reset/confirm",
            post(email::confirm_reset),
        )
        .route("/api/user", put(users::update).patch(users::patch))
        .route(
            "/api/user/authorizations/{clientId}",
            delete(authorizations::remove),
        )
        .route(
            "/api/profiles/{username}/follow",
            post(profiles::follow).delete(profiles::unfollow),
        )
        .route("/api/articles", post(articles::create))
        .route(
            "/api/articles/{slug}",
            put(articles::update)
                .patch(articles::patch)
                .delete(articles::remove),
        )
        .route(
            "/api/articles/{slug}/favorite",
            post(articles::favorite).delete(articles::unfavorite),
        )
        .route("/api/articles/{slug}/comments", post(articles::add_comment))
        .route(
            "/api/articles/{slug}/comments/{id}",
            delete(articles::delete_comment),
        )
        .route("/api/auth/token", post(auth::token))
        .route("/api/auth/refresh", post(auth::refresh))
        .route("/api/auth/logout", post(auth::logout))
        .route("/api/auth/logout-all", post(auth::logout_all))
        .route("/api/auth/oidc", post(auth::oidc_handoff))
        .route("/api/webhooks", post(webhooks::create))
        .route(
            "/api/webhooks/{id}",
            delete(webhooks::remove).patch(webhooks::update),
        )
        .route("/api/reports", post(reports::create))
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

fn unwrap_envelope<T>(key: &str, inner: Option<T>) -> Result<T, Error> {
    inner.ok_or_else(|| Error::field(key, "is required"))
}
