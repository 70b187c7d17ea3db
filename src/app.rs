//! Router assembly, the middleware order, and serving with graceful shutdown. The only module
//! (with `main.rs`) that knows every part.

use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::DatabaseConnection;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::cache::Cache;
use crate::config::{Environment, Settings};
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::{api, db, http, jobs};

/// How long `/health/ready` waits for the database before calling it down.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub fn router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let mut routes = Router::new()
        .merge(api::rest::router())
        .merge(api::graphql::router(&state))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready));
    if settings.bench_endpoints {
        routes = routes
            .route("/bench/ceiling", get(http::bench_ceiling))
            .route("/bench/cache", get(http::bench_cache));
    }
    routes
        .fallback(http::not_found)
        .method_not_allowed_fallback(http::method_not_allowed)
        .layer(http::caching::HttpCacheLayer {
            domain: state.domain.clone(),
        })
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
                .layer(http::observe::ObserveLayer)
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

/// Any origin may call the API with a header token (not an ambient credential); cookies are
/// sent cross-origin only by origins on `QUIRE_CORS_ORIGINS`, never with `*`.
fn cors(settings: &Settings) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
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

async fn live() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

async fn ready(State(state): State<AppState>) -> impl IntoResponse {
    let ping = tokio::time::timeout(READY_TIMEOUT, db::ping(&state.domain.db));
    if ping.await.unwrap_or(false) {
        (
            StatusCode::OK,
            Json(json!({ "status": "ok", "database": "ok" })),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "database": "down" })),
        )
    }
}

/// Serves until SIGINT or SIGTERM, then lets in-flight requests finish; with `run_worker`, runs
/// background jobs in this process too, stopping them alongside.
pub async fn serve(state: AppState, run_worker: bool) -> anyhow::Result<()> {
    let addr = state.settings.listen;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (QUIRE_LISTEN): {e}"))?;
    let local = listener.local_addr()?;
    let backend = format!("{:?}", state.settings.backend).to_lowercase();
    tracing::info!(%local, backend, "quire is serving");
    eprintln!(
        "Quire is serving on http://{local}\n  RealWorld REST API: http://{local}/api  (e.g. http://{local}/api/articles)\n  GraphQL API:        http://{local}/graphql  (POST; open it in a browser for the GraphiQL IDE)\n  Health:             http://{local}/health/live, http://{local}/health/ready\n  Database:           {}",
        crate::config::redact_url(&state.settings.database_url)
    );
    eprintln!(
        "  Background jobs:    {}",
        if run_worker {
            "run in this process (QUIRE_WORKER=false or --no-worker to leave them to `quire worker`)"
        } else {
            "left to `quire worker` processes"
        }
    );
    report_cache_counters(state.domain.cache.clone());
    let header_timeout = state.settings.header_timeout;
    let (stop, stopped) = watch::channel(false);
    let domain = state.domain.clone();
    let worker = run_worker.then(|| {
        let context = jobs::Context {
            db: domain.db.clone(),
            outbound: domain.outbound.clone(),
            views_retention_months: state.settings.worker.views_retention_months,
            reports_kept: state.settings.worker.reports_kept,
        };
        let worker = jobs::Worker::new(context, worker_options(&state.settings));
        tokio::spawn(worker.run(stopped))
    });
    let shutdown = async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    };
    http::server::serve(listener, router(state), header_timeout, shutdown).await;
    domain.views.shutdown().await;
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    tracing::info!("quire stopped");
    Ok(())
}

/// Runs background jobs until SIGINT or SIGTERM, then lets the running ones finish within the
/// grace period and hands the rest back to the queue.
pub async fn work(db: DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    eprintln!(
        "Quire worker: running background jobs ({} at a time) from {}",
        settings.worker.concurrency,
        crate::config::redact_url(&settings.database_url)
    );
    let context = jobs::Context {
        db,
        outbound: Outbound::new(settings.worker.webhook_allow_hosts.clone())?,
        views_retention_months: settings.worker.views_retention_months,
        reports_kept: settings.worker.reports_kept,
    };
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(jobs::Worker::new(context, worker_options(settings)).run(stopped));
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = worker.await;
    Ok(())
}

fn worker_options(settings: &Settings) -> jobs::WorkerOptions {
    let worker = &settings.worker;
    jobs::WorkerOptions {
        concurrency: worker.concurrency,
        lease: worker.lease,
        poll: worker.poll,
        grace: worker.grace,
    }
}

/// Logs the cache's hit/miss/error counters per kind once a minute.
fn report_cache_counters(cache: Cache) {
    tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        every_minute.tick().await;
        loop {
            every_minute.tick().await;
            for (index, kind) in cache.layout().kinds.iter().enumerate() {
                let stats = cache.stats(index);
                tracing::info!(
                    kind,
                    hits = stats.hits,
                    misses = stats.misses,
                    errors = stats.errors,
                    redis_errors = cache.redis_errors(),
                    "cache counters"
                );
            }
        }
    });
}

async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}
