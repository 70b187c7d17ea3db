//! Plain values with a lifetime of their own (sessions) and atomic scripts (rate limits): not
//! versioned, shared by every instance with Redis, in this process otherwise.

use std::time::{Duration, Instant};

use axum::body::Bytes;

use super::{Backend, Cache, MAX_VALUE_TTL, Unavailable};

impl Cache {
    /// Stores a plain value (not versioned by topics) for `ttl`: shared by every instance
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
}
