//! The settings' names, and errors reworded to name the variable a user would set.

use anyhow::anyhow;

/// Every setting's key; its environment variable is `QUIRE_` + the key in upper case.
const KEYS: &[&str] = &[
    "database_url",
    "listen",
    "jwt_secret",
    "env",
    "redis_url",
    "log",
    "jwt_ttl_seconds",
    "access_token_ttl_seconds",
    "refresh_token_ttl_seconds",
    "refresh_reuse_seconds",
    "session_idle_seconds",
    "session_max_age_seconds",
    "db_max_connections",
    "request_timeout_seconds",
    "body_timeout_seconds",
    "header_timeout_seconds",
    "db_acquire_timeout_seconds",
    "max_body_bytes",
    "cors_origins",
    "bench_endpoints",
    "cache_namespace",
    "cache_enabled",
    "graphql_introspection",
    "graphql_max_depth",
    "graphql_max_complexity",
    "graphql_max_query_bytes",
    "graphql_max_response_bytes",
    "sessions_enabled",
    "rate_limits_enabled",
    "rate_limit_auth",
    "rate_limit_login_failures",
    "rate_limit_write",
    "rate_limit_read",
    "trusted_proxies",
    "worker",
    "views_enabled",
    "worker_concurrency",
    "worker_lease_seconds",
    "worker_poll_ms",
    "shutdown_grace_seconds",
    "metrics_enabled",
    "metrics_listen",
    "metrics_token",
    "shutdown_drain_seconds",
    "otlp_endpoint",
    "trace_level",
    "migrate_on_start",
    "slow_statement_ms",
    "public_url",
    "oidc_providers",
    "oauth_require_pkce",
    "smtp_url",
    "mail_from",
    "site_name",
    "rate_limit_mail",
];

/// A type error from the layers, reworded to name the variable a user would set.
pub(super) fn name_the_setting(message: &str) -> anyhow::Error {
    match KEYS
        .iter()
        .filter(|key| message.contains(*key))
        .max_by_key(|key| key.len())
    {
        Some(key) => anyhow!("QUIRE_{} is invalid: {message}", key.to_uppercase()),
        None => anyhow!("invalid configuration: {message}"),
    }
}
