//! The slow-statement log: a statement that takes `QUIRE_SLOW_STATEMENT_MS` or longer is logged
//! with its shape (the SQL with every literal replaced by `?`; bound values are never read), its
//! duration and the route and request id it ran for, and counted in
//! `quire_db_slow_statements_total` — what tuning indexes starts from.

use std::time::Duration;

use sea_orm::DatabaseConnection;

use crate::telemetry::request;

/// The longest shape logged; a statement with thousands of placeholders is cut.
const MAX_SHAPE_CHARS: usize = 2_000;

/// Watches every statement `db` runs, if a threshold is set.
pub fn watch(db: &mut DatabaseConnection, threshold: Option<Duration>) {
    let Some(threshold) = threshold else {
        return;
    };
    db.set_metric_callback(move |info| {
        if info.elapsed < threshold {
            return;
        }
        let statement = shape(&info.statement.sql);
        let operation = operation(&statement);
        metrics::counter!("quire_db_slow_statements_total", "operation" => operation).increment(1);
        let request = request::current();
        let route = request.as_ref().and_then(|r| r.route()).unwrap_or_default();
        let request_id = request.as_ref().map(|r| r.id.as_str()).unwrap_or_default();
        let duration_ms = info.elapsed.as_secs_f64() * 1000.0;
        let failed = info.failed;
        let statement = statement.as_str();
        tracing::warn!(
            target: "quire::db::slow",
            statement, operation, duration_ms, route, request_id, failed,
            "slow statement"
        );
    });
}

/// The statement's kind, a bounded label: `select`, `insert`, `update`, `delete` or `other`.
fn operation(shape: &str) -> &'static str {
    let first = shape.split_whitespace().next().unwrap_or_default();
    match first.to_ascii_lowercase().as_str() {
        "select" | "with" => "select",
        "insert" => "insert",
        "update" => "update",
        "delete" => "delete",
        _ => "other",
    }
}

/// The SQL with string and number literals replaced by `?`: placeholders (`$1`, `?`) stay, so
/// statements of one shape read alike and no value reaches the log, even one written inline.
fn shape(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len().min(MAX_SHAPE_CHARS));
    let mut chars = sql.chars().peekable();
    let mut previous = ' ';
    while let Some(c) = chars.next() {
        if out.len() >= MAX_SHAPE_CHARS {
            out.push('…');
            break;
        }
        match c {
            '\'' => {
                // A string literal ('' escapes a quote inside it).
                while let Some(inner) = chars.next() {
                    if inner == '\'' {
                        if chars.peek() == Some(&'\'') {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
                out.push('?');
                previous = '?';
            }
            c if c.is_ascii_digit()
                && !(previous.is_alphanumeric() || "_$.".contains(previous)) =>
            {
                while chars
                    .peek()
                    .is_some_and(|n| n.is_ascii_alphanumeric() || *n == '.')
                {
                    chars.next();
                }
                out.push('?');
                previous = '?';
            }
            c if c.is_whitespace() => {
                if previous != ' ' {
                    out.push(' ');
                }
                previous = ' ';
            }
            c => {
                out.push(c);
                previous = c;
            }
        }
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shape_keeps_placeholders_and_names_and_drops_every_literal() {
        assert_eq!(
            shape("SELECT \"a1\".\"id\" FROM t1 WHERE x = $1 AND y = 'it''s secret' LIMIT 20"),
            "SELECT \"a1\".\"id\" FROM t1 WHERE x = $1 AND y = ? LIMIT ?"
        );
        assert_eq!(
            shape("UPDATE t SET n = n + 1.5e3\n  WHERE id IN (?, ?)"),
            "UPDATE t SET n = n + ? WHERE id IN (?, ?)"
        );
        assert_eq!(operation("WITH x AS (SELECT 1) SELECT * FROM x"), "select");
        assert_eq!(operation("VACUUM"), "other");
    }
}
