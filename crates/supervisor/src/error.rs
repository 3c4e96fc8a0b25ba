//! Every error this crate returns, in one place.
//!
//! Messages are lowercase, carry the offending values and say what to do, so
//! they can be shown to an operator as they are.

use std::fmt;

mod policy;

pub use policy::{Allowed, PolicyError, PolicyValue};

/// A name that is not one of the accepted words, from `FromStr` on
/// [`RestartMode`](crate::RestartMode) or
/// [`OnDependencyDown`](crate::OnDependencyDown).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not `always`, `on-failure` or `never`.
    #[error("unknown restart policy `{input}`: expected always, on-failure or never")]
    UnknownRestartMode {
        /// What was given.
        input: String,
    },
    /// Not `stop`, `keep` or `restart`.
    #[error("unknown on_dependency_down `{input}`: expected stop, keep or restart")]
    UnknownOnDependencyDown {
        /// What was given.
        input: String,
    },
}

/// One problem in the dependency graph, found by
/// [`DependencyGraph::build`](crate::DependencyGraph::build).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GraphError {
    /// Two connections share a name.
    #[error(
        "connection `{connection}` is declared more than once: give each connection a unique name"
    )]
    DuplicateName {
        /// The repeated name.
        connection: String,
    },
    /// A start rule names a connection that does not exist.
    #[error("connection `{connection}` depends on unknown connection `{unknown}`: {}", unknown_hint(.suggestion))]
    UnknownDependency {
        /// The connection whose rule names `unknown`.
        connection: String,
        /// The name that is not a connection.
        unknown: String,
        /// The existing connection name nearest to `unknown`, if one is close.
        suggestion: Option<String>,
    },
    /// A start rule names its own connection.
    #[error(
        "connection `{connection}` depends on itself: remove `{connection}` from its own start rule"
    )]
    SelfDependency {
        /// The connection.
        connection: String,
    },
    /// A start rule contains an `any` with nothing in it, which can never hold.
    #[error(
        "start rule of connection `{connection}` has an empty `any`, which never holds: list at least one connection in it"
    )]
    EmptyAny {
        /// The connection.
        connection: String,
    },
    /// Connections that wait on each other in a circle, so none can start.
    #[error("dependency cycle {}: remove one of these dependencies", CyclePath(.path))]
    Cycle {
        /// The connections on the cycle, each depending on the next and the
        /// last on the first; starts at the one declared first. The first
        /// name is not repeated at the end (the message repeats it).
        path: Vec<String>,
    },
}

fn unknown_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!("did you mean `{name}`?"),
        None => "declare it or remove it from the start rule".to_owned(),
    }
}

/// Renders a cycle as `a -> b -> c -> a`.
struct CyclePath<'a>(&'a [String]);

impl fmt::Display for CyclePath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for name in self.0 {
            write!(f, "{name} -> ")?;
        }
        match self.0.first() {
            Some(first) => write!(f, "{first}"),
            None => Ok(()),
        }
    }
}

/// Every problem found in a dependency graph, in a deterministic order:
/// duplicate names, then per connection (in declaration order) its unknown
/// names, self-dependency and empty `any`, then cycles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", Listing(.errors))]
pub struct GraphErrors {
    errors: Vec<GraphError>,
}

impl GraphErrors {
    pub(crate) fn new(errors: Vec<GraphError>) -> Self {
        Self { errors }
    }

    /// The problems, never empty.
    pub fn errors(&self) -> &[GraphError] {
        &self.errors
    }
}

impl IntoIterator for GraphErrors {
    type Item = GraphError;
    type IntoIter = std::vec::IntoIter<GraphError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

struct Listing<'a>(&'a [GraphError]);

impl fmt::Display for Listing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in the dependency graph:", many.len())?;
                for error in many {
                    write!(f, "\n  - {error}")?;
                }
                Ok(())
            }
        }
    }
}

/// A [`Spec`](crate::Spec) that cannot be supervised, from
/// [`SpecBuilder::build`](crate::SpecBuilder::build).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// The start rules between the connections are invalid (unknown or
    /// duplicate names, self-dependencies, cycles).
    #[error(transparent)]
    Graph(#[from] GraphErrors),
    /// The shutdown timeout is zero, so no connection could drain.
    #[error("shutdown timeout must be greater than zero: use e.g. 5s")]
    ZeroShutdownTimeout,
    /// The connect limit is zero, so no connection could ever connect.
    #[error("max_concurrent_connects must be greater than zero: use e.g. 512")]
    ZeroConcurrentConnects,
    /// [`SpecBuilder::configure`](crate::SpecBuilder::configure) was given
    /// names of connections not declared before it: each one, never empty.
    #[error("{}", ConfigureListing(.0))]
    Configure(Vec<ConfigureError>),
}

