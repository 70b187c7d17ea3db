//! The anonymous whole-answer cache, shared by both APIs: a rendered anonymous answer is kept
//! with its ETag and the versions of every topic its parts were read under (see
//! `cache::tracking`), so a hit (and a 304) costs one versions read and no SQL, resolver or
//! rendering, and a write is seen by the next read of any answer that showed what it changed.

use axum::body::Bytes;
use sha2::{Digest, Sha256};

use crate::cache::{Cache, Reads};
use crate::domain::cache_keys::{self, Kind};

/// A rendered answer and its weak validator.
pub struct Answer {
    pub etag: String,
    pub body: Bytes,
}

/// Where one request's anonymous answer lives.
pub struct AnswerSlot {
    cache: Cache,
    key: String,
}

impl AnswerSlot {
    /// The slot for the request `what` names.
    pub fn find(cache: &Cache, what: &str) -> AnswerSlot {
        AnswerSlot {
            cache: cache.clone(),
            key: cache_keys::anonymous_answer(what),
        }
    }

    /// The kept answer, if everything it showed is unchanged.
    pub async fn get(&self) -> Option<Answer> {
        let entry = self
            .cache
            .recall(Kind::Response as usize, &self.key)
            .await?;
        let split = entry.iter().position(|b| *b == b'\n')?;
        let etag = std::str::from_utf8(&entry[..split]).ok()?.to_owned();
        Some(Answer {
            etag,
            body: entry.slice(split + 1..),
        })
    }

    /// Keeps `body`, built from `reads` (none: it cannot be kept), for the next anonymous
    /// request; returns it with its ETag.
    pub async fn put(&self, body: Bytes, reads: Option<Reads>) -> Answer {
        let etag = etag_of(&body);
        let mut entry = Vec::with_capacity(etag.len() + 1 + body.len());
        entry.extend_from_slice(etag.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(&body);
        // An answer that read nothing cached (a bench or health route) has nothing to check.
        if let Some(reads) = reads.filter(|reads| !reads.is_empty()) {
            self.cache.keep(&self.key, reads, entry.into()).await;
        }
        Answer { etag, body }
    }
}

/// A weak validator: the same JSON whatever the content coding the client negotiates.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("W/\"{}\"", crate::cache::hex(&digest[..12]))
}
