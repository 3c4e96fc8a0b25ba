//! [`Supervisor`]: takes a [`Spec`], handlers and listeners, then runs one
//! task per connection, the rule engine and the shutdown.
//!
//! [`Supervisor::run`] returns once nothing can run any more (every
//! connection stopped or failed, or waiting on connections that will not
//! come up) or a shutdown was asked for, after a graceful shutdown and
//! [`Bus::close_within`] the bus's listener drain, so every listener has
//! received every event (a listener still busy past the drain is cut off,
//! counted in the [`RunReport`] and named in a warning).
//! [`Supervisor::run_until_signal`] is in `signal.rs`.

use std::fmt;
use std::sync::Arc;

use linesman_connection::{ConnectionHandle, ConnectionSpec, DynHandler, Handler, SocketBudget};
use linesman_observer::{Bus, BusOptions, Listener, ListenerHandle};
use tokio::sync::{Semaphore, watch};

use crate::control::{Control, Member, SupervisorHandle};
use crate::error::SupervisorError;
use crate::graph::DependencyGraph;
use crate::live::{Live, Policies, Recruit, Settings, Starter};
use crate::mailbox::{Inbox, Mailbox};
use crate::notices;
use crate::reload::Requests;
use crate::report::RunReport;
use crate::restart::RestartPolicy;
use crate::rule::{OnDependencyDown, Rule};
use crate::spec::{Parts, Spec, Supervised};
use crate::suggest::nearest;
use crate::task::TaskCommon;

type Registration = Box<dyn FnOnce(&Bus) -> ListenerHandle + Send>;

/// Supervises the connections of a [`Spec`]: connects them when their start
/// rules hold, restarts them by their policies, tells the [`Bus`] everything,
/// and shuts them down in dependency order.
///
/// ```no_run
/// use linesman_connection::{ConnectionSpec, Handler, HandlerError, Link};
/// use linesman_ipc_codec::Frame;
/// use linesman_supervisor::{Spec, Supervisor};
///
/// struct Quotes;
///
/// impl Handler for Quotes {
///     async fn on_frame(&mut self, frame: Frame, _link: &Link) -> Result<(), HandlerError> {
///         println!("quote of type {}", frame.ty);
///         Ok(())
///     }
/// }
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let spec = Spec::builder()
///     .connection(ConnectionSpec::new("quotes", "tcp://127.0.0.1:7001".parse()?))
///     .build()?;
/// let supervisor = Supervisor::new(spec)
///     .handler("quotes", Quotes)?
///     .listen(|event: &linesman_observer::Event| println!("{event}"));
/// supervisor.run_until_signal().await?;
/// # Ok(())
/// # }
/// ```
pub struct Supervisor {
    graph: DependencyGraph,
    shutdown_timeout: std::time::Duration,
    entries: Vec<Entry>,
    /// Connects in flight, shared by every connection.
    connect_limit: Arc<Semaphore>,
    /// Sockets open at once, shared by every connection, if bounded.
    socket_budget: Option<Arc<SocketBudget>>,
    max_concurrent_connects: usize,
    max_open_sockets: Option<usize>,
    bus: Bus,
    control: Arc<Control>,
    /// Reloads asked for through the handles; taken by `run`.
    requests: Option<Requests>,
    listeners: Vec<Registration>,
    keep_running: bool,
}

/// One connection before `run`, which builds it with its handler.
struct Entry {
    /// The graph's copy of the name, shared by every list of connections.
    name: Arc<str>,
    spec: ConnectionSpec,
    /// Made now, so that [`Supervisor::handle`] works before `run`.
    handle: ConnectionHandle,
    handler: Option<Box<dyn DynHandler>>,
    policy: RestartPolicy,
    rule: Option<Rule>,
    on_dependency_down: OnDependencyDown,
    inbox: Inbox,
    mailbox: Arc<Mailbox>,
}

impl fmt::Debug for Supervisor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Supervisor")
            .field("connections", &self.control.names())
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("listeners", &self.listeners.len())
            .field("keep_running", &self.keep_running)
            .finish_non_exhaustive()
    }
}

impl Supervisor {
    /// A supervisor of `spec` with a bus of default settings.
    pub fn new(spec: Spec) -> Self {
        Self::with_bus_options(spec, BusOptions::default())
    }

