use sea_orm::entity::prelude::*;

/// A read of an article, by a signed-in viewer or anonymous (`None`). No referrer or address is
/// kept. Partitioned by month on PostgreSQL and MariaDB (see `db::partitions`).
#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_views")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub article_id: i64,
    pub viewer_id: Option<i64>,
    pub viewed_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
