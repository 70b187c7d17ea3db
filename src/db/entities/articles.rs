use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "articles")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub description: String,
    #[sea_orm(column_type = "Text")]
    pub body: String,
    pub author_id: i64,
    /// Maintained in the same transaction as every favorite/unfavorite.
    pub favorites_count: i64,
    pub created_at: i64,
    pub updated_at: i64,
    #[sea_orm(belongs_to, from = "author_id", to = "id")]
    pub author: BelongsTo<super::users::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
