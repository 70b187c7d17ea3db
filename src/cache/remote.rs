//! The Redis side of the cache, and the watch that keeps it honest when Redis refuses writes.
//!
//! A version bump that does not land would leave every instance serving the old data until
//! the entries expire. So a failed write (a bump or an entry) marks this instance *dirty*: it
//! stops reading the shared cache, and a watch task retries until Redis takes a write again,
//! then bumps the epoch (its own lost bumps and, as it cannot know, anyone else's: every entry
//! depends on the epoch) before the instance reads the cache again. While healthy the same task probes with a small write
//! every [`PROBE_INTERVAL`], so an instance notices within about a second that Redis stopped
//! taking writes (and with them other instances' bumps) and stops serving from it.

use std::sync::Weak;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{RedisError, RedisResult};
use axum::body::Bytes;
use rand::Rng;

use super::coalesce::VersionReads;
use super::entry::Entry;
use super::stats::Outcome;
use super::{ENTRY_TTL, EPOCH, Inner, Unavailable};

/// After a Redis error, requests skip Redis for this long instead of each waiting on it.
const READ_BACKOFF: Duration = Duration::from_secs(1);
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);
/// How often the watch task checks that Redis takes writes (and retries while it does not).
pub const PROBE_INTERVAL: Duration = Duration::from_millis(500);
/// Versions of topics nobody writes any more expire; they start afresh when read again.
const VERSION_TTL: Duration = Duration::from_secs(86_400);

pub(crate) struct RedisBackend {
    connection: ConnectionManager,
    version_reads: VersionReads,
    started: Instant,
    /// Reads skip Redis until this many milliseconds after `started`.
    retry_after_ms: AtomicU64,
    /// Counts failed writes; `settled` is the count the last full re-bump covered. The shared
    /// cache is read only while they are equal.
    failed_writes: AtomicU64,
    settled: AtomicU64,
}

impl RedisBackend {
    pub(crate) fn connect(url: &str) -> anyhow::Result<Self> {
        let client = ::redis::Client::open(url)
            .map_err(|e| anyhow::anyhow!("QUIRE_REDIS_URL is not a valid Redis URL: {e}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisBackend {
            version_reads: VersionReads::new(connection.clone()),
            connection,
            started: Instant::now(),
            retry_after_ms: AtomicU64::new(0),
            failed_writes: AtomicU64::new(0),
            settled: AtomicU64::new(0),
        })
    }

    fn usable(&self) -> bool {
        self.writes_settled() && self.answering()
    }

    /// False for a while after Redis failed to answer.
    fn answering(&self) -> bool {
        self.started.elapsed().as_millis() as u64 >= self.retry_after_ms.load(Ordering::Relaxed)
    }

    fn writes_settled(&self) -> bool {
        self.settled.load(Ordering::Acquire) == self.failed_writes.load(Ordering::Acquire)
    }

    /// The current versions of `topics`, or `None` when the shared cache must not be used.
    pub(crate) async fn versions(&self, inner: &Inner, topics: &[String]) -> Option<Vec<u64>> {
        if !self.usable() {
            return None;
        }
        let keys: Vec<String> = topics.iter().map(|t| inner.version_key(t)).collect();
        let values = match self.version_reads.read(&keys).await {
            Ok(values) => values,
            Err(err) => return self.read_failed(inner, err),
        };
        self.complete(inner, &keys, values).await
    }

    /// The versions of `topics` and the entries under `keys`, in one round trip. An error is
    /// counted by the caller, for each entry it was looking up.
    pub(crate) async fn versions_and_entries(
        &self,
        inner: &Inner,
        topics: &[String],
        keys: &[String],
    ) -> Option<(Vec<u64>, Vec<Option<Entry>>)> {
        if !self.usable() {
            return None;
        }
        let version_keys: Vec<String> = topics.iter().map(|t| inner.version_key(t)).collect();
        let answer: RedisResult<(Vec<Option<u64>>, Vec<RawEntry>)> = if keys.is_empty() {
            self.version_reads
                .read(&version_keys)
                .await
                .map(|versions| (versions, vec![]))
        } else {
            let mut connection = self.connection.clone();
            ::redis::pipe()
                .cmd("MGET")
                .arg(&version_keys)
                .cmd("MGET")
                .arg(keys)
                .query_async(&mut connection)
                .await
        };
        let (values, entries) = match answer {
            Ok(answer) => answer,
            Err(err) => return self.read_failed(inner, err),
        };
        let versions = self.complete(inner, &version_keys, values).await?;
        Some((versions, decode_all(entries)))
    }

