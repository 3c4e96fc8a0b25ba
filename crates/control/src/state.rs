//! [`ControlState`]: everything the server reads to answer — the
//! [`SupervisorHandle`], each connection's [`ConnectionHandle`] (counters)
//! and what its spec says (endpoint, kind, tags, start rule).

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use linesman_connection::{ConnectionHandle, Counters};
use linesman_observer::Bus;
use linesman_supervisor::{Spec, Supervisor, SupervisorHandle};

use crate::api::{ConnectionStatus, StatusResponse};
use crate::convert::{Described, connection_status};

/// What the control server serves: made from a [`Supervisor`] before it
/// runs, cheap to clone.
///
/// ```
/// use linesman_connection::ConnectionSpec;
/// use linesman_control::ControlState;
/// use linesman_supervisor::{Spec, Supervisor};
///
/// let spec = Spec::builder()
///     .connection(ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?).kind("feed"))
///     .build()?;
/// let supervisor = Supervisor::new(spec.clone());
/// let state = ControlState::new(&supervisor).with_spec(&spec);
/// let status = state.status();
/// assert_eq!(status.connections[0].endpoint, "tcp://127.0.0.1:7001");
/// assert_eq!(status.connections[0].state, "waiting"); // not run yet
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ControlState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) supervisor: SupervisorHandle,
    pub(crate) connections: Vec<Entry>,
}

#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) described: Described,
    pub(crate) handle: Option<ConnectionHandle>,
}

impl fmt::Debug for ControlState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ControlState")
            .field("supervisor", &self.inner.supervisor)
            .field("connections", &self.names())
            .finish_non_exhaustive()
    }
}

impl ControlState {
    /// The state of `supervisor`'s connections: its handle, each
    /// connection's handle (for counters) and kind. Call it before
    /// [`Supervisor::run`], which consumes the supervisor.
    ///
    /// The supervisor does not give out its spec, so endpoints and start
    /// rules are empty until [`with_spec`](Self::with_spec) adds them.
    pub fn new(supervisor: &Supervisor) -> ControlState {
        let handle = supervisor.control();
        let connections = handle
            .names()
            .map(|name| Entry {
                described: Described {
                    name: name.to_owned(),
                    ..Described::default()
                },
                handle: supervisor.handle(name),
            })
            .collect();
        ControlState {
            inner: Arc::new(Inner {
                supervisor: handle,
                connections,
            }),
        }
    }

    /// Adds what `spec` says of each connection (endpoint, kind, tags, start
    /// rule and the names it depends on); connections the spec does not
    /// name keep what they had. Pass the spec the supervisor was made from
    /// (a clone: `Supervisor::new` takes it).
    #[must_use]
    pub fn with_spec(self, spec: &Spec) -> ControlState {
        let Inner {
            supervisor,
            connections,
        } = Arc::unwrap_or_clone(self.inner);
        let connections = connections
            .into_iter()
            .map(|entry| match spec.get(&entry.described.name) {
                Some(supervised) => {
                    let c = &supervised.connection;
                    let rule = supervised.start_when.as_ref();
                    Entry {
                        described: Described {
                            name: entry.described.name,
                            kind: c.kind.clone(),
                            tags: c.tags.clone(),
                            endpoint: c.target.to_string(),
                            depends_on: spec
                                .graph()
                                .dependencies_of(c.name.as_str())
                                .map(str::to_owned)
                                .collect(),
                            rule: rule.map(ToString::to_string),
                        },
                        handle: entry.handle,
                    }
                }
                None => entry,
            })
            .collect();
        ControlState {
            inner: Arc::new(Inner {
                supervisor,
                connections,
            }),
        }
    }

    /// The supervised connection names, in declaration order.
    pub fn names(&self) -> Vec<String> {
        self.inner
            .connections
            .iter()
            .map(|c| c.described.name.clone())
            .collect()
    }

    /// The supervisor's handle (start, stop, restart, shutdown).
    pub fn supervisor(&self) -> &SupervisorHandle {
        &self.inner.supervisor
    }

    /// The bus the supervisor publishes on.
    pub fn bus(&self) -> &Bus {
        self.inner.supervisor.bus()
    }

    /// The body of `GET /v1/status`, as of now.
    pub fn status(&self) -> StatusResponse {
        let now = SystemTime::now();
        let connections = self
            .inner
            .connections
            .iter()
            .map(|entry| self.connection_status(entry, now))
            .collect();
        StatusResponse { connections }
    }

    fn connection_status(&self, entry: &Entry, now: SystemTime) -> ConnectionStatus {
        let counters = entry
            .handle
            .as_ref()
            .map(ConnectionHandle::counters)
            .unwrap_or_default();
        let status = self.inner.supervisor.state(&entry.described.name);
        connection_status(&entry.described, status.as_ref(), &counters, now)
    }

    /// Each connection's counters, in declaration order.
    pub(crate) fn counters(&self) -> Vec<(String, Counters)> {
        self.inner
            .connections
            .iter()
            .map(|entry| {
                let counters = entry
                    .handle
                    .as_ref()
                    .map(ConnectionHandle::counters)
                    .unwrap_or_default();
                (entry.described.name.clone(), counters)
            })
            .collect()
    }
}
