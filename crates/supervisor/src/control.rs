//! Runtime control from any task: [`SupervisorHandle`] sends `start`, `stop`
//! and `restart` to a connection's task, reads the registry, and asks for a
//! shutdown.
//!
//! Commands are queued in each connection's mailbox (`mailbox.rs`), so a handle
//! never waits and commands given before [`Supervisor::run`](crate::Supervisor::run)
//! are carried out once it runs. The connection's task applies them in its
//! state machine (see `task.rs`). The queue is bounded: a command equal to
//! the last one queued is that command, at most 8 wait (one more is
//! [`ControlError::QueueFull`]), and a burst of restarts is carried out as
//! at most two reconnects per second.

use std::fmt;
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard};

use linesman_connection::ConnectionHandle;
use linesman_observer::{Bus, ConnStatus};
use tokio_util::sync::CancellationToken;

use crate::command::Command;
use crate::error::{ControlError, ReloadError};
use crate::mailbox::{MAX_QUEUED, Mailbox, Refused};
use crate::name_index::{NameIndex, Named};
use crate::reload::{Desk, ReloadReport};
use crate::spec::Spec;
use crate::suggest::nearest;

/// What the handle shares with the supervisor.
pub(crate) struct Control {
    /// The connections supervised now; replaced by a reload.
    directory: RwLock<Directory>,
    pub(crate) bus: Bus,
    /// Cancelled to start a graceful shutdown.
    pub(crate) graceful: CancellationToken,
    /// Cancelled to force the shutdown: remaining tasks are aborted.
    pub(crate) forced: CancellationToken,
    pub(crate) reloads: Desk,
}

/// One supervised connection, as the handles reach it.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) name: Arc<str>,
    pub(crate) mailbox: Arc<Mailbox>,
    pub(crate) handle: ConnectionHandle,
}

impl Named for Member {
    fn name(&self) -> &str {
        &self.name
    }
}

/// The connections, in declaration order, and by name.
#[derive(Debug, Default)]
struct Directory {
    members: Vec<Member>,
    index: NameIndex,
}

impl Directory {
    fn new(members: Vec<Member>) -> Directory {
        let index = NameIndex::new(&members);
        Directory { members, index }
    }
}

impl Control {
    /// The shared control of `members` (in declaration order).
    pub(crate) fn new(members: Vec<Member>, bus: Bus) -> Arc<Self> {
        Arc::new(Self {
            directory: RwLock::new(Directory::new(members)),
            bus,
            graceful: CancellationToken::new(),
            forced: CancellationToken::new(),
            reloads: Desk::new(),
        })
    }

    fn directory(&self) -> RwLockReadGuard<'_, Directory> {
        // Replaced whole, never left half-written.
        self.directory
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Replaces the connections by `members` (a reload).
    pub(crate) fn replace(&self, members: Vec<Member>) {
        let directory = Directory::new(members);
        *self
            .directory
            .write()
            .unwrap_or_else(PoisonError::into_inner) = directory;
    }

    /// The names, in declaration order.
    pub(crate) fn names(&self) -> Vec<Arc<str>> {
        self.directory()
            .members
            .iter()
            .map(|m| Arc::clone(&m.name))
            .collect()
    }

    /// Connection `name`, or why there is none (with the nearest name).
    pub(crate) fn member(&self, name: &str) -> Result<Member, ControlError> {
        let directory = self.directory();
        match directory.index.get(&directory.members, name) {
            Some(i) => Ok(directory.members[i].clone()),
            None => Err(ControlError::UnknownConnection {
                name: name.to_owned(),
                suggestion: nearest(name, directory.members.iter().map(|m| &*m.name))
                    .map(str::to_owned),
            }),
        }
    }
}

/// Controls a running [`Supervisor`](crate::Supervisor) from any task or
/// thread: `start`, `stop`, `restart` a connection, read the state of every
/// connection, shut down. Cheap to clone; made by
/// [`Supervisor::control`](crate::Supervisor::control).
///
/// Commands return as soon as they are queued; what they cause shows up on
/// the bus (and so in [`snapshot`](Self::snapshot)).
#[derive(Clone)]
pub struct SupervisorHandle {
    control: Arc<Control>,
}

impl fmt::Debug for SupervisorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SupervisorHandle")
            .field("connections", &self.control.names())
            .field("shutting_down", &self.is_shutting_down())
            .finish_non_exhaustive()
    }
}

impl SupervisorHandle {
    pub(crate) fn new(control: Arc<Control>) -> Self {
        Self { control }
    }

    /// Starts a connection that is `Stopped` or `Failed`: clears the failure
    /// and the restart history, then connects, or waits (state `Waiting`)
    /// if its start rule does not hold. Does nothing to a running one.
    pub fn start(&self, name: &str) -> Result<(), ControlError> {
        self.send(name, Command::Start)
    }

