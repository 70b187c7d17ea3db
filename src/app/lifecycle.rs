//! Running Quire: serving (with a worker in process or not) and `quire worker`, each until
//! SIGTERM or SIGINT, then shutting down in order. Readiness turns 503 at once; requests are
//! still served for `QUIRE_SHUTDOWN_DRAIN_SECONDS` (load balancers take that long to stop
//! sending); then the listener closes, in-flight requests and running jobs get
//! `QUIRE_SHUTDOWN_GRACE_SECONDS` to finish, unfinished jobs go back to the queue, and the
//! process exits 0.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::cache::Cache;
use crate::config::{Environment, MailTransport, Settings};
use crate::mail::Mailer;
use crate::observability::scrape::{MetricsEndpoint, metrics};
use crate::outbound::Outbound;
use crate::state::AppState;
use crate::{http, jobs};

/// Serves until SIGINT or SIGTERM (see the module); with `run_worker`, runs background jobs in
/// this process too, stopping them alongside.
pub async fn serve(state: AppState, run_worker: bool) -> anyhow::Result<()> {
    let settings = state.settings.clone();
    let listener = bind(settings.listen, "QUIRE_LISTEN").await?;
    let local = listener.local_addr()?;
    let backend = format!("{:?}", settings.backend).to_lowercase();
    tracing::info!(%local, backend, "quire is serving");
    let metrics_at = serve_metrics_apart(
        &settings,
        &state.domain.core.db,
        Some(&state.domain.core.cache),
    )
    .await?
    .map_or_else(
        || format!("http://{local}/metrics"),
        |at| format!("http://{at}/metrics"),
    );
    print_banner(&settings, local, &metrics_at, run_worker);
    if settings.env == Environment::Production && settings.operations.metrics.open_to_anyone() {
        tracing::warn!(
            "/metrics is open to anyone who reaches the API port: set QUIRE_METRICS_LISTEN (a \
             port of its own) or QUIRE_METRICS_TOKEN"
        );
    }
    report_cache_counters(state.domain.core.cache.clone());
    let (stop, stopped) = watch::channel(false);
    let domain = state.domain.clone();
    let worker = run_worker.then(|| {
        let context = jobs::Context {
            db: domain.core.db.clone(),
            outbound: domain.webhooks.outbound().clone(),
            views_retention_months: settings.worker.views_retention_months,
            reports_kept: settings.worker.reports_kept,
            mailer: domain.accounts.mailer.clone(),
        };
        tokio::spawn(jobs::Worker::new(context, worker_options(&settings)).run(stopped))
    });
    let lifecycle = state.lifecycle.clone();
    let drain = settings.operations.shutdown_drain;
    let shutdown = async move {
        shutdown_signal().await;
        lifecycle.begin_shutdown();
        tracing::info!(
            drain_seconds = drain.as_secs(),
            "shutting down: readiness answers 503; still serving while load balancers notice"
        );
        tokio::time::sleep(drain).await;
        let _ = stop.send(true);
    };
    let limits = http::server::Limits {
        header_timeout: settings.header_timeout,
        grace: settings.worker.grace,
    };
    http::server::serve(listener, super::router(state), limits, shutdown).await;
    domain.views.shutdown().await;
    if let Some(worker) = worker {
        let _ = worker.await;
    }
    tracing::info!("quire stopped");
    Ok(())
}

