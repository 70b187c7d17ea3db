//! The `jobs` figure: no-op jobs per second through Quire's queue with one `quire worker`
//! process, and how long a job waits from its enqueue until a worker claims it. Run against a
//! database of its own (the queue's table must hold nothing else).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use quire::db::entities::jobs as rows;
use quire::jobs::{self, JobPayload, Noop};
use sea_orm::{
    ColumnTrait, Database, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    TransactionTrait,
};

pub struct JobsOptions {
    pub database_url: String,
    pub quire_binary: String,
    pub jobs: u64,
    pub concurrency: usize,
    pub latency_samples: usize,
}

pub struct JobsReport {
    pub jobs: u64,
    pub seconds: f64,
    pub latencies_ms: Vec<i64>,
}

impl JobsReport {
    pub fn per_second(&self) -> f64 {
        self.jobs as f64 / self.seconds
    }

    pub fn latency_percentile(&self, p: f64) -> i64 {
        let mut sorted = self.latencies_ms.clone();
        sorted.sort_unstable();
        let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(at).copied().unwrap_or_default()
    }
}

/// Stops the worker when the figure is done (or failed).
struct WorkerProcess(Child);

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(options: &JobsOptions) -> anyhow::Result<JobsReport> {
    let db = Database::connect(&options.database_url).await?;
    quire::db::migrate(&db).await?;
    anyhow::ensure!(
        rows::Entity::find().count(&db).await? == 0,
        "the jobs table of {} is not empty: give the benchmark a database of its own",
        options.database_url
    );
    eprintln!("jobs: enqueueing {} no-op jobs", options.jobs);
    let mut left = options.jobs;
    while left > 0 {
        let txn = db.begin().await?;
        for _ in 0..left.min(1_000) {
            jobs::enqueue(&txn, Noop::default().job()).await?;
        }
        txn.commit().await?;
        left = left.saturating_sub(1_000);
    }
    let _worker = start_worker(options)?;
    // From the first claim to an empty queue.
    let mut started = None;
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let pending = rows::Entity::find().count(&db).await?;
        if started.is_none() && pending < options.jobs {
            started = Some(Instant::now());
        }
        if pending == 0 {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "{pending} jobs still pending");
        // Counting is a scan: often enough to time the drain, seldom enough not to slow it.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = started.map_or(0.0, |s| s.elapsed().as_secs_f64()).max(1e-3);
    eprintln!(
        "jobs: measuring enqueue-to-claim latency over {} jobs",
        options.latency_samples
    );
    let mut latencies_ms = vec![];
    for _ in 0..options.latency_samples {
        latencies_ms.push(claim_latency(&db).await?);
    }
    Ok(JobsReport {
        jobs: options.jobs,
        seconds,
        latencies_ms,
    })
}

fn start_worker(options: &JobsOptions) -> anyhow::Result<WorkerProcess> {
    let mut command = Command::new(&options.quire_binary);
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("QUIRE_")) {
        command.env_remove(key);
    }
    let child = command
        .arg("worker")
        .env("QUIRE_DATABASE_URL", &options.database_url)
        .env(
            "QUIRE_JWT_SECRET",
            "benchmark-secret-benchmark-secret-0123456789",
        )
        .env("QUIRE_LOG", "warn")
        .env("QUIRE_WORKER_CONCURRENCY", options.concurrency.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("starting {} worker: {e}", options.quire_binary))?;
    Ok(WorkerProcess(child))
}

/// Enqueues one job that runs for a while and reads when it was claimed: the claim stamps
/// `updated_at`, in the database's own milliseconds like `created_at`.
async fn claim_latency(db: &DatabaseConnection) -> anyhow::Result<i64> {
    let id = jobs::enqueue(
        db,
        Noop {
            sleep_ms: Some(200),
            ..Noop::default()
        }
        .job(),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let row = rows::Entity::find()
            .filter(rows::Column::Id.eq(id))
            .one(db)
            .await?;
        match row {
            Some(row) if row.state == jobs::JobState::Running.as_str() => {
                // Let it finish before the next, so each is claimed by an idle worker.
                while rows::Entity::find_by_id(id).one(db).await?.is_some() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                return Ok(row.updated_at - row.created_at);
            }
            None => anyhow::bail!("job {id} finished before it was seen running"),
            Some(_) => {}
        }
        anyhow::ensure!(Instant::now() < deadline, "job {id} was never claimed");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}
