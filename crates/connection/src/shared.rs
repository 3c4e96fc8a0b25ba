//! What a [`Connection`](crate::Connection) and all its handles share: the
//! send queue (which is also the outbox), the pending requests (matched with
//! their replies in `requests.rs`), the counters and the publisher.
//!
//! Why one queue for "up" and "down": a frame accepted while no session is
//! up (with an outbox) and a frame accepted while one is up take the same
//! path to the session's writer, so their order is kept without a hand-over
//! between two structures. The phase decides who may enqueue: anyone while
//! `Up`; the handler's [`Link`](crate::Link) during the `Handshake` (into a
//! queue of its own, written before anything else); nobody but the outbox
//! while `Down`. Locks are `std` mutexes, never held across an `.await`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU8, AtomicU64};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
use linesman_ipc_codec::Frame;
use linesman_observer::{Publisher, What};
use tokio::sync::{Notify, oneshot};

use self::handshake::HandshakeSends;
use crate::ends::EndCounts;
use crate::error::{RequestError, SendError};
use crate::log_limit::LogLimit;
use crate::reason::{Reason, StopCause};
use crate::spec::{Outbox, Target};

pub(crate) use direct::{Enqueued, KEEP_BUFFER, Pen};

/// Answer to one send: `Ok` once written.
pub(crate) type Ack = oneshot::Sender<Result<(), SendError>>;
/// Answer to one request: the reply.
pub(crate) type Reply = oneshot::Sender<Result<Frame, RequestError>>;

/// One frame accepted for sending, with whom to tell.
#[derive(Debug)]
pub(crate) struct Outgoing {
    pub(crate) frame: Frame,
    pub(crate) ack: Ack,
    /// The id of the request this frame carries, if it is one.
    pub(crate) request: Option<u64>,
}

/// Where the connection is, as far as sending is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// No session, or a session that has not connected yet.
    Down,
    /// Connected; the handler's `on_connect` runs.
    Handshake,
    /// Up: connected and handshake done.
    Up,
    /// A stopped session writes what was queued before the stop; new sends
    /// are treated as while down.
    Draining,
    /// Closed for good by `ConnectionHandle::close`.
    Closed,
}

#[derive(Debug)]
struct Queue {
    phase: Phase,
    /// Sends made through the `Link` during the handshake.
    handshake: HandshakeSends,
    /// Every other send, and the outbox while down.
    main: VecDeque<Outgoing>,
    /// Payload bytes in `main`.
    main_bytes: usize,
    /// The session waits for a first frame to start its writer (set in
    /// [`Shared::poll_queued`], cleared when the writer starts): only then
    /// does a send wake the session. Once the writer runs, a send wakes the
    /// writer alone; waking the session too polled it once per frame for
    /// nothing (a request's round trip paid for it). Under the queue's
    /// lock, so a send and the session's check cannot miss each other.
    writer_idle: bool,
    /// The writer's pen while the writer is idle and lends it: a send that
    /// finds it here with both queues empty, while up, writes its frame
    /// itself instead of waking the writer (see `direct.rs`).
    lent: Option<Box<Pen>>,
    /// The writer lends its pen (set when it lends it, cleared when it
    /// takes it back or the session ends): a sender that borrowed the pen
    /// puts it back only while this is set, and drops it otherwise.
    lending: bool,
    /// The writer waits for its pen, borrowed by a sender: the sender wakes
    /// the writer when it puts the pen back.
    writer_waits: bool,
    /// Sessions ended so far: the number of the running session, which its
    /// writer and the senders that borrow its pen keep (a writer can
    /// outlive a session whose future was dropped, its abort being a flag
    /// and a wake-up: it must not lend, reclaim or take in the next one).
    /// A `u32` in the padding after the flags: `Shared` keeps its size.
    epoch: u32,
    /// Why the stop was asked for, when it is not [`StopCause::Requested`]
    /// (set before `Shared::stop`). Boxed: 8 bytes in every connection, and
    /// only a supervisor's stop allocates. Under the queue's lock, which
    /// it shares to keep the size of `Shared` (a lock of its own took 16
    /// bytes, the same as the pen's pointer and the padding it fills).
    stop_cause: Option<Box<StopCause>>,
}

