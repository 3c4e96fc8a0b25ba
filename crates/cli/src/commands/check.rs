//! `linesman check FILE` (or `-c FILE`): validates a configuration file.
//!
//! `--format human` (the default) prints a one-line summary (exit 0) or
//! leaves every problem to `report.rs`, which shows miette's report on
//! stderr (exit 2). For editors and CI, `--format short` prints one line
//! per problem and `--format json` one document, both on stdout, with every
//! problem (the human report's cap of 50 is for reading, not for tools);
//! the exit codes are the same. The grammar of both is in docs/config.md.

use std::fmt::Write as _;
use std::path::Path;

use linesman_config::{ConfigError, ConfigErrors, Location};
use serde_json::{Value, json};

use crate::cli::{CheckArgs, CheckFormat};
use crate::error::CliError;
use crate::exit::Code;
use crate::output;

/// Loads the file and prints the result in `args.format`.
pub(crate) fn check(args: &CheckArgs) -> Result<Code, CliError> {
    let Some(path) = args.path() else {
        return Err(CliError::Usage {
            message: "no configuration file given: use `linesman check FILE` or `-c FILE`"
                .to_owned(),
        });
    };
    let loaded = linesman_config::load(path);
    let (text, code) = match (args.format, loaded) {
        (CheckFormat::Human, Ok(config)) => (
            format!(
                "{}: ok, {}\n",
                crate::inert::one_line(&path.display().to_string()),
                config.summary()
            ),
            Code::Ok,
        ),
        (CheckFormat::Human, Err(errors)) => return Err(errors.into()),
        (CheckFormat::Short, Ok(_)) => (String::new(), Code::Ok),
        (CheckFormat::Short, Err(errors)) => (short(&errors), Code::Invalid),
        (CheckFormat::Json, loaded) => {
            let errors = loaded.err();
            output::json_line(&json(path, errors.as_ref()))?;
            return Ok(if errors.is_some() {
                Code::Invalid
            } else {
                Code::Ok
            });
        }
    };
    output::out(&text)?;
    Ok(code)
}

/// Every problem on a line of its own:
/// `FILE:LINE:COLUMN: error: MESSAGE (help: HELP)`, or `FILE: error: …`
/// for a problem with no place in the file; the help part only when there
/// is one. Control characters are escaped, so a line is a problem.
pub(crate) fn short(errors: &ConfigErrors) -> String {
    let file = crate::inert::one_line(errors.source().name());
    let mut text = String::new();
    for error in errors {
        let message = crate::inert::one_line(&error.message);
        // Writing to a String cannot fail.
        let _ = match error.location {
            Some(at) => write!(text, "{file}:{at}: error: {message}"),
            None => write!(text, "{file}: error: {message}"),
        };
        if let Some(help) = &error.help {
            let _ = write!(text, " (help: {})", crate::inert::one_line(help));
        }
        text.push('\n');
    }
    text
}

/// The JSON document of a check of `path`, on one line (written with
/// `output::json_line`, which escapes what JSON leaves hidden):
/// `{"file", "valid", "problems": [{"line", "column", "kind", "message",
/// "help", "labels": [{"line", "column", "text"}]}]}`.
///
/// `file` is the path as given, valid or not (JSON escapes what is hidden
/// in it), not the name the problems are shown under, which has hidden
/// characters written out for a terminal: a program matches it against the
/// path it passed.
fn json(path: &Path, errors: Option<&ConfigErrors>) -> String {
    let file = path.display().to_string();
    let problems: Vec<Value> = errors.into_iter().flatten().map(problem).collect();
    let document = json!({
        "file": file,
        "valid": errors.is_none(),
        "problems": problems,
    });
    document.to_string()
}

fn problem(error: &ConfigError) -> Value {
    let (line, column) = place(error.location);
    let labels: Vec<Value> = error
        .labels
        .iter()
        .map(|label| {
            let (line, column) = place(Some(label.location));
            json!({ "line": line, "column": column, "text": label.text })
        })
        .collect();
    json!({
        "line": line,
        "column": column,
        "kind": error.kind.as_str(),
        "message": error.message,
        "help": error.help,
        "labels": labels,
    })
}

/// Line and column, `null` for a problem with no place in the file.
fn place(location: Option<Location>) -> (Option<u32>, Option<u32>) {
    location.map_or((None, None), |at| (Some(at.line), Some(at.column)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAD: &str = "\
connections:
  quotes:
    endpoint: tcp://127.0.0.1:7001
  audit:
    endpiont: tcp://127.0.0.1:7004
    depends_on: [qoutes]
";

    fn errors(text: &str) -> ConfigErrors {
        linesman_config::parse("bad.yaml", text).expect_err("invalid")
    }

    #[test]
    fn short_is_one_line_per_problem_with_its_help() {
        assert_eq!(
            short(&errors(BAD)),
            "bad.yaml:4:3: error: connection `audit` has no `endpoint` (help: add `endpoint: tcp://host:port` or `endpoint: unix:///absolute/path`)\n\
             bad.yaml:5:5: error: unknown key `endpiont` in `connections.audit` (help: did you mean `endpoint`?)\n\
             bad.yaml:6:18: error: connection `audit` depends on unknown connection `qoutes` (help: did you mean `quotes`?)\n"
        );
    }

    #[test]
    fn control_characters_cannot_break_a_line() {
        assert_eq!(crate::inert::one_line("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(crate::inert::one_line("plain `x`"), "plain `x`");
    }

    #[test]
    fn json_has_every_field_and_null_for_what_is_absent() {
        let document: Value =
            serde_json::from_str(&json(Path::new("bad.yaml"), Some(&errors(BAD)))).expect("JSON");
        assert_eq!(document["file"], "bad.yaml");
        assert_eq!(document["valid"], false);
        let second = &document["problems"][1];
        assert_eq!(second["line"], 5);
        assert_eq!(second["column"], 5);
        assert_eq!(second["kind"], "unknown_key");
        assert_eq!(second["help"], "did you mean `endpoint`?");
        assert_eq!(second["labels"], json!([]));
        let valid: Value = serde_json::from_str(&json(Path::new("good.yaml"), None)).expect("JSON");
        assert_eq!(
            valid,
            json!({ "file": "good.yaml", "valid": true, "problems": [] })
        );
    }

    #[test]
    fn json_names_the_file_as_given_escaped_for_json_valid_or_not() {
        let name = "b\u{1b}]0;x\u{7}\u{202e}.yaml";
        for errors in [Some(errors(BAD)), None] {
            // As `output::json_line` writes it.
            let text = crate::inert::json(&json(Path::new(name), errors.as_ref())).into_owned();
            assert!(
                !text.contains('\u{1b}') && !text.contains('\u{202e}'),
                "{text}"
            );
            let document: Value = serde_json::from_str(&text).expect("JSON");
            assert_eq!(document["file"], name, "{text}");
        }
    }
}
