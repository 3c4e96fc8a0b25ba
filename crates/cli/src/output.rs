//! The one way commands write to stdout and stderr.
//!
//! Why not `println!`: it panics when the write fails — `linesman status |
//! head -0` (EPIPE: the reader is gone), `linesman graph > /dev/full`
//! (ENOSPC) — and a panic is a backtrace and exit 101 where an operator
//! expects a word. [`out`] returns the failure instead, as
//! [`CliError::Output`]: a closed pipe ends the command quietly with exit 0
//! (the reader has what it wanted, as with ripgrep); any other failure is
//! one line on stderr and exit 1 (see `exit.rs`). [`err`] writes to stderr
//! and ignores a failure: there is nowhere left to report it.

use std::io::{self, Write};

use crate::error::CliError;

/// Writes `text` to stdout and flushes it, so a failure shows here and not
/// in a later write or at exit.
pub(crate) fn out(text: &str) -> Result<(), CliError> {
    write_to(&mut io::stdout().lock(), text).map_err(|source| CliError::Output { source })
}

/// Writes `text` to stderr, ignoring a failure.
pub(crate) fn err(text: &str) {
    let _ = write_to(&mut io::stderr().lock(), text);
}

fn write_to(stream: &mut impl Write, text: &str) -> io::Result<()> {
    stream.write_all(text.as_bytes())?;
    stream.flush()
}
