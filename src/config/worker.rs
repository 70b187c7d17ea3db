//! The settings of background work: the worker, and what its jobs keep and may reach.

use std::time::Duration;

use anyhow::bail;

/// How this process runs background jobs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    /// `quire serve` runs a worker in process (off: `QUIRE_WORKER=false` or `--no-worker`).
    pub enabled: bool,
    /// Jobs run at once per worker.
    pub concurrency: usize,
    /// How long a claimed job is held without renewal: a worker that dies gives its jobs
    /// back after this long.
    pub lease: Duration,
    /// How often an idle worker looks for due jobs (PostgreSQL also wakes it on enqueue).
    pub poll: Duration,
    /// How long running jobs (and in-flight requests) may take to finish after SIGTERM.
    pub grace: Duration,
    /// Reads of articles are recorded (`QUIRE_VIEWS_ENABLED`; off: reports count no views).
    pub record_views: bool,
    /// Whole months of article views kept before the current month.
    pub views_retention_months: u32,
    /// How long a finished report stays downloadable.
    pub reports_kept: Duration,
    /// Hosts webhooks may reach even on internal addresses (for a receiver on the same network).
    pub webhook_allow_hosts: Vec<String>,
}

impl WorkerSettings {
    pub(super) fn parse(
        enabled: bool,
        concurrency: usize,
        lease_seconds: u64,
        poll_ms: u64,
        grace_seconds: u64,
        (record_views, views_retention_months, report_retention_hours): (bool, u32, u64),
        webhook_allow_hosts: &str,
    ) -> anyhow::Result<Self> {
        if !(1..=256).contains(&concurrency) {
            bail!("QUIRE_WORKER_CONCURRENCY must be between 1 and 256");
        }
        if !(3..=3600).contains(&lease_seconds) {
            bail!("QUIRE_WORKER_LEASE_SECONDS must be between 3 and 3600");
        }
        if !(10..=60_000).contains(&poll_ms) {
            bail!("QUIRE_WORKER_POLL_MS must be between 10 and 60000");
        }
        if grace_seconds > 3600 {
            bail!("QUIRE_SHUTDOWN_GRACE_SECONDS must be at most 3600");
        }
        if !(1..=120).contains(&views_retention_months) {
            bail!("QUIRE_VIEWS_RETENTION_MONTHS must be between 1 and 120");
        }
        if !(1..=24 * 365).contains(&report_retention_hours) {
            bail!("QUIRE_REPORT_RETENTION_HOURS must be between 1 and 8760");
        }
        Ok(WorkerSettings {
            enabled,
            concurrency,
            lease: Duration::from_secs(lease_seconds),
            poll: Duration::from_millis(poll_ms),
            grace: Duration::from_secs(grace_seconds),
            record_views,
            views_retention_months,
            reports_kept: Duration::from_secs(report_retention_hours * 3600),
            webhook_allow_hosts: webhook_allow_hosts
                .split(',')
                .map(str::trim)
                .filter(|host| !host.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }
}
