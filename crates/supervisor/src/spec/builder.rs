//! [`SpecBuilder`]: a [`Spec`] put together, or taken back apart
//! ([`Spec::into_builder`]) to be amended, then validated as a whole by
//! [`SpecBuilder::build`].
//!
//! Why amending goes through the builder: a spec read from YAML lacks what
//! only code can give (socket hooks, blocking targets, connections that
//! exist only in code). Rebuilding it connection by connection into a new
//! builder silently dropped every spec-wide setting not copied by hand
//! (`shutdown_timeout`, `max_concurrent_connects`), and checked names only
//! connection by connection. [`Spec::into_builder`] keeps every setting
//! (it takes the spec apart field by field, so a new field cannot be
//! forgotten), and [`SpecBuilder::configure`] records a name it cannot find
//! instead of panicking, for `build` to report with the other problems.

use std::time::Duration;

use super::{Spec, Supervised};
use crate::error::{ConfigureError, SpecError};
use crate::graph::DependencyGraph;
use crate::suggest::nearest;

impl Spec {
    /// This spec back as its builder, with every setting it holds — the
    /// connections (each with all of its [`Supervised`] and
    /// [`ConnectionSpec`](linesman_connection::ConnectionSpec) settings), the shutdown timeout, the connect
    /// limit and the socket bound — to amend it: a spec read from YAML by
    /// `linesman-config`, given socket hooks, blocking targets or more
    /// connections in code ([`SpecBuilder::configure`],
    /// [`SpecBuilder::connection`]). [`build`](SpecBuilder::build) then
    /// validates the amended whole again.
    ///
    /// ```
    /// use std::time::Duration;
    /// use linesman_connection::ConnectionSpec;
    /// use linesman_supervisor::{Spec, Supervised};
    ///
    /// let spec = Spec::builder()
    ///     .connection(ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?))
    ///     .shutdown_timeout(Duration::from_secs(2))
    ///     .max_concurrent_connects(8)
    ///     .build()?;
    /// let hw = ConnectionSpec::new("hw", "tcp://127.0.0.1:7003".parse()?);
    /// let spec = spec
    ///     .into_builder()
    ///     .connection(Supervised::new(hw).depends_on(["quotes"]))
    ///     .build()?;
    /// assert_eq!(spec.graph().start_order(), ["quotes", "hw"]);
    /// assert_eq!(spec.shutdown_timeout(), Duration::from_secs(2));
    /// assert_eq!(spec.max_concurrent_connects(), 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_builder(self) -> SpecBuilder {
        // No `..`: a field added to `Spec` must be handed on here.
        let Spec {
            connections,
            graph: _,
            shutdown_timeout,
            max_concurrent_connects,
            max_open_sockets,
        } = self;
        SpecBuilder {
            connections,
            shutdown_timeout,
            max_concurrent_connects,
            max_open_sockets,
            unknown: Vec::new(),
        }
    }
}

/// Builds a [`Spec`]: an empty one from [`Spec::builder`], or one holding
/// a built spec's settings from [`Spec::into_builder`], to amend.
#[derive(Debug, Clone)]
pub struct SpecBuilder {
    connections: Vec<Supervised>,
    shutdown_timeout: Duration,
    max_concurrent_connects: usize,
    max_open_sockets: Option<usize>,
    /// Names given to `configure` that no connection had then, in order.
    unknown: Vec<String>,
}

impl Default for SpecBuilder {
    fn default() -> Self {
        Self {
            connections: Vec::new(),
            shutdown_timeout: Spec::DEFAULT_SHUTDOWN_TIMEOUT,
            max_concurrent_connects: Spec::DEFAULT_MAX_CONCURRENT_CONNECTS,
            max_open_sockets: None,
            unknown: Vec::new(),
        }
    }
}

impl SpecBuilder {
    /// Adds a connection: a [`Supervised`], or a bare
    /// [`ConnectionSpec`](linesman_connection::ConnectionSpec)
    /// with the default supervision settings. Declaration order breaks every
    /// tie in start and shutdown order. Default: no connections.
    #[must_use]
    pub fn connection(mut self, connection: impl Into<Supervised>) -> Self {
        self.connections.push(connection.into());
        self
    }

