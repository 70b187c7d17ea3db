//! Settings layered from defaults, an optional TOML file and `QUIRE_*` environment variables,
//! validated once at start-up so that a bad value stops the process with the setting's name.

use std::net::SocketAddr;
use std::time::Duration;

mod graphql;
mod keys;
mod limits;
mod mail;
mod oauth;
mod operations;
mod parse;
mod ranges;
mod secret;
mod urls;
mod worker;

use anyhow::{Context, bail};
use serde::Deserialize;

pub use graphql::GraphqlSettings;
use keys::name_the_setting;
pub use limits::{Quota, RateLimitSettings};
pub use mail::{MailSettings, MailTransport};
pub use oauth::OidcProvider;
pub use operations::{MetricsSettings, OperationsSettings, TraceLevel, TraceSettings};
use secret::resolve_jwt_secret;
pub use urls::{Backend, backend_of, redact_url, sqlite_file};
pub use worker::WorkerSettings;

const DEFAULT_DATABASE_URL: &str = "sqlite://quire.db";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    Development,
    Production,
}

/// Raw values from the layers; every field is checked in [`Settings::validate`].
#[derive(Debug, Deserialize)]
struct RawSettings {
    database_url: String,
    listen: String,
    jwt_secret: Option<String>,
    env: String,
    redis_url: Option<String>,
    log: String,
    jwt_ttl_seconds: u64,
    access_token_ttl_seconds: u64,
    refresh_token_ttl_seconds: u64,
    refresh_reuse_seconds: u64,
    session_idle_seconds: u64,
    session_max_age_seconds: u64,
    db_max_connections: u32,
    request_timeout_seconds: u64,
    body_timeout_seconds: u64,
    header_timeout_seconds: u64,
    db_acquire_timeout_seconds: u64,
    max_body_bytes: usize,
    cors_origins: String,
    bench_endpoints: bool,
    cache_namespace: String,
    cache_enabled: bool,
    graphql_introspection: Option<bool>,
    graphql_max_depth: usize,
    graphql_max_complexity: usize,
    graphql_max_query_bytes: usize,
    graphql_max_response_bytes: usize,
    sessions_enabled: bool,
    rate_limits_enabled: bool,
    rate_limit_auth: String,
    rate_limit_login_failures: String,
    rate_limit_write: String,
    rate_limit_read: String,
    trusted_proxies: String,
    worker: bool,
    worker_concurrency: usize,
    worker_lease_seconds: u64,
    worker_poll_ms: u64,
    shutdown_grace_seconds: u64,
    views_enabled: bool,
    views_retention_months: u32,
    report_retention_hours: u64,
    webhook_allow_hosts: String,
    metrics_enabled: bool,
    metrics_listen: String,
    metrics_token: String,
    shutdown_drain_seconds: u64,
    otlp_endpoint: String,
    trace_level: String,
    migrate_on_start: bool,
    slow_statement_ms: String,
    public_url: String,
    oidc_providers: String,
    oauth_require_pkce: bool,
    smtp_url: String,
    mail_from: String,
    site_name: String,
    rate_limit_mail: String,
}

