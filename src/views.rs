//! Recording article views off the request path. A read folds its view into an in-process
//! buffer under a short lock (no SQL, no await, and no wake-up of anyone: a channel would wake
//! the writer for every view), and one task per process writes the buffer every second, or as
//! soon as 10,000 rows are waiting (1,000 rows per statement). Reads of one article by the same
//! viewer (or by anonymous readers) within the same second are one row with their number
//! (`views`), so a popular article costs the database a row a second, not a row a read. When
//! the buffer is full (the database is far behind), views are dropped and counted rather than
//! slowing readers down. At shutdown the buffer is written before the process exits.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
};
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use crate::db::entities::article_views;
use crate::db::now_ms;
use crate::error::database_unreachable;

/// Rows written per statement at most.
pub const MAX_BATCH: usize = 1_000;
/// Rows waiting that make the writer flush before the second is up. Well above the articles
/// read within a second on a busy site, so that each one's reads fold into one row.
const FLUSH_AT_ROWS: usize = 10_000;
/// How long a view may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Rows buffered at most before new views are dropped.
const CAPACITY: usize = 100_000;

/// Views of one article by one viewer (or anonymous readers) within one second: one row.
type Key = (i64, Option<i64>, i64);

#[derive(Default)]
struct Pending {
    rows: HashMap<Key, i32>,
    dropped: u64,
}

#[derive(Default)]
struct Shared {
    pending: std::sync::Mutex<Pending>,
    full: Notify,
    stop: Notify,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Folds rows that could not be written back into the buffer, within its capacity.
    fn put_back(&self, rows: &[(Key, i32)]) {
        let mut pending = self.lock();
        for (key, views) in rows {
            if pending.rows.len() >= CAPACITY && !pending.rows.contains_key(key) {
                pending.dropped += 1;
                continue;
            }
            let count = pending.rows.entry(*key).or_default();
            *count = count.saturating_add(*views);
        }
    }
}

/// The recording side, shared by every request of the process.
#[derive(Clone)]
pub struct ViewRecorder {
    /// `None` when views are not recorded (`QUIRE_VIEWS_ENABLED=false`).
    shared: Option<Arc<Shared>>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl ViewRecorder {
    /// Starts the writer task on `db`.
    pub fn start(db: DatabaseConnection) -> ViewRecorder {
        let shared = Arc::new(Shared::default());
        let writer = tokio::spawn(write_batches(db, shared.clone()));
        ViewRecorder {
            shared: Some(shared),
            writer: Arc::new(Mutex::new(Some(writer))),
        }
    }

    /// A recorder that records nothing.
    pub fn off() -> ViewRecorder {
        ViewRecorder {
            shared: None,
            writer: Arc::default(),
        }
    }

    /// Notes that `viewer` (`None`: anonymous) read `article`.
    pub fn record(&self, article: i64, viewer: Option<i64>) {
        let Some(shared) = &self.shared else { return };
        let at = now_ms();
        let key = (article, viewer, at - at.rem_euclid(1_000));
        let mut pending = shared.lock();
        let known = pending.rows.len();
        if known >= CAPACITY && !pending.rows.contains_key(&key) {
            pending.dropped += 1;
            return;
        }
        let count = pending.rows.entry(key).or_default();
        *count = count.saturating_add(1);
        if known < FLUSH_AT_ROWS && pending.rows.len() >= FLUSH_AT_ROWS {
            shared.full.notify_one();
        }
    }

    /// Writes what is buffered and stops the writer; views recorded after are dropped.
    pub async fn shutdown(&self) {
        if let Some(shared) = &self.shared {
            shared.stop.notify_one();
        }
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
    }
}

async fn write_batches(db: DatabaseConnection, shared: Arc<Shared>) {
    loop {
        let stopping = tokio::select! {
            () = tokio::time::sleep(FLUSH_EVERY) => false,
            () = shared.full.notified() => false,
            () = shared.stop.notified() => true,
        };
        let Pending { rows, dropped } = std::mem::take(&mut *shared.lock());
        if dropped > 0 {
            tracing::warn!(dropped, "article views dropped: the view buffer was full");
        }
        let rows: Vec<(Key, i32)> = rows.into_iter().collect();
        for chunk in rows.chunks(MAX_BATCH) {
            if let Err(err) = write(&db, chunk).await {
                if database_unreachable(&err) && !stopping {
                    // Not written for want of a connection: kept for the next flush.
                    tracing::warn!(error = %err, rows = chunk.len(), "writing article views failed; retrying with the next batch");
                    shared.put_back(chunk);
                } else {
                    tracing::warn!(error = %err, rows = chunk.len(), "writing article views failed");
                }
            }
        }
        if stopping {
            return;
        }
    }
}

/// One INSERT for the lot. A batch that found no connection goes back into the buffer (which
/// stays bounded); one the database refuses is logged and dropped.
async fn write(db: &DatabaseConnection, rows: &[(Key, i32)]) -> Result<(), DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        write_unnested(db, rows).await
    } else {
        let models =
            rows.iter().map(
                |&((article, viewer, at), views)| article_views::ActiveModel {
                    article_id: Set(article),
                    viewer_id: Set(viewer),
                    viewed_at: Set(at),
                    views: Set(views),
                    ..Default::default()
                },
            );
        article_views::Entity::insert_many(models)
            .exec_without_returning(db)
            .await
            .map(drop)
    }
}

/// PostgreSQL: four bound lists unnested into rows, so a batch costs four parameters to
/// encode and parse instead of four per row.
async fn write_unnested(db: &DatabaseConnection, rows: &[(Key, i32)]) -> Result<(), DbErr> {
    fn joined<T: ToString>(values: impl Iterator<Item = T>) -> String {
        values
            .map(|value| value.to_string())
            .collect::<Vec<_>>()
            .join(",")
    }
    let articles = joined(rows.iter().map(|((article, _, _), _)| article));
    let viewers = joined(
        rows.iter()
            .map(|((_, viewer, _), _)| viewer.map(|id| id.to_string()).unwrap_or_default()),
    );
    let times = joined(rows.iter().map(|((_, _, at), _)| at));
    let counts = joined(rows.iter().map(|(_, views)| views));
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO article_views (article_id, viewer_id, viewed_at, views) \
         SELECT * FROM unnest(string_to_array($1, ',')::bigint[], \
         string_to_array($2, ',', '')::bigint[], string_to_array($3, ',')::bigint[], \
         string_to_array($4, ',')::integer[])",
        [articles.into(), viewers.into(), times.into(), counts.into()],
    ))
    .await
    .map(drop)
}
