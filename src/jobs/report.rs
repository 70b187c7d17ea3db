//! Generating a report into `report_chunks`: the requester's articles are read a page at a time
//! (keyset on id) and the file is written in chunks as it grows, so memory stays bounded however
//! many articles there are. A run that starts again (its worker died) starts the file over.

use chrono::{NaiveDate, TimeZone, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, Statement,
};
use serde_json::json;

use super::{Context, GenerateReport};
use crate::db::entities::{report_chunks, reports};
use crate::db::now_ms;

pub const QUEUED: &str = "queued";
pub const RUNNING: &str = "running";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

/// The only kind so far: per article, views, favourites and comments in the range.
pub const AUTHOR_STATS: &str = "author-stats";

/// A chunk is written once the file has grown this much past the last one.
const CHUNK_BYTES: usize = 32 * 1024;
/// Articles read per query.
const PAGE: i64 = 500;

/// Per article of an author (after an id, a page at a time): views, favourites and comments
/// whose time falls in [from, to). The views count reads only the partitions of the range.
pub const AUTHOR_STATS_SQL: &str = "SELECT a.id, a.slug, a.title, \
    (SELECT COALESCE(SUM(v.views), 0) FROM article_views v WHERE v.article_id = a.id AND v.viewed_at >= $1 AND v.viewed_at < $2) AS views, \
    (SELECT COUNT(*) FROM favorites f WHERE f.article_id = a.id AND f.created_at >= $1 AND f.created_at < $2) AS favorites, \
    (SELECT COUNT(*) FROM comments c WHERE c.article_id = a.id AND c.created_at >= $1 AND c.created_at < $2) AS comments \
    FROM articles a WHERE a.author_id = $3 AND a.id > $4 ORDER BY a.id LIMIT $5";

/// The statement for `backend`: MySQL's placeholders are positional `?`, so repeated values
/// are bound once per use.
pub fn author_stats_statement(
    backend: sea_orm::DbBackend,
    (from_ms, to_ms): (i64, i64),
    author: i64,
    after: i64,
) -> Statement {
    if backend == sea_orm::DbBackend::MySql {
        // MySQL sums integers as DECIMAL.
        let sql = AUTHOR_STATS_SQL
            .replace("SUM(v.views)", "CAST(SUM(v.views) AS SIGNED)")
            .replace("$1", "?")
            .replace("$2", "?")
            .replace("$3", "?")
            .replace("$4", "?")
            .replace("$5", "?");
        let values: Vec<sea_orm::Value> = vec![
            from_ms.into(),
            to_ms.into(),
            from_ms.into(),
            to_ms.into(),
            from_ms.into(),
            to_ms.into(),
            author.into(),
            after.into(),
            PAGE.into(),
        ];
        Statement::from_sql_and_values(backend, sql, values)
    } else {
        let values: Vec<sea_orm::Value> = vec![
            from_ms.into(),
            to_ms.into(),
            author.into(),
            after.into(),
            PAGE.into(),
        ];
        Statement::from_sql_and_values(backend, AUTHOR_STATS_SQL, values)
    }
}

/// The first millisecond of `from` and the first after `to` (both `YYYY-MM-DD`, UTC, inclusive).
pub fn range_ms(from: &str, to: &str) -> Option<(i64, i64)> {
    let start = |day: &str| {
        let date = NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()?;
        Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
    };
    Some((
        start(from)?.timestamp_millis(),
        (start(to)? + chrono::Duration::days(1)).timestamp_millis(),
    ))
}

/// One attempt at report `job.report`.
pub(super) async fn generate(
    context: &Context,
    job: &GenerateReport,
    attempt: i32,
    max_attempts: i32,
) -> Result<(), String> {
    let id = job.report;
    let db = &context.db;
    let Some(report) = reports::Entity::find_by_id(id)
        .one(db)
        .await
        .map_err(|e| e.to_string())?
    else {
        return Ok(()); // expired or deleted before it ran
    };
    let outcome = write_file(db, &report).await;
    let now = now_ms();
    let kept = context.reports_kept.as_millis() as i64;
    let mut update = reports::Entity::update_many()
        .col_expr(reports::Column::FinishedAt, Expr::val(now))
        .col_expr(reports::Column::ExpiresAt, Expr::val(now + kept))
        .filter(reports::Column::Id.eq(id));
    match &outcome {
        Ok(bytes) => {
            update = update
                .col_expr(reports::Column::State, Expr::val(DONE))
                .col_expr(reports::Column::Bytes, Expr::val(*bytes));
        }
        Err(error) if attempt >= max_attempts => {
            update = update
                .col_expr(reports::Column::State, Expr::val(FAILED))
                .col_expr(reports::Column::Error, Expr::val(error.clone()));
        }
        Err(_) => return outcome.map(drop),
    }
    update.exec(db).await.map_err(|e| e.to_string())?;
    outcome.map(drop)
}

