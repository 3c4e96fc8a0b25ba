//! The exit codes of `linesman`, in one place with their meanings, and the
//! one function that turns a command's result into one (printing the error
//! on the way).
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success; for `status`, every connection is up; for `wait`, the condition holds; or stdout was a pipe whose reader went away (nothing is printed) |
//! | 1 | no daemon answers on the control socket, or it does not answer in time (the message names the socket), stdout cannot be written (`/dev/full`), or any other runtime error |
//! | 2 | bad usage (clap's own code) or an invalid configuration file (`check`, `run`, `graph`, `-c FILE`) |
//! | 3 | `status`: the daemon answered, but some connection is not up |
//! | 4 | `wait`: the timeout passed before the condition held |
//! | 5 | `run`, `demo`: a second SIGINT/SIGTERM cut the shutdown short (the socket file was removed first) |

use std::io::IsTerminal;
use std::process::ExitCode;

use linesman_config::ConfigErrors;
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::error::CliError;
use crate::output;

/// What a command ended with, when it did not fail. Failures are
/// [`CliError`]s, whose codes are [`CliError::code`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 0: success; every connection up; the awaited condition holds.
    Ok,
    /// 1: no daemon, or any other runtime error.
    Failure,
    /// 2: bad usage or an invalid configuration.
    Invalid,
    /// 3: `status`: some connection is not up.
    NotUp,
    /// 4: `wait`: timed out.
    TimedOut,
    /// 5: `run`, `demo`: a second signal forced the exit during the
    /// shutdown. Not returned by a command: the daemon exits with it.
    Forced,
}

impl Code {
    /// The process exit status.
    pub(crate) fn number(self) -> u8 {
        match self {
            Code::Ok => 0,
            Code::Failure => 1,
            Code::Invalid => 2,
            Code::NotUp => 3,
            Code::TimedOut => 4,
            Code::Forced => 5,
        }
    }
}

/// The exit codes as `--help` shows them.
pub(crate) const HELP: &str = "\
Exit codes:
  0  success; `status`: every connection is up; `wait`: the condition holds
     (also when the reader of stdout went away: `| head` ends it quietly)
  1  no daemon answers on the control socket (or not in time), stdout cannot
     be written, or another runtime error
  2  bad usage, or an invalid configuration file
  3  `status`: some connection is not up
  4  `wait`: the timeout passed first
  5  `run`, `demo`: a second SIGINT/SIGTERM cut the shutdown short";

/// Prints the error of a failed command to stderr (configuration errors as
/// miette's graphical report) and returns the process's exit code. A stderr
/// that cannot be written changes nothing: the code is the same (`eprint!`
/// would panic on a closed stderr and exit 101).
pub(crate) fn report(result: Result<Code, CliError>) -> ExitCode {
    let code = match result {
        Ok(code) => code,
        // The reader of stdout is gone: nobody to tell.
        Err(CliError::Output { source }) if output::is_closed(&source) => Code::Ok,
        Err(CliError::Config(errors)) => {
            say(&render_config_errors(&errors));
            Code::Invalid
        }
        Err(error) => {
            let code = error.code();
            say(&format!("linesman: error: {}\n", chain(&error)));
            code
        }
    };
    ExitCode::from(code.number())
}

/// Writes `text` to stderr, ignoring a failure: there is nowhere else to
/// report it.
fn say(text: &str) {
    output::err(text);
}

/// The most configuration problems shown: the rest are counted. Each costs
/// a snippet of the file, and past the first few dozen nobody reads them
/// (a file with 20,000 mistakes would print for minutes).
pub(crate) const MAX_SHOWN_PROBLEMS: usize = 50;

/// The problems of `errors` with miette's graphical handler: a one-line
/// header, then each of the first [`MAX_SHOWN_PROBLEMS`] with a labelled
/// snippet of the file, then how many more there are. Colours only when
/// stderr is a terminal and `NO_COLOR` is unset; the plain
/// `FILE:LINE:COLUMN: message` listing if rendering fails.
pub(crate) fn render_config_errors(errors: &ConfigErrors) -> String {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let report = errors.diagnostic().first(MAX_SHOWN_PROBLEMS);
    let mut text = String::new();
    if handler.render_report(&mut text, &report).is_err() {
        text = format!("{errors}\n");
    } else if report.hidden() > 0 {
        text.push_str(&format!(
            "... and {} more problems in {} (the first {MAX_SHOWN_PROBLEMS} are shown above): fix these and check again\n",
            report.hidden(),
            errors.source().name()
        ));
    }
    text
}

/// The error and its sources, `: `-separated, skipping a source whose text
/// the outer message already contains.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let words = inner.to_string();
        if !text.contains(&words) {
            text.push_str(": ");
            text.push_str(&words);
        }
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_documented_number() {
        let numbers: Vec<u8> = [
            Code::Ok,
            Code::Failure,
            Code::Invalid,
            Code::NotUp,
            Code::TimedOut,
            Code::Forced,
        ]
        .into_iter()
        .map(Code::number)
        .collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5]);
        for n in numbers {
            assert!(HELP.contains(&format!("  {n}  ")), "--help documents {n}");
        }
    }

    #[test]
    fn chain_skips_repeated_sources() {
        let io = std::io::Error::other("refused");
        let error = CliError::Io {
            what: "read x".to_owned(),
            source: io,
        };
        assert_eq!(chain(&error), "cannot read x: refused");
        let nested = CliError::Usage {
            message: "unknown connection `x`".to_owned(),
        };
        assert_eq!(chain(&nested), "unknown connection `x`");
    }
}
