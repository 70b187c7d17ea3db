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

/// Article bodies, which list pages leave out. Their sizes are read first and counted against
/// the request's budget, so bodies that would not fit are never loaded. One request's loads
/// run one at a time and share what they loaded, so aliases that repeat a page load it once.
pub(crate) struct ArticleBodies {
    domain: Domain,
    budget: Arc<ResponseBudget>,
    /// Shared, so that handing a body to each alias that asks for it copies nothing.
    loaded: tokio::sync::Mutex<HashMap<i64, Arc<str>>>,
}

impl ArticleBodies {
    pub(crate) fn new(domain: Domain, budget: Arc<ResponseBudget>) -> Self {
        ArticleBodies {
            domain,
            budget,
            loaded: Default::default(),
        }
    }
}

impl Loader<i64> for ArticleBodies {
    type Value = Arc<str>;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, Arc<str>>, Self::Error> {
        let mut loaded = self.loaded.lock().await;
        let missing: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| !loaded.contains_key(id))
            .collect();
        if !missing.is_empty() {
            let sizes = self
                .domain
                .articles
                .article_body_sizes(&missing)
                .await
                .extend()?;
            self.budget.load(sizes.values().sum::<u64>() as usize)?;
            let bodies = self
                .domain
                .articles
                .article_bodies(&missing)
                .await
                .extend()?;
            loaded.extend(bodies.into_iter().map(|(id, body)| (id, Arc::from(body))));
        }
        Ok(ids
            .iter()
            .filter_map(|id| loaded.get(id).map(|body| (*id, body.clone())))
            .collect())
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
                .articles
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
