//! The RealWorld REST API: thin handlers that parse, call one domain function and render.
//! The routes, their access and caching and their documentation are declared together here.

mod articles;
mod auth;
mod authorizations;
mod comments;
mod email;
mod openapi;
mod profiles;
mod refusals;
mod reports;
mod session;
mod users;
mod webhooks;
mod wire;

use axum::Router;
use axum::body::Bytes;
use axum::routing::get;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::Error;
use crate::http::access::Access;
use crate::http::caching::HttpCacheLayer;
use crate::state::AppState;

/// Every REST route, registered once with its documentation (`routes!` reads each handler's
/// `#[utoipa::path]`). Each group declares who may call its routes ([`Access`]) and how their
/// answers may be cached: reads that are the same for every anonymous reader are `shared`,
/// reads of the caller's own data `private`; any other answer is the handler's to describe
/// (and `no-store` when it does not).
pub fn router(state: &AppState) -> Router<AppState> {
    let shared = HttpCacheLayer::shared(state.domain.clone());
    let private = HttpCacheLayer::private(state.domain.clone());
    let content = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(
            OpenApiRouter::new()
                .routes(routes!(profiles::get))
                .routes(routes!(articles::list))
                .routes(routes!(articles::feed))
                .routes(routes!(articles::get))
                .routes(routes!(comments::comments))
                .routes(routes!(articles::tags))
                .route_layer(shared.clone()),
        )
        .merge(
            OpenApiRouter::new()
                .routes(routes!(webhooks::list))
                .routes(routes!(webhooks::deliveries))
                .routes(routes!(reports::get))
                .routes(routes!(reports::download))
                .route_layer(private.clone()),
        )
        .routes(routes!(users::register))
        .routes(routes!(users::login))
        .routes(routes!(email::verify))
        .routes(routes!(email::request_reset))
        .routes(routes!(email::confirm_reset))
        .routes(routes!(profiles::follow, profiles::unfollow))
        .routes(routes!(articles::create))
        .routes(routes!(articles::update, articles::patch, articles::remove))
        .routes(routes!(articles::favorite, articles::unfavorite))
        .routes(routes!(comments::add_comment))
        .routes(routes!(comments::delete_comment))
        .routes(routes!(webhooks::create))
        .routes(routes!(webhooks::update, webhooks::remove))
        .routes(routes!(reports::create))
        .route("/docs", get(openapi::docs_index))
        .route("/docs/{*file}", get(openapi::docs_asset))
        .route_layer(Access::Content.layer());
    let account = OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(users::current))
                .route_layer(private.clone()),
        )
        .routes(routes!(users::update, users::patch))
        .route_layer(Access::Account.layer());
    let user_only = OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(authorizations::list))
                .route_layer(private),
        )
        .routes(routes!(authorizations::remove))
        .routes(routes!(email::resend))
        .routes(routes!(auth::token))
        .routes(routes!(auth::refresh))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::logout_all))
        .routes(routes!(auth::oidc_handoff))
        .routes(routes!(session::csrf_token))
        .routes(routes!(
            session::current,
            session::sign_in,
            session::sign_out
        ))
        .route_layer(Access::UserOnly.layer());
    let (routes, document) = content.merge(account).merge(user_only).split_for_parts();
    let document = Bytes::from(openapi::render(document));
    routes.merge(
        Router::new()
            .route(
                "/api/openapi.json",
                get(move || openapi::document(document.clone())),
            )
            .route_layer(shared)
            .route_layer(Access::Content.layer()),
    )
}

fn unwrap_envelope<T>(key: &str, inner: Option<T>) -> Result<T, Error> {
    inner.ok_or_else(|| Error::field(key, "is required"))
}
