//! Structured JSON logs, filtered by `QUIRE_LOG`, written off the request path; and traces,
//! exported when a collector is configured ([`otlp`]).
//!
//! `tracing-appender`'s non-blocking writer hands every line to its thread through a channel and
//! wakes that thread for it: under load, a futex wake and a context switch per request (about a
//! tenth of the `ceiling` scenario's CPU). Here a request appends its line to a shared buffer
//! under a short lock and wakes nobody; one thread writes the buffer out in one call when it
//! passes [`FLUSH_AT`] or every [`FLUSH_EVERY`], whichever comes first.

mod json_lines;
pub mod otlp;
pub mod request;

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{EnvFilter, FilterExt, filter_fn};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::TraceSettings;

/// Buffered lines that wake the writing thread early.
const FLUSH_AT: usize = 64 * 1024;
/// The longest a line waits to be written when the server is quiet.
const FLUSH_EVERY: Duration = Duration::from_millis(100);
/// Beyond this, a stalled stderr costs lines (counted and reported), never memory or requests.
const MAX_PENDING: usize = 4 * 1024 * 1024;

/// Installs the logger and, with an OTLP endpoint, the trace exporter (inside the Tokio runtime:
/// exports run on it). Keep the guard until the process ends: dropping it writes what is still
/// buffered.
pub fn init(filter: &str, traces: &TraceSettings) -> anyhow::Result<LogGuard> {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, mut guard) = BatchedStderr::start();
    // The log wants events only: a span then costs nothing unless traces are exported.
    let lines = tracing_subscriber::fmt::layer()
        .event_format(json_lines::JsonLines)
        .with_writer(writer)
        .with_filter(filter.and(filter_fn(|meta| meta.is_event())));
    let exported = match &traces.otlp_endpoint {
        Some(endpoint) => Some(otlp::layer(endpoint, traces.level)?),
        None => None,
    };
    let (spans, provider) = exported.unzip();
    guard.traces = provider;
    // Ignore the error when a subscriber is already installed (embedding).
    let _ = tracing_subscriber::registry()
        .with(lines)
        .with(spans)
        .try_init();
    Ok(guard)
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    dropped: u64,
    closing: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        // A panic while holding the lock leaves only bytes behind: keep logging.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The subscriber's writer: each event arrives as one whole line.
#[derive(Clone)]
struct BatchedStderr(Arc<Shared>);

impl BatchedStderr {
    fn start() -> (Self, LogGuard) {
        let shared = Arc::new(Shared::default());
        let thread = std::thread::Builder::new()
            .name("quire-log".into())
            .spawn({
                let shared = shared.clone();
                move || write_batches(&shared)
            })
            .expect("the log thread starts");
        let guard = LogGuard {
            shared: shared.clone(),
            thread: Some(thread),
            traces: None,
        };
        (Self(shared), guard)
    }
}

impl Write for &BatchedStderr {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        if pending.lines.len() + line.len() > MAX_PENDING {
            pending.dropped += 1;
        } else {
            let before = pending.lines.len();
            pending.lines.extend_from_slice(line);
            if before < FLUSH_AT && pending.lines.len() >= FLUSH_AT {
                self.0.wake.notify_one();
            }
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedStderr {
    type Writer = &'a BatchedStderr;

    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

/// The writing thread: waits for a full buffer, the interval or closing, then writes all that is
/// pending in one call (with a note of lines dropped meanwhile).
fn write_batches(shared: &Shared) {
    let mut batch = Vec::new();
    loop {
        let (dropped, closing) = {
            let pending = shared.lock();
            let (mut pending, _) = shared
                .wake
                .wait_timeout_while(pending, FLUSH_EVERY, |p| {
                    p.lines.len() < FLUSH_AT && !p.closing
                })
                .unwrap_or_else(|e| e.into_inner());
            std::mem::swap(&mut pending.lines, &mut batch);
            (std::mem::take(&mut pending.dropped), pending.closing)
        };
        if dropped > 0 {
            let note = serde_json::json!({
                "level": "WARN",
                "fields": {"message": "log lines dropped: stderr could not keep up", "dropped": dropped},
                "target": "quire::telemetry",
            });
            let _ = writeln!(batch, "{note}");
        }
        if !batch.is_empty() {
            let mut out = std::io::stderr().lock();
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
        }
        if closing {
            return;
        }
    }
}

/// Exports the spans still batched, writes the remaining lines and stops the log thread when
/// dropped.
pub struct LogGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    traces: Option<SdkTracerProvider>,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        if let Some(provider) = self.traces.take()
            && let Err(err) = provider.shutdown()
        {
            tracing::warn!(error = %err, "exporting the last spans failed");
        }
        self.shared.lock().closing = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
