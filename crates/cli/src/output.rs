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

use std::io::{self, IsTerminal, Write};

use crate::error::CliError;

/// Writes `text` to stdout and flushes it, so a failure shows here and not
/// in a later write or at exit. Hidden characters in it are written out
/// (`crate::inert`): what a command prints holds names, paths and texts
/// from outside (a daemon's answer, a socket path from the environment).
/// Colour codes are kept only for a terminal, which is the only time our
/// views write them.
pub(crate) fn out(text: &str) -> Result<(), CliError> {
    let keep = crate::inert::Keep {
        colours: io::stdout().is_terminal(),
        ..LINES
    };
    let text = crate::inert::inert(text, keep);
    write_to(&mut io::stdout().lock(), &text).map_err(|source| CliError::Output { source })
}

/// Writes one JSON document (serde_json's text) and a newline to stdout:
/// the hidden characters serde_json leaves are JSON-escaped
/// (`crate::inert::json`), so the document holds none and is not scanned a
/// second time (a 10k-connection status is 5 MB), nor copied to add the
/// newline.
pub(crate) fn json_line(document: &str) -> Result<(), CliError> {
    let text = crate::inert::json(document);
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| write_to(&mut stdout, "\n"))
        .map_err(|source| CliError::Output { source })
}

/// Writes `text` to stderr, ignoring a failure; hidden characters written
/// out as by [`out`].
pub(crate) fn err(text: &str) {
    let keep = crate::inert::Keep {
        colours: io::stderr().is_terminal(),
        ..LINES
    };
    let text = crate::inert::inert(text, keep);
    let _ = write_to(&mut io::stderr().lock(), &text);
}

/// What a command's output keeps: its lines (and tabs).
const LINES: crate::inert::Keep = crate::inert::Keep {
    newlines: true,
    colours: false,
};

fn write_to(stream: &mut impl Write, text: &str) -> io::Result<()> {
    stream.write_all(text.as_bytes())?;
    stream.flush()
}
