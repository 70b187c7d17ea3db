//! One cache facade: Redis when `QUIRE_REDIS_URL` is set (shared by every instance), moka
//! in-process otherwise.
//!
//! Entries are never updated in place. Every key carries the current *generation* of the data it
//! was built from (see [`keys`]); a write bumps the generations it affects after it commits, so
//! readers on every instance move to new keys at once and old entries simply expire. Because keys
//! are versioned, the in-process moka layer in front of Redis stays coherent across instances: it
//! can only ever hold entries for generations that some instance has read from Redis.
//!
//! When Redis fails, requests bypass the cache (served from the database) for a second, a warning
//! and a counter record it, and the next request after that tries Redis again.

pub mod keys;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use rand::Rng;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use keys::{Generation, Generations, Kind};

/// Entries outlive no generation bump; the TTL only reclaims memory from superseded ones.
const ENTRY_TTL: Duration = Duration::from_secs(300);
const LOCAL_CAPACITY_BYTES: u64 = 64 * 1024 * 1024;
/// After a Redis error, requests skip Redis for this long instead of each waiting on it.
const REDIS_BACKOFF: Duration = Duration::from_secs(1);
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    namespace: String,
    local: moka::future::Cache<String, Bytes>,
    backend: Backend,
    stats: Stats,
}

enum Backend {
    /// Caching switched off (`QUIRE_CACHE_ENABLED=false`): every request reads the database.
    Disabled,
    /// Generations live in this process: coherent for one instance only.
    Local {
        generations: [AtomicU64; Generation::COUNT],
    },
    Redis {
        connection: ConnectionManager,
        started: Instant,
        retry_after_ms: AtomicU64,
    },
}

/// Hits, misses and errors per kind of entry.
#[derive(Default)]
pub struct Stats {
    counters: [[AtomicU64; 3]; Kind::COUNT],
    redis_errors: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KindStats {
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
}

const HIT: usize = 0;
const MISS: usize = 1;
const ERROR: usize = 2;

impl Cache {
    /// An in-process cache (no Redis configured).
    pub fn local(namespace: &str) -> Cache {
        Self::build(
            namespace,
            Backend::Local {
                generations: Default::default(),
            },
        )
    }

    /// No caching at all: for measuring, and for ruling the cache out when debugging.
    pub fn disabled(namespace: &str) -> Cache {
        Self::build(namespace, Backend::Disabled)
    }

    /// A Redis-backed cache. The connection is made lazily, so an unreachable Redis at start-up
    /// does not stop Quire; requests go to the database until it comes up.
    pub fn redis(namespace: &str, url: &str) -> anyhow::Result<Cache> {
        let client = redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("QUIRE_REDIS_URL is not a valid Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self::build(
            namespace,
            Backend::Redis {
                connection,
                started: Instant::now(),
                retry_after_ms: AtomicU64::new(0),
            },
        ))
    }

    fn build(namespace: &str, backend: Backend) -> Cache {
        let local = moka::future::Cache::builder()
            .max_capacity(LOCAL_CAPACITY_BYTES)
            .weigher(|key: &String, value: &Bytes| {
                (key.len() + value.len()).try_into().unwrap_or(u32::MAX)
            })
            .time_to_live(ENTRY_TTL)
            .build();
        Cache {
            inner: Arc::new(Inner {
                namespace: namespace.to_owned(),
                local,
                backend,
                stats: Stats::default(),
            }),
        }
    }

    /// The current generations, or `None` when the cache is unavailable (bypass it).
    pub async fn generations(&self) -> Option<Generations> {
        match &self.inner.backend {
            Backend::Disabled => None,
            Backend::Local { generations } => Some(Generations::from_fn(|g| {
                generations[g as usize].load(Ordering::Acquire)
            })),
            Backend::Redis { connection, .. } => {
                if !self.redis_available() {
                    return None;
                }
                let keys: Vec<String> = Generation::ALL
                    .iter()
                    .map(|g| self.generation_key(*g))
                    .collect();
                let mut connection = connection.clone();
                let values: Vec<Option<u64>> = match redis::cmd("MGET")
                    .arg(&keys)
                    .query_async(&mut connection)
                    .await
                {
                    Ok(values) => values,
                    Err(err) => return self.redis_failed(err),
                };
                if values.iter().all(Option::is_some) {
                    return Some(Generations::from_fn(|g| {
                        values[g as usize].unwrap_or_default()
                    }));
                }
                // First use, or Redis lost its data: start each missing generation at a random
                // point, so entries cached in-process before the loss can never match again.
                let mut pipe = redis::pipe();
                for (key, value) in keys.iter().zip(&values) {
                    if value.is_none() {
                        pipe.cmd("SET")
                            .arg(key)
                            .arg(rand::rng().random_range(1..u64::MAX >> 2))
                            .arg("NX")
                            .ignore();
                    }
                }
                pipe.cmd("MGET").arg(&keys);
                match pipe
                    .query_async::<(Vec<Option<u64>>,)>(&mut connection)
                    .await
                {
                    Ok((values,)) => Some(Generations::from_fn(|g| {
                        values[g as usize].unwrap_or_default()
                    })),
                    Err(err) => self.redis_failed(err),
                }
            }
        }
    }

