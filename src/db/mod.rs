//! Connection pool per backend (chosen from the URL at run time), entities and migrations.

pub mod counts;
pub mod entities;
pub mod migration;
pub mod partitions;
pub mod slow;

use std::time::{Duration, Instant};

use anyhow::Context;
use rand::Rng;
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::config::{Backend, Settings, redact_url};
use crate::error::database_unreachable;

/// Milliseconds since the Unix epoch: the timestamp unit of every table.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// RFC 3339 UTC with milliseconds, e.g. `2026-11-24T20:27:12.123Z`, of a timestamp in
/// milliseconds.
pub fn timestamp(millis: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// True when a database error is a unique-key violation (a lost race with another writer).
pub fn is_unique_violation(err: &sea_orm::DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Deadlocks and serialization failures (PostgreSQL, MySQL) and a busy database (SQLite) are
/// transient: the whole transaction can simply run again.
pub(crate) fn is_transient(err: &DbErr) -> bool {
    let (DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e))
    | DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e))) = err
    else {
        return false;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return false;
    };
    matches!(
        db.code().as_deref(),
        Some("40001" | "40P01" | "5" | "517" | "6")
    )
}

/// How long a starting instance waits for its database before it gives up.
const STARTUP_PATIENCE: Duration = Duration::from_secs(30);

/// Applies pending migrations over a connection of its own, closed before the serving pool
/// opens: no serving connection can hold a schema, or a statement prepared against one, from
/// before a migration (SQLite answered rows without a column added by a migration that ran
/// while the pool was already open).
pub async fn open_migrated(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    let migrator = connect_with(settings, 1, Create::IfMissing).await?;
    migrate(&migrator).await?;
    migrator
        .close()
        .await
        .context("closing the migration connection")?;
    connect(settings).await
}

pub async fn connect(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    connect_with(settings, settings.db_max_connections, Create::IfMissing).await
}

/// What `serve` and `worker` open: the database with pending migrations applied, or, with
/// `QUIRE_MIGRATE_ON_START=false`, once another process (the migration Job) has applied them;
/// its statements watched by the slow-statement log.
pub async fn open_for_service(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    // Boxed: start-up runs once, and the nested connect-and-retry futures are deep enough to
    // overflow the compiler's layout queries in callers that await this.
    let mut db = if settings.operations.migrate_on_start {
        Box::pin(open_migrated(settings)).await?
    } else {
        Box::pin(await_schema(settings)).await?
    };
    slow::watch(&mut db, settings.operations.slow_statement);
    Ok(db)
}

/// Waits, changing nothing, until the database has every migration this build knows.
pub async fn await_schema(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    const POLL: Duration = Duration::from_secs(2);
    let started = Instant::now();
    let mut said = None::<Instant>;
    loop {
        match open_current(settings).await {
            Ok(db) => return Ok(db),
            Err(err) => {
                if said.is_none_or(|at| at.elapsed() >= Duration::from_secs(30)) {
                    let waited_s = started.elapsed().as_secs();
                    tracing::info!(error = %format!("{err:#}"), waited_s, "waiting for the schema: migrations are applied by another process (QUIRE_MIGRATE_ON_START=false)");
                    said = Some(Instant::now());
                }
                tokio::time::sleep(POLL).await;
            }
        }
    }
}

/// Opens the database for a command that does not migrate (only `migrate`, `serve` and `worker`
/// do): it must already hold this build's schema, and nothing is created meanwhile — neither
/// the SQLite file nor a table.
pub async fn open_current(settings: &Settings) -> anyhow::Result<DatabaseConnection> {
    const HINT: &str = "run `quire migrate` first";
    let db = connect_with(settings, settings.db_max_connections, Create::Never)
        .await
        .with_context(|| format!("opening the database ({HINT} if it does not exist yet)"))?;
    let pending = migration::Migrator::get_pending_migrations_read_only(&db)
        .await
        .context("reading which migrations the database has")?;
    if let Some(first) = pending.first() {
        anyhow::bail!(
            "the database lacks {} of this build's migrations (from {}): {HINT}",
            pending.len(),
            first.name()
        );
    }
    Ok(db)
}

