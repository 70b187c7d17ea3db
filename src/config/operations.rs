//! The settings of operating Quire: where `/metrics` is served and who may read it, where traces
//! go, how a shutdown drains, who migrates the schema, and which statements are slow.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use config::ConfigBuilder;
use config::builder::DefaultState;

/// The shortest `QUIRE_METRICS_TOKEN` accepted: a bearer secret, not a password to remember.
const MIN_TOKEN_CHARS: usize = 16;

#[derive(Clone)]
pub struct OperationsSettings {
    pub metrics: MetricsSettings,
    /// After SIGTERM or SIGINT, how long `/health/ready` answers 503 while requests are still
    /// served, so that load balancers stop sending traffic before the listener closes.
    pub shutdown_drain: Duration,
    pub traces: TraceSettings,
    /// `QUIRE_MIGRATE_ON_START`: `serve` and `worker` apply pending migrations; off, they wait
    /// until something else (a migration Job, `quire migrate`) has.
    pub migrate_on_start: bool,
    /// `QUIRE_SLOW_STATEMENT_MS`: statements taking at least this long are logged and counted
    /// (`Some(ZERO)`: every statement); `None`: none.
    pub slow_statement: Option<Duration>,
}

/// Where spans go: nowhere unless `QUIRE_OTLP_ENDPOINT` names a collector.
#[derive(Debug, Clone)]
pub struct TraceSettings {
    /// The collector's OTLP/HTTP base URL (traces are posted to `/v1/traces` under it).
    pub otlp_endpoint: Option<String>,
    pub level: TraceLevel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceLevel {
    /// A span per request and per job run.
    Info,
    /// Also one per database statement.
    Debug,
}

#[derive(Clone)]
pub struct MetricsSettings {
    pub enabled: bool,
    /// A listener of its own for `/metrics` (then the API port does not serve it).
    pub listen: Option<SocketAddr>,
    /// When set, `/metrics` wants `Authorization: Bearer <token>`.
    pub token: Option<String>,
}

impl MetricsSettings {
    /// Served on the API port to whoever asks. Allowed (the figures hold no secret, and many
    /// deployments keep that port private), but production says so at start-up.
    pub fn open_to_anyone(&self) -> bool {
        self.enabled && self.listen.is_none() && self.token.is_none()
    }
}

// The token never reaches the log through Debug.
impl std::fmt::Debug for MetricsSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsSettings")
            .field("enabled", &self.enabled)
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The defaults of the settings parsed here.
pub(super) fn defaults(
    builder: ConfigBuilder<DefaultState>,
) -> Result<ConfigBuilder<DefaultState>, config::ConfigError> {
    builder
        .set_default("metrics_enabled", true)?
        .set_default("metrics_listen", "")?
        .set_default("metrics_token", "")?
        .set_default("shutdown_drain_seconds", 1)?
        .set_default("otlp_endpoint", "")?
        .set_default("trace_level", "info")?
        .set_default("migrate_on_start", true)?
        .set_default("slow_statement_ms", "500")
}

impl OperationsSettings {
    pub(super) fn parse(
        (metrics_enabled, metrics_listen, metrics_token): (bool, &str, &str),
        shutdown_drain_seconds: u64,
        (otlp_endpoint, trace_level): (&str, &str),
        (migrate_on_start, slow_statement_ms): (bool, &str),
    ) -> anyhow::Result<Self> {
        let listen = match metrics_listen.trim() {
            "" => None,
            address => Some(address.parse::<SocketAddr>().with_context(|| {
                format!(
                    "QUIRE_METRICS_LISTEN must be an address like 0.0.0.0:9090, got `{address}`"
                )
            })?),
        };
        let token = match metrics_token.trim() {
            "" => None,
            token if token.chars().count() < MIN_TOKEN_CHARS => {
                bail!("QUIRE_METRICS_TOKEN must be at least {MIN_TOKEN_CHARS} characters")
            }
            token => Some(token.to_owned()),
        };
        if shutdown_drain_seconds > 300 {
            bail!("QUIRE_SHUTDOWN_DRAIN_SECONDS must be at most 300");
        }
        Ok(OperationsSettings {
            metrics: MetricsSettings {
                enabled: metrics_enabled,
                listen,
                token,
            },
            shutdown_drain: Duration::from_secs(shutdown_drain_seconds),
            traces: TraceSettings::parse(otlp_endpoint, trace_level)?,
            migrate_on_start,
            slow_statement: parse_slow_statement(slow_statement_ms)?,
        })
    }
}

fn parse_slow_statement(text: &str) -> anyhow::Result<Option<Duration>> {
    match text.trim().to_ascii_lowercase().as_str() {
        "" | "off" => Ok(None),
        millis => millis
            .parse::<u64>()
            .map(|millis| Some(Duration::from_millis(millis)))
            .with_context(|| {
                format!("QUIRE_SLOW_STATEMENT_MS must be milliseconds (0: every statement) or `off`, got `{text}`")
            }),
    }
}

impl TraceSettings {
    fn parse(endpoint: &str, level: &str) -> anyhow::Result<Self> {
        let otlp_endpoint = match endpoint.trim() {
            "" => None,
            endpoint => {
                let uri: axum::http::Uri = endpoint.parse().ok().filter(|uri: &axum::http::Uri| {
                    matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
                }).with_context(|| {
                    format!("QUIRE_OTLP_ENDPOINT must be a collector's http(s) URL like http://otel-collector:4318, got `{endpoint}`")
                })?;
                Some(uri.to_string())
            }
        };
        let level = match level.trim().to_ascii_lowercase().as_str() {
            "info" => TraceLevel::Info,
            "debug" => TraceLevel::Debug,
            other => bail!("QUIRE_TRACE_LEVEL must be `info` or `debug`, got `{other}`"),
        };
        Ok(TraceSettings {
            otlp_endpoint,
            level,
        })
    }
}
