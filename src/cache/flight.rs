//! Single flight: concurrent misses of one entry on this instance build it once. Right after a
//! write, every request reading what it changed misses at the same moment; without this each
//! of them would run the same queries side by side, and the database's queue (not the cache)
//! would set the tail latency. The first miss builds; the others wait for it, then read what it
//! kept.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a miss waits for another task's build before building on its own: a slow or
/// abandoned build must not hold readers up for longer.
const LONGEST_WAIT: Duration = Duration::from_secs(2);
/// Builds under way are few; an idle lock is dropped soon (evicting one under way only costs
/// a second build).
const IDLE: Duration = Duration::from_secs(5);
const CAPACITY: u64 = 10_000;

pub(super) struct Flights(moka::sync::Cache<String, Arc<Mutex<()>>>);

/// This task's turn to build an entry: held until the entry is kept (or the build given up).
pub struct Turn {
    _guard: Option<OwnedMutexGuard<()>>,
    /// Another task built the entry while this one waited: look it up again first.
    pub waited: bool,
}

impl Flights {
    pub(super) fn new() -> Flights {
        Flights(
            moka::sync::Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_idle(IDLE)
                .build(),
        )
    }

    pub(super) async fn turn(&self, key: &str) -> Turn {
        let lock = self.0.get_with_by_ref(key, Arc::default);
        if let Ok(guard) = lock.clone().try_lock_owned() {
            return Turn {
                _guard: Some(guard),
                waited: false,
            };
        }
        match tokio::time::timeout(LONGEST_WAIT, lock.lock_owned()).await {
            Ok(guard) => Turn {
                _guard: Some(guard),
                waited: true,
            },
            Err(_) => Turn {
                _guard: None,
                waited: true,
            },
        }
    }
}
