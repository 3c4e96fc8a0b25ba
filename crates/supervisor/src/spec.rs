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

use crate::error::SpecError;
use crate::graph::DependencyGraph;
use crate::restart::RestartPolicy;
use crate::rule::{OnDependencyDown, Rule};

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

/// Builds a [`Spec`]; see [`Spec::builder`].
#[derive(Debug, Clone)]
pub struct SpecBuilder {
    connections: Vec<Supervised>,
    shutdown_timeout: Duration,
    max_concurrent_connects: usize,
    max_open_sockets: Option<usize>,
}

impl Default for SpecBuilder {
    fn default() -> Self {
        Self {
            connections: Vec::new(),
            shutdown_timeout: Spec::DEFAULT_SHUTDOWN_TIMEOUT,
            max_concurrent_connects: Spec::DEFAULT_MAX_CONCURRENT_CONNECTS,
            max_open_sockets: None,
        }
    }
}

impl SpecBuilder {
    /// Adds a connection: a [`Supervised`], or a bare [`ConnectionSpec`]
    /// with the default supervision settings. Declaration order breaks every
    /// tie in start and shutdown order. Default: no connections.
    #[must_use]
    pub fn connection(mut self, connection: impl Into<Supervised>) -> Self {
        self.connections.push(connection.into());
        self
    }

    /// Sets how long each connection gets, at shutdown or when stopped, to
    /// run its handler's `on_disconnect`, flush queued sends and run
    /// `before_close`; a connection still running after it is dropped
    /// (forced). Default 5 s.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_supervisor::Spec;
    ///
    /// assert_eq!(Spec::builder().build()?.shutdown_timeout(), Duration::from_secs(5));
    /// let spec = Spec::builder().shutdown_timeout(Duration::from_millis(500)).build()?;
    /// assert_eq!(spec.shutdown_timeout(), Duration::from_millis(500));
    /// # Ok::<(), linesman_supervisor::SpecError>(())
    /// ```
    #[must_use]
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Sets how many connects may be in flight at once, across all
    /// connections: a connection that is `Connecting` holds one of these
    /// permits from before its socket is opened until its handshake is
    /// done or its connect failed; the others wait their turn (still
    /// `Connecting`). This keeps a storm of connects — thousands of
    /// connections starting, or reconnecting after a network blip — from
    /// overflowing the peers' accept queues (a dropped SYN costs a 1 s
    /// retransmission) and from spending the CPU on everything at once.
    /// A slow connect (up to its `connect_timeout`) holds its permit
    /// meanwhile. Default 512.
    ///
    /// ```
    /// use linesman_supervisor::Spec;
    ///
    /// assert_eq!(Spec::builder().build()?.max_concurrent_connects(), 512);
    /// let spec = Spec::builder().max_concurrent_connects(64).build()?;
    /// assert_eq!(spec.max_concurrent_connects(), 64);
    /// assert!(Spec::builder().max_concurrent_connects(0).build().is_err());
    /// # Ok::<(), linesman_supervisor::SpecError>(())
    /// ```
    #[must_use]
    pub fn max_concurrent_connects(mut self, max: usize) -> Self {
        self.max_concurrent_connects = max;
        self
    }

    /// Sets how many sockets (or blocking sources) may be open at once,
    /// across all connections: a session holds one place from before its
    /// socket is created until it is closed, and a session that finds none
    /// left fails at once ("no socket left: …", a failed connect for its
    /// restart policy) without creating a socket. Set it below the
    /// process's open-file limit, so that a spec with more connections than
    /// descriptors (or a reconnect storm) still leaves descriptors for
    /// everything else — the control plane answers `linesman status`.
    /// `linesman run` sets it to the open-file limit less a quarter of it, at most 96. Default: no
    /// bound.
    ///
    /// ```
    /// use linesman_supervisor::Spec;
    ///
    /// assert_eq!(Spec::builder().build()?.max_open_sockets(), None);
    /// let spec = Spec::builder().max_open_sockets(928).build()?;
    /// assert_eq!(spec.max_open_sockets(), Some(928));
    /// # Ok::<(), linesman_supervisor::SpecError>(())
    /// ```
    #[must_use]
    pub fn max_open_sockets(mut self, max: usize) -> Self {
        self.max_open_sockets = Some(max);
        self
    }

    /// Validates: the shutdown timeout, the connect limit, then the start
    /// rules (every problem of the graph at once). The restart policies were
    /// checked when they were built ([`RestartPolicy::builder`]).
    pub fn build(self) -> Result<Spec, SpecError> {
        if self.shutdown_timeout.is_zero() {
            return Err(SpecError::ZeroShutdownTimeout);
        }
        if self.max_concurrent_connects == 0 {
            return Err(SpecError::ZeroConcurrentConnects);
        }
        let graph = DependencyGraph::build(
            self.connections
                .iter()
                .map(|c| (c.name(), c.start_when.as_ref())),
        )?;
        Ok(Spec {
            connections: self.connections,
            graph,
            shutdown_timeout: self.shutdown_timeout,
            max_concurrent_connects: self.max_concurrent_connects,
            max_open_sockets: self.max_open_sockets,
        })
    }
}
