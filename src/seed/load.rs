//! Loading generated rows in bulk: `COPY ... FROM STDIN` on PostgreSQL, multi-row `INSERT`s
//! elsewhere (each under the engine's bound-parameter limit), answering the new rows' ids for
//! the rows that refer to them.

use anyhow::Context;
use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query, Value};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};

/// Bound parameters per `INSERT`: under SQLite's 32,766 and MySQL's 65,535.
const PARAMETERS: usize = 30_000;

/// One cell of a generated row.
pub(super) enum Cell {
    Int(i64),
    Text(String),
}

impl From<i64> for Cell {
    fn from(value: i64) -> Self {
        Cell::Int(value)
    }
}

impl From<String> for Cell {
    fn from(value: String) -> Self {
        Cell::Text(value)
    }
}

/// Writes `rows` (cells in the order of `columns`) into `table`.
pub(super) async fn load(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
) -> anyhow::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    match db.get_database_backend() {
        DbBackend::Postgres => copy_in(db, table, columns, rows).await,
        _ => insert(db, table, columns, rows).await,
    }
    .with_context(|| format!("loading {table}"))
}

async fn copy_in(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
) -> anyhow::Result<()> {
    let mut data = Vec::with_capacity(rows.len() * 64);
    for row in rows {
        for (i, cell) in row.into_iter().enumerate() {
            if i > 0 {
                data.push(b'\t');
            }
            match cell {
                Cell::Int(value) => data.extend_from_slice(value.to_string().as_bytes()),
                Cell::Text(text) => escape_copy_text(&text, &mut data),
            }
        }
        data.push(b'\n');
    }
    let pool = db.get_postgres_connection_pool();
    let mut conn = pool.acquire().await?;
    // Only our own table and column names are spliced in; every value travels as data.
    let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = conn.copy_in_raw(&statement).await?;
    for chunk in data.chunks(1 << 20) {
        copy.send(chunk).await?;
    }
    copy.finish().await?;
    Ok(())
}

/// COPY's text format: backslash, tab, newline and carriage return are escaped.
fn escape_copy_text(text: &str, out: &mut Vec<u8>) {
    for byte in text.bytes() {
        match byte {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            other => out.push(other),
        }
    }
}

async fn insert(
    db: &DatabaseConnection,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
) -> anyhow::Result<()> {
    let per_statement = (PARAMETERS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    let txn = db.begin().await?;
    while rows.peek().is_some() {
        let mut stmt = Query::insert();
        stmt.into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)));
        for row in rows.by_ref().take(per_statement) {
            stmt.values(row.into_iter().map(|cell| {
                Expr::val(match cell {
                    Cell::Int(value) => Value::from(value),
                    Cell::Text(text) => Value::from(text),
                })
            }))?;
        }
        txn.execute(&stmt).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Writes `rows` into `table` and answers their new ids, in order. Each row's `key` is the
/// value of its unique `key_column`. PostgreSQL takes the ids from the table's sequence first
/// and loads them with the rows; elsewhere the rows are inserted and their ids read back by key
/// (so that rows written meanwhile by a running server cannot collide with them).
pub(super) async fn load_keyed(
    db: &DatabaseConnection,
    table: &str,
    key_column: &str,
    columns: &[&str],
    rows: Vec<(String, Vec<Cell>)>,
) -> anyhow::Result<Vec<i64>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        let sql = format!(
            "SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, {})",
            rows.len()
        );
        let reserved = db
            .query_all_raw(Statement::from_string(backend, sql))
            .await?;
        let ids = reserved
            .iter()
            .map(|row| row.try_get_by_index::<i64>(0))
            .collect::<Result<Vec<_>, _>>()?;
        let mut with_id = vec!["id"];
        with_id.extend_from_slice(columns);
        let rows = rows
            .into_iter()
            .zip(&ids)
            .map(|((_, mut cells), id)| {
                cells.insert(0, Cell::Int(*id));
                cells
            })
            .collect();
        load(db, table, &with_id, rows).await?;
        return Ok(ids);
    }
    let keys: Vec<String> = rows.iter().map(|(key, _)| key.clone()).collect();
    load(
        db,
        table,
        columns,
        rows.into_iter().map(|(_, cells)| cells).collect(),
    )
    .await?;
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(1_000) {
        let select = Query::select()
            .columns([Alias::new("id"), Alias::new(key_column)])
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(key_column)).is_in(chunk.iter().cloned()))
            .take();
        for row in db.query_all(&select).await? {
            found.insert(
                row.try_get::<String>("", key_column)?,
                row.try_get::<i64>("", "id")?,
            );
        }
    }
    keys.iter()
        .map(|key| {
            found
                .get(key)
                .copied()
                .with_context(|| format!("{table} {key} not loaded"))
        })
        .collect()
}

/// Brings the planner's statistics (and on PostgreSQL the visibility map, for index-only
/// scans) up to date after a bulk load.
pub(super) async fn analyze(db: &DatabaseConnection) -> anyhow::Result<()> {
    let sql = match db.get_database_backend() {
        DbBackend::Postgres => "VACUUM ANALYZE",
        DbBackend::MySql => {
            "ANALYZE TABLE users, articles, tags, article_tags, favorites, follows, comments"
        }
        _ => "ANALYZE",
    };
    db.execute_unprepared(sql).await?;
    Ok(())
}
