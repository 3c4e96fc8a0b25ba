//! Logs of `run` and `demo`: tracing-subscriber, filtered by `RUST_LOG`
//! (default given per command), pretty or JSON, written to stderr by a
//! thread of its own behind a bounded, lossy queue (`writer.rs`), each line
//! with its syslog level when stderr is the journal (`journal.rs`) and
//! every hidden character that came in a logged value written out
//! (`crate::inert`); and the panic hook that reports panics through the same
//! log.
//!
//! Nothing here can stall or kill the daemon: a line that cannot be queued
//! or written is dropped and counted ([`dropped_log_lines`]), never
//! reported with `eprintln!` (which panics on a closed stderr), and no
//! runtime thread ever waits for stderr.

mod journal;
mod writer;

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

use self::writer::Handle;

/// The writer of the installed subscriber, once [`init`] has run.
static WRITER: OnceLock<Handle> = OnceLock::new();

/// How long the exit waits for queued lines to reach stderr.
const FINISH_PATIENCE: Duration = Duration::from_secs(2);

/// Installs the global subscriber and the panic hook; `default` is the
/// filter used when `RUST_LOG` is unset or empty (e.g. `info`). An invalid
/// `RUST_LOG` is reported with a warning and the default used. A second
/// call is a no-op.
pub(crate) fn init(format: LogFormat, default: &str) {
    if WRITER.get().is_some() {
        return;
    }
    let (sink, handle) = match writer::spawn(std::io::stderr()) {
        Ok(spawned) => spawned,
        // No thread, no logs: the daemon runs on without them (nothing
        // could say so but stderr itself, which is what failed).
        Err(_) => return,
    };
    let colours = matches!(format, LogFormat::Pretty) && colours();
    let sink = sink
        .level_prefix(journal::stderr_is_journal())
        .colours(colours);
    let (filter, refused) = filter(default);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(sink)
        // The sink never fails; were it to, no `eprintln!`.
        .log_internal_errors(false);
    let installed = match format {
        LogFormat::Pretty => builder.with_ansi(colours).try_init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            // The current span names the connection; the list would say
            // every field twice.
            .with_span_list(false)
            .try_init(),
    };
    if installed.is_err() {
        // A subscriber was installed already: keep it.
        return;
    }
    let _ = WRITER.set(handle);
    std::panic::set_hook(Box::new(log_panic));
    if let Some((value, error)) = refused {
        tracing::warn!(
            rust_log = %value,
            %error,
            "RUST_LOG is not a valid filter, so it is ignored: fix it (e.g. RUST_LOG=info,linesman_connection=debug) or unset it"
        );
    }
}

/// Log lines lost so far (stderr closed, failing, or not read fast enough)
/// since [`init`]; 0 before it. For the daemon's metrics.
pub(crate) fn dropped_log_lines() -> u64 {
    WRITER.get().map_or(0, |handle| handle.stats().dropped())
}

/// At exit: reports lost lines not reported yet and lets queued lines
/// reach stderr (bounded). A no-op if [`init`] did not run.
pub(crate) fn finish() {
    finish_within(FINISH_PATIENCE);
}

/// [`finish`], waiting at most `patience` for the queue: for an exit that
/// must be quick (a second signal).
pub(crate) fn finish_within(patience: Duration) {
    if let Some(handle) = WRITER.get() {
        handle.finish(patience);
    }
}

/// The filter from `RUST_LOG`, or from `default` when it is unset or
/// empty; with `RUST_LOG`'s value and what is wrong with it, if it was
/// refused. Parsed strictly: tracing-subscriber's lossy parse prints
/// refused directives with `eprintln!`.
fn filter(default: &str) -> (EnvFilter, Option<(String, String)>) {
    let fallback = || {
        EnvFilter::builder()
            .parse(default)
            .unwrap_or_else(|_| EnvFilter::default())
    };
    match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => match EnvFilter::builder().parse(&value) {
            Ok(filter) => (filter, None),
            Err(error) => (fallback(), Some((value, error.to_string()))),
        },
        _ => (fallback(), None),
    }
}

/// Colours only on a terminal, and not when `NO_COLOR` is set
/// (<https://no-color.org>).
fn colours() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// The panic hook: one error line in the log, with where and on which
/// thread, instead of the default hook's write to stderr (which a full
/// pipe would block). What happens next is the panicking code's caller's
/// business: see "Panics" in docs/ARCHITECTURE.md.
fn log_panic(info: &std::panic::PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic without a message");
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("unnamed");
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        tracing::error!(panic = message, %location, thread, %backtrace, "panicked");
    } else {
        tracing::error!(panic = message, %location, thread, "panicked");
    }
}
