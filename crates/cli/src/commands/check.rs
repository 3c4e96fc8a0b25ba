//! `linesman check FILE`: validates a configuration file; prints a one-line
//! summary (exit 0) or every problem (exit 2).

use crate::cli::CheckArgs;
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Loads `args.file` and prints `FILE: ok, SUMMARY`.
pub(crate) fn check(args: &CheckArgs) -> Result<Code, CliError> {
    let config = linesman_config::load(&args.file)?;
    output::out(&format!(
        "{}: ok, {}\n",
        args.file.display(),
        config.summary()
    ))?;
    Ok(Code::Ok)
}