    /// A supervisor of `spec` whose bus has `options` (e.g. a larger
    /// listener queue for many connections).
    pub fn with_bus_options(spec: Spec, options: BusOptions) -> Self {
        let bus = Bus::new(options);
        let Parts {
            connections,
            graph,
            shutdown_timeout,
            max_concurrent_connects,
            max_open_sockets,
        } = spec.into_parts();
        let connect_limit = Arc::new(Semaphore::new(
            max_concurrent_connects.min(Semaphore::MAX_PERMITS),
        ));
        let socket_budget = max_open_sockets.map(SocketBudget::new);
        let entries: Vec<Entry> = connections
            .into_iter()
            .map(|supervised| {
                let (mailbox, inbox) = Inbox::new();
                let name = graph.shared_name(supervised.name());
                Entry {
                    handle: ConnectionHandle::for_spec_named(
                        &supervised.connection,
                        Arc::clone(&name),
                        &bus,
                    ),
                    name,
                    spec: supervised.connection,
                    handler: None,
                    policy: supervised.restart,
                    rule: supervised.start_when,
                    on_dependency_down: supervised.on_dependency_down,
                    inbox,
                    mailbox,
                }
            })
            .collect();
        let members = entries
            .iter()
            .map(|entry| Member {
                name: Arc::clone(&entry.name),
                mailbox: Arc::clone(&entry.mailbox),
                handle: entry.handle.clone(),
            })
            .collect();
        let control = Control::new(members, bus.clone());
        let requests = control.reloads.take_requests();
        Self {
            graph,
            shutdown_timeout,
            entries,
            connect_limit,
            socket_budget,
            max_concurrent_connects,
            max_open_sockets,
            bus,
            control,
            requests,
            listeners: Vec::new(),
            keep_running: false,
        }
    }

    /// Makes [`run`](Self::run) return only on a shutdown, even when every
    /// connection is stopped or failed: for a daemon, whose operator can
    /// start a stopped or failed connection again through
    /// [`SupervisorHandle::start`]. By default (`false`) `run` returns by
    /// itself once no connection can run any more.
    #[must_use]
    pub fn keep_running(mut self, keep_running: bool) -> Self {
        self.keep_running = keep_running;
        self
    }

    /// Sets the handler of connection `name`: it gets `on_connect`,
    /// `on_frame` and `on_disconnect`, and lives across restarts. A
    /// connection without a handler only counts what arrives.
    ///
    /// # Errors
    ///
    /// [`SupervisorError::UnknownConnection`] if the spec has no connection
    /// `name`, [`SupervisorError::DuplicateHandler`] if it has a handler already.
    pub fn handler(mut self, name: &str, handler: impl Handler) -> Result<Self, SupervisorError> {
        let Some(entry) = self.entries.iter_mut().find(|e| e.spec.name == name) else {
            return Err(SupervisorError::UnknownConnection {
                name: name.to_owned(),
                suggestion: nearest(name, self.entries.iter().map(|e| e.spec.name.as_str()))
                    .map(str::to_owned),
            });
        };
        if entry.handler.is_some() {
            return Err(SupervisorError::DuplicateHandler {
                name: name.to_owned(),
            });
        }
        entry.handler = Some(Box::new(handler));
        Ok(self)
    }

    /// Registers `listener` on the bus when [`run`](Self::run) starts, so it
    /// hears every event of every connection it is interested in (see
    /// [`Listener::interest`]). It stays registered until the bus closes at
    /// the end of `run`, after it has been given every event.
    #[must_use]
    pub fn listen(mut self, listener: impl Listener) -> Self {
        self.listeners
            .push(Box::new(move |bus: &Bus| bus.listen(listener)));
        self
    }

    /// The bus, owned by the supervisor: subscribe to it, or register
    /// listeners whose handle you keep.
    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// What the spec said of connection `name`: its connection spec and its
    /// start rule (`None` without one). `None` for a name the spec does not
    /// have. For whoever describes the connections before [`run`](Self::run)
    /// consumes the supervisor (the control server does).
    pub fn spec_of(&self, name: &str) -> Option<(&ConnectionSpec, Option<&Rule>)> {
        self.entries
            .iter()
            .find(|e| e.spec.name == name)
            .map(|e| (&e.spec, e.rule.as_ref()))
    }

