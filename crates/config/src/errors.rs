//! [`ConfigErrors`]: every problem of one pass over a file, with the file
//! they point into.

use std::fmt;
use std::sync::Arc;

use crate::crop::Shown;
use crate::error::ConfigError;
use crate::source::ConfigSource;

/// Every problem found in one pass over a configuration file, never empty,
/// in the order of the file (problems between connections, such as cycles,
/// last).
///
/// `Display` lists them, one per line, as `FILE:LINE:COLUMN: message`, each
/// followed by its labels (`  FILE:LINE:COLUMN: note: …`) and its help
/// (`  help: …`). It also implements [`miette::Diagnostic`] (each error is a
/// related diagnostic with labelled spans into the source); for a compact
/// header with miette's graphical handler, render
/// [`ConfigErrors::diagnostic`] instead. Nothing rendered is wide: a
/// message quoting a long value is shortened, and a snippet of a line
/// longer than 120 characters shows 120 of them around the error, with `…`
/// where the line was cut.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors {
    pub(crate) source: ConfigSource,
    pub(crate) errors: Vec<ConfigError>,
    /// The file and errors as the diagnostics show them, when a line of
    /// the file is too long to show whole (see `crop.rs`).
    pub(crate) shown: Option<Arc<Shown>>,
}

impl ConfigErrors {
    pub(crate) fn new(source: ConfigSource, errors: Vec<ConfigError>) -> Self {
        let shown = Shown::of(&source, &errors).map(Arc::new);
        ConfigErrors {
            source,
            errors,
            shown,
        }
    }

    /// The problems, in file order; never empty.
    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    /// The file the problems are in.
    pub fn source(&self) -> &ConfigSource {
        &self.source
    }

    /// How many problems there are (at least 1).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Always `false`: there is at least one problem. Present for the
    /// `len`/`is_empty` convention.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The problems, in file order.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.source.name();
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match error.location {
                Some(at) => write!(f, "{file}:{at}: {}", error.message)?,
                None => write!(f, "{file}: {}", error.message)?,
            }
            for label in &error.labels {
                write!(f, "\n  {file}:{}: note: {}", label.location, label.text)?;
            }
            if let Some(help) = &error.help {
                write!(f, "\n  help: {help}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}
