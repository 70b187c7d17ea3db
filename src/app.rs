//! Router assembly and the middleware order; running and stopping ([`lifecycle`]). The only
//! module (with `main.rs`) that knows every part.

mod lifecycle;
mod pages;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

pub use self::lifecycle::{check_health, serve, work};
use crate::config::{Environment, Settings};
use crate::observability::scrape::{MetricsEndpoint, metrics};
use crate::state::AppState;
use crate::{api, http};

pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let metrics_settings = &settings.operations.metrics;
    let traced = settings.operations.traces.otlp_endpoint.is_some();
    let slow_statements_logged = settings.operations.slow_statement.is_some();
    routes(&state)
        .layer(tower::util::option_layer(
            (metrics_settings.enabled || traced || slow_statements_logged)
                .then_some(http::observe::RouteLabelLayer),
        ))
        // Limits switched off cost nothing per request.
        .layer(tower::util::option_layer(
            state.domain.limiter.is_enabled().then(|| {
                axum::middleware::from_fn_with_state(
                    http::rate_limit::RateLimitState::new(&state),
                    http::rate_limit::limit_requests,
                )
            }),
        ))
        .with_state(state)
        .layer(
            ServiceBuilder::new()
                .layer(http::observe::ObserveLayer {
                    metrics: metrics_settings.enabled,
                    traces: traced,
                    context: slow_statements_logged,
                })
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::X_FRAME_OPTIONS,
                    HeaderValue::from_static("DENY"),
                ))
                .layer(SetResponseHeaderLayer::if_not_present(
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ))
                // Routes declare their caching; every other answer is stored nowhere, and one
                // that sets a cookie is never public.
                .layer(SetResponseHeaderLayer::overriding(
                    header::CACHE_CONTROL,
                    http::caching::settled_policy,
                ))
                // Production is served over HTTPS (behind a terminating proxy): browsers are
                // told never to use plain HTTP for it again.
                .option_layer((settings.env == Environment::Production).then(|| {
                    SetResponseHeaderLayer::if_not_present(
                        header::STRICT_TRANSPORT_SECURITY,
                        HeaderValue::from_static("max-age=31536000; includeSubDomains"),
                    )
                }))
                .layer(CatchPanicLayer::custom(http::panic_response))
                .layer(http::compress::CompressWhenAskedLayer)
                .layer(cors(&settings))
                .layer(http::time_limit::TimeLimitLayer {
                    limit: settings.request_timeout,
                })
                .layer(DefaultBodyLimit::max(settings.max_body_bytes)),
        )
}

/// Every route, with the JSON fallbacks.
fn routes(state: &AppState) -> Router<AppState> {
    let settings = &state.settings;
    let metrics_settings = &settings.operations.metrics;
    let mut routes = Router::new()
        .merge(api::rest::router(state))
        .merge(api::graphql::router(state))
        .merge(api::oauth::router())
        .route("/", get(pages::landing))
        .route("/health/live", get(pages::live))
        .route("/health/ready", get(pages::ready));
    if metrics_settings.enabled && metrics_settings.listen.is_none() {
        let endpoint = MetricsEndpoint::new(
            state.domain.core.db.clone(),
            Some(state.domain.core.cache.clone()),
            metrics_settings.token.as_deref(),
        );
        routes = routes.route_service("/metrics", get(metrics).with_state(endpoint));
    }
    if settings.bench_endpoints {
        routes = routes
            .route("/bench/ceiling", get(http::bench_ceiling))
            .route("/bench/cache", get(http::bench_cache));
    }
    routes
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
}

/// Any origin may call the API with a header token (not an ambient credential); cookies are
/// sent cross-origin only by origins on `QUIRE_CORS_ORIGINS`, never with `*`.
fn cors(settings: &Settings) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_NONE_MATCH,
            HeaderName::from_static(http::csrf::CSRF_HEADER),
        ])
        // Scripts on other origins may read how much of their budget is left.
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
        ])
        .max_age(std::time::Duration::from_secs(3600));
    match &settings.cors_origins {
        None => layer.allow_origin(AllowOrigin::any()),
        Some(list) => layer
            .allow_origin(AllowOrigin::list(
                list.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
            ))
            .allow_credentials(true),
    }
}