/// A name given to [`SpecBuilder::configure`](crate::SpecBuilder::configure)
/// that no connection declared before the call had, so nothing was amended.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigureError {
    /// No connection has this name.
    #[error("cannot configure unknown connection `{name}`: {}", configure_hint(.suggestion))]
    UnknownConnection {
        /// The name given.
        name: String,
        /// The declared connection nearest to `name`, if one is close.
        suggestion: Option<String>,
    },
    /// The connection is declared, but after the `configure` that names it.
    #[error(
        "cannot configure connection `{name}` before it is declared: call `configure` after the `connection` that adds it"
    )]
    NotYetDeclared {
        /// The connection.
        name: String,
    },
}

fn configure_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!("did you mean `{name}`?"),
        None => "check the name, or add the connection first with `connection`".to_owned(),
    }
}

struct ConfigureListing<'a>(&'a [ConfigureError]);

impl fmt::Display for ConfigureListing<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} connections cannot be configured:", many.len())?;
                for error in many {
                    write!(f, "\n  - {error}")?;
                }
                Ok(())
            }
        }
    }
}

/// A [`Supervisor`](crate::Supervisor) that could not be set up or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SupervisorError {
    /// A handler was given for a connection the spec does not declare.
    #[error("cannot set a handler for unknown connection `{name}`: {}", unknown_connection_hint(.suggestion))]
    UnknownConnection {
        /// The name given.
        name: String,
        /// The declared connection nearest to `name`, if one is close.
        suggestion: Option<String>,
    },
    /// A second handler was given for the same connection.
    #[error(
        "connection `{name}` already has a handler: give each connection one handler (it may dispatch to several)"
    )]
    DuplicateHandler {
        /// The connection.
        name: String,
    },
    /// A signal handler could not be installed by `run_until_signal`.
    #[error(
        "cannot listen for {signal}: {source}; use `run` and stop the supervisor through its handle"
    )]
    Signal {
        /// The signal, `SIGINT` or `SIGTERM`.
        signal: &'static str,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The task of `run_until_signal` that listens for SIGINT and SIGTERM
    /// panicked: the process would no longer hear them, so the supervisor
    /// was shut down.
    #[error(
        "the signal watcher panicked ({message}), so SIGINT and SIGTERM could no longer stop the process: the supervisor was shut down; start it again, and report the bug"
    )]
    SignalWatcherPanicked {
        /// The panic's message.
        message: String,
    },
}

/// A runtime command through a [`SupervisorHandle`](crate::SupervisorHandle)
/// that could not be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ControlError {
    /// No connection of that name is supervised.
    #[error("no connection named `{name}`: {}", unknown_connection_hint(.suggestion))]
    UnknownConnection {
        /// The name given.
        name: String,
        /// The supervised connection nearest to `name`, if one is close.
        suggestion: Option<String>,
    },
    /// The supervisor has finished (or is shutting down), so the connection
    /// can no longer be controlled.
    #[error(
        "connection `{name}` cannot be controlled: the supervisor is not running any more; start a new one"
    )]
    NotRunning {
        /// The connection.
        name: String,
    },
    /// The connection has as many commands waiting as it may: the command
    /// is refused, nothing is queued.
    #[error(
        "too many commands queued for connection `{name}` ({limit} at most): wait until the last one has taken effect, then ask again"
    )]
    QueueFull {
        /// The connection.
        name: String,
        /// How many commands may wait.
        limit: usize,
    },
}

fn unknown_connection_hint(suggestion: &Option<String>) -> String {
    match suggestion {
        Some(name) => format!("did you mean `{name}`?"),
        None => "check the connection names in the spec".to_owned(),
    }
}

/// Why [`SupervisorHandle::reload`](crate::SupervisorHandle::reload) did
/// not reload: nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// Another reload is being carried out (one may wait behind it): ask
    /// again once it is done.
    #[error("a reload is in progress already: wait for it to finish, then reload again")]
    InProgress,
    /// The supervisor is not running (it has finished, or was never run).
    #[error("the supervisor is not running, so there is nothing to reload; start it first")]
    NotRunning,
    /// The supervisor is shutting down.
    #[error("the supervisor is shutting down: a reload would be undone at once")]
    ShuttingDown,
}
