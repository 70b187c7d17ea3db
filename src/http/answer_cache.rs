//! The anonymous whole-answer cache, shared by both APIs: a rendered anonymous answer is kept
//! with its ETag and the versions of every topic its parts were read under (see
//! `cache::tracking`), so a hit (and a 304) costs one versions read and no SQL, resolver or
//! rendering, and a write is seen by the next read of any answer that showed what it changed.

use axum::body::Bytes;
use axum::http::HeaderValue;
use sha2::{Digest, Sha256};

use crate::cache::Cache;
use crate::cache::tracking::Tracking;
use crate::domain::cache_keys::{self, Kind};

/// A rendered answer, its weak validator and the articles it counts as read (see
/// `tracking::note_view`).
pub struct Answer {
    pub etag: HeaderValue,
    pub body: Bytes,
    pub viewed: Vec<i64>,
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
        let entry = self.cache.recall(Kind::Response, &self.key).await?;
        // `etag \n viewed ids (comma-separated) \n body`
        let first = entry.iter().position(|b| *b == b'\n')?;
        let second = first + 1 + entry[first + 1..].iter().position(|b| *b == b'\n')?;
        // Shares the entry's bytes: a hit copies nothing.
        let etag = HeaderValue::from_maybe_shared(entry.slice(..first)).ok()?;
        let viewed = std::str::from_utf8(&entry[first + 1..second])
            .ok()?
            .split(',')
            .filter_map(|id| id.parse().ok())
            .collect();
        Some(Answer {
            etag,
            body: entry.slice(second + 1..),
            viewed,
        })
    }

    /// Keeps `body`, built as `tracked` says (reads that bypassed the cache: it cannot be
    /// kept), for the next anonymous request; returns it with its ETag.
    pub async fn put(&self, body: Bytes, tracked: Tracking) -> Answer {
        let etag = etag_of(&body);
        let viewed: Vec<String> = tracked.viewed.iter().map(i64::to_string).collect();
        let viewed_line = viewed.join(",");
        let mut entry = Vec::with_capacity(etag.len() + viewed_line.len() + 2 + body.len());
        entry.extend_from_slice(etag.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(viewed_line.as_bytes());
        entry.push(b'\n');
        entry.extend_from_slice(&body);
        // An answer that read nothing cached (a bench or health route) has nothing to check.
        if let Some(reads) = tracked.reads.filter(|reads| !reads.is_empty()) {
            self.cache.keep(&self.key, reads, entry.into()).await;
        }
        Answer {
            etag,
            body,
            viewed: tracked.viewed,
        }
    }
}

/// A weak validator: the same JSON whatever the content coding the client negotiates.
pub fn etag_of(body: &[u8]) -> HeaderValue {
    let digest = Sha256::digest(body);
    HeaderValue::try_from(format!("W/\"{}\"", hex::encode(&digest[..12])))
        .expect("a quoted hex digest is a valid header value")
}
