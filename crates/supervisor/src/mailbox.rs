//! [`Mailbox`]: everything that can wake one connection's task — commands
//! from the [`SupervisorHandle`](crate::SupervisorHandle), start-rule
//! changes from the rule engine, and the shutdown — in one small shared
//! allocation.
//!
//! Why not a command `mpsc`, a rules `watch` and a `CancellationToken`:
//! with 10,000 connections every byte per connection counts, and those three
//! cost about a kilobyte per connection (the unbounded `mpsc` allocates a
//! cache-padded channel and a 32-slot block at once, the `watch` carries
//! eight `Notify`s). Here the commands sit in a `VecDeque` that allocates
//! only when a command is queued, a rule change is one flag (a burst of
//! changes is one re-evaluation, as with the `watch`), and the shutdown is a
//! flag that stays set. The task is the mailbox's only consumer, so it is
//! woken through an `AtomicWaker` that it registers when it polls, and
//! holds no `Notified` future (~90 bytes) while it waits.
//!
//! Commands are bounded, so no caller can make a connection do unbounded
//! work: a command equal to the last one queued is that command (coalesced),
//! at most [`MAX_QUEUED`] wait, and restarts are held (see [`Inbox::hold_restarts`]):
//! a burst of any number of restarts makes at most two reconnects per
//! [`RESTART_HOLD`], while every restart asked for is still followed by a
//! session that began after it.

use std::collections::VecDeque;
use std::future::poll_fn;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::task::AtomicWaker;
use linesman_observer::{Bus, ConnState};
use tokio::time::{Instant, sleep, sleep_until};

use crate::control::Command;

/// Commands that may wait in one connection's mailbox; one more is
/// refused ([`Refused::Full`]).
pub(crate) const MAX_QUEUED: usize = 8;

/// After a restart asked for by command is carried out, restarts asked for
/// within this time are carried out together, once, when it is over.
pub(crate) const RESTART_HOLD: Duration = Duration::from_secs(1);

/// How often a hold looks whether the restart it holds has settled.
pub(crate) const SETTLE_POLL: Duration = Duration::from_millis(20);

/// What woke the task, the shutdown first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Shut down (reported again on every call once set).
    Shutdown,
    /// A command, in the order given.
    Command(Command),
    /// The start rule may have changed: re-evaluate it.
    Rules,
}

/// Why [`Mailbox::command`] refused a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// The task has ended (or will never run).
    Closed,
    /// [`MAX_QUEUED`] commands wait already.
    Full,
}

/// Where the last restart carried out by command is; see
/// [`Inbox::hold_restarts`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Hold {
    /// No restart is held: a restart taken is carried out.
    #[default]
    Free,
    /// A restart is being carried out and the connection has not come up
    /// (or settled otherwise) since: a restart taken is that restart.
    Unsettled,
    /// The restart took effect less than [`RESTART_HOLD`] ago: a restart
    /// taken waits for the end of the hold.
    Settled,
}

#[derive(Debug, Default)]
struct State {
    commands: VecDeque<Command>,
    rules: bool,
    shutdown: bool,
    /// The task has ended (or will never run): commands are refused.
    closed: bool,
    hold: Hold,
    /// A restart was taken during the hold (`Settled`): it is given to the
    /// task when the hold ends.
    deferred: bool,
}

/// One connection task's inputs, shared by the control, the rule engine,
/// the shutdown coordinator and the task.
#[derive(Debug, Default)]
pub(crate) struct Mailbox {
    state: Mutex<State>,
    /// Something may have been given since the task last looked: the task
    /// is polled on every wake of its session, and this spares it the lock.
    given: AtomicBool,
    wake: AtomicWaker,
}

impl Mailbox {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every critical section leaves the state consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `command`, or coalesces it with the last one queued if they
    /// are equal. Refused once the task has ended, or when [`MAX_QUEUED`]
    /// commands wait.
    pub(crate) fn command(&self, command: Command) -> Result<(), Refused> {
        {
            let mut state = self.state();
            if state.closed {
                return Err(Refused::Closed);
            }
            if state.commands.back() == Some(&command) {
                return Ok(());
            }
            if state.commands.len() >= MAX_QUEUED {
                return Err(Refused::Full);
            }
            state.commands.push_back(command);
        }
        self.given();
        Ok(())
    }

    /// Says that the start rule may hold or not hold any more.
    pub(crate) fn rules_changed(&self) {
        self.state().rules = true;
        self.given();
    }

    /// Asks the task to shut down; stays set.
    pub(crate) fn shut_down(&self) {
        self.state().shutdown = true;
        self.given();
    }

    /// Marks that a signal was given (after it is in the state) and wakes
    /// the task.
    fn given(&self) {
        self.given.store(true, Ordering::Release);
        self.wake.wake();
    }

