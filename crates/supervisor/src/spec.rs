//! What the supervisor runs: [`Spec`], the validated set of connections, each
//! a [`Supervised`] (the connection's own [`ConnectionSpec`] plus its restart
//! policy, start rule and `on_dependency_down`), and [`SpecBuilder`].
//!
//! Validation happens once, in [`SpecBuilder::build`]: the start rules are
//! turned into a [`DependencyGraph`] (unknown names with suggestions,
//! self-dependencies, cycles with their path), so the runtime never meets an
//! invalid spec. A restart policy is valid by construction (see
//! [`RestartPolicy::builder`]), so it is not checked again here.
//!
//! A built spec — one read from YAML, say — is amended by turning it back
//! into its builder ([`Spec::into_builder`], which keeps every setting),
//! amending declared connections ([`SpecBuilder::configure`]) and adding
//! more; `build` then validates the amended whole once.
//!
//! ```
//! use std::time::Duration;
//! use linesman_connection::ConnectionSpec;
//! use linesman_supervisor::{OnDependencyDown, Spec, Supervised};
//!
//! let quotes = ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?);
//! let orders = ConnectionSpec::new("orders", "unix:///run/orders.sock".parse()?);
//! let hw = ConnectionSpec::new("hw-programmer", "tcp://127.0.0.1:7003".parse()?);
//! let spec = Spec::builder()
//!     .connection(quotes)
//!     .connection(orders)
//!     .connection(
//!         Supervised::new(hw)
//!             .depends_on(["quotes", "orders"])
//!             .on_dependency_down(OnDependencyDown::Stop),
//!     )
//!     .shutdown_timeout(Duration::from_secs(2))
//!     .build()?;
//! assert_eq!(spec.graph().start_order(), ["quotes", "orders", "hw-programmer"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use linesman_connection::ConnectionSpec;

use crate::graph::DependencyGraph;
use crate::restart::RestartPolicy;
use crate::rule::{OnDependencyDown, Rule};

mod builder;
#[cfg(test)]
mod tests;

pub use builder::SpecBuilder;

/// One supervised connection: how to connect ([`ConnectionSpec`]) and how to
/// supervise it (restart policy, start rule, `on_dependency_down`).
///
/// A bare [`ConnectionSpec`] converts into one with every supervision
/// setting at its default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Supervised {
    /// Endpoint, kind, tags, connect options, hooks, framing, limits,
    /// liveness and outbox of the connection.
    pub connection: ConnectionSpec,
    /// When and how fast to restart it. Default [`RestartPolicy::default`].
    pub restart: RestartPolicy,
    /// What must hold before it starts. Default: none (it starts at once).
    pub start_when: Option<Rule>,
    /// What it does when its start rule stops holding while it runs.
    /// Default [`OnDependencyDown::Stop`].
    pub on_dependency_down: OnDependencyDown,
}

impl Supervised {
    /// Supervises `connection` with the default policy, no start rule and
    /// `on_dependency_down: stop`.
    pub fn new(connection: ConnectionSpec) -> Self {
        Self {
            connection,
            restart: RestartPolicy::default(),
            start_when: None,
            on_dependency_down: OnDependencyDown::default(),
        }
    }

    /// The connection's name.
    pub fn name(&self) -> &str {
        &self.connection.name
    }

    /// Sets the restart policy (default [`RestartPolicy::default`]: always,
    /// backoff 100 ms ×2 up to 30 s with ±20 % jitter, 10 restarts after a
    /// session that came up per 10 minutes).
    ///
    /// ```
    /// # use linesman_connection::ConnectionSpec;
    /// use linesman_supervisor::{RestartMode, RestartPolicy, Supervised};
    /// # let spec = ConnectionSpec::new("audit", "tcp://127.0.0.1:7004".parse().unwrap());
    /// let on_failure = RestartPolicy::builder().mode(RestartMode::OnFailure).build()?;
    /// let audit = Supervised::new(spec).restart(on_failure);
    /// assert_eq!(audit.restart.mode(), RestartMode::OnFailure);
    /// # Ok::<(), linesman_supervisor::PolicyError>(())
    /// ```
    #[must_use]
    pub fn restart(mut self, policy: RestartPolicy) -> Self {
        self.restart = policy;
        self
    }

    /// Sets the start rule (default: none, the connection starts at once).
    /// Replaces an earlier [`depends_on`](Self::depends_on).
    ///
    /// ```
    /// # use linesman_connection::ConnectionSpec;
    /// use linesman_supervisor::{Rule, Supervised};
    /// # let spec = ConnectionSpec::new("audit", "tcp://127.0.0.1:7004".parse().unwrap());
    /// let audit = Supervised::new(spec)
    ///     .start_when(Rule::Any(vec![Rule::up("quotes"), Rule::up("orders")]));
    /// assert_eq!(audit.start_when.expect("set").to_string(), "any(up quotes, up orders)");
    /// ```
    #[must_use]
    pub fn start_when(mut self, rule: Rule) -> Self {
        self.start_when = Some(rule);
        self
    }

