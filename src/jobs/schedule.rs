//! Periodic jobs. Each schedule (a cron expression in UTC, with seconds) enqueues its job once
//! per tick across any number of instances: the enqueue inserts the schedule's (name, tick) row
//! in the same transaction, and that row's key refuses every other instance's insert. A tick no
//! instance was running for is skipped, as cron skips it.

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, TransactionTrait};
use tokio::sync::watch;

use super::{Cleanup, JobPayload, NewJob, ViewsUpkeep, enqueue};
use crate::db::entities::job_ticks;
use crate::db::is_unique_violation;

/// A periodic job.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Unique among schedules: it keys the ticks.
    pub name: &'static str,
    /// `sec min hour day-of-month month day-of-week [year]`, UTC.
    pub cron: &'static str,
    /// The job of the tick at `tick_ms`.
    pub job: fn(tick_ms: i64) -> NewJob,
}

/// What every worker schedules.
pub const SCHEDULES: &[Schedule] = &[
    Schedule {
        name: "cleanup",
        cron: "0 17 * * * *",
        job: |_| Cleanup {}.job(),
    },
    // Daily: the next months' partitions exist long before they are needed.
    Schedule {
        name: "views-upkeep",
        cron: "0 7 3 * * *",
        job: |_| ViewsUpkeep {}.job(),
    },
];

/// Enqueues the tick `tick_ms` of `schedule` unless an instance did already. True when this
/// call enqueued it.
pub async fn enqueue_tick(
    db: &DatabaseConnection,
    schedule: &Schedule,
    tick_ms: i64,
) -> Result<bool, DbErr> {
    let txn = db.begin().await?;
    let claimed = job_ticks::Entity::insert(job_ticks::ActiveModel {
        schedule: Set(schedule.name.to_owned()),
        tick: Set(tick_ms),
    })
    .exec_without_returning(&txn)
    .await;
    match claimed {
        Ok(_) => {}
        Err(err) if is_unique_violation(&err) => {
            let _ = txn.rollback().await;
            return Ok(false);
        }
        Err(err) => return Err(err),
    }
    enqueue(&txn, (schedule.job)(tick_ms)).await?;
    txn.commit().await?;
    Ok(true)
}

/// Enqueues the ticks of `schedules` as they come due, until `stop` turns true.
pub async fn run(
    db: DatabaseConnection,
    schedules: Vec<Schedule>,
    mut stop: watch::Receiver<bool>,
) {
    let mut planned: Vec<(Schedule, cron::Schedule, Option<DateTime<Utc>>)> = vec![];
    for schedule in schedules {
        match cron::Schedule::from_str(schedule.cron) {
            Ok(cron) => {
                let next = cron.after(&Utc::now()).next();
                planned.push((schedule, cron, next));
            }
            Err(err) => {
                tracing::error!(schedule = schedule.name, error = %err, "a schedule's cron expression is invalid")
            }
        }
    }
    let mut every_second = tokio::time::interval(Duration::from_secs(1));
    every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !*stop.borrow() {
        tokio::select! {
            _ = every_second.tick() => {}
            _ = stop.changed() => continue,
        }
        let now = Utc::now();
        for (schedule, cron, next) in &mut planned {
            let Some(tick) = *next else { continue };
            if tick > now {
                continue;
            }
            match enqueue_tick(&db, schedule, tick.timestamp_millis()).await {
                Ok(_) => *next = cron.after(&tick).next(),
                // Tried again next second.
                Err(err) => {
                    tracing::warn!(schedule = schedule.name, error = %err, "enqueueing a scheduled job failed")
                }
            }
        }
    }
}
