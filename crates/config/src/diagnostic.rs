//! [`miette::Diagnostic`] for [`ConfigError`] and [`ConfigErrors`], so the
//! CLI can render every problem with a labelled snippet of the file.
//!
//! miette uses a diagnostic's `Display` as its header. `ConfigErrors`'
//! `Display` is the complete plain listing (for use without miette), so
//! for graphical rendering [`ConfigErrors::diagnostic`] gives a view with a
//! one-line header and the same related diagnostics.

use std::fmt;

use miette::{Diagnostic, LabeledSpan, SourceCode};

use crate::error::ConfigError;
use crate::errors::ConfigErrors;

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!(
            "linesman::config::{}",
            self.kind.as_str()
        )))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = self
            .location
            .map(|at| LabeledSpan::new_primary_with_span(None, (at.offset, at.len)));
        let others = self.labels.iter().map(|label| {
            LabeledSpan::new_with_span(
                Some(label.text.clone()),
                (label.location.offset, label.location.len),
            )
        });
        let all: Vec<LabeledSpan> = primary.into_iter().chain(others).collect();
        if all.is_empty() {
            None
        } else {
            Some(Box::new(all.into_iter()))
        }
    }
}

impl Diagnostic for ConfigErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("linesman::config"))
    }

    /// The file, or, if a line is too long to show whole, the copy with
    /// long lines cut around the errors (see `crop.rs`).
    fn source_code(&self) -> Option<&dyn SourceCode> {
        match &self.shown {
            Some(shown) => Some(&shown.source),
            None => Some(&self.source),
        }
    }

    /// The errors, with spans into [`source_code`](Diagnostic::source_code).
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let errors = match &self.shown {
            Some(shown) => &shown.errors,
            None => &self.errors,
        };
        Some(Box::new(errors.iter().map(|e| e as &dyn Diagnostic)))
    }
}

impl ConfigErrors {
    /// A view for miette's graphical handler: the header is one line
    /// ("3 problems in trading.yaml"), each problem a related diagnostic
    /// with its snippet.
    ///
    /// ```
    /// use miette::Diagnostic;
    ///
    /// let errors = linesman_config::parse("x.yaml", "connections: {}").unwrap_err();
    /// let view = errors.diagnostic();
    /// assert_eq!(view.to_string(), "1 problem in x.yaml");
    /// assert_eq!(view.related().map(|r| r.count()), Some(1));
    /// ```
    pub fn diagnostic(&self) -> ConfigReport<'_> {
        ConfigReport {
            errors: self,
            limit: usize::MAX,
        }
    }
}

/// [`ConfigErrors`] with a one-line header; see [`ConfigErrors::diagnostic`].
#[derive(Debug, Clone, Copy)]
pub struct ConfigReport<'a> {
    errors: &'a ConfigErrors,
    /// How many of the errors are related diagnostics.
    limit: usize,
}

impl ConfigReport<'_> {
    /// This view with only the first `n` problems as related diagnostics
    /// (the header still counts them all): rendering each costs a snippet,
    /// and nobody reads 20,000 of them. [`hidden`](Self::hidden) says how
    /// many were left out.
    ///
    /// ```
    /// use miette::Diagnostic;
    ///
    /// let yaml = "connections:\n  a: { endpoint: x }\n  b: { endpoint: y }\n  c: { endpoint: z }\n";
    /// let errors = linesman_config::parse("x.yaml", yaml).unwrap_err();
    /// let view = errors.diagnostic().first(2);
    /// assert_eq!(view.to_string(), "3 problems in x.yaml");
    /// assert_eq!(view.related().map(|r| r.count()), Some(2));
    /// assert_eq!(view.hidden(), 1);
    /// ```
    pub fn first(self, n: usize) -> Self {
        ConfigReport { limit: n, ..self }
    }

    /// How many problems [`first`](Self::first) left out (0 by default).
    pub fn hidden(&self) -> usize {
        self.errors.len().saturating_sub(self.limit)
    }
}

impl fmt::Display for ConfigReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors.len();
        let noun = if n == 1 { "problem" } else { "problems" };
        write!(f, "{n} {noun} in {}", self.errors.source.name())
    }
}

impl std::error::Error for ConfigReport<'_> {}

impl Diagnostic for ConfigReport<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.errors.code()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.errors.source_code()
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        let all = self.errors.related()?;
        Some(Box::new(all.take(self.limit)))
    }
}
