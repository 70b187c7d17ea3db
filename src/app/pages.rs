//! The pages around the APIs: health for orchestrators, and the landing page a person sees
//! at `/`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;

use crate::db;
use crate::observability::COMMIT;
use crate::state::AppState;

/// How long `/health/ready` waits for the database or Redis before calling it down.
const READY_TIMEOUT: Duration = Duration::from_secs(1);

pub async fn live() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// 200 when this instance can serve: not shutting down, the database answers, and so does
/// Redis when one is configured (without it cookie sessions are refused and limits are per
/// instance, so an instance cut off from it is taken out of rotation).
pub async fn ready(State(state): State<AppState>) -> Response {
    if state.lifecycle.shutting_down() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "shutting down" })),
        )
            .into_response();
    }
    let database = tokio::time::timeout(READY_TIMEOUT, db::ping(&state.domain.core.db));
    let redis = tokio::time::timeout(READY_TIMEOUT, state.domain.core.cache.redis_answers());
    let (database, redis) = tokio::join!(database, redis);
    let database_up = database.unwrap_or(false);
    let redis = redis.unwrap_or(Some(false));
    let up = database_up && redis != Some(false);
    let status = if up {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |up: bool| if up { "ok" } else { "down" };
    (
        status,
        Json(json!({
            "status": if up { "ok" } else { "unavailable" },
            "database": word(database_up),
            "redis": redis.map_or("not configured", word),
        })),
    )
        .into_response()
}

/// What this is and where everything is, with no resource from anywhere else.
pub async fn landing(State(state): State<AppState>) -> Response {
    let metrics = &state.settings.operations.metrics;
    let metrics_item = match (metrics.enabled, metrics.listen) {
        (false, _) => {
            "<li>Metrics are switched off (<code>QUIRE_METRICS_ENABLED</code>)</li>".to_owned()
        }
        (true, None) => {
            "<li><a href=\"/metrics\">/metrics</a> — Prometheus metrics</li>".to_owned()
        }
        (true, Some(at)) => format!(
            "<li>Prometheus metrics on their own port: <code>{}</code>, path <code>/metrics</code></li>",
            at.port()
        ),
    };
    let page = format!(
        include_str!("landing.html"),
        version = env!("CARGO_PKG_VERSION"),
        commit = COMMIT,
        metrics_item = metrics_item,
    );
    let mut response = Html(page).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    response
}
