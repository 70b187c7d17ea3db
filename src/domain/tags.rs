//! The tag cloud.

use crate::domain::articles::Articles;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::cache_keys::{self as keys, Kind};
use crate::db::entities::tags;
use crate::error::Result;

impl Articles {
    /// Every tag at least one article uses, alphabetically: the `tags` table alone, by its
    /// maintained counts.
    pub async fn tags(&self) -> Result<Vec<String>> {
        self.core
            .cached(Kind::Tags, keys::tags(), || self.query_tags())
            .await
    }

    async fn query_tags(&self) -> Result<Vec<String>> {
        Ok(tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .filter(tags::Column::ArticlesCount.gt(0))
            .order_by_asc(tags::Column::Name)
            .into_tuple()
            .all(&self.core.db)
            .await?)
    }
}