/// Validated settings. `jwt_secret` is resolved (explicit, or generated and kept beside the
/// embedded database in development).
#[derive(Clone)]
pub struct Settings {
    pub database_url: String,
    pub backend: Backend,
    pub listen: SocketAddr,
    pub jwt_secret: Vec<u8>,
    pub env: Environment,
    pub redis_url: Option<String>,
    pub log: String,
    pub jwt_ttl: Duration,
    /// Lifetime of a bearer access token from `POST /api/auth/token` (short: it cannot be
    /// revoked one by one, only all at once).
    pub access_token_ttl: Duration,
    /// Lifetime of a refresh token (each refresh issues a new one).
    pub refresh_token_ttl: Duration,
    /// A spent refresh token presented again this soon is a retry (two tabs, a lost answer)
    /// and gets the same successor; later, it is reuse and revokes its family.
    pub refresh_reuse_window: Duration,
    /// A browser session ends after this long unused...
    pub session_idle_timeout: Duration,
    /// ...or this long after sign-in, whichever comes first.
    pub session_max_age: Duration,
    pub db_max_connections: u32,
    pub request_timeout: Duration,
    /// The longest a client may take to send a request body (408 after it); never more than
    /// `request_timeout`.
    pub body_timeout: Duration,
    /// The longest a client may take to send a request's headers (the connection is closed).
    pub header_timeout: Duration,
    /// The longest a request waits for a database connection before answering 503.
    pub db_acquire_timeout: Duration,
    pub max_body_bytes: usize,
    /// `None` means any origin (token auth is not an ambient credential, so this is safe).
    pub cors_origins: Option<Vec<String>>,
    /// Serves `/bench/ceiling`, the benchmark's static-response ceiling scenario.
    pub bench_endpoints: bool,
    /// Prefix of every cache key, so deployments can share one Redis.
    pub cache_namespace: String,
    /// `false` turns every cache layer off (for measurements and debugging).
    pub cache_enabled: bool,
    pub graphql: GraphqlSettings,
    /// Cookie sessions (`/api/session`): off leaves header tokens as the only credential.
    pub sessions_enabled: bool,
    pub rate_limits: RateLimitSettings,
    pub worker: WorkerSettings,
    pub operations: OperationsSettings,
    /// `QUIRE_PUBLIC_URL`, the base of the URLs this server gives out (OAuth2 metadata).
    pub public_url: Option<String>,
    /// `QUIRE_OIDC_PROVIDERS`: where people may sign in from.
    pub oidc_providers: Vec<OidcProvider>,
    /// `QUIRE_OAUTH_REQUIRE_PKCE`: every client's authorization request carries a PKCE
    /// challenge (OAuth 2.1); `false` lets confidential clients leave it out.
    pub oauth_require_pkce: bool,
    pub mail: MailSettings,
}

// Secrets never reach the log through Debug.
impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database_url", &redact_url(&self.database_url))
            .field("listen", &self.listen)
            .field("env", &self.env)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("log", &self.log)
            .field("metrics", &self.operations.metrics)
            .field("mail", &self.mail)
            .finish_non_exhaustive()
    }
}

impl Settings {
    /// Loads defaults, then the file named by `QUIRE_CONFIG` (or `quire.toml` if present), then
    /// the environment.
    pub fn load() -> anyhow::Result<Self> {
        Self::load_with(&[])
    }

    /// [`Settings::load`] with explicit values on top of every layer (for embedding and tests).
    pub fn load_with(overrides: &[(&str, &str)]) -> anyhow::Result<Self> {
        let file = std::env::var("QUIRE_CONFIG").ok();
        let mut builder = config::Config::builder()
            .set_default("database_url", DEFAULT_DATABASE_URL)?
            .set_default("listen", "127.0.0.1:8080")?
            .set_default("env", "development")?
            .set_default("log", "info")?
            .set_default("jwt_ttl_seconds", 86_400)?
            .set_default("access_token_ttl_seconds", 900)?
            .set_default("refresh_token_ttl_seconds", 30 * 86_400)?
            .set_default("refresh_reuse_seconds", 5)?
            .set_default("session_idle_seconds", 2 * 86_400)?
            .set_default("session_max_age_seconds", 14 * 86_400)?
            .set_default("db_max_connections", 16)?
            .set_default("request_timeout_seconds", 30)?
            .set_default("body_timeout_seconds", 10)?
            .set_default("header_timeout_seconds", 10)?
            .set_default("db_acquire_timeout_seconds", 2)?
            .set_default("max_body_bytes", 1_048_576)?
            .set_default("cors_origins", "*")?
            .set_default("bench_endpoints", false)?
            .set_default("cache_namespace", "quire")?
            .set_default("cache_enabled", true)?
            .set_default("graphql_max_depth", 15)?
            .set_default("graphql_max_complexity", 5_000)?
            .set_default("graphql_max_query_bytes", 16_384)?
            .set_default("graphql_max_response_bytes", 8 * 1024 * 1024)?
            .set_default("sessions_enabled", true)?
            .set_default("rate_limits_enabled", true)?
            .set_default("rate_limit_auth", "10/min")?
            .set_default("rate_limit_login_failures", "5/min")?
            .set_default("rate_limit_write", "60/min")?
            .set_default("rate_limit_read", "1200/min")?
            .set_default("trusted_proxies", "")?
            .set_default("worker", true)?
            .set_default("worker_concurrency", 8)?
            .set_default("worker_lease_seconds", 30)?
            .set_default("worker_poll_ms", 1_000)?
            .set_default("shutdown_grace_seconds", 30)?
            .set_default("views_enabled", true)?
            .set_default("views_retention_months", 12)?
            .set_default("report_retention_hours", 168)?
            .set_default("webhook_allow_hosts", "")?
            .set_default("public_url", "")?
            .set_default("oidc_providers", "")?
            .set_default("oauth_require_pkce", true)?
            .set_default("smtp_url", "")?
            .set_default("mail_from", mail::DEFAULT_FROM)?
            .set_default("site_name", "Quire")?
            .set_default("rate_limit_mail", "5/h")?;
        builder = operations::defaults(builder)?;
        builder = match &file {
            Some(path) => builder.add_source(config::File::with_name(path).required(true)),
            None => builder.add_source(config::File::with_name("quire.toml").required(false)),
        };
        builder =
            builder.add_source(config::Environment::with_prefix("QUIRE").prefix_separator("_"));
        for (key, value) in overrides {
            builder = builder.set_override(*key, *value)?;
        }
        let raw: RawSettings = builder
            .build()
            .context("reading configuration")?
            .try_deserialize()
            .map_err(|e| name_the_setting(&e.to_string()))?;
        Self::validate(raw)
    }