    /// Amends connection `name`, declared before this call (by
    /// [`connection`](Self::connection), or in the spec given to
    /// [`Spec::into_builder`]): `amend` gets its [`Supervised`], whose
    /// fields — and those of its
    /// [`ConnectionSpec`](linesman_connection::ConnectionSpec) — are public: socket
    /// hooks, target (a blocking one), connect options, restart policy,
    /// start rule. Calls apply in order. Default: nothing amended.
    ///
    /// A `name` that no connection declared so far has amends nothing and
    /// is reported by [`build`](Self::build) ([`SpecError::Configure`],
    /// with the nearest declared name), together with every other such
    /// name. What `amend` changes is validated by `build` with the rest: a
    /// start rule that closes a cycle, a name already taken.
    ///
    /// ```
    /// use linesman_connection::ConnectionSpec;
    /// use linesman_stream::SocketHooks;
    /// use linesman_supervisor::{Rule, Spec};
    ///
    /// // Typically read from YAML: `linesman_config::load(path)?.spec`.
    /// let spec = Spec::builder()
    ///     .connection(ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?))
    ///     .connection(ConnectionSpec::new("orders", "tcp://127.0.0.1:7002".parse()?))
    ///     .build()?;
    /// let spec = spec
    ///     .into_builder()
    ///     .configure("quotes", |c| {
    ///         let hooks = SocketHooks::default().on_open(|sock| sock.set_reuse_address(true));
    ///         c.connection.hooks = hooks;
    ///     })
    ///     .configure("orders", |c| c.start_when = Some(Rule::up("quotes")))
    ///     .build()?;
    /// assert!(spec.get("quotes").is_some_and(|c| c.connection.hooks.has_on_open()));
    /// assert_eq!(spec.graph().start_order(), ["quotes", "orders"]);
    ///
    /// let error = spec.into_builder().configure("qoutes", |_| {}).build().unwrap_err();
    /// assert_eq!(
    ///     error.to_string(),
    ///     "cannot configure unknown connection `qoutes`: did you mean `quotes`?"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn configure(mut self, name: &str, amend: impl FnOnce(&mut Supervised)) -> Self {
        match self.connections.iter_mut().find(|c| c.name() == name) {
            Some(connection) => amend(connection),
            None => self.unknown.push(name.to_owned()),
        }
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

    /// Validates: the shutdown timeout, the connect limit, the names given
    /// to [`configure`](Self::configure) (every unknown one at once), then
    /// the start rules (every problem of the graph at once). The restart
    /// policies were checked when they were built
    /// ([`RestartPolicy::builder`](crate::RestartPolicy::builder)).
    pub fn build(self) -> Result<Spec, SpecError> {
        if self.shutdown_timeout.is_zero() {
            return Err(SpecError::ZeroShutdownTimeout);
        }
        if self.max_concurrent_connects == 0 {
            return Err(SpecError::ZeroConcurrentConnects);
        }
        if !self.unknown.is_empty() {
            return Err(SpecError::Configure(unknown_names(
                self.unknown,
                &self.connections,
            )));
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

/// What each name `configure` could not find is: declared after the call,
/// or unknown (with the nearest declared name). Each name once, in the
/// order of the calls.
fn unknown_names(mut names: Vec<String>, connections: &[Supervised]) -> Vec<ConfigureError> {
    let mut seen = std::collections::HashSet::new();
    names.retain(|name| seen.insert(name.clone()));
    names
        .into_iter()
        .map(|name| {
            if connections.iter().any(|c| c.name() == name) {
                ConfigureError::NotYetDeclared { name }
            } else {
                let suggestion =
                    nearest(&name, connections.iter().map(Supervised::name)).map(str::to_owned);
                ConfigureError::UnknownConnection { name, suggestion }
            }
        })
        .collect()
}