    /// Moves `generations` on, so that every entry built from the old data is unreachable.
    /// Called after the write has committed.
    pub async fn bump(&self, generations: &[Generation]) {
        match &self.inner.backend {
            Backend::Disabled => {}
            Backend::Local {
                generations: current,
            } => {
                for g in generations {
                    current[*g as usize].fetch_add(1, Ordering::AcqRel);
                }
            }
            Backend::Redis { connection, .. } => {
                let mut pipe = redis::pipe();
                for g in generations {
                    pipe.cmd("INCR").arg(self.generation_key(*g)).ignore();
                }
                let mut connection = connection.clone();
                // A failed bump is retried once; other instances bypass the cache while Redis
                // is failing, and entries expire after ENTRY_TTL in any case.
                for _ in 0..2 {
                    match pipe.query_async::<()>(&mut connection).await {
                        Ok(()) => return,
                        Err(err) => {
                            let _: Option<()> = self.redis_failed(err);
                        }
                    }
                }
            }
        }
    }

    pub async fn get(&self, kind: Kind, key: &str) -> Option<Bytes> {
        let key = self.entry_key(key);
        if let Some(value) = self.inner.local.get(&key).await {
            self.count(kind, HIT);
            return Some(value);
        }
        let Backend::Redis { connection, .. } = &self.inner.backend else {
            self.count(kind, MISS);
            return None;
        };
        if !self.redis_available() {
            self.count(kind, ERROR);
            return None;
        }
        let mut connection = connection.clone();
        match redis::cmd("GET")
            .arg(&key)
            .query_async::<Option<Vec<u8>>>(&mut connection)
            .await
        {
            Ok(Some(value)) => {
                self.count(kind, HIT);
                let value = Bytes::from(value);
                self.inner.local.insert(key, value.clone()).await;
                Some(value)
            }
            Ok(None) => {
                self.count(kind, MISS);
                None
            }
            Err(err) => {
                self.count(kind, ERROR);
                self.redis_failed(err)
            }
        }
    }

    pub async fn put(&self, key: &str, value: Bytes) {
        let key = self.entry_key(key);
        if let Backend::Redis { connection, .. } = &self.inner.backend
            && self.redis_available()
        {
            let mut connection = connection.clone();
            let stored = redis::cmd("SET")
                .arg(&key)
                .arg(value.as_ref())
                .arg("EX")
                .arg(ENTRY_TTL.as_secs())
                .query_async::<()>(&mut connection)
                .await;
            if let Err(err) = stored {
                let _: Option<()> = self.redis_failed(err);
            }
        }
        self.inner.local.insert(key, value).await;
    }

    pub fn stats(&self, kind: Kind) -> KindStats {
        let c = &self.inner.stats.counters[kind as usize];
        KindStats {
            hits: c[HIT].load(Ordering::Relaxed),
            misses: c[MISS].load(Ordering::Relaxed),
            errors: c[ERROR].load(Ordering::Relaxed),
        }
    }

    pub fn redis_errors(&self) -> u64 {
        self.inner.stats.redis_errors.load(Ordering::Relaxed)
    }

    fn count(&self, kind: Kind, outcome: usize) {
        self.inner.stats.counters[kind as usize][outcome].fetch_add(1, Ordering::Relaxed);
        tracing::trace!(
            kind = kind.name(),
            outcome = ["hit", "miss", "error"][outcome],
            "cache"
        );
    }

    fn generation_key(&self, generation: Generation) -> String {
        format!("{}:gen:{}", self.inner.namespace, generation.name())
    }

    fn entry_key(&self, key: &str) -> String {
        format!("{}:{key}", self.inner.namespace)
    }

    fn redis_available(&self) -> bool {
        match &self.inner.backend {
            Backend::Redis {
                started,
                retry_after_ms,
                ..
            } => started.elapsed().as_millis() as u64 >= retry_after_ms.load(Ordering::Relaxed),
            Backend::Local { .. } | Backend::Disabled => true,
        }
    }

    fn redis_failed<T>(&self, err: redis::RedisError) -> Option<T> {
        if let Backend::Redis {
            started,
            retry_after_ms,
            ..
        } = &self.inner.backend
        {
            let errors = self
                .inner
                .stats
                .redis_errors
                .fetch_add(1, Ordering::Relaxed)
                + 1;
            let retry_at = started.elapsed() + REDIS_BACKOFF;
            retry_after_ms.store(retry_at.as_millis() as u64, Ordering::Relaxed);
            tracing::warn!(error = %err, redis_errors = errors, "Redis unavailable; serving from the database");
        }
        None
    }
}
