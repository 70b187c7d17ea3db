//! One cache facade: Redis when `QUIRE_REDIS_URL` is set (shared by every instance), moka
//! in-process otherwise. Generic: the application names its generations and entry kinds (see
//! `domain::cache_keys`); this module knows nothing of articles or users.
//!
//! Entries are never updated in place. Every key carries the current *generation* of the data it
//! was built from; a write bumps the generations it affects after it commits, so readers on
//! every instance move to new keys at once and old entries simply expire. Because keys are
//! versioned, the in-process moka layer in front of Redis stays coherent across instances: it
//! can only ever hold entries for generations that some instance has read from Redis.
//!
//! When Redis fails to answer, requests bypass the cache (served from the database) for a
//! second, a warning and a counter record it, and the next request after that tries Redis again.
//! When Redis answers reads but refuses writes (a replica after fail-over,
//! `min-replicas-to-write`), a bump could be lost, so the instance stops reading the shared cache
//! (see [`remote`]) until a write succeeds again and it has bumped every generation.

mod remote;
mod stats;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use self::remote::RedisBackend;
pub use self::stats::KindStats;
use self::stats::{Outcome, Stats};

/// Entries outlive no generation bump; the TTL only reclaims memory from superseded ones.
pub const ENTRY_TTL: Duration = Duration::from_secs(300);
const LOCAL_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// The longest a plain value may live.
pub const MAX_VALUE_TTL: Duration = Duration::from_secs(366 * 86_400);

/// The shared store could not be read or written: the caller decides what that means (a
/// session that cannot be checked is refused, never assumed).
#[derive(Debug, Clone, Copy)]
pub struct Unavailable;

/// What the application caches: the names of its generations and of its kinds of entry (for
/// the hit/miss/error counters). Generations and kinds are then named by their index.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    pub generations: &'static [&'static str],
    pub kinds: &'static [&'static str],
}

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    namespace: String,
    layout: Layout,
    local: moka::future::Cache<String, Bytes>,
    /// Plain values with their own lifetime (sessions), when they live in this process: with
    /// no Redis, and also with caching switched off (sessions must work regardless).
    values: moka::future::Cache<String, (Instant, Bytes)>,
    backend: Backend,
    stats: Stats,
}

enum Backend {
    /// Caching switched off (`QUIRE_CACHE_ENABLED=false`): every request reads the database.
    Disabled,
    /// Generations live in this process: coherent for one instance only.
    Local {
        generations: Vec<AtomicU64>,
    },
    Redis(RedisBackend),
}

/// A snapshot of every generation, indexed as the [`Layout`] names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generations(Vec<u64>);

impl Generations {
    pub fn get(&self, generation: usize) -> u64 {
        self.0.get(generation).copied().unwrap_or_default()
    }
}