    fn validate(raw: RawSettings) -> anyhow::Result<Self> {
        let (env, listen) = parse::environment_and_address(&raw)?;
        let backend = backend_of(&raw.database_url)?;
        ranges::check(&raw)?;
        let cors_origins = parse::cors_origins(&raw);
        let (rate_limits, graphql, worker, operations) = parse::parts(&raw, env)?;
        let jwt_secret = resolve_jwt_secret(raw.jwt_secret, env, &raw.database_url, backend)?;
        // A credentialed cross-origin request is only possible for listed origins; a session
        // cookie with "any origin" would mean a misconfiguration waiting to be relaxed.
        if env == Environment::Production && raw.sessions_enabled && cors_origins.is_none() {
            bail!(
                "production refuses QUIRE_CORS_ORIGINS=* with cookie sessions on: list the \
                 origins of your web apps, or set QUIRE_SESSIONS_ENABLED=false"
            );
        }
        let public_url = oauth::parse_public_url(&raw.public_url)?;
        let mail = MailSettings::parse(
            &raw.smtp_url,
            &raw.mail_from,
            &raw.site_name,
            (
                env == Environment::Production,
                &raw.database_url,
                public_url.as_deref(),
            ),
        )?;
        Ok(Settings {
            database_url: raw.database_url,
            backend,
            listen,
            jwt_secret,
            env,
            redis_url: raw.redis_url,
            log: raw.log,
            jwt_ttl: Duration::from_secs(raw.jwt_ttl_seconds),
            access_token_ttl: Duration::from_secs(raw.access_token_ttl_seconds),
            refresh_token_ttl: Duration::from_secs(raw.refresh_token_ttl_seconds),
            refresh_reuse_window: Duration::from_secs(raw.refresh_reuse_seconds),
            session_idle_timeout: Duration::from_secs(raw.session_idle_seconds),
            session_max_age: Duration::from_secs(raw.session_max_age_seconds),
            db_max_connections: raw.db_max_connections,
            request_timeout: Duration::from_secs(raw.request_timeout_seconds),
            body_timeout: Duration::from_secs(
                raw.body_timeout_seconds.min(raw.request_timeout_seconds),
            ),
            header_timeout: Duration::from_secs(raw.header_timeout_seconds),
            db_acquire_timeout: Duration::from_secs(raw.db_acquire_timeout_seconds),
            max_body_bytes: raw.max_body_bytes,
            cors_origins,
            bench_endpoints: raw.bench_endpoints,
            cache_namespace: raw.cache_namespace,
            cache_enabled: raw.cache_enabled,
            graphql,
            sessions_enabled: raw.sessions_enabled,
            rate_limits,
            worker,
            operations,
            public_url,
            oidc_providers: oauth::parse_oidc_providers(
                &raw.oidc_providers,
                env == Environment::Production,
            )?,
            oauth_require_pkce: raw.oauth_require_pkce,
            mail,
        })
    }
}
