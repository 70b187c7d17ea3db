use sea_orm::entity::prelude::*;

/// A report its owner asked for: `queued`, `running`, `done` (its file in `report_chunks`,
/// `bytes` long) or `failed`; deleted with its file at `expires_at`.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reports")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    /// First day covered, `YYYY-MM-DD` (UTC).
    pub from_day: String,
    /// Last day covered, inclusive.
    pub to_day: String,
    pub format: String,
    pub state: String,
    pub error: Option<String>,
    pub bytes: i64,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