    /// The dependency graph of the spec: what each connection depends on,
    /// and in which order they start and stop.
    pub fn graph(&self) -> &DependencyGraph {
        &self.graph
    }

    /// The stable handle of connection `name` (send, request, state,
    /// counters), valid across restarts; `None` for an unknown name.
    pub fn handle(&self, name: &str) -> Option<ConnectionHandle> {
        self.entries
            .iter()
            .find(|e| e.spec.name == name)
            .map(|e| e.handle.clone())
    }

    /// A handle to control the connections at runtime and to shut down,
    /// usable from any task, before and during [`run`](Self::run).
    pub fn control(&self) -> SupervisorHandle {
        SupervisorHandle::new(Arc::clone(&self.control))
    }

    /// Runs every connection until nothing can run any more (unless
    /// [`keep_running`](Self::keep_running)) or a shutdown is asked for
    /// through [`SupervisorHandle::shutdown`], then shuts down
    /// (dependents first, each within the spec's shutdown timeout) and
    /// closes the bus once every listener has had every event — or, for a
    /// listener still busy after the bus's
    /// [`listener_drain`](linesman_observer::BusOptions::listener_drain)
    /// (1 s by default), cuts it off: the report lists it with the number
    /// of events it was not given, and a warning says the same.
    pub async fn run(self) -> RunReport {
        let Supervisor {
            graph,
            shutdown_timeout,
            entries,
            connect_limit,
            socket_budget,
            max_concurrent_connects,
            max_open_sockets,
            bus,
            control,
            requests,
            listeners,
            keep_running,
        } = self;
        let listeners: Vec<ListenerHandle> = listeners.into_iter().map(|f| f(&bus)).collect();
        let count = entries.len();
        let log_summaries = notices::spawn_log_summaries();
        notices::warn_if_budget_short(socket_budget.as_deref(), count);
        let (phases, mut phases_rx) = watch::channel(Vec::with_capacity(count));
        let starter = Starter {
            bus: bus.clone(),
            connect_limit,
            socket_budget,
            max_concurrent_connects,
            max_open_sockets,
            policies: Policies::default(),
            settings: Settings::default(),
            common: Arc::new(TaskCommon {
                phases,
                timeout: shutdown_timeout,
            }),
        };
        let rules = entries.iter().map(|e| e.rule.clone()).collect();
        let recruits = entries
            .into_iter()
            .map(|entry| Recruit {
                name: entry.name,
                supervised: Supervised {
                    connection: entry.spec,
                    restart: entry.policy,
                    start_when: entry.rule,
                    on_dependency_down: entry.on_dependency_down,
                },
                handle: entry.handle,
                handler: entry.handler,
                inbox: entry.inbox,
                mailbox: entry.mailbox,
            })
            .collect();
        let mut live = Live::start(graph, recruits, starter, rules);
        // Without a queue (taken already: never), no reload can come.
        let mut requests = requests;

        loop {
            // Marks the phases seen, so `changed()` below waits for news.
            let idle = !live.anything_can_run(&phases_rx.borrow_and_update());
            if idle && !keep_running {
                tracing::info!("no connection can run any more");
                break;
            }
            let reload = async {
                match requests.as_mut() {
                    Some(queue) => queue.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                changed = phases_rx.changed() => if changed.is_err() { break },
                () = control.graceful.cancelled() => break,
                request = reload => match request {
                    Some(request) => {
                        let report = live.reload(request.spec, &control).await;
                        // The asker may have stopped waiting.
                        let _ = request.reply.send(report);
                    }
                    None => requests = None,
                },
            }
        }
        // Reloads asked for from now on are refused.
        drop(requests);
        live.shut_down(&control.forced).await;
        notices::end_log_summaries(&log_summaries);
        // Bounded by the drain, not the shutdown timeout again: a listener
        // stuck in `on_event` or far behind must not keep the process from
        // exiting. It is cut off, counted and named in a warning.
        let cut_off = bus.close_within(bus.options().listener_drain).await;
        drop(listeners);
        RunReport {
            signal: None,
            cut_off,
        }
    }
}
