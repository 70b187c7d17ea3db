//! The worker: claims due jobs while it has room, runs each in a task of its own, renews their
//! leases, reaps jobs whose worker died, and on shutdown stops claiming, lets running jobs
//! finish within a grace period and hands the rest back to the queue.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use sea_orm::{DatabaseConnection, DbBackend};
use tokio::sync::{Notify, Semaphore, mpsc, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::kinds::{self, Kind};
use super::schedule::{self, SCHEDULES};
use super::{CHANNEL, Context, Failure, store};
use crate::db::entities::jobs;

/// How a worker runs.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Jobs run at once.
    pub concurrency: usize,
    /// How long a claim holds a job without renewal; renewed every third of it.
    pub lease: Duration,
    /// How often to look for due jobs when nothing wakes the worker.
    pub poll: Duration,
    /// How long running jobs may take to finish once shutdown starts.
    pub grace: Duration,
}

pub struct Worker {
    context: Context,
    db: DatabaseConnection,
    options: WorkerOptions,
    /// Names this worker's claims (with a serial number), for `lease_owner`.
    name: String,
    /// The claims whose jobs are still running.
    running: Arc<Mutex<HashSet<String>>>,
    wake: Arc<Notify>,
}

impl Worker {
    pub fn new(context: Context, options: WorkerOptions) -> Worker {
        let name = format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple());
        Worker {
            db: context.db.clone(),
            context,
            options,
            name: name[..24].to_owned(),
            running: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// Runs until `stop` turns true, then shuts down as described above.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(worker = %self.name, concurrency = self.options.concurrency, "worker started");
        let upkeep = tokio::spawn(upkeep(
            self.db.clone(),
            self.running.clone(),
            self.options.lease,
        ));
        let listener = (self.db.get_database_backend() == DbBackend::Postgres)
            .then(|| tokio::spawn(listen(self.db.clone(), self.wake.clone())));
        let scheduler = tokio::spawn(schedule::run(
            self.db.clone(),
            SCHEDULES.to_vec(),
            stop.clone(),
        ));
        let (finished_sender, finished_jobs) = mpsc::unbounded_channel();
        let finisher = tokio::spawn(finish_in_batches(self.db.clone(), finished_jobs));
        let concurrency = self.options.concurrency.max(1);
        let room = Arc::new(Semaphore::new(concurrency));
        let mut tasks = JoinSet::new();
        let mut serial: u64 = 0;
        while !*stop.borrow() {
            let free = room.available_permits();
            let mut claimed = 0;
            // A claim is a transaction whatever its size: while jobs run, wait until at least
            // half the slots are free rather than claim one or two at a time.
            if free > 0 && (free * 2 >= concurrency || tasks.is_empty()) {
                serial += 1;
                let owner = format!("{}:{serial}", self.name);
                match store::claim(&self.db, &owner, free as u64, self.options.lease).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        if claimed > 0 {
                            lock(&self.running).insert(owner.clone());
                        }
                        let batch = Arc::new(Batch {
                            owner,
                            left: Mutex::new(claimed),
                            running: self.running.clone(),
                        });
                        for job in jobs {
                            let Ok(permit) = room.clone().acquire_owned().await else {
                                break;
                            };
                            let (context, batch) = (self.context.clone(), batch.clone());
                            let finished = finished_sender.clone();
                            tasks.spawn(async move {
                                run_one(&context, job, &batch, &finished).await;
                                batch.done();
                                drop(permit);
                            });
                        }
                    }
                    Err(err) => tracing::warn!(error = %err, "claiming jobs failed"),
                }
            }
            while tasks.try_join_next().is_some() {}
            if free > 0 && claimed == free {
                // A full batch: more may be due right now.
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(self.options.poll) => {}
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!(running = tasks.len(), "worker stopping: no more claims");
        self.wind_down(tasks, finished_sender, finisher).await;
        upkeep.abort();
        let _ = scheduler.await;
        if let Some(listener) = listener {
            listener.abort();
        }
        tracing::info!("worker stopped");
    }

    /// Lets the running jobs finish within the grace period (aborting the rest), records the
    /// last successes and hands every unfinished job back to the queue.
    async fn wind_down(
        &self,
        mut tasks: JoinSet<()>,
        finished_sender: Finished,
        finisher: tokio::task::JoinHandle<()>,
    ) {
        let finished = tokio::time::timeout(self.options.grace, async {
            while tasks.join_next().await.is_some() {}
        })
        .await;
        if finished.is_err() {
            tasks.abort_all();
            while tasks.join_next().await.is_some() {}
        }
        // Every task is over: the finisher records the last successes, then stops.
        drop(finished_sender);
        let _ = finisher.await;
        let unfinished: Vec<String> = lock(&self.running).drain().collect();
        match store::release(&self.db, &unfinished).await {
            Ok(0) => {}
            Ok(released) => tracing::warn!(
                released,
                "jobs still running at shutdown handed back to the queue"
            ),
            Err(err) => {
                tracing::warn!(error = %err, "handing unfinished jobs back failed; their leases will run out")
            }
        }
    }
}

/// The jobs of one claim: its owner stays renewed until the last of them is done.
struct Batch {
    owner: String,
    left: Mutex<usize>,
    running: Arc<Mutex<HashSet<String>>>,
}

