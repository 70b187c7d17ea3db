//! The anonymous whole-answer cache, shared by both APIs: a rendered anonymous answer is kept
//! with its ETag under a key versioned by the data generations, so a hit (and a 304) costs one
//! generations read and no SQL, resolver or rendering, and a write is seen by the next read.

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::domain::cache_keys::{self, Kind};

/// A rendered answer and its weak validator.
pub struct Answer {
    pub etag: String,
    pub body: Bytes,
}

/// Where one request's anonymous answer lives for the current generations.
pub struct AnswerSlot {
    cache: Cache,
    key: String,
}

impl AnswerSlot {
    /// The slot for the request `what` names, or `None` when the cache must not be used.
    /// `with_comments` says whether the answer can show comment threads.
    pub async fn find(cache: &Cache, with_comments: bool, what: &str) -> Option<AnswerSlot> {
        let generations = cache.generations().await?;
        Some(AnswerSlot {
            cache: cache.clone(),
            key: cache_keys::anonymous_answer(&generations, with_comments, what),
        })
    }

    pub async fn get(&self) -> Option<Answer> {
        let entry = self.cache.get(Kind::Response as usize, &self.key).await?;
        let split = entry.iter().position(|b| *b == b'\n')?;
        let etag = std::str::from_utf8(&entry[..split]).ok()?.to_owned();
        Some(Answer {
            etag,
            body: entry.slice(split + 1..),
        })
    }

    /// Keeps `body` for the next anonymous request; returns it with its ETag.
    pub async fn put(&self, body: Bytes) -> Answer {
        let etag = etag_of(&body);
        let mut entry = Vec::with_capacity(etag.len() + 1 + body.len());
        entry.extend_from_slice(etag.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(&body);
        self.cache.put(&self.key, entry.into()).await;
        Answer { etag, body }
    }
}

/// A weak validator: the same JSON whatever the content coding the client negotiates.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("W/\"{hex}\"")
}
