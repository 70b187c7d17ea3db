//! `GET /metrics`: the recorder's text, after the gauges of the present are read (the pool,
//! the cache counters, the queue). Served on the API port or a port of its own
//! (`QUIRE_METRICS_LISTEN`), behind a bearer token when `QUIRE_METRICS_TOKEN` is set.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::PrometheusHandle;
use sea_orm::{DatabaseConnection, DbBackend};
use subtle::ConstantTimeEq;

use crate::cache::Cache;
use strum::IntoEnumIterator;

use crate::jobs::{self, JobState, Kind};

/// A scrape never waits long on the database: the queue's depth is then left out.
const QUEUE_COUNT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct MetricsEndpoint {
    handle: PrometheusHandle,
    db: DatabaseConnection,
    cache: Option<Cache>,
    token: Option<Arc<str>>,
}

impl MetricsEndpoint {
    /// `cache` is `None` in a process that serves no requests (`quire worker`).
    pub fn new(db: DatabaseConnection, cache: Option<Cache>, token: Option<&str>) -> Self {
        MetricsEndpoint {
            handle: super::install(),
            db,
            cache,
            token: token.map(Arc::from),
        }
    }
}

pub async fn metrics(State(endpoint): State<MetricsEndpoint>, headers: HeaderMap) -> Response {
    if let Some(token) = &endpoint.token
        && !presents(&headers, token)
    {
        let mut refused = crate::http::error::error_response(
            StatusCode::UNAUTHORIZED,
            "/metrics needs `Authorization: Bearer <QUIRE_METRICS_TOKEN>`",
        );
        refused
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return refused;
    }
    record_pool(&endpoint.db);
    if let Some(cache) = &endpoint.cache {
        record_cache(cache);
    }
    record_queue(&endpoint.db).await;
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        endpoint.handle.render(),
    )
        .into_response()
}

/// The bearer token, compared in constant time.
fn presents(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| bool::from(given.trim().as_bytes().ct_eq(token.as_bytes())))
}

fn record_pool(db: &DatabaseConnection) {
    // Each getter panics on another backend; the match makes sure it is the right one.
    let (size, idle, max) = match db.get_database_backend() {
        DbBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::MySql => {
            let pool = db.get_mysql_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        DbBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (
                pool.size(),
                pool.num_idle(),
                pool.options().get_max_connections(),
            )
        }
        _ => return,
    };
    let idle = idle as f64;
    metrics::gauge!("quire_db_pool_connections", "state" => "idle").set(idle);
    metrics::gauge!("quire_db_pool_connections", "state" => "in_use").set(f64::from(size) - idle);
    metrics::gauge!("quire_db_pool_max_connections").set(f64::from(max));
}

fn record_cache(cache: &Cache) {
    for (index, kind) in cache.layout().kinds.iter().enumerate() {
        let stats = cache.stats(index);
        for (outcome, count) in [
            ("hit", stats.hits),
            ("miss", stats.misses),
            ("error", stats.errors),
        ] {
            metrics::counter!("quire_cache_lookups_total", "kind" => *kind, "outcome" => outcome)
                .absolute(count);
        }
    }
    metrics::counter!("quire_cache_redis_errors_total").absolute(cache.redis_errors());
}

/// Every kind in every state, zero included: a state that empties must read 0, not its last
/// count.
async fn record_queue(db: &DatabaseConnection) {
    let Ok(Ok(counts)) = tokio::time::timeout(QUEUE_COUNT_TIMEOUT, jobs::admin::stats(db)).await
    else {
        return;
    };
    for kind in Kind::iter() {
        for state in JobState::iter().map(JobState::as_str) {
            let jobs = counts
                .iter()
                .find(|count| count.kind == kind.name() && count.state == state)
                .map_or(0, |count| count.jobs);
            metrics::gauge!("quire_jobs", "kind" => kind.name(), "state" => state).set(jobs as f64);
        }
    }
}
