//! [`ControlState`]: everything the server reads to answer — the
//! [`SupervisorHandle`], each connection's [`ConnectionHandle`] (counters)
//! and what its spec says (endpoint, kind, tags, start rule).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::SystemTime;

use linesman_connection::{ConnectionHandle, ConnectionSpec, Counters};
use linesman_observer::Bus;
use linesman_supervisor::{ReloadError, ReloadReport, Rule, Spec, Supervisor, SupervisorHandle};

use crate::api::{ConnectionStatus, ReloadResponse, StatusResponse};
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
/// let supervisor = Supervisor::new(spec);
/// let state = ControlState::new(&supervisor);
/// let status = state.status();
/// assert_eq!(status.connections[0].endpoint, "tcp://127.0.0.1:7001");
/// assert_eq!(status.connections[0].state, linesman_control::State::Waiting); // not run yet
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ControlState {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) supervisor: SupervisorHandle,
    /// Replaced whole by a reload.
    pub(crate) connections: Arc<RwLock<Arc<Vec<Entry>>>>,
    /// How many log lines the process dropped, if it says.
    pub(crate) log_lines_dropped: Option<fn() -> u64>,
    /// Reads the configuration again and reloads (`POST /v1/reload`).
    pub(crate) reloader: Option<Reloader>,
    /// Reloads that were applied, and refused ones.
    pub(crate) reloads: Arc<[AtomicU64; 2]>,
    /// Counts the reloads whose connections are in `connections`: told
    /// once the entries are replaced (the bus's `reloaded` event comes
    /// before that).
    pub(crate) replaced: Arc<tokio::sync::watch::Sender<u64>>,
}

/// What `POST /v1/reload` (and the daemon's SIGHUP) calls: reads the
/// configuration again and, if it is valid, applies it with
/// [`ControlState::reload`]; a file with errors is an `Ok` answer with
/// `ok: false` and the errors.
pub type Reloader = Arc<
    dyn Fn(
            ControlState,
        ) -> Pin<Box<dyn Future<Output = Result<ReloadResponse, ReloadError>> + Send>>
        + Send
        + Sync,
