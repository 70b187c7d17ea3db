//! One cache facade: Redis when `QUIRE_REDIS_URL` is set (shared by every instance), moka
//! in-process otherwise. Generic: the application names its topics and entry kinds (see
//! `domain::cache_keys`); this module knows nothing of articles or users.
//!
//! Invalidation is by *topic versions* (key-based expiry). Every entry is kept with the version
//! of each topic it was built from, read *before* its data was; a write bumps the versions of
//! the topics it changed after it commits. A read compares the entry's versions with the
//! current ones (one round trip for any number of topics) and rebuilds on a difference, so no
//! instance ever serves data older than the last committed write it could have seen, and a write
//! costs only the entries that show what it changed. Entries assembled from others (a whole
//! rendered answer) keep the union of their parts' versions ([`tracking`]).
//!
//! Every read also checks the *epoch*, one version all entries depend on: it is what an
//! instance bumps when it cannot know which topics changed.
//!
//! When Redis fails to answer, requests bypass the cache (served from the database) for a
//! second, a warning and a counter record it, and the next request after that tries Redis again.
//! When Redis answers reads but refuses writes (a replica after fail-over,
//! `min-replicas-to-write`), a bump could be lost, so the instance stops reading the shared cache
//! (see [`remote`]) until a write succeeds again and it has bumped the epoch.

mod coalesce;
mod entry;
mod flight;
mod keys;
mod lookup;
mod remote;
mod stats;
pub mod tracking;
mod values;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub use axum::body::Bytes;

use self::entry::Entry;
pub use self::entry::Reads;
use self::flight::Flights;
pub use self::flight::Turn;
pub use self::keys::{digest, part};
pub use self::lookup::Wanted;
use self::remote::RedisBackend;
pub use self::stats::KindStats;
use self::stats::{Outcome, Stats};

/// Versions are compared, never expired, so the TTL only reclaims memory from superseded
/// entries.
pub const ENTRY_TTL: Duration = Duration::from_secs(300);
const LOCAL_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;
/// Topic versions kept in process (without Redis). One that is evicted starts again at a
/// fresh value, which only costs a rebuild.
const LOCAL_TOPICS: u64 = 200_000;

/// The most topics an assembled entry may observe (a feed following thousands of authors).
const MOST_OBSERVED: usize = 1_000;

/// The topic every entry depends on (domain topics never start with `#`).
pub const EPOCH: &str = "#epoch";

/// The longest a plain value may live.
pub const MAX_VALUE_TTL: Duration = Duration::from_secs(366 * 86_400);

/// The shared store could not be read or written: the caller decides what that means (a
/// session that cannot be checked is refused, never assumed).
#[derive(Debug, Clone, Copy)]
pub struct Unavailable;

/// What the application caches: the names of its kinds of entry (for the hit/miss/error
/// counters), in the order of their indices (`Into<usize>`).
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub kinds: &'static [&'static str],
}

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    namespace: String,
    layout: Layout,
    local: moka::future::Cache<String, Arc<Entry>>,
    /// Plain values with their own lifetime (sessions), when they live in this process: with
    /// no Redis, and also with caching switched off (sessions must work regardless).
    values: moka::future::Cache<String, (Instant, Bytes)>,
    backend: Backend,
    stats: Stats,
    flights: Flights,
}

enum Backend {
    /// Caching switched off (`QUIRE_CACHE_ENABLED=false`): every request reads the database.
    Disabled,
    /// Versions live in this process: coherent for one instance only. Each new version is the
    /// next value of one counter, so no topic ever returns to a version seen before.
    Local {
        versions: moka::sync::Cache<String, u64>,
        next: AtomicU64,
    },
    Redis(RedisBackend),
}

/// What a read found: the entry, or the versions to build it under (read before the data).
pub enum Lookup {
    Hit(Bytes),
    Miss(Ticket),
    /// The cache must not be used: read the data and keep nothing.
    Bypass,
}

