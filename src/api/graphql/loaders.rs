//! DataLoaders: fields of many articles on one page are fetched in one batch, not per article.
//! One set is made per request (they carry the viewer), and each batch goes through the
//! domain, so the cache serves it where it can.

use std::collections::HashMap;

use async_graphql::ResultExt;
use async_graphql::dataloader::Loader;

use crate::domain::Domain;
use crate::domain::articles::Comment;

/// Article bodies, which list pages leave out.
pub(crate) struct ArticleBodies {
    domain: Domain,
}

impl ArticleBodies {
    pub(crate) fn new(domain: Domain) -> Self {
        ArticleBodies { domain }
    }
}

impl Loader<i64> for ArticleBodies {
    type Value = String;
    type Error = async_graphql::Error;

    async fn load(&self, ids: &[i64]) -> Result<HashMap<i64, String>, Self::Error> {
        self.domain.article_bodies(ids).await.extend()
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
}

impl LatestComments {
    pub(crate) fn new(domain: Domain, viewer: Option<i64>) -> Self {
        LatestComments { domain, viewer }
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
            for article_id in article_ids {
                let thread = threads.remove(&article_id).unwrap_or_default();
                loaded.insert(LatestCommentsKey { article_id, first }, thread);
            }
        }
        Ok(loaded)
    }
}