    /// Versions as read, with any missing one started first. A topic never bumped, expired,
    /// or lost with Redis's data starts at a random point, so that no entry built before can
    /// match it again.
    async fn complete(
        &self,
        inner: &Inner,
        keys: &[String],
        values: Vec<Option<u64>>,
    ) -> Option<Vec<u64>> {
        if values.iter().all(Option::is_some) {
            return Some(values.into_iter().map(Option::unwrap_or_default).collect());
        }
        let mut pipe = ::redis::pipe();
        for (key, value) in keys.iter().zip(&values) {
            if value.is_none() {
                pipe.cmd("SET")
                    .arg(key)
                    .arg(fresh_version())
                    .arg("NX")
                    .arg("EX")
                    .arg(VERSION_TTL.as_secs())
                    .ignore();
            }
        }
        pipe.cmd("MGET").arg(keys);
        let mut connection = self.connection.clone();
        match pipe
            .query_async::<(Vec<Option<u64>>,)>(&mut connection)
            .await
        {
            Ok((values,)) => Some(values.into_iter().map(Option::unwrap_or_default).collect()),
            Err(err) => self.write_failed(inner, err),
        }
    }

    /// Gives each of `topics` a fresh version.
    pub(crate) async fn bump(&self, inner: &Inner, topics: &[String]) {
        if topics.is_empty() {
            return;
        }
        let mut pipe = ::redis::pipe();
        for topic in topics {
            pipe.cmd("SET")
                .arg(inner.version_key(topic))
                .arg(fresh_version())
                .arg("EX")
                .arg(VERSION_TTL.as_secs())
                .ignore();
        }
        let mut connection = self.connection.clone();
        if let Err(err) = pipe.query_async::<()>(&mut connection).await {
            // The watch task bumps the epoch once Redis takes writes again.
            let _: Option<()> = self.write_failed(inner, err);
        }
    }

    /// The entries under `keys` (`None` where Redis has none; an error is counted here).
    pub(crate) async fn entries(
        &self,
        inner: &Inner,
        kind: usize,
        keys: &[String],
    ) -> Result<Vec<Option<Entry>>, Unavailable> {
        if !self.usable() {
            inner.stats.count(kind, Outcome::Error);
            return Err(Unavailable);
        }
        let mut connection = self.connection.clone();
        match ::redis::cmd("MGET")
            .arg(keys)
            .query_async::<Vec<RawEntry>>(&mut connection)
            .await
        {
            Ok(values) => Ok(decode_all(values)),
            Err(err) => {
                inner.stats.count(kind, Outcome::Error);
                self.read_failed::<()>(inner, err);
                Err(Unavailable)
            }
        }
    }

    pub(crate) async fn put(&self, inner: &Inner, key: &str, entry: &Entry) {
        if !self.usable() {
            return;
        }
        let mut connection = self.connection.clone();
        let stored = ::redis::cmd("SET")
            .arg(key)
            .arg(Entry::encode(&entry.reads, &entry.payload))
            .arg("EX")
            .arg(ENTRY_TTL.as_secs())
            .query_async::<()>(&mut connection)
            .await;
        if let Err(err) = stored {
            let _: Option<()> = self.write_failed(inner, err);
        }
    }

