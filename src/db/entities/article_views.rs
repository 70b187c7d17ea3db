use sea_orm::entity::prelude::*;

/// Reads of an article within one second (`viewed_at`, the second's first millisecond) by one
/// signed-in viewer or by anonymous readers (`None`), and how many (`views`). No referrer or
/// address is kept. Partitioned by month on PostgreSQL and MariaDB (see `db::partitions`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_views")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub article_id: i64,
    pub viewer_id: Option<i64>,
    pub viewed_at: i64,
    pub views: i32,
}

impl ActiveModelBehavior for ActiveModel {}