>;

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
    /// The state of `supervisor`'s connections: its handle, and for each
    /// connection its handle (for counters) and what its spec says
    /// (endpoint, kind, tags, start rule and the names it depends on).
    /// Call it before [`Supervisor::run`], which consumes the supervisor.
    pub fn new(supervisor: &Supervisor) -> ControlState {
        let handle = supervisor.control();
        let connections = handle
            .names()
            .iter()
            .map(|name| Entry {
                described: match supervisor.spec_of(name) {
                    Some((spec, rule)) => {
                        let depends_on = supervisor.graph().dependencies_of(name);
                        describe(spec, rule, depends_on)
                    }
                    None => Described {
                        name: name.to_string(),
                        ..Described::default()
                    },
                },
                handle: supervisor.handle(name),
            })
            .collect();
        ControlState {
            inner: Arc::new(Inner {
                supervisor: handle,
                connections: Arc::new(RwLock::new(Arc::new(connections))),
                log_lines_dropped: None,
                reloader: None,
                reloads: Arc::default(),
                replaced: Arc::new(tokio::sync::watch::Sender::new(0)),
            }),
        }
    }

    /// Serves `POST /v1/reload` with `reloader` (without one, the route
    /// answers 501).
    #[must_use]
    pub fn with_reloader(self, reloader: Reloader) -> ControlState {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.reloader = Some(reloader);
        ControlState {
            inner: Arc::new(inner),
        }
    }

    /// Runs the reloader, counts the result for
    /// `linesman_reloads_total{result}` and returns it; `None` when this
    /// state has no reloader.
    pub async fn run_reloader(&self) -> Option<Result<ReloadResponse, ReloadError>> {
        let reloader = self.inner.reloader.clone()?;
        let result = reloader(self.clone()).await;
        let ok = matches!(&result, Ok(response) if response.ok);
        self.inner.reloads[usize::from(!ok)].fetch_add(1, Ordering::Relaxed);
        Some(result)
    }

    /// Reloads applied (`ok`) and refused (`error`), for `/metrics`.
    pub(crate) fn reloads(&self) -> (u64, u64) {
        (
            self.inner.reloads[0].load(Ordering::Relaxed),
            self.inner.reloads[1].load(Ordering::Relaxed),
        )
    }

    /// Reloads the supervisor with `spec` ([`SupervisorHandle::reload`])
    /// and then describes its connections from `spec`.
    ///
    /// # Errors
    ///
    /// The supervisor's [`ReloadError`]; then nothing changed.
    pub async fn reload(&self, spec: Spec) -> Result<ReloadReport, ReloadError> {
        let described: Vec<Described> = spec
            .connections()
            .iter()
            .map(|supervised| {
                describe(
                    &supervised.connection,
                    supervised.start_when.as_ref(),
                    spec.graph().dependencies_of(supervised.name()),
                )
            })
            .collect();
        let report = self.inner.supervisor.reload(spec).await?;
        let entries = described
            .into_iter()
            .map(|described| Entry {
                handle: self.inner.supervisor.handle(&described.name),
                described,
            })
            .collect();
        *self
            .inner
            .connections
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(entries);
        self.inner.replaced.send_modify(|reloads| *reloads += 1);
        Ok(report)
    }

    /// Changes once each reload's connections are in place (what
    /// [`any_matches`](Self::any_matches) and the status read).
    pub(crate) fn reloaded(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.replaced.subscribe()
    }

    /// The entries as of now (a reload replaces them whole).
    fn entries(&self) -> Arc<Vec<Entry>> {
        Arc::clone(
            &self
                .inner
                .connections
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Reports, as `linesman_log_lines_dropped_total`, the log lines the
    /// process dropped rather than stall or die on its log (the daemon's
    /// lossy stderr writer counts them).
    #[must_use]
    pub fn with_log_lines_dropped(self, count: fn() -> u64) -> ControlState {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.log_lines_dropped = Some(count);
        ControlState {
            inner: Arc::new(inner),
        }
    }

    /// Replaces what is known of each connection by what `spec` says of it;
    /// connections the spec does not name keep what they had. Not needed
    /// for the spec the supervisor was made from ([`new`](Self::new) reads
    /// it from the supervisor): for a spec that describes them otherwise.
    #[must_use]
    pub fn with_spec(self, spec: &Spec) -> ControlState {
        let entries = self.entries();
        let Inner {
            supervisor,
            connections: _,
            log_lines_dropped,
            reloader,
            reloads,
            replaced,
        } = Arc::unwrap_or_clone(self.inner);
        let connections: Vec<Entry> = Arc::unwrap_or_clone(entries)
            .into_iter()
            .map(|entry| match spec.get(&entry.described.name) {
                Some(supervised) => Entry {
                    described: describe(
                        &supervised.connection,
                        supervised.start_when.as_ref(),
                        spec.graph().dependencies_of(&entry.described.name),
                    ),
                    handle: entry.handle,
                },
                None => entry,
            })
            .collect();
        ControlState {
            inner: Arc::new(Inner {
                supervisor,
                connections: Arc::new(RwLock::new(Arc::new(connections))),
                log_lines_dropped,
                reloader,
                reloads,
                replaced,
            }),
        }
    }

    /// The supervised connection names, in declaration order.
    pub fn names(&self) -> Vec<String> {
        self.entries()
            .iter()
            .map(|c| c.described.name.clone())
            .collect()
    }

    /// The names, kinds and tags the connections have now, which the
    /// filters of `/v1/events` are checked against.
    pub(crate) fn known(&self) -> crate::filter::Known {
        let entries = self.entries();
        let mut kinds = std::collections::BTreeSet::new();
        let mut tags = std::collections::BTreeSet::new();
        for entry in entries.iter() {
            kinds.extend(entry.described.kind.iter().cloned());
            tags.extend(entry.described.tags.iter().cloned());
        }
        crate::filter::Known {
            names: entries.iter().map(|c| c.described.name.clone()).collect(),
            kinds: kinds.into_iter().collect(),
            tags: tags.into_iter().collect(),
        }
    }

    /// Whether some connection matches what a stream's filter asks for.
    pub(crate) fn any_matches(&self, asked: &crate::filter::Asked) -> bool {
        self.entries().iter().any(|entry| {
            let described = &entry.described;
            asked.matches(&described.name, described.kind.as_deref(), &described.tags)
        })
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
            .entries()
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
        self.entries()
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

/// What a connection's spec, start rule and dependencies say of it.
fn describe<'a>(
    spec: &ConnectionSpec,
    rule: Option<&Rule>,
    depends_on: impl Iterator<Item = &'a str>,
) -> Described {
    Described {
        name: spec.name.clone(),
        kind: spec.kind.clone(),
        tags: spec.tags.clone(),
        endpoint: spec.target.to_string(),
        depends_on: depends_on.map(str::to_owned).collect(),
        rule: rule.map(ToString::to_string),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(endpoint: &str) -> Spec {
        Spec::builder()
            .connection(
                ConnectionSpec::new("quotes", endpoint.parse().expect("an endpoint")).kind("feed"),
            )
            .connection(
                linesman_supervisor::Supervised::new(ConnectionSpec::new(
                    "orders",
                    "unix:///run/orders.sock".parse().expect("an endpoint"),
                ))
                .depends_on(["quotes"]),
            )
            .build()
            .expect("a valid spec")
    }

    #[test]
    fn the_supervisor_alone_describes_every_connection() {
        let state = ControlState::new(&Supervisor::new(spec("tcp://127.0.0.1:7001")));
        let status = state.status();
        let quotes = &status.connections[0];
        assert_eq!(
            (
                quotes.name.as_str(),
                quotes.endpoint.as_str(),
                quotes.kind.as_deref()
            ),
            ("quotes", "tcp://127.0.0.1:7001", Some("feed"))
        );
        let orders = &status.connections[1];
        assert_eq!(orders.endpoint, "unix:///run/orders.sock");
        assert_eq!(orders.depends_on, ["quotes"]);
    }

    #[test]
    fn with_spec_replaces_what_another_spec_says() {
        let state = ControlState::new(&Supervisor::new(spec("tcp://127.0.0.1:7001")))
            .with_spec(&spec("tcp://10.0.0.5:7001"));
        assert_eq!(
            state.status().connections[0].endpoint,
            "tcp://10.0.0.5:7001"
        );
    }
}