    pub(crate) async fn put_value(
        &self,
        inner: &Inner,
        key: &str,
        value: &Bytes,
        ttl: Duration,
    ) -> Result<(), Unavailable> {
        let mut connection = self.connection.clone();
        ::redis::cmd("SET")
            .arg(key)
            .arg(value.as_ref())
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64)
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.value_failed(inner, err))
    }

    pub(crate) async fn get_value(
        &self,
        inner: &Inner,
        key: &str,
    ) -> Result<Option<Bytes>, Unavailable> {
        let mut connection = self.connection.clone();
        ::redis::cmd("GET")
            .arg(key)
            .query_async::<Option<Vec<u8>>>(&mut connection)
            .await
            .map(|value| value.map(Bytes::from))
            .map_err(|err| self.value_failed(inner, err))
    }

    /// Whether Redis answers a `PING`.
    pub(crate) async fn ping(&self) -> bool {
        let mut connection = self.connection.clone();
        ::redis::cmd("PING")
            .query_async::<String>(&mut connection)
            .await
            .is_ok()
    }

    pub(crate) async fn delete_value(&self, inner: &Inner, key: &str) -> Result<(), Unavailable> {
        let mut connection = self.connection.clone();
        ::redis::cmd("DEL")
            .arg(key)
            .query_async::<()>(&mut connection)
            .await
            .map_err(|err| self.value_failed(inner, err))
    }

    /// Runs a script unless Redis failed within the last [`READ_BACKOFF`]: while it is down,
    /// callers fall back at once instead of each waiting for the timeout.
    pub(crate) async fn run_script(
        &self,
        inner: &Inner,
        script: &::redis::Script,
        keys: &[String],
        args: &[String],
    ) -> Result<Vec<i64>, Unavailable> {
        if !self.answering() {
            return Err(Unavailable);
        }
        let mut invocation = script.prepare_invoke();
        for key in keys {
            invocation.key(key);
        }
        for arg in args {
            invocation.arg(arg);
        }
        let mut connection = self.connection.clone();
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|err| {
                let _: Option<()> = self.read_failed(inner, err);
                Unavailable
            })
    }

    /// Plain values (sessions) have no database behind them: a failure is reported, not hidden.
    fn value_failed(&self, inner: &Inner, err: RedisError) -> Unavailable {
        let errors = inner.stats.redis_failed();
        tracing::warn!(error = %err, redis_errors = errors, "Redis unavailable for a stored value");
        Unavailable
    }

    fn read_failed<T>(&self, inner: &Inner, err: RedisError) -> Option<T> {
        let errors = inner.stats.redis_failed();
        let retry_at = self.started.elapsed() + READ_BACKOFF;
        self.retry_after_ms
            .store(retry_at.as_millis() as u64, Ordering::Relaxed);
        tracing::warn!(error = %err, redis_errors = errors, "Redis unavailable; serving from the database and in-process limits");
        None
    }

    fn write_failed<T>(&self, inner: &Inner, err: RedisError) -> Option<T> {
        let was_settled = self.writes_settled();
        self.failed_writes.fetch_add(1, Ordering::AcqRel);
        let errors = inner.stats.redis_failed();
        if was_settled {
            tracing::warn!(error = %err, redis_errors = errors, "a Redis write failed; serving from the database until Redis takes writes again");
        }
        None
    }

    /// One round of the watch: a probe write while settled, otherwise a fresh epoch.
    async fn watch_once(&self, inner: &Inner) {
        let failed = self.failed_writes.load(Ordering::Acquire);
        let settled = self.settled.load(Ordering::Acquire) == failed;
        let mut pipe = ::redis::pipe();
        pipe.cmd("SET")
            .arg(format!("{}:probe", inner.namespace))
            .arg(1)
            .arg("PX")
            .arg(10 * PROBE_INTERVAL.as_millis() as u64)
            .ignore();
        if !settled {
            pipe.cmd("SET")
                .arg(inner.version_key(EPOCH))
                .arg(fresh_version())
                .arg("EX")
                .arg(VERSION_TTL.as_secs())
                .ignore();
        }
        let mut connection = self.connection.clone();
        let outcome: RedisResult<()> = pipe.query_async(&mut connection).await;
        match outcome {
            Ok(()) if !settled => {
                self.settled.store(failed, Ordering::Release);
                tracing::info!("Redis takes writes again; epoch bumped, cache in use");
            }
            Ok(()) => {}
            Err(err) => {
                let _: Option<()> = self.write_failed(inner, err);
            }
        }
    }
}

/// An entry as Redis returns it: its encoded bytes, if it has one.
type RawEntry = Option<Vec<u8>>;

fn decode_all(values: Vec<RawEntry>) -> Vec<Option<Entry>> {
    values
        .into_iter()
        .map(|value| value.and_then(|bytes| Entry::decode(Bytes::from(bytes))))
        .collect()
}

/// A random version: a bumped or restarted topic never returns to one seen before (2^62 values).
fn fresh_version() -> u64 {
    rand::rng().random_range(1..u64::MAX >> 2)
}

/// Runs the watch for as long as the cache lives.
pub(crate) fn watch_writes(inner: Weak<Inner>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(PROBE_INTERVAL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            let Some(inner) = inner.upgrade() else { return };
            if let super::Backend::Redis(redis) = &inner.backend {
                redis.watch_once(&inner).await;
            }
        }
    });
}
