//! linesman-config's tests, in one binary: one test per class of error
//! (each asserting line, column and hint), the example files, defaults
//! merging and start rules, and snapshots of rendered reports.

mod errors;
mod examples;
mod load;
mod merge;
mod report;
mod restart;
mod scale;

use linesman_config::{Config, ConfigError, ConfigErrors};

/// No environment variable is set.
pub(crate) fn no_env(_: &str) -> Option<String> {
    None
}

/// Only `XDG_RUNTIME_DIR` is set, to `/run/user/1000`.
pub(crate) fn xdg_env(name: &str) -> Option<String> {
    (name == "XDG_RUNTIME_DIR").then(|| "/run/user/1000".to_owned())
}

/// Parses `yaml` (named `test.yaml`), expecting it to be valid.
pub(crate) fn valid(yaml: &str) -> Config {
    match linesman_config::parse_with_env("test.yaml", yaml, &xdg_env) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid file, got:\n{errors}"),
    }
}

/// Parses `yaml` (named `test.yaml`), expecting errors.
pub(crate) fn invalid(yaml: &str) -> ConfigErrors {
    match linesman_config::parse_with_env("test.yaml", yaml, &no_env) {
        Ok(config) => panic!("expected errors, got a valid config: {}", config.summary()),
        Err(errors) => errors,
    }
}

/// Parses `yaml`, expecting exactly one error.
pub(crate) fn one_error(yaml: &str) -> ConfigError {
    let errors = invalid(yaml);
    assert_eq!(errors.len(), 1, "expected one error, got:\n{errors}");
    errors.errors()[0].clone()
}

/// Asserts the error's line and column.
#[track_caller]
pub(crate) fn assert_at(error: &ConfigError, line: u32, column: u32) {
    let at = error.location.expect("the error has a location");
    assert_eq!(
        (at.line, at.column),
        (line, column),
        "location of: {}",
        error.message
    );
}