/// Where the APIs, the docs and the rest are, and what this process was configured to do.
fn print_banner(settings: &Settings, local: SocketAddr, metrics_at: &str, run_worker: bool) {
    eprintln!(
        "Quire is serving on http://{local}\n  Start page:         http://{local}/\n  RealWorld REST API: http://{local}/api  (e.g. http://{local}/api/articles)\n  API docs:           http://{local}/docs  (OpenAPI: http://{local}/api/openapi.json)\n  GraphQL API:        http://{local}/graphql  (POST; open it in a browser for the GraphiQL IDE)\n  OAuth2 for apps:    http://{local}/.well-known/oauth-authorization-server\n  Health:             http://{local}/health/live, http://{local}/health/ready\n  Metrics:            {}\n  Database:           {}",
        if settings.operations.metrics.enabled {
            metrics_at
        } else {
            "off (QUIRE_METRICS_ENABLED=false)"
        },
        crate::config::redact_url(&settings.database_url)
    );
    eprintln!(
        "  Mail:               {}",
        match &settings.mail.transport {
            MailTransport::Smtp(url) => format!("SMTP {}", crate::config::redact_url(url)),
            MailTransport::Folder(folder) => format!(
                "written to {}/ and the log (set QUIRE_SMTP_URL to send it)",
                folder.display()
            ),
            MailTransport::Off =>
                "off: set QUIRE_SMTP_URL (verification and password reset need it)".into(),
        }
    );
    eprintln!(
        "  Background jobs:    {}",
        if run_worker {
            "run in this process (QUIRE_WORKER=false or --no-worker to leave them to `quire worker`)"
        } else {
            "left to `quire worker` processes"
        }
    );
}

/// Runs background jobs until SIGINT or SIGTERM, then lets the running ones finish within the
/// grace period and hands the rest back to the queue.
pub async fn work(db: DatabaseConnection, settings: &Settings) -> anyhow::Result<()> {
    eprintln!(
        "Quire worker: running background jobs ({} at a time) from {}",
        settings.worker.concurrency,
        crate::config::redact_url(&settings.database_url)
    );
    if let Some(at) = serve_metrics_apart(settings, &db, None).await? {
        eprintln!("  Metrics:            http://{at}/metrics");
    }
    let context = jobs::Context {
        db,
        outbound: Outbound::new(settings.worker.webhook_allow_hosts.clone())?,
        views_retention_months: settings.worker.views_retention_months,
        reports_kept: settings.worker.reports_kept,
        mailer: Mailer::new(settings)?,
    };
    let (stop, stopped) = watch::channel(false);
    let worker = tokio::spawn(jobs::Worker::new(context, worker_options(settings)).run(stopped));
    shutdown_signal().await;
    let _ = stop.send(true);
    let _ = worker.await;
    Ok(())
}

/// `quire health`: whether the server listening on `listen` (this container's) is ready.
pub async fn check_health(listen: SocketAddr) -> anyhow::Result<()> {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr {
            SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(3))
        .build()?;
    let response = client
        .get(format!("http://{addr}/health/ready"))
        .send()
        .await
        .map_err(|e| anyhow::anyhow!("no answer from http://{addr}/health/ready: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        anyhow::bail!("not ready ({status}): {body}");
    }
    println!("{body}");
    Ok(())
}

async fn bind(addr: SocketAddr, setting: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} ({setting}): {e}"))
}

/// With `QUIRE_METRICS_LISTEN`, serves `/metrics` and `/health/live` there (until the process exits, so that the
/// shutdown itself can be watched); returns the address.
async fn serve_metrics_apart(
    settings: &Settings,
    db: &DatabaseConnection,
    cache: Option<&Cache>,
) -> anyhow::Result<Option<SocketAddr>> {
    let metrics_settings = &settings.operations.metrics;
    let (true, Some(addr)) = (metrics_settings.enabled, metrics_settings.listen) else {
        return Ok(None);
    };
    let listener = bind(addr, "QUIRE_METRICS_LISTEN").await?;
    let local = listener.local_addr()?;
    let endpoint = MetricsEndpoint::new(
        db.clone(),
        cache.cloned(),
        metrics_settings.token.as_deref(),
    );
    // The liveness probe of a process without the API (`quire worker`) asks here: unlike
    // `/metrics`, it needs no token.
    let router = Router::new()
        .route("/metrics", get(metrics))
        .route("/health/live", get(super::pages::live))
        .fallback(http::not_found)
        .with_state(endpoint);
    let limits = http::server::Limits {
        header_timeout: settings.header_timeout,
        grace: Duration::ZERO,
    };
    tokio::spawn(http::server::serve(
        listener,
        router,
        limits,
        std::future::pending::<()>(),
    ));
    Ok(Some(local))
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
    tracing::info!("shutdown signal received");
}