    /// Stops a connection gracefully (its handler's `on_disconnect`, queued
    /// sends flushed, `before_close`, within the spec's shutdown timeout);
    /// it stays `Stopped` until [`start`](Self::start)ed.
    pub fn stop(&self, name: &str) -> Result<(), ControlError> {
        self.send(name, Command::Stop)
    }

    /// Reconnects a connection now: ends its session, or skips a running
    /// backoff, or leaves `Failed`/`Stopped`; the restart history is
    /// cleared. It still waits for its start rule to hold.
    ///
    /// A restart asked for while another is pending is the same restart:
    /// while one is queued, or is being carried out and the connection has
    /// not come up (or reached backoff, failed, stopped or waiting) since.
    /// After that, restarts asked for within a second of the last one are
    /// carried out together, once, when the second is over. So any burst of
    /// restarts reconnects at most twice per second, and every restart is
    /// followed by a session that began after it was asked for.
    pub fn restart(&self, name: &str) -> Result<(), ControlError> {
        self.send(name, Command::Restart)
    }

    /// Every connection's record in the bus registry, sorted by name.
    pub fn snapshot(&self) -> Vec<ConnStatus> {
        self.control.bus.snapshot()
    }

    /// The record of connection `name`, once it has published an event.
    pub fn state(&self, name: &str) -> Option<ConnStatus> {
        self.control.bus.state(name)
    }

    /// The supervised connection names, in declaration order (as of the
    /// last reload).
    pub fn names(&self) -> Vec<Arc<str>> {
        self.control.names()
    }

    /// The stable handle of connection `name` (send, request, state,
    /// counters); `None` for a name not supervised now. A reload that
    /// changes a connection gives it a new handle.
    pub fn handle(&self, name: &str) -> Option<ConnectionHandle> {
        self.control.member(name).ok().map(|member| member.handle)
    }

    /// Reloads the running supervisor with `spec`: connections whose
    /// settings are unchanged are left alone (same session), added ones
    /// start when their start rules hold, removed ones stop (dependents
    /// first, `Stopped: removed by reload`) and leave the registry, changed
    /// ones (any setting of the connection itself, its restart policy, its
    /// start rule) restart with the new settings; every start rule is
    /// evaluated again, and a [`Reloaded`](linesman_observer::Reloaded)
    /// event goes on the bus. Returns when all of that has been done (the
    /// stops take at most the shutdown timeout).
    ///
    /// Connections it adds or changes have no handler (they count what
    /// arrives, as the daemon's do), and a connection with socket hooks or
    /// a blocking target counts as changed (code cannot be compared).
    /// Spec-wide settings cannot change while running: those that differ
    /// are listed in [`ReloadReport::needs_restart`] and otherwise ignored.
    ///
    /// # Errors
    ///
    /// [`ReloadError::InProgress`] while another reload is being carried
    /// out, [`ReloadError::ShuttingDown`], and [`ReloadError::NotRunning`]
    /// when the supervisor's run has ended (or it was dropped unrun).
    pub async fn reload(&self, spec: Spec) -> Result<ReloadReport, ReloadError> {
        if self.is_shutting_down() {
            return Err(ReloadError::ShuttingDown);
        }
        self.control.reloads.reload(spec).await
    }

    /// The bus every event of the supervised connections goes through.
    pub fn bus(&self) -> &Bus {
        &self.control.bus
    }

    /// Starts a graceful shutdown: dependents stop before their
    /// dependencies, each within the shutdown timeout; then
    /// [`Supervisor::run`](crate::Supervisor::run) returns.
    pub fn shutdown(&self) {
        self.control.graceful.cancel();
    }

    /// Forces the shutdown: every connection task still running is aborted
    /// at once (sockets are still closed by linesman, `before_close`
    /// included, but handlers get no `on_disconnect` and queued sends are
    /// dropped with an error to their senders).
    pub fn shutdown_now(&self) {
        self.control.graceful.cancel();
        self.control.forced.cancel();
    }

    /// Whether a shutdown was asked for.
    pub fn is_shutting_down(&self) -> bool {
        self.control.graceful.is_cancelled()
    }

    /// Queues `command` for `name`; equal to the last one queued, it is
    /// that command. Refused ([`ControlError::QueueFull`]) when the
    /// connection has [`MAX_QUEUED`] commands waiting.
    fn send(&self, name: &str, command: Command) -> Result<(), ControlError> {
        let member = self.control.member(name)?;
        match member.mailbox.command(command) {
            Ok(()) => Ok(()),
            Err(Refused::Closed) => Err(ControlError::NotRunning {
                name: name.to_owned(),
            }),
            Err(Refused::Full) => Err(ControlError::QueueFull {
                name: name.to_owned(),
                limit: MAX_QUEUED,
            }),
        }
    }
}
