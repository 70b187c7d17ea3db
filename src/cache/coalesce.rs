//! Version reads from concurrent requests, merged into one round trip. While one `MGET` of
//! versions is on its way to Redis, the reads that arrive meanwhile wait for the next one, which
//! then carries them all (group commit, applied to reads). Every read is answered by an `MGET`
//! sent after it arrived, so it sees every write that completed before it: the never-stale
//! guarantee holds, while under load one round trip (and one command for Redis to run) serves
//! many requests instead of one each.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use ::redis::aio::ConnectionManager;
use ::redis::{ErrorKind, RedisError, RedisResult};
use tokio::sync::oneshot;

type Versions = RedisResult<Vec<Option<u64>>>;

struct Waiter {
    keys: Vec<String>,
    reply: oneshot::Sender<Versions>,
}

#[derive(Default)]
struct Queue {
    waiting: Vec<Waiter>,
    /// A task is sending reads; whoever queues a read while it is, leaves it to that task.
    reading: bool,
}

pub(crate) struct VersionReads {
    queue: Arc<Mutex<Queue>>,
    connection: ConnectionManager,
}

impl VersionReads {
    pub(crate) fn new(connection: ConnectionManager) -> Self {
        VersionReads {
            queue: Arc::default(),
            connection,
        }
    }

    /// The values under `keys`, read by an `MGET` sent after this call began.
    pub(crate) async fn read(&self, keys: &[String]) -> Versions {
        let (reply, answer) = oneshot::channel();
        let start_reading = {
            let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            queue.waiting.push(Waiter {
                keys: keys.to_vec(),
                reply,
            });
            !std::mem::replace(&mut queue.reading, true)
        };
        if start_reading {
            tokio::spawn(send_reads(self.queue.clone(), self.connection.clone()));
        }
        answer.await.unwrap_or_else(|_| {
            Err(RedisError::from((
                ErrorKind::Io,
                "the version read was abandoned",
            )))
        })
    }
}

/// Sends everything waiting as one `MGET`, answers each waiter with its own keys' values, and
/// repeats until nothing waits.
async fn send_reads(queue: Arc<Mutex<Queue>>, mut connection: ConnectionManager) {
    loop {
        // Requests already runnable on this worker queue their reads first: fewer, fuller
        // round trips, at no cost when the server is quiet.
        tokio::task::yield_now().await;
        let batch = {
            let mut queue = queue.lock().unwrap_or_else(|e| e.into_inner());
            if queue.waiting.is_empty() {
                queue.reading = false;
                return;
            }
            std::mem::take(&mut queue.waiting)
        };
        let mut union: Vec<&str> = vec![];
        let mut place: HashMap<&str, usize> = HashMap::new();
        let places: Vec<Vec<usize>> = batch
            .iter()
            .map(|waiter| {
                waiter
                    .keys
                    .iter()
                    .map(|key| {
                        *place.entry(key.as_str()).or_insert_with(|| {
                            union.push(key.as_str());
                            union.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let answer: Versions = ::redis::cmd("MGET")
            .arg(&union)
            .query_async(&mut connection)
            .await;
        drop((union, place));
        for (waiter, places) in batch.into_iter().zip(places) {
            let own = match &answer {
                Ok(values) => Ok(places
                    .iter()
                    .map(|&at| values.get(at).copied().flatten())
                    .collect()),
                Err(err) => Err(err.clone()),
            };
            let _ = waiter.reply.send(own);
        }
    }
}
