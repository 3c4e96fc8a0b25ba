//! `linesman completions SHELL` and `linesman man`: a shell completion
//! script and the man pages, both generated from the clap definitions in
//! `cli.rs` (so they cannot drift from `--help`), printed to stdout.

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs, ManArgs};
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Prints the completion script for `args.shell`.
pub(crate) fn completions(args: &CompletionsArgs) -> Result<Code, CliError> {
    let mut command = Cli::command();
    let name = command.get_name().to_owned();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, name, &mut script);
    output::out(&String::from_utf8_lossy(&script))?;
    Ok(Code::Ok)
}

/// Prints the man page (section 1, roff) of `linesman` or of one of its
/// commands, or writes them all into `--dir`.
pub(crate) fn man(args: &ManArgs) -> Result<Code, CliError> {
    // `help` is a clap built-in with nothing to say in a page of its own;
    // built, each command's name in the pages is `linesman-COMMAND`.
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    if let Some(dir) = &args.dir {
        return write_all(command, dir);
    }
    let page = match &args.command {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            Some(sub) => sub.clone(),
            None => {
                let names: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
                return Err(CliError::Usage {
                    message: format!(
                        "no command `{name}` has a man page: give one of {}",
                        names.join(", ")
                    ),
                });
            }
        },
    };
    let mut text = Vec::new();
    page_of(page)
        .render(&mut text)
        .map_err(|e| CliError::io("render the man page", e))?;
    output::out(&String::from_utf8_lossy(&text))?;
    Ok(Code::Ok)
}

/// Writes the page of `command` and of each of its commands into `dir`,
/// printing each path.
fn write_all(command: clap::Command, dir: &std::path::Path) -> Result<Code, CliError> {
    let shown = dir.display();
    std::fs::create_dir_all(dir).map_err(|e| CliError::io(format!("create {shown}"), e))?;
    let pages = std::iter::once(command.clone()).chain(command.get_subcommands().cloned());
    for page in pages {
        let man = page_of(page);
        let path = man.generate_to(dir).map_err(|e| {
            CliError::io(
                format!("write {}", dir.join(man.get_filename()).display()),
                e,
            )
        })?;
        output::out(&format!("{}\n", path.display()))?;
    }
    Ok(Code::Ok)
}

/// The man page of `command`, each naming the same source (clap names only
/// the top page's version).
fn page_of(command: clap::Command) -> clap_mangen::Man {
    clap_mangen::Man::new(command).source(concat!("linesman ", env!("CARGO_PKG_VERSION")))
}
