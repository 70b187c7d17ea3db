use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "article_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub article_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag_id: i64,
    /// The article's `created_at` (never changes): a tag's page in order from one index.
    pub created_at: i64,
    #[sea_orm(belongs_to, from = "article_id", to = "id")]
    pub article: BelongsTo<super::articles::Entity>,
    #[sea_orm(belongs_to, from = "tag_id", to = "id")]
    pub tag: BelongsTo<super::tags::Entity>,
}

impl ActiveModelBehavior for ActiveModel {}
