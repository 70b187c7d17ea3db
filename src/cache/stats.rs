//! Hit, miss and error counters per kind of entry, and the count of Redis failures.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct KindStats {
    pub hits: u64,
    pub misses: u64,
    pub errors: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Outcome {
    Hit = 0,
    Miss = 1,
    Error = 2,
}

pub(crate) struct Stats {
    counters: Vec<[AtomicU64; 3]>,
    redis_errors: AtomicU64,
}

impl Stats {
    pub(crate) fn new(kinds: usize) -> Self {
        Stats {
            counters: (0..kinds).map(|_| Default::default()).collect(),
            redis_errors: AtomicU64::new(0),
        }
    }

    pub(crate) fn count(&self, kind: usize, outcome: Outcome) {
        if let Some(counters) = self.counters.get(kind) {
            counters[outcome as usize].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records a Redis failure; returns how many there have been.
    pub(crate) fn redis_failed(&self) -> u64 {
        self.redis_errors.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn redis_errors(&self) -> u64 {
        self.redis_errors.load(Ordering::Relaxed)
    }

    pub(crate) fn of(&self, kind: usize) -> KindStats {
        let read = |outcome: Outcome| {
            self.counters
                .get(kind)
                .map_or(0, |c| c[outcome as usize].load(Ordering::Relaxed))
        };
        KindStats {
            hits: read(Outcome::Hit),
            misses: read(Outcome::Miss),
            errors: read(Outcome::Error),
        }
    }
}