/// Where a missing entry goes, with the versions it is to be kept under.
pub struct Ticket {
    key: String,
    reads: Reads,
}

impl Cache {
    /// An in-process cache (no Redis configured).
    pub fn local(namespace: &str, layout: Layout) -> Cache {
        let versions = moka::sync::Cache::builder()
            .max_capacity(LOCAL_TOPICS)
            .build();
        Self::build(
            namespace,
            layout,
            Backend::Local {
                versions,
                next: AtomicU64::new(1),
            },
        )
    }

    /// No caching at all: for measuring, and for ruling the cache out when debugging.
    pub fn disabled(namespace: &str, layout: Layout) -> Cache {
        Self::build(namespace, layout, Backend::Disabled)
    }

    /// A Redis-backed cache. The connection is made lazily, so an unreachable Redis at start-up
    /// does not stop Quire; requests go to the database until it comes up. Must be called on
    /// the Tokio runtime: a task watches that Redis still takes writes.
    pub fn redis(namespace: &str, layout: Layout, url: &str) -> anyhow::Result<Cache> {
        let backend = RedisBackend::connect(url)?;
        let cache = Self::build(namespace, layout, Backend::Redis(backend));
        remote::watch_writes(Arc::downgrade(&cache.inner));
        Ok(cache)
    }

    fn build(namespace: &str, layout: Layout, backend: Backend) -> Cache {
        let local = moka::future::Cache::builder()
            .max_capacity(LOCAL_CAPACITY_BYTES)
            .weigher(|key: &String, entry: &Arc<Entry>| {
                (key.len() + entry.weight()).try_into().unwrap_or(u32::MAX)
            })
            .time_to_live(ENTRY_TTL)
            .build();
        let values = moka::future::Cache::builder()
            .max_capacity(LOCAL_CAPACITY_BYTES)
            .weigher(|key: &String, (_, value): &(Instant, Bytes)| {
                (key.len() + value.len()).try_into().unwrap_or(u32::MAX)
            })
            .time_to_live(MAX_VALUE_TTL)
            .build();
        Cache {
            inner: Arc::new(Inner {
                namespace: namespace.to_owned(),
                layout,
                local,
                values,
                backend,
                stats: Stats::new(layout.kinds.len()),
                flights: Flights::new(),
            }),
        }
    }

    /// Waits while another task on this instance builds the entry a miss's ticket is for, so
    /// that concurrent misses of one entry build it once ([`flight`]). Hold the turn until
    /// the entry is stored; if it `waited`, look the entry up again first.
    pub async fn turn_to_build(&self, ticket: &Ticket) -> Turn {
        self.inner.flights.turn(&ticket.key).await
    }

    /// Keeps `payload` under the ticket's key and versions.
    pub async fn store(&self, ticket: Ticket, payload: Bytes) {
        self.put_entry(ticket.key, ticket.reads, payload).await;
    }

    /// An entry kept with the versions it was assembled from ([`Cache::keep`]), if they are
    /// all still current.
    pub async fn recall(&self, kind: impl Into<usize>, key: &str) -> Option<Bytes> {
        let kind = kind.into();
        let key = self.inner.entry_key(key);
        let local = self.inner.local.get(&key).await;
        let fetched = local.is_none();
        let entry = match local {
            Some(entry) => entry,
            None => match &self.inner.backend {
                Backend::Redis(redis) => match redis
                    .entries(&self.inner, kind, std::slice::from_ref(&key))
                    .await
                    .map(|mut entries| entries.pop().flatten())
                {
                    Ok(Some(entry)) => Arc::new(entry),
                    Ok(None) => {
                        self.inner.stats.count(kind, Outcome::Miss);
                        return None;
                    }
                    Err(Unavailable) => return None,
                },
                _ => {
                    self.inner.stats.count(kind, Outcome::Miss);
                    return None;
                }
            },
        };
        let topics = entry.topics();
        let versions = match &self.inner.backend {
            Backend::Disabled => return None,
            Backend::Local { .. } => self.local_versions(&topics),
            Backend::Redis(redis) => redis.versions(&self.inner, &topics).await?,
        };
        if !entry.is_current(&versions) {
            self.inner.stats.count(kind, Outcome::Miss);
            return None;
        }
        tracking::record(&topics, &versions);
        self.inner.stats.count(kind, Outcome::Hit);
        let payload = entry.payload.clone();
        // A hit on the local copy leaves it as it is: re-inserting costs a write per read.
        if fetched {
            self.inner.local.insert(key, entry).await;
        }
        Some(payload)
    }

