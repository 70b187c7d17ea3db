//! The tag cloud.

use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::Domain;
use super::cache_keys::{self as keys, Kind};
use crate::db::entities::{article_tags, tags};
use crate::error::Result;

impl Domain {
    /// Every tag at least one article uses, alphabetically. Reads the small `tags` table and
    /// probes the `(tag_id, article_id)` index; never scans articles.
    pub async fn tags(&self) -> Result<Vec<String>> {
        self.cached(Kind::Tags, keys::tags(), || self.query_tags())
            .await
    }

    async fn query_tags(&self) -> Result<Vec<String>> {
        Ok(tags::Entity::find()
            .select_only()
            .column(tags::Column::Name)
            .filter(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(article_tags::Entity)
                    .and_where(
                        Expr::col((article_tags::Entity, article_tags::Column::TagId))
                            .equals((tags::Entity, tags::Column::Id)),
                    )
                    .take(),
            ))
            .order_by_asc(tags::Column::Name)
            .into_tuple()
            .all(&self.db)
            .await?)
    }
}