/// Writes the report's file; its size.
async fn write_file(db: &DatabaseConnection, report: &reports::Model) -> Result<i64, String> {
    let failed = |e: DbErr| e.to_string();
    reports::Entity::update_many()
        .col_expr(reports::Column::State, Expr::val(RUNNING))
        .filter(reports::Column::Id.eq(report.id))
        .exec(db)
        .await
        .map_err(failed)?;
    report_chunks::Entity::delete_many()
        .filter(report_chunks::Column::ReportId.eq(report.id))
        .exec(db)
        .await
        .map_err(failed)?;
    let range = range_ms(&report.from_day, &report.to_day).ok_or("bad date range")?;
    let mut file = ChunkedFile::new(db, report.id);
    let csv = report.format == "csv";
    if csv {
        file.push(b"slug,title,views,favorites,comments\n");
    } else {
        let head = json!({"kind": report.kind, "from": report.from_day, "to": report.to_day});
        file.push(format!("{{\"report\":{head},\"articles\":[").as_bytes());
    }
    let backend = db.get_database_backend();
    let (mut after, mut totals, mut articles) = (0i64, [0i64; 3], 0i64);
    loop {
        let statement = author_stats_statement(backend, range, report.user_id, after);
        let rows = db.query_all_raw(statement).await.map_err(failed)?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("", "id").map_err(failed)?;
        for row in &rows {
            let slug: String = row.try_get("", "slug").map_err(failed)?;
            let title: String = row.try_get("", "title").map_err(failed)?;
            let mut counts = [0i64; 3];
            for (count, column) in counts.iter_mut().zip(["views", "favorites", "comments"]) {
                *count = row.try_get("", column).map_err(failed)?;
            }
            for (total, count) in totals.iter_mut().zip(counts) {
                *total += count;
            }
            if csv {
                file.push(&csv_line(&[
                    &slug,
                    &title,
                    &counts[0].to_string(),
                    &counts[1].to_string(),
                    &counts[2].to_string(),
                ])?);
            } else {
                let separator = if articles == 0 { "" } else { "," };
                let line = json!({"slug": slug, "title": title, "views": counts[0], "favorites": counts[1], "comments": counts[2]});
                file.push(format!("{separator}{line}").as_bytes());
            }
            articles += 1;
        }
        file.flush_full().await.map_err(failed)?;
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    let [views, favorites, comments] = totals;
    if csv {
        file.push(&csv_line(&[
            "TOTAL",
            "",
            &views.to_string(),
            &favorites.to_string(),
            &comments.to_string(),
        ])?);
    } else {
        let totals = json!({"articles": articles, "views": views, "favorites": favorites, "comments": comments});
        file.push(format!("],\"totals\":{totals}}}").as_bytes());
    }
    file.finish().await.map_err(failed)
}

fn csv_line(fields: &[&str]) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(fields.iter().map(|field| inert_in_a_spreadsheet(field)))
        .map_err(|e| e.to_string())?;
    writer.into_inner().map_err(|e| e.to_string())
}

/// A cell a spreadsheet would evaluate as a formula (`=`, `+`, `-`, `@`, a tab or a carriage
/// return first) gets a leading `'`, so it is shown as text (OWASP, "CSV Injection"). Titles
/// are the users' own; numbers never start so.
fn inert_in_a_spreadsheet(field: &str) -> String {
    match field.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{field}"),
        _ => field.to_owned(),
    }
}

/// A file written to `report_chunks` a chunk at a time.
struct ChunkedFile<'a> {
    db: &'a DatabaseConnection,
    report: i64,
    buffer: Vec<u8>,
    seq: i32,
    written: i64,
}

impl<'a> ChunkedFile<'a> {
    fn new(db: &'a DatabaseConnection, report: i64) -> Self {
        ChunkedFile {
            db,
            report,
            buffer: Vec::with_capacity(CHUNK_BYTES * 2),
            seq: 0,
            written: 0,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    async fn flush_full(&mut self) -> Result<(), DbErr> {
        while self.buffer.len() >= CHUNK_BYTES {
            let rest = self.buffer.split_off(CHUNK_BYTES);
            let chunk = std::mem::replace(&mut self.buffer, rest);
            self.write(chunk).await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<i64, DbErr> {
        self.flush_full().await?;
        if !self.buffer.is_empty() {
            let chunk = std::mem::take(&mut self.buffer);
            self.write(chunk).await?;
        }
        Ok(self.written)
    }

    async fn write(&mut self, data: Vec<u8>) -> Result<(), DbErr> {
        self.written += data.len() as i64;
        report_chunks::Entity::insert(report_chunks::ActiveModel {
            report_id: Set(self.report),
            seq: Set(self.seq),
            data: Set(data),
        })
        .exec_without_returning(self.db)
        .await?;
        self.seq += 1;
        Ok(())
    }
}
