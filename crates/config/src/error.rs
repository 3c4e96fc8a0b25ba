//! One problem of a configuration file: a [`ConfigError`] with its
//! [`ConfigErrorKind`], [`Location`], message and help (all of a pass's
//! problems together are [`ConfigErrors`](crate::ConfigErrors), in
//! `errors.rs`).
//!
//! Messages are lowercase, say what was wrong and what was expected; the
//! help says what to do (often "did you mean …?"). `Display` of
//! [`ConfigErrors`](crate::ConfigErrors) lists them as `FILE:LINE:COLUMN: message` lines, usable
//! without miette; the [`miette::Diagnostic`] implementations are in
//! `diagnostic.rs`.

use std::fmt;

use crate::shorten::shortened;

/// Where in the file a problem is: 1-based line and column (columns count
/// characters, as editors do) and the byte range it covers in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Location {
    /// 1-based line.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
    /// Byte offset of the start in [`ConfigSource::text`](crate::ConfigSource::text).
    pub offset: usize,
    /// Length in bytes (may be 0).
    pub len: usize,
}

impl fmt::Display for Location {
    /// `LINE:COLUMN`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A secondary place an error points at, with what it is (for a cycle: each
/// hop, "`a` depends on `b` here").
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Label {
    /// Where.
    pub location: Location,
    /// What is there.
    pub text: String,
}

/// What kind of problem a [`ConfigError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfigErrorKind {
    /// The file could not be read.
    Io,
    /// The text is not valid YAML.
    Syntax,
    /// The YAML expands beyond the parser's budget (an alias bomb, or a
    /// file far larger than any configuration).
    Budget,
    /// The file is empty or declares no connections.
    Empty,
    /// A key that is not valid at that place.
    UnknownKey,
    /// A key given twice in one mapping.
    DuplicateKey,
    /// Two connections with the same name.
    DuplicateConnection,
    /// A connection name that is empty, too long, or holds whitespace,
    /// control or invisible characters.
    InvalidName,
    /// A required key is missing.
    MissingKey,
    /// A value of the wrong shape (a string where a mapping was expected…).
    WrongType,
    /// A duration that humantime cannot read.
    InvalidDuration,
    /// A byte size that cannot be read.
    InvalidSize,
    /// An endpoint that is not `tcp://host:port` or `unix:///path`.
    InvalidEndpoint,
    /// A word or number that is not one of the accepted values.
    InvalidValue,
    /// A number outside its accepted range.
    OutOfRange,
    /// Settings that contradict each other.
    Conflict,
    /// A `${VAR}` whose variable is not set.
    UnsetVariable,
    /// A start rule names a connection that does not exist.
    UnknownDependency,
    /// A start rule names its own connection.
    SelfDependency,
    /// A start rule has an `any` with nothing in it.
    EmptyAny,
    /// Connections that depend on each other in a circle.
    Cycle,
    /// The supervisor refused the spec for a reason not covered above.
    Invalid,
}

impl ConfigErrorKind {
    /// A stable snake_case name, used as the diagnostic code
    /// (`linesman::config::NAME`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Io => "io",
            Self::Syntax => "syntax",
            Self::Budget => "budget",
            Self::Empty => "empty",
            Self::UnknownKey => "unknown_key",
            Self::DuplicateKey => "duplicate_key",
            Self::DuplicateConnection => "duplicate_connection",
            Self::InvalidName => "invalid_name",
            Self::MissingKey => "missing_key",
            Self::WrongType => "wrong_type",
            Self::InvalidDuration => "invalid_duration",
            Self::InvalidSize => "invalid_size",
            Self::InvalidEndpoint => "invalid_endpoint",
            Self::InvalidValue => "invalid_value",
            Self::OutOfRange => "out_of_range",
            Self::Conflict => "conflict",
            Self::UnsetVariable => "unset_variable",
            Self::UnknownDependency => "unknown_dependency",
            Self::SelfDependency => "self_dependency",
            Self::EmptyAny => "empty_any",
            Self::Cycle => "cycle",
            Self::Invalid => "invalid",
        }
    }
}

/// One problem in a configuration file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
#[non_exhaustive]
pub struct ConfigError {
    /// What kind of problem it is.
    pub kind: ConfigErrorKind,
    /// Where it is; `None` only for problems with the file as a whole that
    /// have no place in it (it could not be read).
    pub location: Option<Location>,
    /// What is wrong and what was expected, lowercase, no trailing period.
    pub message: String,
    /// What to do about it, e.g. "did you mean `endpoint`?".
    pub help: Option<String>,
    /// Other places that explain the problem (each hop of a cycle, the first
    /// declaration of a duplicate).
    pub labels: Vec<Label>,
}

impl ConfigError {
    /// A problem of `kind` at `location`. The message (like the help and
    /// the labels' texts) is shortened if it quotes a long value: no text
    /// of an error is longer than [`MESSAGE_WIDTH`](crate::shorten::MESSAGE_WIDTH)
    /// characters, whatever the file holds.
    pub(crate) fn new(kind: ConfigErrorKind, location: Option<Location>, message: String) -> Self {
        ConfigError {
            kind,
            location,
            message: shortened(message),
            help: None,
            labels: Vec::new(),
        }
    }

    pub(crate) fn at(
        kind: ConfigErrorKind,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        Self::new(kind, Some(location), message.into())
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(crate::shorten::shortened_help(help.into()));
        self
    }

    pub(crate) fn maybe_help(mut self, help: Option<String>) -> Self {
        self.help = help.map(crate::shorten::shortened_help);
        self
    }

    pub(crate) fn label(mut self, location: Location, text: impl Into<String>) -> Self {
        self.labels.push(Label {
            location,
            text: shortened(text.into()),
        });
        self
    }
}