/// Whether opening an SQLite database may create its file.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Create {
    IfMissing,
    Never,
}

async fn connect_with(
    settings: &Settings,
    max_connections: u32,
    create: Create,
) -> anyhow::Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(settings.database_url.clone());
    options
        .max_connections(max_connections)
        .min_connections(1)
        // Fail fast when the database is gone: requests answer 503 instead of queueing.
        .acquire_timeout(settings.db_acquire_timeout)
        .sqlx_logging(false);
    if settings.backend == Backend::Sqlite {
        // Zero configuration: create the file on first start, WAL so readers never block the
        // writer, and foreign keys enforced (SQLite leaves them off unless asked).
        options.map_sqlx_sqlite_opts(move |opts| {
            opts.create_if_missing(create == Create::IfMissing)
                .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10))
        });
    }
    // Switching a new SQLite file to WAL needs an exclusive lock and does not wait for it: an
    // instance starting beside another one on a fresh file retries instead of giving up. A
    // database server that is still starting, or too busy to answer within the acquire timeout,
    // gets the same patience for a while: requests fail fast later, but a start should not.
    let patience = Instant::now() + STARTUP_PATIENCE;
    let mut attempt: u32 = 1;
    loop {
        match Database::connect(options.clone()).await {
            Ok(db) => return Ok(db),
            Err(err)
                if Instant::now() < patience
                    && (settings.backend == Backend::Sqlite && is_locked(&err)
                        || database_unreachable(&err)) =>
            {
                tracing::warn!(error = %err, attempt, "the database is not answering yet; retrying");
                let pause = rand::rng().random_range(50..300) * u64::from(attempt.min(10));
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            Err(err) => {
                return Err(err).with_context(|| {
                    format!("connecting to {}", redact_url(&settings.database_url))
                });
            }
        }
    }
}

/// SQLITE_BUSY ("database is locked").
fn is_locked(err: &sea_orm::DbErr) -> bool {
    err.to_string().contains("database is locked")
}

/// Applies pending migrations. Several instances starting together on a fresh database race to
/// apply the same migration; the losers fail on an object the winner created, wait a random
/// while (so that they do not collide again in lockstep), and find nothing left to do.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    const ATTEMPTS: u32 = 10;
    let mut attempt = 1;
    loop {
        match migration::Migrator::up(db, None).await {
            Ok(()) => return Ok(()),
            Err(err) if attempt < ATTEMPTS => {
                tracing::warn!(error = %err, attempt, "migration failed; another instance may be migrating, retrying");
                let pause = rand::rng().random_range(100..600) * u64::from(attempt);
                tokio::time::sleep(Duration::from_millis(pause)).await;
                attempt += 1;
            }
            Err(err) => return Err(err).context("applying migrations"),
        }
    }
}

pub async fn ping(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}

/// The column a unique-key violation is about, read from the violated key on every backend:
/// PostgreSQL names the constraint (`users_email_key`, the column between the table's name and
/// `_key`), MySQL/MariaDB the key (`email` or `users.email`, after the duplicate value), SQLite
/// the columns (`users.email`). `None` for any other error, or a key over several columns.
pub fn unique_violation_column(err: &sea_orm::DbErr) -> Option<String> {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e))) = err
    else {
        return None;
    };
    let sea_orm::sqlx::Error::Database(db) = e.as_ref() else {
        return None;
    };
    if !matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    ) {
        return None;
    }
    let message = db.message();
    let column = if let Some(constraint) = db.constraint() {
        let table = db.table().unwrap_or_default();
        let rest = constraint
            .strip_prefix(table)
            .and_then(|c| c.strip_prefix('_'))
            .unwrap_or(constraint);
        rest.strip_suffix("_key").unwrap_or(rest).to_owned()
    } else if let Some(at) = message.rfind("for key '") {
        let key = message[at + "for key '".len()..].trim_end_matches('\'');
        key.rsplit('.').next().unwrap_or(key).to_owned()
    } else if let Some(columns) = message.strip_prefix("UNIQUE constraint failed: ") {
        if columns.contains(',') {
            return None;
        }
        columns.rsplit('.').next().unwrap_or(columns).to_owned()
    } else {
        return None;
    };
    Some(column)
}