    /// The `depends_on: [a, b]` shorthand: start once all of `names` are up
    /// (default: no start rule). Replaces an earlier
    /// [`start_when`](Self::start_when).
    ///
    /// ```
    /// # use linesman_connection::ConnectionSpec;
    /// use linesman_supervisor::{Rule, Supervised};
    /// # let spec = ConnectionSpec::new("hw", "tcp://127.0.0.1:7003".parse().unwrap());
    /// let hw = Supervised::new(spec).depends_on(["quotes", "orders"]);
    /// assert_eq!(hw.start_when, Some(Rule::depends_on(["quotes", "orders"])));
    /// ```
    #[must_use]
    pub fn depends_on<I>(self, names: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.start_when(Rule::depends_on(names))
    }

    /// Sets what happens when the start rule stops holding while the
    /// connection runs (default [`OnDependencyDown::Stop`]).
    ///
    /// ```
    /// # use linesman_connection::ConnectionSpec;
    /// use linesman_supervisor::{OnDependencyDown, Supervised};
    /// # let spec = ConnectionSpec::new("hw", "tcp://127.0.0.1:7003".parse().unwrap());
    /// let hw = Supervised::new(spec).on_dependency_down(OnDependencyDown::Keep);
    /// assert_eq!(hw.on_dependency_down, OnDependencyDown::Keep);
    /// ```
    #[must_use]
    pub fn on_dependency_down(mut self, mode: OnDependencyDown) -> Self {
        self.on_dependency_down = mode;
        self
    }
}

impl From<ConnectionSpec> for Supervised {
    fn from(connection: ConnectionSpec) -> Self {
        Self::new(connection)
    }
}

/// A validated set of supervised connections, made by [`Spec::builder`].
#[derive(Debug, Clone)]
pub struct Spec {
    connections: Vec<Supervised>,
    graph: DependencyGraph,
    shutdown_timeout: Duration,
    max_concurrent_connects: usize,
    max_open_sockets: Option<usize>,
}

impl Spec {
    /// The default [`shutdown_timeout`](SpecBuilder::shutdown_timeout): 5 s.
    pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

    /// The default of [`SpecBuilder::max_concurrent_connects`].
    pub const DEFAULT_MAX_CONCURRENT_CONNECTS: usize = 512;

    /// An empty builder.
    pub fn builder() -> SpecBuilder {
        SpecBuilder::default()
    }

    /// The connections, in declaration order.
    pub fn connections(&self) -> &[Supervised] {
        &self.connections
    }

    /// The connection named `name`.
    pub fn get(&self, name: &str) -> Option<&Supervised> {
        self.connections.iter().find(|c| c.name() == name)
    }

    /// The validated dependency graph of the start rules.
    pub fn graph(&self) -> &DependencyGraph {
        &self.graph
    }

    /// How long each connection gets to stop gracefully.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// How many connects may be in flight at once across all connections
    /// (see [`SpecBuilder::max_concurrent_connects`]).
    pub fn max_concurrent_connects(&self) -> usize {
        self.max_concurrent_connects
    }

    /// How many sockets may be open at once across all connections, `None`
    /// for no bound (see [`SpecBuilder::max_open_sockets`]).
    pub fn max_open_sockets(&self) -> Option<usize> {
        self.max_open_sockets
    }

    /// This spec with at most `max` sockets open at once (`None`: no
    /// bound), for a spec already built — one read from a file, bounded by
    /// the process's open-file limit only known at run time. See
    /// [`SpecBuilder::max_open_sockets`].
    ///
    /// ```
    /// use linesman_supervisor::Spec;
    ///
    /// let spec = Spec::builder().build()?.with_max_open_sockets(Some(928));
    /// assert_eq!(spec.max_open_sockets(), Some(928));
    /// # Ok::<(), linesman_supervisor::SpecError>(())
    /// ```
    #[must_use]
    pub fn with_max_open_sockets(mut self, max: Option<usize>) -> Spec {
        self.max_open_sockets = max;
        self
    }

    pub(crate) fn into_parts(self) -> Parts {
        Parts {
            connections: self.connections,
            graph: self.graph,
            shutdown_timeout: self.shutdown_timeout,
            max_concurrent_connects: self.max_concurrent_connects,
            max_open_sockets: self.max_open_sockets,
        }
    }
}

/// A [`Spec`] taken apart by the supervisor.
pub(crate) struct Parts {
    pub(crate) connections: Vec<Supervised>,
    pub(crate) graph: DependencyGraph,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) max_concurrent_connects: usize,
    pub(crate) max_open_sockets: Option<usize>,
}
