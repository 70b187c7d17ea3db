//! DataLoaders: fields of many articles on one page are fetched in one batch, not per article.
//! One set is made per request (they carry the viewer), and each batch goes through the
//! domain, so the cache serves it where it can.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::ResultExt;
use async_graphql::dataloader::Loader;

use super::budget::ResponseBudget;
use crate::domain::Domain;
use crate::domain::articles::Comment;

/// Bodies are loaded a page at a time (one statement for a page), each batch counted against
/// the request's budget before the next is read: a query naming a thousand long articles
/// stops at the budget instead of holding them all.
const BODIES_PER_BATCH: usize = crate::domain::input::PAGE_LIMIT_MAX as usize;

/// Article bodies, which list pages leave out.
pub(crate) struct ArticleBodies {
    domain: Domain,
    budget: Arc<ResponseBudget>,
}

impl ArticleBodies {
    pub(crate) fn new(domain: Domain, budget: Arc<ResponseBudget>) -> Self {
        ArticleBodies { domain, budget }
    }
}

impl Loader<i64> for ArticleBodies {
    type Value = String;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, String>, Self::Error> {
        let mut bodies = HashMap::with_capacity(ids.len());
        for batch in ids.chunks(BODIES_PER_BATCH) {
            let loaded = self.domain.article_bodies(batch).await.extend()?;
            self.budget.load(loaded.values().map(String::len).sum())?;
            bodies.extend(loaded);
        }
        Ok(bodies)
    }
}

/// The newest comments of an article: `first` of them, with the viewer's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct LatestCommentsKey {
    pub article_id: i64,
    pub first: u64,
}

pub(crate) struct LatestComments {
    domain: Domain,
    viewer: Option<i64>,
    budget: Arc<ResponseBudget>,
}

impl LatestComments {
    pub(crate) fn new(domain: Domain, viewer: Option<i64>, budget: Arc<ResponseBudget>) -> Self {
        LatestComments {
            domain,
            viewer,
            budget,
        }
    }
}

impl Loader<LatestCommentsKey> for LatestComments {
    type Value = Vec<Comment>;
    type Error = async_graphql::Error;

    /// One domain call per distinct `first` in the batch (a query normally asks for one).
    async fn load(
        &self,
        keys: &[LatestCommentsKey],
    ) -> Result<HashMap<LatestCommentsKey, Vec<Comment>>, Self::Error> {
        let mut by_first: HashMap<u64, Vec<i64>> = HashMap::new();
        for key in keys {
            by_first.entry(key.first).or_default().push(key.article_id);
        }
        let mut loaded = HashMap::new();
        for (first, article_ids) in by_first {
            let mut threads = self
                .domain
                .latest_comments(self.viewer, &article_ids, first)
                .await
                .extend()?;
            let bytes = threads.values().flatten().map(|c| c.body.len()).sum();
            self.budget.load(bytes)?;
            for article_id in article_ids {
                let thread = threads.remove(&article_id).unwrap_or_default();
                loaded.insert(LatestCommentsKey { article_id, first }, thread);
            }
        }
        Ok(loaded)
    }
}