/// Counters kept with atomics, read as [`Counters`](crate::Counters).
#[derive(Debug, Default)]
pub(crate) struct Cells {
    pub(crate) frames_in: AtomicU64,
    pub(crate) frames_out: AtomicU64,
    pub(crate) bytes_in: AtomicU64,
    pub(crate) bytes_out: AtomicU64,
    pub(crate) sessions: AtomicU64,
    pub(crate) unmatched_replies: AtomicU64,
    /// The last error and the ends by class, under one lock: both change
    /// when a session ends.
    pub(crate) ends: Mutex<Ends>,
}

/// How a connection's sessions ended, as its counters show it.
#[derive(Debug, Default)]
pub(crate) struct Ends {
    /// The latest connect error or disconnect reason.
    pub(crate) last_error: Option<String>,
    /// Connect failures and disconnects by class; boxed and made at the
    /// first end, so a connection that never ends pays one pointer.
    pub(crate) counts: Option<Box<EndCounts>>,
}

/// The state shared by a connection and its handles.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Publishes the connection's events; also its way to the bus.
    pub(crate) publisher: Publisher,
    pub(crate) counters: Cells,
    pub(crate) outbox: Option<Outbox>,
    /// What the connection's sessions open: its own, whatever settings it
    /// shares with other connections. A blocking source is receive only:
    /// nothing can be sent.
    pub(crate) target: Target,
    next_id: AtomicU64,
    /// The pending requests and the limit on warnings about replies that
    /// match none; made on the first request or unmatched reply: most
    /// connections never make one (8 bytes in every connection, not 96).
    requests: Mutex<Option<Box<Requests>>>,
    queue: Mutex<Queue>,
    /// Wakes the session's writer when there is something to write, or
    /// when a sender gives back the pen it waits for (`direct.rs`).
    wake: Notify,
    /// Wakes the session itself when a frame is queued while its writer
    /// has not started, or when a stop or finish is asked for. The session is this
    /// waker's only user, and it registers it in its poll instead of
    /// holding a `Notified` future.
    session_wake: AtomicWaker,
    /// The end asked for the running session (`END_*`); cleared when a
    /// session is made. Its cause is kept in the queue (`Queue::stop_cause`).
    stop: AtomicU8,
}

/// What a connection that makes requests keeps for them.
#[derive(Debug, Default)]
struct Requests {
    /// Each pending request, by id.
    pending: HashMap<u64, Pending, request_ids::RequestIds>,
    /// Limits the warnings about replies that match no request.
    unmatched_log: LogLimit,
    /// The timer of the pending requests' deadlines (`clock.rs`); `None`
    /// while no clock task runs.
    clock: Option<clock::Clock>,
    /// The number of the last clock task started.
    clocks_started: u64,
}

/// A request waiting for its reply.
#[derive(Debug)]
struct Pending {
    /// Where its reply goes.
    reply: Reply,
    /// When it times out.
    deadline: tokio::time::Instant,
}

