use sea_orm::entity::prelude::*;

/// A tick of a periodic schedule that has been enqueued: its key makes a second enqueue of
/// the same tick (by another instance) fail.
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "job_ticks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub schedule: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tick: i64,
}

impl ActiveModelBehavior for ActiveModel {}
