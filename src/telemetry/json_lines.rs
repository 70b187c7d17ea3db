//! The log line: the JSON object `tracing-subscriber`'s JSON format writes (`timestamp`,
//! `level`, `fields`, `target`), written straight into the line buffer. Its own formatter goes
//! through serde for every field and formats the timestamp from scratch for every line; this one
//! escapes strings as it writes them and formats each second's date once per thread. The
//! request log line is the one cost every request pays (see the `ceiling` benchmark).

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

pub struct JsonLines;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        // Lines from crates that log through `log` carry their real level and target here.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        writer.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut writer)?;
        write!(writer, "\",\"level\":\"{}\",\"fields\":{{", meta.level())?;
        let mut fields = Fields {
            out: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_str("},\"target\":")?;
        write_string(&mut writer, meta.target())?;
        writer.write_str("}\n")
    }
}

struct Fields<'a, 'w> {
    out: &'a mut Writer<'w>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn put(&mut self, field: &Field, value: impl FnOnce(&mut Writer<'_>) -> fmt::Result) {
        // `log` records' own metadata, already in the line's level and target.
        if self.result.is_err() || field.name().starts_with("log.") {
            return;
        }
        let first = std::mem::replace(&mut self.first, false);
        self.result = (if first {
            Ok(())
        } else {
            self.out.write_char(',')
        })
        .and_then(|()| write_string(self.out, field.name()))
        .and_then(|()| self.out.write_char(':'))
        .and_then(|()| value(self.out));
    }
}

impl Visit for Fields<'_, '_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, |out| write_string(out, value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, |out| {
            out.write_str(itoa::Buffer::new().format(value))
        });
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, |out| {
            out.write_str(itoa::Buffer::new().format(value))
        });
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, |out| write!(out, "{value}"));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        // JSON has no NaN or infinity. `ryu` rather than `Display`: the latency of every
        // request log line is one, and std's float formatting was most of that line's cost.
        self.put(field, |out| {
            if value.is_finite() {
                out.write_str(ryu::Buffer::new().format_finite(value))
            } else {
                out.write_str("null")
            }
        });
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, |out| {
            out.write_char('"')?;
            write!(Escaped(out), "{value:?}")?;
            out.write_char('"')
        });
    }
}

fn write_string(out: &mut Writer<'_>, value: &str) -> fmt::Result {
    out.write_char('"')?;
    Escaped(out).write_str(value)?;
    out.write_char('"')
}

/// Writes what it is given as the inside of a JSON string.
struct Escaped<'a, 'w>(&'a mut Writer<'w>);

impl Write for Escaped<'_, '_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut plain_from = 0;
        for (at, byte) in text.bytes().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..=0x1f => "",
                _ => continue,
            };
            self.0.write_str(&text[plain_from..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            plain_from = at + 1;
        }
        self.0.write_str(&text[plain_from..])
    }
}

thread_local! {
    /// The second last formatted on this thread and its `YYYY-MM-DDTHH:MM:SS`.
    static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
}

/// RFC 3339 in UTC with microseconds, as `2026-12-06T05:48:19.166772Z`.
fn write_timestamp(out: &mut Writer<'_>) -> fmt::Result {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs();
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != seconds {
            let date = chrono::DateTime::from_timestamp(seconds as i64, 0).unwrap_or_default();
            text.clear();
            let _ = write!(text, "{}", date.format("%Y-%m-%dT%H:%M:%S"));
            *cached = seconds;
        }
        write!(out, "{text}.{:06}Z", now.subsec_micros())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        write_string(&mut Writer::new(&mut out), text).unwrap();
        out
    }

    #[test]
    fn strings_come_out_as_json_strings() {
        for text in [
            "plain",
            "quote \" and \\ back",
            "lines\n\r\t",
            "\u{1}\u{1f}",
            "héllo ✓",
        ] {
            let parsed: String = serde_json::from_str(&escaped(text)).unwrap();
            assert_eq!(parsed, text);
        }
    }

    #[test]
    fn the_timestamp_is_rfc3339_with_microseconds() {
        let mut out = String::new();
        write_timestamp(&mut Writer::new(&mut out)).unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(&out).is_ok(), "{out}");
        assert_eq!(out.len(), "2026-12-06T05:48:19.166772Z".len());
    }
}
