//! Article cards: an article as list pages and feeds show it (no body, no viewer's flags),
//! cached one per article next to each page's ids. A favorite still invalidates every page
//! that may show the article (a page is read in one round trip, checking a few topics, not one
//! per article), but rebuilding those pages then reads the one changed card from the database,
//! once per instance, and everything else from the cache with one multi-get.

use crate::domain::articles::Articles;
use std::collections::{BTreeMap, HashMap};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};

use super::{Article, ArticlePage, IdPage, SummaryRow};
use crate::cache::{Lookup, Ticket};
use crate::db::entities::articles;
use crate::domain::cache_keys::{self as keys, Kind};
use crate::error::Result;

impl Articles {
    /// The shared view of the page `page` names.
    pub(super) async fn page_of_cards(&self, page: IdPage) -> Result<ArticlePage> {
        let articles = self.cards(&page.ids).await?;
        Ok(ArticlePage {
            articles,
            total: page.total,
            more: page.more,
        })
    }

    /// The cards of `ids`, in that order: one round trip to the cache for all of them, one
    /// query (and its tags and authors) for those it lacks. Concurrent readers missing the
    /// same cards build them once ([`crate::cache::Cache::turn_to_build`]). An article deleted
    /// since its page was read is left out.
    async fn cards(&self, ids: &[i64]) -> Result<Vec<Article>> {
        let mut found = HashMap::with_capacity(ids.len());
        let mut missing = self.look_up_cards(ids, &mut found).await;
        if !missing.is_empty() {
            // Turns are taken in id order, the same in every task, so none waits in a cycle.
            let mut turns = vec![];
            for (_, ticket) in missing.iter().filter_map(|(id, t)| Some((id, t.as_ref()?))) {
                turns.push(self.core.cache.turn_to_build(ticket).await);
            }
            if turns.iter().any(|turn| turn.waited) {
                let again: Vec<i64> = missing.keys().copied().collect();
                missing = self.look_up_cards(&again, &mut found).await;
            }
            self.build_cards(missing, &mut found).await?;
            drop(turns);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Puts the cards of `ids` the cache holds in `found`; returns the others, each with where
    /// to keep it once built (none: keep nothing).
    async fn look_up_cards(
        &self,
        ids: &[i64],
        found: &mut HashMap<i64, Article>,
    ) -> BTreeMap<i64, Option<Ticket>> {
        let wanted: Vec<_> = ids.iter().map(|id| keys::article_card(*id)).collect();
        let lookups = self.core.cache.lookup_many(Kind::Article, &wanted).await;
        let mut missing = BTreeMap::new();
        for (id, lookup) in ids.iter().zip(lookups) {
            let ticket = match lookup {
                Lookup::Hit(bytes) => match serde_json::from_slice(&bytes) {
                    Ok(card) => {
                        found.insert(*id, card);
                        continue;
                    }
                    Err(_) => None,
                },
                Lookup::Miss(ticket) => Some(ticket),
                Lookup::Bypass => None,
            };
            missing.insert(*id, ticket);
        }
        missing
    }

    async fn build_cards(
        &self,
        mut missing: BTreeMap<i64, Option<Ticket>>,
        found: &mut HashMap<i64, Article>,
    ) -> Result<()> {
        if missing.is_empty() {
            return Ok(());
        }
        let rows: Vec<SummaryRow> = articles::Entity::find()
            .select_only()
            .columns(SummaryRow::COLUMNS)
            .filter(articles::Column::Id.is_in(missing.keys().copied()))
            .into_model()
            .all(&self.core.db)
            .await?;
        let built = self
            .assemble(rows.into_iter().map(Into::into).collect())
            .await?;
        let stores = built.iter().filter_map(|card| {
            let ticket = missing.remove(&card.id).flatten()?;
            let bytes = serde_json::to_vec(card).ok()?;
            Some(self.core.cache.store(ticket, bytes.into()))
        });
        futures::future::join_all(stores).await;
        found.extend(built.into_iter().map(|card| (card.id, card)));
        Ok(())
    }
}