impl Batch {
    fn done(&self) {
        let mut left = lock(&self.left);
        *left = left.saturating_sub(1);
        if *left == 0 {
            lock(&self.running).remove(&self.owner);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Succeeded jobs on their way to [`finish_in_batches`].
type Finished = mpsc::UnboundedSender<(i64, String)>;

async fn run_one(context: &Context, job: jobs::Model, batch: &Batch, finished: &Finished) {
    let db = &context.db;
    let owner = batch.owner.as_str();
    let Some(kind) = Kind::from_name(&job.kind) else {
        let error = format!("no such kind of job: {}", job.kind);
        if let Err(err) = store::fail(db, job.id, owner, &error, None).await {
            tracing::warn!(job = job.id, error = %err, "recording a failed job failed");
        }
        return;
    };
    let span = tracing::info_span!(
        target: "quire::jobs",
        "job",
        otel.name = format!("job {}", kind.name()),
        otel.status_code = tracing::field::Empty,
        job.id = job.id,
        job.kind = kind.name(),
        job.attempt = job.attempts,
    );
    let started = std::time::Instant::now();
    let outcome = AssertUnwindSafe(kinds::run(context, kind, &job))
        .catch_unwind()
        .instrument(span.clone())
        .await
        .unwrap_or_else(|_| Err(Failure::Transient("the job panicked".to_owned())));
    if outcome.is_err() {
        span.record("otel.status_code", "ERROR");
    }
    let took = started.elapsed().as_secs_f64();
    let took_ms = took * 1000.0;
    let counted = if outcome.is_ok() {
        "succeeded"
    } else {
        "failed"
    };
    metrics::counter!("quire_job_runs_total", "kind" => kind.name(), "outcome" => counted)
        .increment(1);
    metrics::histogram!("quire_job_duration_seconds", "kind" => kind.name()).record(took);
    let recorded = match outcome {
        Ok(()) => {
            tracing::debug!(job = job.id, kind = kind.name(), took_ms, "job done");
            // The receiver lives until every task is over.
            let _ = finished.send((job.id, owner.to_owned()));
            Ok(())
        }
        Err(failure) => {
            let retry = kind.retry();
            let retry_in = match failure {
                Failure::Transient(_) if job.attempts < job.max_attempts => {
                    Some(retry.backoff(job.attempts))
                }
                Failure::Transient(_) | Failure::Permanent(_) => None,
            };
            let error = failure.reason();
            tracing::warn!(job = job.id, kind = kind.name(), attempt = job.attempts, took_ms, %error, dead = retry_in.is_none(), "job failed");
            store::fail(db, job.id, owner, error, retry_in).await
        }
    };
    if let Err(err) = recorded {
        // The lease runs out and the job runs again: at least once.
        tracing::warn!(job = job.id, error = %err, "recording a job's outcome failed");
    }
}

/// Deletes succeeded jobs in batches: one statement for every job that finished meanwhile, not
/// one per job. A batch that fails is left to the leases: those jobs run again.
/// The pauses between attempts at recording finished jobs (the last, zero: give up).
const FINISH_RETRIES: [Duration; 5] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_secs(1),
    Duration::from_secs(3),
    Duration::ZERO,
];

async fn finish_in_batches(
    db: DatabaseConnection,
    mut finished: mpsc::UnboundedReceiver<(i64, String)>,
) {
    let mut batch = Vec::new();
    while finished.recv_many(&mut batch, 1_000).await > 0 {
        // Retried while the leases still hold: a finish that is not recorded runs the job again.
        for pause in FINISH_RETRIES {
            match store::finish(&db, &batch).await {
                Ok(_) => break,
                Err(err) if pause.is_zero() => {
                    tracing::warn!(error = %err, jobs = batch.len(), "recording finished jobs failed; they run again when their leases run out");
                }
                Err(err) => {
                    tracing::debug!(error = %err, "recording finished jobs failed; retrying");
                    tokio::time::sleep(pause).await;
                }
            }
        }
        batch.clear();
    }
}

/// Renews the leases of running jobs every third of a lease, and reaps expired ones.
async fn upkeep(db: DatabaseConnection, running: Arc<Mutex<HashSet<String>>>, lease: Duration) {
    let mut every = tokio::time::interval(lease / 3);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let owners: Vec<String> = lock(&running).iter().cloned().collect();
        if let Err(err) = store::renew(&db, &owners, lease).await {
            tracing::warn!(error = %err, "renewing job leases failed");
        }
        match store::reap(&db).await {
            Ok(0) => {}
            Ok(reaped) => tracing::warn!(reaped, "jobs whose worker stopped were queued again"),
            Err(err) => tracing::warn!(error = %err, "reaping expired jobs failed"),
        }
    }
}

/// Wakes the worker on every NOTIFY of a new job (PostgreSQL), reconnecting when the
/// connection drops; polling covers the gaps.
async fn listen(db: DatabaseConnection, wake: Arc<Notify>) {
    let pool = db.get_postgres_connection_pool().clone();
    loop {
        match sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await {
            Ok(mut listener) => {
                if let Err(err) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %err, "LISTEN for jobs failed");
                } else {
                    while listener.recv().await.is_ok() {
                        wake.notify_one();
                    }
                }
            }
            Err(err) => tracing::warn!(error = %err, "connecting to LISTEN for jobs failed"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