    /// Whether the shutdown was asked for.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.state().shutdown
    }

    fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.commands = VecDeque::new();
        state.deferred = false;
    }

    fn take(&self) -> Option<Signal> {
        let mut state = self.state();
        if state.shutdown {
            return Some(Signal::Shutdown);
        }
        while let Some(command) = state.commands.pop_front() {
            if state.commands.is_empty() {
                // Give the block back: commands are rare.
                state.commands = VecDeque::new();
            }
            match (command, state.hold) {
                (Command::Restart, Hold::Free) => {}
                // The restart being carried out is this one.
                (Command::Restart, Hold::Unsettled) => continue,
                (Command::Restart, Hold::Settled) => {
                    state.deferred = true;
                    continue;
                }
                (Command::Stop | Command::Start, _) => {
                    // A held restart was asked for before this command: a
                    // stop overrides it, and after either, a restart is no
                    // longer the one being carried out.
                    if command == Command::Stop {
                        state.deferred = false;
                    }
                    if state.hold == Hold::Unsettled {
                        state.hold = Hold::Settled;
                    }
                }
            }
            return Some(Signal::Command(command));
        }
        if std::mem::take(&mut state.rules) {
            return Some(Signal::Rules);
        }
        None
    }

    /// The restart being carried out took effect.
    fn settled(&self) {
        let mut state = self.state();
        if state.hold == Hold::Unsettled {
            state.hold = Hold::Settled;
        }
    }

    /// Ends the hold; a restart deferred meanwhile is given to the task,
    /// before any command queued after it.
    fn release(&self) {
        {
            let mut state = self.state();
            state.hold = Hold::Free;
            if !std::mem::take(&mut state.deferred) || state.closed {
                return;
            }
            // Accepted earlier, so not counted against `MAX_QUEUED`.
            state.commands.push_front(Command::Restart);
        }
        self.given();
    }
}

/// The task's end of its [`Mailbox`]: the only one that takes signals.
/// Dropping it refuses further commands, so a command to a task that has
/// ended (or was never run) is an error for the caller.
#[derive(Debug)]
pub(crate) struct Inbox {
    mailbox: Arc<Mailbox>,
}

impl Inbox {
    /// A mailbox and its receiving end.
    pub(crate) fn new() -> (Arc<Mailbox>, Inbox) {
        let mailbox = Arc::new(Mailbox::default());
        let inbox = Inbox {
            mailbox: Arc::clone(&mailbox),
        };
        (mailbox, inbox)
    }

    /// The next signal, the shutdown first. Cancel-safe: a signal is taken
    /// out of the mailbox only when it is returned.
    pub(crate) async fn next(&mut self) -> Signal {
        poll_fn(|cx| self.poll_next(cx)).await
    }

    /// The next signal if there is one; otherwise pending, with `cx`'s
    /// waker registered for the next one.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Signal> {
        // Registered before the check, so a signal given in between still
        // wakes the task.
        let mailbox = &*self.mailbox;
        mailbox.wake.register(cx.waker());
        if !mailbox.given.swap(false, Ordering::AcqRel) {
            return Poll::Pending;
        }
        match mailbox.take() {
            Some(signal) => {
                // More may be left: look again next time.
                mailbox.given.store(true, Ordering::Release);
                Poll::Ready(signal)
            }
            None => Poll::Pending,
        }
    }

    /// Whether the shutdown was asked for.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.mailbox.is_shut_down()
    }

    /// The task is carrying out a restart asked for by command; `settled`
    /// says whether the connection has come up, or settled otherwise
    /// (backoff, failed, stopped, waiting on its rule), since.
    ///
    /// What "the same restart" means: until then, a restart taken is this
    /// one (the session it makes began after it was asked for); from then
    /// until [`RESTART_HOLD`] after now, restarts taken are deferred, all
    /// into one, which is given to the task when the hold ends. So a burst
    /// of restarts costs at most two reconnects per hold, and every restart
    /// asked for is followed by a session that began after it (give or
    /// take [`SETTLE_POLL`]). A stop taken meanwhile overrides a deferred
    /// restart.
    ///
    /// Runs the hold on a task of its own, which asks `settled` every
    /// [`SETTLE_POLL`] until it says yes, and lives only as long as the
    /// hold (or until the connection's task has ended). Polling, not a bus
    /// subscription: a subscription is a listener every event is matched
    /// against, and restarting 10,000 connections at once would make 10,000.
    pub(crate) fn hold_restarts(&self, mut settled: impl FnMut() -> bool + Send + 'static) {
        self.mailbox.state().hold = Hold::Unsettled;
        let mailbox = Arc::clone(&self.mailbox);
        tokio::spawn(async move {
            let held_until = Instant::now() + RESTART_HOLD;
            while !settled() {
                if mailbox.state().closed {
                    return;
                }
                sleep(SETTLE_POLL).await;
            }
            mailbox.settled();
            sleep_until(held_until).await;
            mailbox.release();
        });
    }
}

/// Whether connection `name` has come up, or settled otherwise (backoff,
/// failed, stopped, waiting on its rule), since its event `since` (a
/// `seq`); also once the bus is closed, since nothing will happen then.
pub(crate) fn settled_since(bus: &Bus, name: &str, since: u64) -> bool {
    if bus.is_closed() {
        return true;
    }
    bus.state(name).is_some_and(|status| {
        status.last_event.seq > since
            && matches!(
                status.state,
                ConnState::Up { .. }
                    | ConnState::Backoff { .. }
                    | ConnState::Failed { .. }
                    | ConnState::Stopped { .. }
                    | ConnState::Waiting { .. }
            )
    })
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

#[cfg(test)]
mod tests;
