//! Background jobs: a durable queue in the application database. A job is enqueued in the
//! transaction of the change that causes it (rolled back, it never existed; committed, it will
//! run), claimed by one worker at a time under a lease it keeps renewing, retried with
//! exponential backoff and jitter, and kept as `dead` once out of attempts. A worker that dies
//! loses its lease, and the reaper on any live worker queues its jobs again: delivery is at
//! least once, and a job runs on at most one worker at a time. Completed jobs are deleted, so
//! the table holds only what is pending. The design follows graphile-worker, River and Oban.
//!
//! No maintained crate covers PostgreSQL, MySQL and SQLite on our sqlx with same-transaction
//! enqueue, so the queue is ours (see the README).

mod kinds;
mod payload;
mod store;
mod webhook;
mod worker;

pub mod admin;
pub mod command;
pub mod report;
pub mod schedule;

use std::time::Duration;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
};

pub use self::kinds::Kind;
pub use self::payload::{
    Cleanup, DeliverWebhook, Failure, GenerateReport, JobPayload, Noop, ViewsUpkeep,
};
pub use self::webhook::signature;
pub use self::worker::{Worker, WorkerOptions};
use crate::db::entities::jobs;
use crate::mail::Mailer;
use crate::outbound::Outbound;

/// What jobs need besides their payload.
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    /// The guarded client webhook deliveries go through.
    pub outbound: Outbound,
    /// Whole months of article views kept before the current one.
    pub views_retention_months: u32,
    /// How long a finished report can be downloaded.
    pub reports_kept: Duration,
    /// Where mail jobs send their mail.
    pub mailer: Mailer,
}

/// Where a job is in its life (a job that succeeded is deleted).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::EnumIter, strum::IntoStaticStr, strum::EnumString,
)]
#[strum(serialize_all = "lowercase")]
pub enum JobState {
    /// Waiting for its `run_at` (or for a worker).
    Queued,
    /// Claimed by a worker, under a lease.
    Running,
    /// Out of attempts (or of a kind nobody knows, or with a payload that does not decode):
    /// kept for inspection and `quire jobs retry`.
    Dead,
}

impl JobState {
    /// The state as stored in `jobs.state`.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn from_name(name: &str) -> Option<JobState> {
        name.parse().ok()
    }
}

/// The PostgreSQL channel that wakes workers when a job is enqueued.
pub const CHANNEL: &str = "quire_jobs";

/// A job to enqueue: made from its payload ([`JobPayload::job`]).
#[derive(Debug, Clone)]
pub struct NewJob {
    kind: Kind,
    /// The payload's JSON.
    payload: String,
    /// Lower runs first.
    pub priority: i32,
    /// When it may run (milliseconds since the epoch); now when `None`.
    pub run_at: Option<i64>,
}

impl NewJob {
    pub fn kind(&self) -> Kind {
        self.kind
    }

    pub fn after(mut self, delay: Duration) -> Self {
        self.run_at = Some(crate::db::now_ms() + delay.as_millis() as i64);
        self
    }
}

/// Enqueues `job` on `db`: pass the transaction of the change that causes it. On PostgreSQL the
/// workers are woken when that transaction commits.
pub async fn enqueue(db: &impl ConnectionTrait, job: NewJob) -> Result<i64, DbErr> {
    let now = crate::db::now_ms();
    let inserted = jobs::Entity::insert(jobs::ActiveModel {
        kind: Set(job.kind.name().to_owned()),
        payload: Set(job.payload),
        state: Set(JobState::Queued.as_str().to_owned()),
        priority: Set(job.priority),
        run_at: Set(job.run_at.unwrap_or(now)),
        attempts: Set(0),
        max_attempts: Set(job.kind.retry().max_attempts),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .exec(db)
    .await?;
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("NOTIFY {CHANNEL}"),
        ))
        .await?;
    }
    Ok(inserted.last_insert_id)
}