    /// Reads the current versions of `topics` into what the enclosing [`tracking::track`]
    /// records: for data an assembled entry reads from the database directly.
    pub async fn observe(&self, topics: &[String]) {
        let versions = match &self.inner.backend {
            // Too many to check on every read: the assembled entry is simply not kept.
            _ if topics.len() > MOST_OBSERVED => None,
            Backend::Disabled => None,
            Backend::Local { .. } => Some(self.local_versions(topics)),
            Backend::Redis(redis) => redis.versions(&self.inner, topics).await,
        };
        match versions {
            Some(versions) => tracking::record(topics, &versions),
            None => tracking::record_bypass(),
        }
    }

    /// Keeps `payload` under `key` with the versions it was assembled from.
    pub async fn keep(&self, key: &str, reads: Reads, payload: Bytes) {
        if matches!(self.inner.backend, Backend::Disabled) {
            return;
        }
        self.put_entry(self.inner.entry_key(key), reads, payload)
            .await;
    }

    async fn put_entry(&self, key: String, reads: Reads, payload: Bytes) {
        let entry = Entry { reads, payload };
        if let Backend::Redis(redis) = &self.inner.backend {
            redis.put(&self.inner, &key, &entry).await;
        }
        self.inner.local.insert(key, Arc::new(entry)).await;
    }

    /// Moves `topics` to new versions, so that every entry built from their old data is
    /// rebuilt. Called after the write has committed.
    pub async fn bump(&self, topics: &[String]) {
        match &self.inner.backend {
            Backend::Disabled => {}
            Backend::Local { versions, next } => {
                for topic in topics {
                    versions.insert(topic.clone(), next.fetch_add(1, Ordering::AcqRel));
                }
            }
            Backend::Redis(redis) => redis.bump(&self.inner, topics).await,
        }
    }

    fn local_versions(&self, topics: &[String]) -> Vec<u64> {
        let Backend::Local { versions, next } = &self.inner.backend else {
            return vec![];
        };
        topics
            .iter()
            .map(|topic| versions.get_with_by_ref(topic, || next.fetch_add(1, Ordering::AcqRel)))
            .collect()
    }

    /// Whether the configured Redis answers (`None`: none is configured), for readiness.
    pub async fn redis_answers(&self) -> Option<bool> {
        match &self.inner.backend {
            Backend::Redis(redis) => Some(redis.ping().await),
            _ => None,
        }
    }

    /// Whether a Redis is configured (up or not): what is shared goes there first.
    pub fn has_redis(&self) -> bool {
        matches!(self.inner.backend, Backend::Redis(_))
    }

    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    pub fn stats(&self, kind: impl Into<usize>) -> KindStats {
        self.inner.stats.of(kind.into())
    }

    pub fn redis_errors(&self) -> u64 {
        self.inner.stats.redis_errors()
    }
}

impl Inner {
    fn entry_key(&self, key: &str) -> String {
        format!("{}:{key}", self.namespace)
    }

    fn value_key(&self, key: &str) -> String {
        format!("{}:value:{key}", self.namespace)
    }

    fn version_key(&self, topic: &str) -> String {
        format!("{}:v:{topic}", self.namespace)
    }
}

fn with_epoch(topics: &[String]) -> Vec<String> {
    std::iter::once(EPOCH.to_owned())
        .chain(topics.iter().cloned())
        .collect()
}
