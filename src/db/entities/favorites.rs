use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "favorites")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: i64,
    pub created_at: i64,
    /// The article's `created_at`: a fan's page in order from one index.
    pub article_created_at: i64,
}

impl ActiveModelBehavior for ActiveModel {}
