//! The end of every command: its error, if any, printed to stderr
//! (configuration errors as miette's graphical report), and the process's
//! exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use linesman_config::ConfigErrors;
use miette::{GraphicalReportHandler, GraphicalTheme};

use crate::error::{CliError, is_closed_pipe};
use crate::exit::Code;
use crate::output;

/// Prints the error of a failed command to stderr (configuration errors as
/// miette's graphical report) and returns the process's exit code. A stderr
/// that cannot be written changes nothing: the code is the same (`eprint!`
/// would panic on a closed stderr and exit 101).
pub(crate) fn report(result: Result<Code, CliError>) -> ExitCode {
    let code = match result {
        Ok(code) => code,
        // The reader of stdout is gone: nobody to tell.
        Err(CliError::Output { source }) if is_closed_pipe(&source) => Code::Ok,
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
    render(errors, color)
}

/// [`render_config_errors`] without colours: for a reload, whose report
/// is shown by another process (`linesman reload` prints it as is).
pub(crate) fn render_config_errors_plain(errors: &ConfigErrors) -> String {
    render(errors, false)
}

fn render(errors: &ConfigErrors, color: bool) -> String {
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
