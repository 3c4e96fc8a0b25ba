//! Logs of `run` and `demo`: tracing-subscriber on stderr, filtered by
//! `RUST_LOG` (default given per command), pretty or JSON.

use tracing_subscriber::EnvFilter;

use crate::cli::LogFormat;

/// Installs the global subscriber; `default` is the filter used when
/// `RUST_LOG` is unset or empty (e.g. `info`). A second call is a no-op.
pub(crate) fn init(format: LogFormat, default: &str) {
    let filter = match std::env::var("RUST_LOG") {
        Ok(value) if !value.trim().is_empty() => EnvFilter::new(value),
        _ => EnvFilter::new(default),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Pretty => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
    // Only fails when a subscriber is installed already, which is harmless.
    drop(installed);
}
