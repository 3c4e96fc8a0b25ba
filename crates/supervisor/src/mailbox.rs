//! [`Mailbox`]: everything that can wake one connection's task — commands
//! from the [`SupervisorHandle`](crate::SupervisorHandle), start-rule
//! changes from the rule engine, and the shutdown — in one small shared
//! allocation.
//!
//! Why not a command `mpsc`, a rules `watch` and a `CancellationToken`:
//! with 10,000 connections every byte per connection counts, and those three
//! cost about a kilobyte per connection (the unbounded `mpsc` allocates a
//! cache-padded channel and a 32-slot block at once, the `watch` carries
//! eight `Notify`s). Here the commands sit in a ring of [`MAX_QUEUED`]
//! one-byte slots inside the mailbox (a `VecDeque` was 32 bytes here, and
//! a block when a command came), a rule change is one flag (a burst of
//! changes is one re-evaluation, as with the `watch`), and the shutdown is a
//! flag that stays set. The task is the mailbox's only consumer, so it is
//! woken through an `AtomicWaker` that it registers when it polls, and
//! holds no `Notified` future (~90 bytes) while it waits.
//!
//! Commands are bounded, so no caller can make a connection do unbounded
//! work: a command equal to the last one queued is that command (coalesced),
//! and at most [`MAX_QUEUED`] wait. What a burst of restarts that does get
//! through becomes is the lifecycle's business (`lifecycle.rs`: a restart
//! under way is the same restart, and restarts are held for a second after
//! one is carried out).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use crate::command::Command;
use crate::lifecycle::Removal;

/// Commands that may wait in one connection's mailbox; one more is
/// refused ([`Refused::Full`]).
pub(crate) const MAX_QUEUED: usize = 8;

/// What woke the task, the shutdown first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Shut down (reported once: the lifecycle remembers it).
    Shutdown,
    /// A reload removed or replaced the connection (reported once).
    Remove(Removal),
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

#[derive(Debug, Default)]
struct State {
    commands: Commands,
    rules: bool,
    shutdown: bool,
    /// The shutdown was given to the task.
    shutdown_taken: bool,
    /// A reload ends the task, and why.
    removal: Option<Removal>,
    /// The removal was given to the task.
    removal_taken: bool,
    /// The task has ended (or will never run): commands are refused.
    closed: bool,
}

const _: () = assert!(MAX_QUEUED <= u8::MAX as usize, "ring indices are bytes");

/// The commands waiting, oldest first: a ring of [`MAX_QUEUED`] slots.
#[derive(Debug, Default)]
struct Commands {
    slots: [Option<Command>; MAX_QUEUED],
    /// The slot of the oldest command. Bytes, not `usize`s: with them the
    /// mailbox is 56 bytes, its `Arc` in malloc's 80-byte size class (96
    /// with two `usize`s).
    head: u8,
    len: u8,
}

impl Commands {
    /// The slot `offset` places after the oldest command's.
    fn slot(&self, offset: u8) -> usize {
        (usize::from(self.head) + usize::from(offset)) % MAX_QUEUED
    }

    /// The newest command, if any.
    fn back(&self) -> Option<Command> {
        self.slots[self.slot(self.len.checked_sub(1)?)]
    }

    /// Queues `command`; `false` when the ring is full.
    fn push_back(&mut self, command: Command) -> bool {
        if usize::from(self.len) == MAX_QUEUED {
            return false;
        }
        self.slots[self.slot(self.len)] = Some(command);
        self.len += 1;
        true
    }

    /// Takes the oldest command, if any.
    fn pop_front(&mut self) -> Option<Command> {
        if self.len == 0 {
            return None;
        }
        let command = self.slots[self.slot(0)].take();
        // Below MAX_QUEUED, which fits a byte (checked above).
        self.head = self.slot(1) as u8;
        self.len -= 1;
        command
    }
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
            if state.commands.back() == Some(command) {
                return Ok(());
            }
            if !state.commands.push_back(command) {
                return Err(Refused::Full);
            }
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

    /// Asks the task to end for a reload (the first reason stays).
    pub(crate) fn remove(&self, removal: Removal) {
        self.state().removal.get_or_insert(removal);
        self.given();
    }

    /// Whether the shutdown was asked for (given to the task or not).
    pub(crate) fn is_shut_down(&self) -> bool {
        self.state().shutdown
    }

    fn close(&self) {
        let mut state = self.state();
        state.closed = true;
        state.commands = Commands::default();
    }

    fn take(&self) -> Option<Signal> {
        let mut state = self.state();
        if state.shutdown && !state.shutdown_taken {
            state.shutdown_taken = true;
            return Some(Signal::Shutdown);
        }
        if let Some(removal) = state.removal
            && !state.removal_taken
        {
            state.removal_taken = true;
            return Some(Signal::Remove(removal));
        }
        if let Some(command) = state.commands.pop_front() {
            return Some(Signal::Command(command));
        }
        if std::mem::take(&mut state.rules) {
            return Some(Signal::Rules);
        }
        None
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

    /// Whether the shutdown was asked for, for a task about to begin.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.mailbox.is_shut_down()
    }

    /// The next signal, the shutdown first. Cancel-safe: a signal is taken
    /// out of the mailbox only when it is returned.
    #[cfg(test)]
    pub(crate) async fn next(&mut self) -> Signal {
        std::future::poll_fn(|cx| self.poll_next(cx)).await
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
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.mailbox.close();
    }
}

#[cfg(test)]
mod tests;
