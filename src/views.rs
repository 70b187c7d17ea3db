//! Recording article views off the request path: a read hands its view to a bounded channel
//! (no SQL, no await), and one task per process writes what arrived in batches — every second,
//! or as soon as 1,000 are waiting. When the channel is full (the database is far behind), views
//! are dropped and counted rather than slowing readers down. At shutdown the buffer is written
//! before the process exits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement,
};
use tokio::sync::{Mutex, Notify, mpsc};
use tokio::task::JoinHandle;

use crate::db::entities::article_views;
use crate::db::now_ms;

/// Views written per statement at most.
pub const MAX_BATCH: usize = 1_000;
/// How long a view may wait in the buffer.
pub const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Views buffered at most before new ones are dropped.
const CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct View {
    article: i64,
    viewer: Option<i64>,
    at: i64,
}

/// The sending side, shared by every request of the process.
#[derive(Clone)]
pub struct ViewRecorder {
    sender: mpsc::Sender<View>,
    dropped: Arc<AtomicU64>,
    stop: Arc<Notify>,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl ViewRecorder {
    /// Starts the writer task on `db`.
    pub fn start(db: DatabaseConnection) -> ViewRecorder {
        let (sender, receiver) = mpsc::channel(CAPACITY);
        let stop = Arc::new(Notify::new());
        let writer = tokio::spawn(write_batches(db, receiver, stop.clone()));
        ViewRecorder {
            sender,
            dropped: Arc::default(),
            stop,
            writer: Arc::new(Mutex::new(Some(writer))),
        }
    }

    /// Notes that `viewer` (`None`: anonymous) read `article`.
    pub fn record(&self, article: i64, viewer: Option<i64>) {
        let view = View {
            article,
            viewer,
            at: now_ms(),
        };
        if self.sender.try_send(view).is_err() {
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "article views dropped: the view buffer is full");
            }
        }
    }

    /// Writes what is buffered and stops the writer; views recorded after are dropped.
    pub async fn shutdown(&self) {
        self.stop.notify_one();
        if let Some(writer) = self.writer.lock().await.take() {
            let _ = writer.await;
        }
    }
}

async fn write_batches(
    db: DatabaseConnection,
    mut receiver: mpsc::Receiver<View>,
    stop: Arc<Notify>,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let deadline = tokio::time::sleep(FLUSH_EVERY);
        tokio::pin!(deadline);
        let stopping = loop {
            let room = MAX_BATCH - batch.len();
            tokio::select! {
                received = receiver.recv_many(&mut batch, room) => {
                    if received == 0 || batch.len() >= MAX_BATCH {
                        break received == 0;
                    }
                }
                () = &mut deadline => break false,
                () = stop.notified() => break true,
            }
        };
        if stopping {
            receiver.close();
            while let Ok(view) = receiver.try_recv() {
                batch.push(view);
            }
        }
        for chunk in batch.chunks(MAX_BATCH) {
            write(&db, chunk).await;
        }
        batch.clear();
        if stopping {
            return;
        }
    }
}

/// One INSERT for the lot. A batch the database refuses is logged and dropped: views are
/// statistics, and retrying could hold the buffer full.
async fn write(db: &DatabaseConnection, views: &[View]) {
    let written = if db.get_database_backend() == DbBackend::Postgres {
        write_unnested(db, views).await
    } else {
        let rows = views.iter().map(|view| article_views::ActiveModel {
            article_id: Set(view.article),
            viewer_id: Set(view.viewer),
            viewed_at: Set(view.at),
            ..Default::default()
        });
        article_views::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await
            .map(drop)
    };
    if let Err(err) = written {
        tracing::warn!(error = %err, views = views.len(), "writing article views failed");
    }
}

/// PostgreSQL: three bound lists unnested into rows, so a batch costs three parameters to
/// encode and parse instead of three per view.
async fn write_unnested(db: &DatabaseConnection, views: &[View]) -> Result<(), DbErr> {
    fn joined(values: impl Iterator<Item = String>) -> String {
        values.collect::<Vec<_>>().join(",")
    }
    let articles = joined(views.iter().map(|view| view.article.to_string()));
    let viewers = joined(
        views
            .iter()
            .map(|view| view.viewer.map(|id| id.to_string()).unwrap_or_default()),
    );
    let times = joined(views.iter().map(|view| view.at.to_string()));
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO article_views (article_id, viewer_id, viewed_at) \
         SELECT * FROM unnest(string_to_array($1, ',')::bigint[], \
         string_to_array($2, ',', '')::bigint[], string_to_array($3, ',')::bigint[])",
        [articles.into(), viewers.into(), times.into()],
    ))
    .await
    .map(drop)
}
