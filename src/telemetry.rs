//! Structured JSON logs, filtered by `QUIRE_LOG`, written off the request path.

use std::io::BufWriter;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Installs the logger. A background thread writes the lines, so a slow or blocked stdout never
/// holds a request (under overload, lines beyond its buffer are dropped rather than waited
/// for). It writes whatever lines are waiting in one system call (it flushes each time it has
/// caught up), not one per line. Keep the guard until the process ends: dropping it flushes
/// what is buffered.
pub fn init(filter: &str) -> WorkerGuard {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking(BufWriter::new(std::io::stdout()));
    // Ignore the error when a subscriber is already installed (tests start several apps).
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(writer)
        .try_init();
    guard
}
