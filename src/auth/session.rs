//! Browser sessions, kept server-side in the cache facade (Redis when configured, so every
//! instance shares them; in-process otherwise). The cookie holds only a random id; the store
//! keys the session by the id's digest. Sessions end after `idle` without use or `absolute`
//! after sign-in, whichever comes first.

use std::time::Duration;

use axum::body::Bytes;
use serde::{Deserialize, Serialize};

use super::refresh::{digest, random_text};
use crate::cache::Cache;
use crate::error::{Error, Result};

/// A session is written back (its idle time renewed) at most this often.
const TOUCH_EVERY_MS: i64 = 60_000;

#[derive(Clone)]
pub struct SessionStore {
    cache: Cache,
    idle: Duration,
    absolute: Duration,
}

#[derive(Serialize, Deserialize)]
struct Session {
    user_id: i64,
    started_ms: i64,
    seen_ms: i64,
}

impl SessionStore {
    pub fn new(cache: Cache, idle: Duration, absolute: Duration) -> Self {
        SessionStore {
            cache,
            idle,
            absolute,
        }
    }

    /// Starts a session for `user_id`; returns its id (the cookie's value).
    pub async fn start(&self, user_id: i64) -> Result<String> {
        let id = random_text(32);
        let now = now_ms();
        let session = Session {
            user_id,
            started_ms: now,
            seen_ms: now,
        };
        self.save(&id, &session).await?;
        Ok(id)
    }

    /// The user of the live session `id` and when it started, renewing its idle time.
    pub async fn user(&self, id: &str) -> Result<Option<(i64, i64)>> {
        let Some(bytes) = self.cache.get_value(&key(id)).await.map_err(unavailable)? else {
            return Ok(None);
        };
        let Ok(mut session) = serde_json::from_slice::<Session>(&bytes) else {
            return Ok(None);
        };
        let now = now_ms();
        if now - session.started_ms >= self.absolute.as_millis() as i64
            || now - session.seen_ms >= self.idle.as_millis() as i64
        {
            return Ok(None);
        }
        if now - session.seen_ms >= TOUCH_EVERY_MS {
            session.seen_ms = now;
            self.save(id, &session).await?;
        }
        Ok(Some((session.user_id, session.started_ms)))
    }

    /// Ends session `id` on every instance.
    pub async fn end(&self, id: &str) -> Result<()> {
        self.cache.delete_value(&key(id)).await.map_err(unavailable)
    }

    async fn save(&self, id: &str, session: &Session) -> Result<()> {
        let left = self.absolute.as_millis() as i64 - (session.seen_ms - session.started_ms);
        let ttl = self.idle.min(Duration::from_millis(left.max(1) as u64));
        let bytes = serde_json::to_vec(session).map_err(|e| Error::Internal(e.into()))?;
        self.cache
            .put_value(&key(id), Bytes::from(bytes), ttl)
            .await
            .map_err(unavailable)
    }
}

fn key(id: &str) -> String {
    format!("session:{}", digest(id))
}

fn unavailable(_: crate::cache::Unavailable) -> Error {
    Error::Unavailable("sessions are unavailable; try again shortly")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
