//! The settings read apart from the rest: the environment and address, the CORS origins, and
//! the parts that parse their own.

use std::net::SocketAddr;

use anyhow::{anyhow, bail};

use super::{
    Environment, GraphqlSettings, OperationsSettings, RateLimitSettings, RawSettings,
    WorkerSettings,
};

/// The environment and the address to serve on, and the settings that have no other home
/// checked: the Redis URL's scheme, the cache namespace, the log filter.
pub(super) fn environment_and_address(
    raw: &RawSettings,
) -> anyhow::Result<(Environment, SocketAddr)> {
    let env = match raw.env.to_ascii_lowercase().as_str() {
        "development" | "dev" => Environment::Development,
        "production" | "prod" => Environment::Production,
        other => bail!("QUIRE_ENV must be `development` or `production`, got `{other}`"),
    };
    let listen: SocketAddr = raw.listen.parse().map_err(|_| {
        anyhow!(
            "QUIRE_LISTEN must be an address like 127.0.0.1:8080, got `{}`",
            raw.listen
        )
    })?;
    if let Some(url) = &raw.redis_url
        && !(url.starts_with("redis://") || url.starts_with("rediss://"))
    {
        bail!("QUIRE_REDIS_URL must start with redis:// or rediss://");
    }
    if raw.cache_namespace.is_empty()
        || !raw
            .cache_namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!("QUIRE_CACHE_NAMESPACE must be non-empty letters, digits, '-', '_' or '.'");
    }
    tracing_subscriber::EnvFilter::try_new(&raw.log)
        .map_err(|e| anyhow!("QUIRE_LOG is not a valid log filter: {e}"))?;
    Ok((env, listen))
}

/// The origins allowed to call across origins (`None`: any).
pub(super) fn cors_origins(raw: &RawSettings) -> Option<Vec<String>> {
    match raw.cors_origins.trim() {
        "*" => None,
        list => Some(
            list.split(',')
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
        ),
    }
}

/// The settings of the parts that parse their own: rate limits, GraphQL's limits, the worker,
/// operations (metrics, traces, start-up and shutdown).
pub(super) fn parts(
    raw: &RawSettings,
    env: Environment,
) -> anyhow::Result<(
    RateLimitSettings,
    GraphqlSettings,
    WorkerSettings,
    OperationsSettings,
)> {
    let rate_limits = RateLimitSettings::parse(
        raw.rate_limits_enabled,
        [
            &raw.rate_limit_auth,
            &raw.rate_limit_login_failures,
            &raw.rate_limit_write,
            &raw.rate_limit_read,
            &raw.rate_limit_mail,
        ],
        &raw.trusted_proxies,
    )?;
    let graphql = GraphqlSettings::parse(
        raw.graphql_introspection
            .unwrap_or(env != Environment::Production),
        raw.graphql_max_depth,
        raw.graphql_max_complexity,
        (raw.graphql_max_query_bytes, raw.max_body_bytes),
        raw.graphql_max_response_bytes,
    )?;
    let worker = WorkerSettings::parse(
        raw.worker,
        raw.worker_concurrency,
        raw.worker_lease_seconds,
        raw.worker_poll_ms,
        raw.shutdown_grace_seconds,
        (
            raw.views_enabled,
            raw.views_retention_months,
            raw.report_retention_hours,
        ),
        &raw.webhook_allow_hosts,
    )?;
    let operations = OperationsSettings::parse(
        (raw.metrics_enabled, &raw.metrics_listen, &raw.metrics_token),
        raw.shutdown_drain_seconds,
        (&raw.otlp_endpoint, &raw.trace_level),
        (raw.migrate_on_start, &raw.slow_statement_ms),
    )?;
    Ok((rate_limits, graphql, worker, operations))
}
