//! The queue's statements: claim, renew, finish, fail, reap and release.

use std::time::Duration;

use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Order, QueryFilter, QueryOrder, QuerySelect, QueryTrait, TransactionTrait,
    UpdateMany,
};

use super::JobState;
use crate::db::entities::jobs;
use crate::db::now_ms;

fn millis(duration: Duration) -> i64 {
    duration.as_millis().try_into().unwrap_or(i64::MAX)
}

/// Claims up to `limit` due jobs for `owner` (a token unique to this claim), highest priority
/// first, each under a lease of `lease`. PostgreSQL and MariaDB/MySQL skip rows another claim
/// holds locked; SQLite has one writer at a time, taken before the jobs are picked.
pub(super) async fn claim(
    db: &DatabaseConnection,
    owner: &str,
    limit: u64,
    lease: Duration,
) -> Result<Vec<jobs::Model>, DbErr> {
    let txn = db.begin().await?;
    let backend = txn.get_database_backend();
    without_waiting_for_disk(&txn).await?;
    if backend == DbBackend::Sqlite {
        // A write first: SQLite then waits for its write lock (a read first would make the later
        // write fail at once when another claim committed meanwhile).
        jobs::Entity::update_many()
            .col_expr(jobs::Column::State, Expr::col(jobs::Column::State))
            .filter(jobs::Column::Id.eq(-1))
            .exec(&txn)
            .await?;
    }
    let now = now_ms();
    let mut due = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Id)
        .filter(jobs::Column::State.eq(JobState::Queued.as_str()))
        .filter(jobs::Column::RunAt.lte(now))
        .order_by(jobs::Column::Priority, Order::Asc)
        .order_by(jobs::Column::RunAt, Order::Asc)
        .order_by(jobs::Column::Id, Order::Asc)
        .limit(limit);
    if backend != DbBackend::Sqlite {
        due = due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let mut claimed = if backend == DbBackend::Postgres {
        // One statement picks, locks and claims them, returning the rows.
        take(now, owner, lease)
            .filter(jobs::Column::Id.in_subquery(due.into_query()))
            .exec_with_returning(&txn)
            .await?
    } else {
        let ids: Vec<i64> = due.into_tuple().all(&txn).await?;
        if ids.is_empty() {
            txn.commit().await?;
            return Ok(vec![]);
        }
        // By id alone: the rows are locked (or SQLite's writer is us), so they are still
        // queued, and a condition on `state` could steer the plan to a scan of the queue.
        take(now, owner, lease)
            .filter(jobs::Column::Id.is_in(ids.iter().copied()))
            .exec(&txn)
            .await?;
        jobs::Entity::find()
            .filter(jobs::Column::Id.is_in(ids))
            .all(&txn)
            .await?
    };
    txn.commit().await?;
    claimed.sort_by_key(|job| (job.priority, job.run_at, job.id));
    Ok(claimed)
}

/// The update that puts jobs under `owner`'s lease, one attempt more.
fn take(now: i64, owner: &str, lease: Duration) -> UpdateMany<jobs::Entity> {
    jobs::Entity::update_many()
        .col_expr(jobs::Column::State, Expr::val(JobState::Running.as_str()))
        .col_expr(jobs::Column::LeaseOwner, Expr::val(owner))
        .col_expr(jobs::Column::LeaseUntil, Expr::val(now + millis(lease)))
        .col_expr(
            jobs::Column::Attempts,
            Expr::col(jobs::Column::Attempts).add(1),
        )
        .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
}

/// Extends the leases of the jobs `owners` still run.
pub(super) async fn renew(
    db: &DatabaseConnection,
    owners: &[String],
    lease: Duration,
) -> Result<(), DbErr> {
    if owners.is_empty() {
        return Ok(());
    }
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LeaseUntil,
            Expr::val(now_ms() + millis(lease)),
        )
        .filter(jobs::Column::LeaseOwner.is_in(owners.iter().cloned()))
        .filter(jobs::Column::State.eq(JobState::Running.as_str()))
        .exec(db)
        .await?;
    Ok(())
}

