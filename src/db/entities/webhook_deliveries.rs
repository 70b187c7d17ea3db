use sea_orm::entity::prelude::*;

/// One attempt at delivering an event (`delivery` is the id receivers see in `Quire-Delivery`,
/// the same for every attempt): its HTTP status, or the error when there was no answer.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub webhook_id: i64,
    pub delivery: String,
    pub event: String,
    pub attempt: i32,
    pub at: i64,
    pub status_code: Option<i32>,
    pub latency_ms: i64,
    pub error: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
