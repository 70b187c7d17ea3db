//! Prometheus metrics. The recorder is process-wide (the `metrics` facade): instrumented code
//! anywhere calls `metrics::counter!` and friends, which cost nothing when metrics are switched
//! off (no recorder is installed). What is a count of the present (pool connections, cache
//! counters, queue depth) is read when `/metrics` is scraped ([`scrape`]).

pub mod scrape;

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request and job durations, in seconds: from a cache hit to a slow report.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// How often recorded histogram samples are folded into their buckets (the exporter keeps
/// them raw until then).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The commit this binary was built from (`build.rs`), or `unknown`.
pub const COMMIT: &str = env!("QUIRE_BUILD_COMMIT");

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder (once per process; later calls return the same handle) and starts
/// its upkeep. Must be called on the Tokio runtime.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .expect("the buckets are not empty")
                .build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed already; /metrics stays empty");
            }
            describe();
            metrics::gauge!("quire_build_info", "version" => env!("CARGO_PKG_VERSION"), "commit" => COMMIT)
                .set(1.0);
            let upkeep = handle.clone();
            tokio::spawn(async move {
                let mut every = tokio::time::interval(UPKEEP_EVERY);
                loop {
                    every.tick().await;
                    upkeep.run_upkeep();
                }
            });
            handle
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_histogram!(
        "quire_http_request_duration_seconds",
        Unit::Seconds,
        "HTTP requests by method, route template and status (its _count is the request count)"
    );
    describe_gauge!(
        "quire_db_pool_connections",
        "Database connections of this instance's pool, by state (in_use, idle)"
    );
    describe_gauge!(
        "quire_db_pool_max_connections",
        "The most connections the pool opens (QUIRE_DB_MAX_CONNECTIONS)"
    );
    describe_counter!(
        "quire_db_pool_acquire_timeouts_total",
        "Requests that waited QUIRE_DB_ACQUIRE_TIMEOUT_SECONDS for a connection and were refused with 503"
    );
    describe_counter!(
        "quire_db_slow_statements_total",
        "Statements that took QUIRE_SLOW_STATEMENT_MS or longer, by operation (select, insert, update, delete, other)"
    );
    describe_counter!(
        "quire_cache_lookups_total",
        "Cache lookups by kind of entry and outcome (hit, miss, error)"
    );
    describe_counter!(
        "quire_cache_redis_errors_total",
        "Redis commands that failed"
    );
    describe_gauge!(
        "quire_jobs",
        "Jobs in the queue by kind and state (queued, running, dead)"
    );
    describe_counter!(
        "quire_job_runs_total",
        "Job runs of this process by kind and outcome (succeeded, failed)"
    );
    describe_histogram!(
        "quire_job_duration_seconds",
        Unit::Seconds,
        "Job run time by kind"
    );
    describe_counter!(
        "quire_rate_limit_refusals_total",
        "Requests refused by a rate limit, by class"
    );
    describe_counter!(
        "quire_webhook_deliveries_total",
        "Webhook delivery attempts by outcome (delivered, failed)"
    );
    describe_gauge!(
        "quire_build_info",
        "Always 1; the version and commit are its labels"
    );
}
