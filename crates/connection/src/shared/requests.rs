//! The pending requests of a connection and how received frames are
//! matched with them.
//!
//! Why a mark and not the id alone: both sides number their requests from
//! 1, so when requests go both ways a request of the peer can carry the id
//! of one of ours. With [`Replies::Marked`] (the default layout) only a
//! frame marked as a reply completes a request; an unmarked frame with an
//! id is the peer's request and goes to the handler. A marked frame that
//! matches nothing (its request timed out, or the peer is confused) is
//! counted and warned about, never handed to the handler as if it were a
//! request. [`Replies::ById`] is for layouts without a spare flag bit: any
//! frame whose id matches a pending request completes it.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use linesman_ipc_codec::{Frame, Replies};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::clock::{Clock, Nudge};
use super::{Pending, Reply, Shared, lock};
use crate::error::RequestError;
use crate::log_limit::Verdict;

impl Shared {
    /// Registers a request that times out after `timeout`: a fresh id and
    /// where its reply goes. At the deadline the request clock
    /// (`clock.rs`) fails it with `TimedOut`. Outside a tokio runtime no
    /// clock can run: the request waits for its reply or its session's end.
    pub(crate) fn register(
        self: &Arc<Self>,
        timeout: Duration,
    ) -> (u64, oneshot::Receiver<Result<Frame, RequestError>>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        let deadline = deadline_after(timeout);
        let nudge = {
            let mut guard = lock(&self.requests);
            let requests = guard.get_or_insert_with(Box::default);
            requests.pending.insert(id, Pending { reply, deadline });
            match &mut requests.clock {
                Some(clock) if deadline < clock.at => {
                    clock.at = deadline;
                    Nudge::Wake(clock.waker.take())
                }
                Some(_) => Nudge::Nothing,
                // Asked only here: a request that finds a clock running
                // (every request of a busy connection) does not look up
                // the runtime.
                None if tokio::runtime::Handle::try_current().is_ok() => {
                    // Earlier deadlines may be pending from a clock that
                    // ended with its runtime.
                    let at = requests
                        .pending
                        .values()
                        .map(|p| p.deadline)
                        .min()
                        .unwrap_or(deadline);
                    requests.clocks_started += 1;
                    let generation = requests.clocks_started;
                    requests.clock = Some(Clock {
                        at,
                        generation,
                        waker: None,
                    });
                    Nudge::Start(generation)
                }
                None => Nudge::Nothing,
            }
        };
        nudge.apply(self);
        (id, answer)
    }

    /// Fails the pending request `id` with `error`, if it still waits: its
    /// frame was refused by the writer (a request does not wait for its
    /// frame's acknowledgement, only for its reply).
    pub(crate) fn fail_request(&self, id: u64, error: RequestError) {
        if let Some(reply) = self.take_request(id) {
            let _ = reply.send(Err(error));
        }
    }

    /// Forgets a request that ended without its reply (an error, or its
    /// requester gave up).
    pub(crate) fn forget(&self, id: u64) {
        self.take_request(id);
    }

    /// Fails with `ConnectionLost` every pending request but those in
    /// `kept` (whose frames wait in the outbox for the next session).
    pub(super) fn lose_requests_except(&self, kept: &HashSet<u64>) {
        let lost: Vec<Reply> = {
            let mut requests = lock(&self.requests);
            let Some(pending) = requests.as_mut().map(|r| &mut r.pending) else {
                return;
            };
            let ids: Vec<u64> = pending
                .keys()
                .copied()
                .filter(|id| !kept.contains(id))
                .collect();
            ids.iter()
                .filter_map(|id| pending.remove(id))
                .map(|p| p.reply)
                .collect()
        };
        for reply in lost {
            let _ = reply.send(Err(RequestError::ConnectionLost));
        }
    }

    /// Fails every pending request with `Closed`.
    pub(super) fn close_requests(&self) {
        let pending: Vec<Reply> = lock(&self.requests)
            .as_mut()
            .map(|requests| requests.pending.drain().map(|(_, p)| p.reply).collect())
            .unwrap_or_default();
        for reply in pending {
            let _ = reply.send(Err(RequestError::Closed));
        }
    }

    /// Takes the pending request `id` out of the map, if it is there.
    fn take_request(&self, id: u64) -> Option<Reply> {
        lock(&self.requests)
            .as_mut()
            .and_then(|requests| requests.pending.remove(&id))
            .map(|pending| pending.reply)
    }

    /// Hands a received frame to the request it replies to, or gives it
    /// back for the handler: a frame without id, or a request of the peer.
    ///
    /// A frame marked as a reply never goes to the handler: it completes
    /// its request, or, matching none, is counted and warned about. With
    /// `replies` [`Replies::ById`] (the layout cannot mark), a frame whose
    /// id matches a pending request is its reply.
    #[inline]
    pub(crate) fn complete(&self, frame: Frame, replies: Replies) -> Option<Frame> {
        // Inlined for the common case, a frame without an id and without a
        // mark: on a feed of small frames the call and the moves of the
        // frame in and out of it were a measurable share of the cost per
        // frame.
        if frame.reply {
            self.complete_marked(frame);
            return None;
        }
        match frame.id {
            Some(id) if replies == Replies::ById => self.complete_by_id(id, frame),
            _ => Some(frame),
        }
    }

    fn complete_marked(&self, frame: Frame) {
        let Some(id) = frame.id else {
            self.unmatched_reply(&frame);
            return;
        };
        match self.take_request(id) {
            Some(reply) => deliver(reply, id, frame),
            None => self.unmatched_reply(&frame),
        }
    }

    fn complete_by_id(&self, id: u64, frame: Frame) -> Option<Frame> {
        match self.take_request(id) {
            Some(reply) => {
                deliver(reply, id, frame);
                None
            }
            None => Some(frame),
        }
    }

    /// Counts a marked reply that matches no pending request and warns,
    /// at most once a minute with a count of the others.
    fn unmatched_reply(&self, frame: &Frame) {
        let total = self
            .counters
            .unmatched_replies
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        let verdict = lock(&self.requests)
            .get_or_insert_with(Box::default)
            .unmatched_log
            .check("unmatched reply", Instant::now());
        let id = frame
            .id
            .map_or_else(|| "none".to_owned(), |id| id.to_string());
        match verdict {
            Verdict::Suppress => {}
            Verdict::Summary { repeats, over } => tracing::warn!(
                id = %id,
                ty = frame.ty,
                unmatched_replies = total,
                "{repeats} replies matched no pending request in the last {}; dropped",
                humantime::format_duration(over)
            ),
            _ => tracing::warn!(
                id = %id,
                ty = frame.ty,
                unmatched_replies = total,
                "a reply matched no pending request (it came after its request \
                 timed out, or the peer answered a request we did not make); dropped"
            ),
        }
    }
}

/// The deadline `timeout` from now, at most [`FAR_FUTURE`](crate::FAR_FUTURE) away,
/// so that no timeout, not even `Duration::MAX`, overflows.
fn deadline_after(timeout: Duration) -> Instant {
    Instant::now() + timeout.min(crate::FAR_FUTURE)
}

/// Completes a request with its reply.
fn deliver(reply: Reply, id: u64, frame: Frame) {
    if reply.send(Ok(frame)).is_err() {
        tracing::debug!(id, "reply came after its request gave up; dropped");
    }
}
