//! A bound on what one GraphQL request may hold: the text it puts in its answer (bodies,
//! descriptions, comments) and the bodies its loaders bring in. The cost limit refuses most
//! expensive queries before they run; this stops the rest (long texts, aliases repeating one
//! page) while they run, before memory grows with them.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::ErrorExtensions;

pub(crate) struct ResponseBudget {
    limit: usize,
    answered: AtomicUsize,
    loaded: AtomicUsize,
}

impl ResponseBudget {
    pub(crate) fn new(limit: usize) -> Self {
        ResponseBudget {
            limit,
            answered: AtomicUsize::new(0),
            loaded: AtomicUsize::new(0),
        }
    }

    /// Counts `bytes` of text about to be put in the answer.
    pub(crate) fn answer(&self, bytes: usize) -> async_graphql::Result<()> {
        self.charge(&self.answered, bytes)
    }

    /// Counts `bytes` a loader brought in for this request.
    pub(crate) fn load(&self, bytes: usize) -> async_graphql::Result<()> {
        self.charge(&self.loaded, bytes)
    }

    fn charge(&self, account: &AtomicUsize, bytes: usize) -> async_graphql::Result<()> {
        let total = account.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if total > self.limit {
            return Err(
                async_graphql::Error::new(super::error::too_large_message(self.limit))
                    .extend_with(|_, e| e.set("code", "RESPONSE_TOO_LARGE")),
            );
        }
        Ok(())
    }
}