/// Locks `mutex`, recovering the data if a panic poisoned it (every
/// critical section here leaves the data consistent).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Shared {
    pub(crate) fn new(publisher: Publisher, outbox: Option<Outbox>, target: Target) -> Shared {
        Shared {
            publisher,
            counters: Cells::default(),
            outbox,
            target,
            next_id: AtomicU64::new(1),
            requests: Mutex::new(None),
            queue: Mutex::new(Queue {
                phase: Phase::Down,
                handshake: HandshakeSends::default(),
                main: VecDeque::new(),
                main_bytes: 0,
                writer_idle: false,
                lent: None,
                lending: false,
                writer_waits: false,
                epoch: 0,
                stop_cause: None,
            }),
            wake: Notify::new(),
            session_wake: AtomicWaker::new(),
            stop: AtomicU8::new(end::END_NONE),
        }
    }

    /// Publishes `what`; a closed bus is not this connection's failure.
    pub(crate) fn publish(&self, what: impl Into<What>) {
        if let Err(error) = self.publisher.publish(what) {
            tracing::debug!(%error, "event not published");
        }
    }

    /// Records the last error for the counters.
    pub(crate) fn set_last_error(&self, error: String) {
        lock(&self.counters.ends).last_error = Some(error);
    }

    /// Counts a connect attempt that failed for `reason`.
    pub(crate) fn count_connect_failure(&self, reason: &Reason) {
        lock(&self.counters.ends)
            .counts
            .get_or_insert_with(Box::default)
            .add_connect_failure(reason.class());
    }

    /// Counts a session that was up and ended for `reason`.
    pub(crate) fn count_disconnect(&self, reason: &Reason) {
        lock(&self.counters.ends)
            .counts
            .get_or_insert_with(Box::default)
            .add_disconnect(reason.class());
    }

    /// Accepts `frame` for sending, or says why not at once. While up, with
    /// nothing queued and the writer idle, the frame is written here and
    /// then (see `direct.rs`).
    pub(crate) fn enqueue(
        &self,
        frame: Frame,
        via_link: bool,
        request: Option<u64>,
    ) -> Result<Enqueued, SendError> {
        if matches!(self.target, Target::Blocking(_)) {
            return Err(SendError::ReceiveOnly);
        }
        let frame = match self.try_direct(frame, request) {
            Ok(done) => return done,
            Err(frame) => frame,
        };
        let (ack, answer) = oneshot::channel();
        let item = Outgoing {
            frame,
            ack,
            request,
        };
        let mut queue = lock(&self.queue);
        match queue.phase {
            Phase::Closed => return Err(SendError::Closed),
            Phase::Up => queue.push_main(item),
            Phase::Handshake if via_link => queue.handshake.push_back(item),
            Phase::Handshake | Phase::Down | Phase::Draining => {
                let Some(outbox) = self.outbox else {
                    return Err(SendError::NotConnected);
                };
                let bytes = item.frame.payload.len();
                if queue.main.len() >= outbox.max_frames
                    || queue.main_bytes.saturating_add(bytes) > outbox.max_bytes
                {
                    return Err(SendError::OutboxFull {
                        max_frames: outbox.max_frames,
                        max_bytes: outbox.max_bytes,
                    });
                }
                queue.push_main(item);
            }
        }
        let session_waits = queue.writer_idle;
        drop(queue);
        self.wake.notify_one();
        if session_waits {
            self.session_wake.wake();
        }
        Ok(Enqueued::Queued(answer))
    }

    /// Moves up to `max` frames the writer may write now into `out`: the
    /// handshake queue first, then (when up) the main queue. Sends whose
    /// caller has gone are dropped unwritten.
    #[cfg(test)]
    pub(crate) fn take(&self, max: usize, out: &mut Vec<Outgoing>) {
        let epoch = self.session_epoch();
        self.take_in(epoch, max, out);
    }

    /// The number of the running session (of the next one while none
    /// runs): what its writer keeps.
    pub(crate) fn session_epoch(&self) -> u32 {
        lock(&self.queue).epoch
    }

    /// As [`take`](Self::take), for the writer of session `epoch`: nothing
    /// once that session has ended.
    pub(crate) fn take_in(&self, epoch: u32, max: usize, out: &mut Vec<Outgoing>) {
        let mut queue = lock(&self.queue);
        if queue.epoch != epoch {
            return;
        }
        while out.len() < max {
            let Some(item) = queue.handshake.pop_front() else {
                break;
            };
            if !item.ack.is_closed() {
                out.push(item);
            }
        }
        if matches!(queue.phase, Phase::Up | Phase::Draining | Phase::Closed) {
            while out.len() < max {
                let Some(item) = queue.pop_main() else {
                    break;
                };
                if !item.ack.is_closed() {
                    out.push(item);
                }
            }
        }
    }

    /// Ready once a frame is queued (in either queue): when the writer of a
    /// session must start. Pending otherwise, with `cx`'s waker registered
    /// for the next send.
    pub(crate) fn poll_queued(&self, cx: &mut Context<'_>) -> Poll<()> {
        // Registered before the check, and flagged under the queue's lock
        // with it, so a frame enqueued in between still wakes this task.
        self.session_wake.register(cx.waker());
        let mut queue = lock(&self.queue);
        if queue.handshake.is_empty() && queue.main.is_empty() {
            queue.writer_idle = true;
            return Poll::Pending;
        }
        Poll::Ready(())
    }

    /// The session's writer has started: sends need not wake the session.
    pub(crate) fn writer_started(&self) {
        lock(&self.queue).writer_idle = false;
    }

    /// Frames that could be written now: what a graceful stop drains.
    pub(crate) fn queued(&self) -> usize {
        let queue = lock(&self.queue);
        queue.handshake.len() + queue.main.len()
    }

    /// The phase now.
    pub(crate) fn phase(&self) -> Phase {
        lock(&self.queue).phase
    }

    /// Moves to `phase` (`Closed` is kept) and wakes the writer.
    pub(crate) fn set_phase(&self, phase: Phase) {
        {
            let mut queue = lock(&self.queue);
            if queue.phase != Phase::Closed {
                queue.phase = phase;
            }
        }
        self.wake.notify_one();
    }

    /// Settles the queues when a session ends: the phase goes `Down`,
    /// handshake sends fail, the main queue stays as the outbox (when there
    /// is one) or fails, and every pending request whose frame is not kept
    /// in the outbox fails with `ConnectionLost`.
    pub(crate) fn end_session(&self) {
        let mut failed = Vec::new();
        let mut kept = HashSet::new();
        // A pen the writer lent when the session ended without it (its
        // future dropped): dropped outside the lock.
        let _pen;
        {
            let mut queue = lock(&self.queue);
            _pen = Shared::drop_lent(&mut queue);
            queue.epoch = queue.epoch.wrapping_add(1);
            if queue.phase != Phase::Closed {
                queue.phase = Phase::Down;
            }
            failed.extend(queue.handshake.take_all());
            if self.outbox.is_some() && queue.phase != Phase::Closed {
                queue.main.retain(|item| !item.ack.is_closed());
                queue.main_bytes = queue.main.iter().map(|i| i.frame.payload.len()).sum();
                kept.extend(queue.main.iter().filter_map(|item| item.request));
            } else {
                while let Some(item) = queue.pop_main() {
                    failed.push(item);
                }
            }
        }
        for item in failed {
            let _ = item.ack.send(Err(SendError::ConnectionLost));
        }
        self.lose_requests_except(&kept);
    }

    /// Closes for good: everything queued and pending fails with `Closed`.
    pub(crate) fn close(&self) {
        let failed: Vec<Outgoing> = {
            let mut queue = lock(&self.queue);
            queue.phase = Phase::Closed;
            queue.main_bytes = 0;
            let mut failed: Vec<Outgoing> = queue.handshake.take_all().collect();
            failed.extend(queue.main.drain(..));
            failed
        };
        for item in failed {
            let _ = item.ack.send(Err(SendError::Closed));
        }
        self.close_requests();
        self.wake.notify_one();
    }

    /// Wakes the session's writer without queuing anything: the writer
    /// re-reads its control state.
    pub(crate) fn wake_writer(&self) {
        self.wake.notify_one();
    }

    /// Resolves at the next wake-up of the writer (a send, a phase change,
    /// a control change). A wake-up with nobody waiting is kept for the
    /// next wait, so none is lost between two waits.
    pub(crate) async fn writer_woken(&self) {
        self.wake.notified().await;
    }
}

impl Queue {
    fn push_main(&mut self, item: Outgoing) {
        self.main_bytes += item.frame.payload.len();
        self.main.push_back(item);
    }

    fn pop_main(&mut self) -> Option<Outgoing> {
        let item = self.main.pop_front()?;
        self.main_bytes -= item.frame.payload.len();
        Some(item)
    }
}

mod clock;
mod direct;
mod end;
mod handshake;
mod request_ids;
mod requests;
#[cfg(test)]
mod tests;
