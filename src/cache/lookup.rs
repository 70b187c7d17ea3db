//! Reading entries, one or many at once: every version they depend on and every entry this
//! instance lacks come back in one round trip to Redis, so a page assembled from twenty cards
//! costs what one entry does.

use std::collections::HashMap;
use std::sync::Arc;

use super::entry::Entry;
use super::stats::Outcome;
use super::{Backend, Cache, Lookup, Ticket, tracking, with_epoch};

/// An entry to look up: its key and the topics it is built from.
pub type Wanted = (String, Vec<String>);

/// One wanted entry on its way through [`Cache::lookup_many`].
struct Candidate {
    key: String,
    topics: Vec<String>,
    versions: Vec<u64>,
    local: Option<Arc<Entry>>,
    remote: Option<Entry>,
}

impl Candidate {
    fn current(&self, entry: &Entry) -> bool {
        entry.is_current(&self.versions)
            && entry
                .reads
                .iter()
                .zip(&self.topics)
                .all(|((topic, _), wanted)| topic == wanted)
    }

    fn ticket(self) -> Lookup {
        Lookup::Miss(Ticket {
            key: self.key,
            reads: self.topics.into_iter().zip(self.versions).collect(),
        })
    }
}

impl Cache {
    /// The entry under `key` if it is current for `topics`; otherwise the versions to build it
    /// under. One round trip to Redis when this instance holds the entry or nobody does.
    pub async fn lookup(&self, kind: impl Into<usize>, key: &str, topics: &[String]) -> Lookup {
        let wanted = [(key.to_owned(), topics.to_vec())];
        let mut found = self.lookup_many(kind, &wanted).await;
        found.pop().unwrap_or(Lookup::Bypass)
    }

    /// [`Cache::lookup`] for many entries at once, in the order asked.
    pub async fn lookup_many(&self, kind: impl Into<usize>, wanted: &[Wanted]) -> Vec<Lookup> {
        let kind = kind.into();
        if wanted.is_empty() {
            return vec![];
        }
        let inner = &self.inner;
        let (union, places, mut candidates) = self.candidates(wanted).await;
        let absent: Vec<String> = candidates
            .iter()
            .filter(|c| c.local.is_none())
            .map(|c| c.key.clone())
            .collect();
        let found = match &inner.backend {
            Backend::Disabled => None,
            Backend::Local { .. } => Some((self.local_versions(&union), vec![])),
            Backend::Redis(redis) => redis.versions_and_entries(inner, &union, &absent).await,
        };
        let Some((versions, fetched)) = found else {
            return candidates
                .iter()
                .map(|_| {
                    tracking::record_bypass();
                    inner.stats.count(kind, Outcome::Error);
                    Lookup::Bypass
                })
                .collect();
        };
        let mut fetched = fetched.into_iter();
        for (candidate, places) in candidates.iter_mut().zip(&places) {
            candidate.versions = places.iter().map(|&at| versions[at]).collect();
            tracking::record(&candidate.topics, &candidate.versions);
            if candidate.local.is_none() {
                candidate.remote = fetched.next().flatten();
            }
        }
        self.refetch_stale(kind, &mut candidates).await;
        let mut lookups = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            lookups.push(self.settle(kind, candidate).await);
        }
        lookups
    }

    /// Each wanted entry with its local copy, the union of their topics (each once), and where
    /// each entry's topics sit in that union.
    async fn candidates(
        &self,
        wanted: &[Wanted],
    ) -> (Vec<String>, Vec<Vec<usize>>, Vec<Candidate>) {
        let inner = &self.inner;
        let mut union: Vec<String> = vec![];
        let mut place: HashMap<String, usize> = HashMap::new();
        let mut candidates = Vec::with_capacity(wanted.len());
        let mut places = Vec::with_capacity(wanted.len());
        for (key, topics) in wanted {
            let topics = with_epoch(topics);
            places.push(
                topics
                    .iter()
                    .map(|topic| {
                        *place.entry(topic.clone()).or_insert_with(|| {
                            union.push(topic.clone());
                            union.len() - 1
                        })
                    })
                    .collect::<Vec<_>>(),
            );
            let key = inner.entry_key(key);
            let local = inner.local.get(&key).await;
            candidates.push(Candidate {
                key,
                topics,
                versions: vec![],
                local,
                remote: None,
            });
        }
        (union, places, candidates)
    }

    /// A local copy that is stale may have been rebuilt by another instance already: fetch
    /// those entries from Redis.
    async fn refetch_stale(&self, kind: usize, candidates: &mut [Candidate]) {
        let Backend::Redis(redis) = &self.inner.backend else {
            return;
        };
        let stale: Vec<usize> = (0..candidates.len())
            .filter(|&at| {
                let candidate = &candidates[at];
                matches!(&candidate.local, Some(entry) if !candidate.current(entry))
            })
            .collect();
        if stale.is_empty() {
            return;
        }
        let keys: Vec<String> = stale.iter().map(|&at| candidates[at].key.clone()).collect();
        if let Ok(entries) = redis.entries(&self.inner, kind, &keys).await {
            for (at, entry) in stale.iter().zip(entries) {
                candidates[*at].remote = entry;
            }
        }
    }

    /// A hit from the local copy or from Redis (kept locally), or a miss with its ticket.
    async fn settle(&self, kind: usize, mut candidate: Candidate) -> Lookup {
        let inner = &self.inner;
        if let Some(entry) = candidate.local.take()
            && candidate.current(&entry)
        {
            inner.stats.count(kind, Outcome::Hit);
            return Lookup::Hit(entry.payload.clone());
        }
        match candidate.remote.take() {
            Some(entry) if candidate.current(&entry) => {
                inner.stats.count(kind, Outcome::Hit);
                let payload = entry.payload.clone();
                inner.local.insert(candidate.key, Arc::new(entry)).await;
                Lookup::Hit(payload)
            }
            _ => {
                inner.stats.count(kind, Outcome::Miss);
                candidate.ticket()
            }
        }
    }
}