/// Jobs that succeeded (id, owner) are removed, in one statement. A job whose owner lost it
/// (its lease ran out and it was queued again) is left alone.
pub(super) async fn finish(db: &DatabaseConnection, done: &[(i64, String)]) -> Result<(), DbErr> {
    if done.is_empty() {
        return Ok(());
    }
    let txn = db.begin().await?;
    without_waiting_for_disk(&txn).await?;
    jobs::Entity::delete_many()
        .filter(
            Expr::tuple([
                Expr::col(jobs::Column::Id),
                Expr::col(jobs::Column::LeaseOwner),
            ])
            .in_tuples(done.iter().cloned()),
        )
        .exec(&txn)
        .await?;
    txn.commit().await
}

/// On PostgreSQL, lets this transaction's commit return before its WAL reaches the disk (one
/// flush per claim and per finished batch was most of a claim cycle). A crash can lose only
/// such a commit, never an enqueue (those commit with the caller's settings): a lost claim
/// leaves its jobs queued, a lost finish runs them again, which at-least-once allows.
async fn without_waiting_for_disk(txn: &DatabaseTransaction) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_unprepared("SET LOCAL synchronous_commit TO OFF")
            .await?;
    }
    Ok(())
}

/// A job that failed runs again after `retry_in`, or is dead when `retry_in` is `None`.
pub(super) async fn fail(
    db: &DatabaseConnection,
    id: i64,
    owner: &str,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), DbErr> {
    let now = now_ms();
    let mut update =
        without_lease(now).col_expr(jobs::Column::LastError, Expr::val(truncate(error)));
    update = match retry_in {
        Some(delay) => update
            .col_expr(jobs::Column::State, Expr::val(JobState::Queued.as_str()))
            .col_expr(jobs::Column::RunAt, Expr::val(now + millis(delay))),
        None => update.col_expr(jobs::Column::State, Expr::val(JobState::Dead.as_str())),
    };
    update
        .filter(jobs::Column::Id.eq(id))
        .filter(jobs::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// Queues again the jobs whose lease ran out (their worker died or hung), or marks them dead
/// when that was their last attempt. Returns how many.
pub(super) async fn reap(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let now = now_ms();
    let reaped = without_lease(now)
        .col_expr(
            jobs::Column::State,
            Expr::cust(format!(
                "CASE WHEN attempts >= max_attempts THEN '{}' ELSE '{}' END",
                JobState::Dead.as_str(),
                JobState::Queued.as_str()
            )),
        )
        .col_expr(
            jobs::Column::LastError,
            Expr::val("its worker stopped renewing its lease (died or hung)"),
        )
        .col_expr(jobs::Column::RunAt, Expr::val(now))
        .filter(jobs::Column::State.eq(JobState::Running.as_str()))
        .filter(jobs::Column::LeaseUntil.lt(now))
        .exec(db)
        .await?;
    Ok(reaped.rows_affected)
}

/// Hands the jobs `owners` still hold back to the queue at once (a worker shutting down that
/// could not finish them): the attempt they started does not count.
pub(super) async fn release(db: &DatabaseConnection, owners: &[String]) -> Result<u64, DbErr> {
    if owners.is_empty() {
        return Ok(0);
    }
    let released = without_lease(now_ms())
        .col_expr(jobs::Column::State, Expr::val(JobState::Queued.as_str()))
        .col_expr(
            jobs::Column::Attempts,
            Expr::col(jobs::Column::Attempts).sub(1),
        )
        .col_expr(jobs::Column::RunAt, Expr::val(now_ms()))
        .filter(jobs::Column::LeaseOwner.is_in(owners.iter().cloned()))
        .filter(jobs::Column::State.eq(JobState::Running.as_str()))
        .exec(db)
        .await?;
    Ok(released.rows_affected)
}

/// An update of jobs that leaves them unclaimed, at `now`.
fn without_lease(now: i64) -> UpdateMany<jobs::Entity> {
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(jobs::Column::LeaseUntil, Expr::value(Option::<i64>::None))
        .col_expr(jobs::Column::UpdatedAt, Expr::val(now))
}

/// `last_error` holds at most this many characters.
const MOST_ERROR_CHARS: usize = 2_000;

fn truncate(error: &str) -> String {
    error.chars().take(MOST_ERROR_CHARS).collect()
}
