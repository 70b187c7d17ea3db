//! What a request read from the cache, so that an answer assembled from many entries (a whole
//! rendered response) can be kept with the versions of every topic behind it. Each entry's
//! versions were read before its data, so their union is safe for the answer too. A read-only
//! request also remembers the entries it read, so that reading one twice (the account behind a
//! token, checked and then shown) costs one round trip to Redis.

use std::collections::{BTreeSet, HashMap};

use axum::body::Bytes;
use std::future::Future;
use std::sync::{Arc, Mutex};

use super::entry::Reads;

#[derive(Default)]
struct Tracked {
    reads: BTreeSet<(String, u64)>,
    /// Something was read around the cache (it was unusable): the answer must not be kept.
    bypassed: bool,
    /// Entries read so far, by key: one view of each per request.
    seen: HashMap<String, Bytes>,
    /// Articles an anonymous answer showed as a read of the article: a cached copy of the
    /// answer records a view of each every time it is served.
    viewed: Vec<i64>,
}

/// What a tracked piece of work read.
pub struct Tracking {
    /// `None` when any of it bypassed the cache.
    pub reads: Option<Reads>,
    pub viewed: Vec<i64>,
}

tokio::task_local! {
    static TRACKED: Arc<Mutex<Tracked>>;
}

/// Runs `work`, returning what it read: `None` when any of it bypassed the cache. What it read
/// also counts for an enclosing `track` (an entry assembled inside an answer).
pub async fn track<F: Future>(work: F) -> (F::Output, Tracking) {
    let tracked = Arc::new(Mutex::new(Tracked::default()));
    let output = TRACKED.scope(tracked.clone(), work).await;
    let tracked = std::mem::take(&mut *tracked.lock().unwrap_or_else(|e| e.into_inner()));
    let _ = TRACKED.try_with(|outer| {
        let mut outer = outer.lock().unwrap_or_else(|e| e.into_inner());
        outer.reads.extend(tracked.reads.iter().cloned());
        outer.bypassed |= tracked.bypassed;
        outer.viewed.extend(tracked.viewed.iter().copied());
    });
    let reads = (!tracked.bypassed).then(|| tracked.reads.into_iter().collect());
    (
        output,
        Tracking {
            reads,
            viewed: tracked.viewed,
        },
    )
}

/// Notes that the answer being built is a read of `article` (see [`Tracking::viewed`]).
pub fn note_view(article: i64) {
    let _ = TRACKED.try_with(|tracked| {
        tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .viewed
            .push(article);
    });
}

/// Runs `work` reading for itself: what it reads does not count for an enclosing `track`. For
/// building an entry whose own topics already stand for everything it is built from.
pub async fn isolate<F: Future>(work: F) -> F::Output {
    TRACKED.scope(Arc::default(), work).await
}

/// Spawns `work` on the runtime so that what it reads counts for the request spawning it
/// (GraphQL's DataLoaders load in tasks of their own).
pub fn spawn<F>(work: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    match TRACKED.try_with(Arc::clone) {
        Ok(tracked) => tokio::spawn(TRACKED.scope(tracked, work)),
        Err(_) => tokio::spawn(work),
    }
}

pub(super) fn record(topics: &[String], versions: &[u64]) {
    let _ = TRACKED.try_with(|tracked| {
        let mut tracked = tracked.lock().unwrap_or_else(|e| e.into_inner());
        for (topic, version) in topics.iter().zip(versions) {
            tracked.reads.insert((topic.clone(), *version));
        }
    });
}

/// An entry this request read already.
pub fn recall(key: &str) -> Option<Bytes> {
    TRACKED
        .try_with(|tracked| {
            let tracked = tracked.lock().unwrap_or_else(|e| e.into_inner());
            tracked.seen.get(key).cloned()
        })
        .ok()
        .flatten()
}

pub fn remember(key: &str, payload: &Bytes) {
    let _ = TRACKED.try_with(|tracked| {
        let mut tracked = tracked.lock().unwrap_or_else(|e| e.into_inner());
        tracked.seen.insert(key.to_owned(), payload.clone());
    });
}

/// After a write, this request reads afresh.
pub fn forget() {
    let _ = TRACKED.try_with(|tracked| {
        tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seen
            .clear();
    });
}

pub(super) fn record_bypass() {
    let _ = TRACKED.try_with(|tracked| {
        tracked.lock().unwrap_or_else(|e| e.into_inner()).bypassed = true;
    });
}