impl Cache {
    /// An in-process cache (no Redis configured).
    pub fn local(namespace: &str, layout: Layout) -> Cache {
        let generations = layout.generations.iter().map(|_| AtomicU64::new(0));
        Self::build(
            namespace,
            layout,
            Backend::Local {
                generations: generations.collect(),
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
            .weigher(|key: &String, value: &Bytes| {
                (key.len() + value.len()).try_into().unwrap_or(u32::MAX)
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
            }),
        }
    }

    /// The current generations, or `None` when the cache must not be used (bypass it).
    pub async fn generations(&self) -> Option<Generations> {
        match &self.inner.backend {
            Backend::Disabled => None,
            Backend::Local { generations } => Some(Generations(
                generations
                    .iter()
                    .map(|g| g.load(Ordering::Acquire))
                    .collect(),
            )),
            Backend::Redis(redis) => redis.generations(&self.inner).await.map(Generations),
        }
    }

    /// Moves `generations` on, so that every entry built from the old data is unreachable.
    /// Called after the write has committed.
    pub async fn bump(&self, generations: &[usize]) {
        match &self.inner.backend {
            Backend::Disabled => {}
            Backend::Local {
                generations: current,
            } => {
                for g in generations {
                    current[*g].fetch_add(1, Ordering::AcqRel);
                }
            }
            Backend::Redis(redis) => redis.bump(&self.inner, generations).await,
        }
    }

    pub async fn get(&self, kind: usize, key: &str) -> Option<Bytes> {
        let key = self.inner.entry_key(key);
        if let Some(value) = self.inner.local.get(&key).await {
            self.inner.stats.count(kind, Outcome::Hit);
            return Some(value);
        }
        let Backend::Redis(redis) = &self.inner.backend else {
            self.inner.stats.count(kind, Outcome::Miss);
            return None;
        };
        let value = redis.get(&self.inner, kind, &key).await?;
        self.inner.local.insert(key, value.clone()).await;
        Some(value)
    }

    pub async fn put(&self, key: &str, value: Bytes) {
        let key = self.inner.entry_key(key);
        if let Backend::Redis(redis) = &self.inner.backend {
            redis.put(&self.inner, &key, &value).await;
        }
        self.inner.local.insert(key, value).await;
    }

    /// Stores a plain value (not versioned by generations) for `ttl`: shared by every instance
    /// with Redis, in this process otherwise.
    pub async fn put_value(
        &self,
        key: &str,
        value: Bytes,
        ttl: Duration,
    ) -> Result<(), Unavailable> {
        let key = self.inner.value_key(key);
        let ttl = ttl.min(MAX_VALUE_TTL);
        match &self.inner.backend {
            Backend::Redis(redis) => redis.put_value(&self.inner, &key, &value, ttl).await,
            Backend::Local { .. } | Backend::Disabled => {
                self.inner
                    .values
                    .insert(key, (Instant::now() + ttl, value))
                    .await;
                Ok(())
            }
        }
    }

    /// A plain value, if it is there and alive.
    pub async fn get_value(&self, key: &str) -> Result<Option<Bytes>, Unavailable> {
        let key = self.inner.value_key(key);
        match &self.inner.backend {
            Backend::Redis(redis) => redis.get_value(&self.inner, &key).await,
            Backend::Local { .. } | Backend::Disabled => Ok(self
                .inner
                .values
                .get(&key)
                .await
                .filter(|(deadline, _)| *deadline > Instant::now())
                .map(|(_, value)| value)),
        }
    }

    pub async fn delete_value(&self, key: &str) -> Result<(), Unavailable> {
        let key = self.inner.value_key(key);
        match &self.inner.backend {
            Backend::Redis(redis) => redis.delete_value(&self.inner, &key).await,
            Backend::Local { .. } | Backend::Disabled => {
                self.inner.values.invalidate(&key).await;
                Ok(())
            }
        }
    }

    /// Whether a Redis is configured (up or not): what is shared goes there first.
    pub fn has_redis(&self) -> bool {
        matches!(self.inner.backend, Backend::Redis(_))
    }

    /// Runs `script` atomically on Redis with `keys` (namespaced like plain values) and `args`.
    /// `None` when there is no Redis to run it on; an error when Redis failed to (the caller
    /// falls back to something in-process).
    pub async fn run_script(
        &self,
        script: &::redis::Script,
        keys: &[&str],
        args: &[String],
    ) -> Option<Result<Vec<i64>, Unavailable>> {
        let Backend::Redis(redis) = &self.inner.backend else {
            return None;
        };
        let keys: Vec<String> = keys.iter().map(|key| self.inner.value_key(key)).collect();
        Some(redis.run_script(&self.inner, script, &keys, args).await)
    }

    pub fn layout(&self) -> Layout {
        self.inner.layout
    }

    pub fn stats(&self, kind: usize) -> KindStats {
        self.inner.stats.of(kind)
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

    fn generation_key(&self, generation: usize) -> String {
        format!(
            "{}:gen:{}",
            self.namespace, self.layout.generations[generation]
        )
    }
}

/// Length-prefixed, so that no combination of user-supplied values can collide with another.
pub fn part(value: &str) -> String {
    format!("{}:{value}", value.len())
}

/// A short digest of `parts` for keys whose inputs can be long. Each part is length-prefixed,
/// so that no two inputs run together into the same bytes.
pub fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
