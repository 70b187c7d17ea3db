//! What `quire jobs` shows and does: counts per kind and state, listing, retrying and purging.

use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use super::JobState;
use crate::db::entities::jobs;
use crate::db::now_ms;

/// How many jobs of a kind are in a state.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Count {
    pub kind: String,
    pub state: String,
    pub jobs: i64,
}

pub async fn stats(db: &DatabaseConnection) -> Result<Vec<Count>, DbErr> {
    let rows: Vec<(String, String, i64)> = jobs::Entity::find()
        .select_only()
        .column(jobs::Column::Kind)
        .column(jobs::Column::State)
        .column_as(jobs::Column::Id.count(), "jobs")
        .group_by(jobs::Column::Kind)
        .group_by(jobs::Column::State)
        .order_by(jobs::Column::Kind, Order::Asc)
        .order_by(jobs::Column::State, Order::Asc)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, state, jobs)| Count { kind, state, jobs })
        .collect())
}

/// A job as `quire jobs list` shows it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub priority: i32,
    pub run_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
}

/// Up to `limit` jobs, oldest first, in `state` when given.
pub async fn list(
    db: &DatabaseConnection,
    state: Option<&str>,
    limit: u64,
) -> Result<Vec<Listed>, DbErr> {
    let mut query = jobs::Entity::find();
    if let Some(state) = state {
        query = query.filter(jobs::Column::State.eq(state));
    }
    let rows = query
        .order_by(jobs::Column::Id, Order::Asc)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|job| Listed {
            id: job.id,
            kind: job.kind,
            state: job.state,
            priority: job.priority,
            run_at: job.run_at,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error,
        })
        .collect())
}

/// Which jobs `retry` queues again.
pub enum Which {
    One(i64),
    Dead,
}

/// Queues dead (or waiting) jobs again, due now, with their attempts starting afresh. A
/// running job is left alone. Returns how many.
pub async fn retry(db: &DatabaseConnection, which: Which) -> Result<u64, DbErr> {
    let mut update = jobs::Entity::update_many()
        .col_expr(jobs::Column::State, Expr::val(JobState::Queued.as_str()))
        .col_expr(jobs::Column::Attempts, Expr::val(0))
        .col_expr(jobs::Column::RunAt, Expr::val(now_ms()))
        .col_expr(jobs::Column::UpdatedAt, Expr::val(now_ms()))
        .filter(jobs::Column::State.ne(JobState::Running.as_str()));
    update = match which {
        Which::One(id) => update.filter(jobs::Column::Id.eq(id)),
        Which::Dead => update.filter(jobs::Column::State.eq(JobState::Dead.as_str())),
    };
    Ok(update.exec(db).await?.rows_affected)
}

/// Deletes dead jobs (all of them, or only those not touched for `older_than_ms`). Returns
/// how many.
pub async fn purge(db: &DatabaseConnection, older_than_ms: Option<i64>) -> Result<u64, DbErr> {
    let mut delete =
        jobs::Entity::delete_many().filter(jobs::Column::State.eq(JobState::Dead.as_str()));
    if let Some(age) = older_than_ms {
        delete = delete.filter(jobs::Column::UpdatedAt.lt(now_ms() - age));
    }
    Ok(delete.exec(db).await?.rows_affected)
}
