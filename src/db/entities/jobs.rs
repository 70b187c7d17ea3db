use sea_orm::entity::prelude::*;

/// A background job: waiting (`queued`, due at `run_at`), `running` under a lease held by
/// `lease_owner` until `lease_until`, or `dead` (out of attempts, kept for inspection). A job
/// that succeeds is deleted.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub state: String,
    pub priority: i32,
    pub run_at: i64,
    pub attempts: i32,
    pub max_attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
