//! A peer's counters: atomics that connection tasks bump, a snapshot type
//! that tests read, and a [`Notify`] so a test can wait for a count without
//! sleeping or polling.

use std::sync::atomic::{AtomicU64, Ordering};

use linesman_ipc_codec::Frame;
use tokio::sync::Notify;

use crate::record::Recorder;

/// What a peer has seen so far, summed over all its connections.
///
/// Each field is read atomically; a snapshot taken while connections are busy
/// may mix fields from slightly different instants.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PeerStats {
    /// Connections accepted since the peer started.
    pub accepted: u64,
    /// Connections open right now.
    pub open: u64,
    /// Complete frames received.
    pub frames_received: u64,
    /// Frames sent (hostile bytes count as one frame).
    pub frames_sent: u64,
    /// Bytes received.
    pub bytes_received: u64,
    /// Bytes sent.
    pub bytes_sent: u64,
    /// Reads that returned data (a [`SlowReader`](crate::Behavior::SlowReader)
    /// makes many small ones).
    pub reads: u64,
    /// Connections closed because the client sent bytes that are not valid frames.
    pub protocol_errors: u64,
    /// Requests of the client (an id, no reply mark) the peer answered with
    /// a marked reply.
    pub requests_answered: u64,
    /// Requests the peer sent ([`Behavior::CollidingRequests`](crate::Behavior::CollidingRequests)).
    pub requests_sent: u64,
    /// Marked replies of the client that answered a waiting request of the
    /// peer, with its payload, once.
    pub replies_matched: u64,
    /// Marked frames of the client that answered no waiting request of the
    /// peer (an unknown id, a second answer) or carried another payload.
    pub replies_mismatched: u64,
}

/// The live counters behind [`PeerStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    accepted: AtomicU64,
    open: AtomicU64,
    frames_received: AtomicU64,
    frames_sent: AtomicU64,
    bytes_received: AtomicU64,
    bytes_sent: AtomicU64,
    reads: AtomicU64,
    protocol_errors: AtomicU64,
    requests_answered: AtomicU64,
    requests_sent: AtomicU64,
    replies_matched: AtomicU64,
    replies_mismatched: AtomicU64,
    changed: Notify,
    /// Where received frames are recorded, if anywhere.
    recorder: Option<Recorder>,
}

impl Counters {
    /// Counters that also record every frame received in `recorder`.
    pub(crate) fn recording(recorder: Recorder) -> Counters {
        Counters {
            recorder: Some(recorder),
            ..Counters::default()
        }
    }

    /// Records a frame received whole (when recording).
    pub(crate) fn record(&self, frame: &Frame) {
        if let Some(recorder) = &self.recorder {
            recorder.frame(frame);
        }
    }

    pub(crate) fn snapshot(&self) -> PeerStats {
        PeerStats {
            accepted: self.accepted.load(Ordering::Acquire),
            open: self.open.load(Ordering::Acquire),
            frames_received: self.frames_received.load(Ordering::Acquire),
            frames_sent: self.frames_sent.load(Ordering::Acquire),
            bytes_received: self.bytes_received.load(Ordering::Acquire),
            bytes_sent: self.bytes_sent.load(Ordering::Acquire),
            reads: self.reads.load(Ordering::Acquire),
            protocol_errors: self.protocol_errors.load(Ordering::Acquire),
            requests_answered: self.requests_answered.load(Ordering::Acquire),
            requests_sent: self.requests_sent.load(Ordering::Acquire),
            replies_matched: self.replies_matched.load(Ordering::Acquire),
            replies_mismatched: self.replies_mismatched.load(Ordering::Acquire),
        }
    }

    /// Counts one accepted connection; it stays open until the guard drops.
    pub(crate) fn open_connection(&self) -> OpenGuard<'_> {
        self.accepted.fetch_add(1, Ordering::AcqRel);
        self.open.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_waiters();
        OpenGuard { counters: self }
    }

    pub(crate) fn received(&self, bytes: usize, frames: u64) {
        self.reads.fetch_add(1, Ordering::AcqRel);
        self.bytes_received
            .fetch_add(bytes as u64, Ordering::AcqRel);
        if frames > 0 {
            self.frames_received.fetch_add(frames, Ordering::AcqRel);
        }
        self.changed.notify_waiters();
    }

    pub(crate) fn sent(&self, bytes: usize, frames: u64) {
        self.bytes_sent.fetch_add(bytes as u64, Ordering::AcqRel);
        self.frames_sent.fetch_add(frames, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// Counts the peer's answers to `answered` requests of the client.
    pub(crate) fn answered(&self, answered: u64) {
        if answered > 0 {
            self.requests_answered.fetch_add(answered, Ordering::AcqRel);
            self.changed.notify_waiters();
        }
    }

    /// Counts `sent` requests of the peer.
    pub(crate) fn requests_sent(&self, sent: u64) {
        self.requests_sent.fetch_add(sent, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// Counts one reply of the client, right (`matched`) or not.
    pub(crate) fn reply(&self, matched: bool) {
        let counter = if matched {
            &self.replies_matched
        } else {
            &self.replies_mismatched
        };
        counter.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    pub(crate) fn protocol_error(&self) {
        if let Some(recorder) = &self.recorder {
            recorder.protocol_error();
        }
        self.protocol_errors.fetch_add(1, Ordering::AcqRel);
        self.changed.notify_waiters();
    }

    /// Waits until `done` holds for a snapshot and returns that snapshot.
    pub(crate) async fn wait_for(&self, mut done: impl FnMut(&PeerStats) -> bool) -> PeerStats {
        loop {
            // Register before looking, so a change between the look and the
            // await still wakes us.
            let changed = self.changed.notified();
            let mut changed = std::pin::pin!(changed);
            changed.as_mut().enable();
            let now = self.snapshot();
            if done(&now) {
                return now;
            }
            changed.await;
        }
    }
}

/// Keeps one connection counted as open; dropping it closes the count.
#[derive(Debug)]
pub(crate) struct OpenGuard<'a> {
    counters: &'a Counters,
}

impl Drop for OpenGuard<'_> {
    fn drop(&mut self) {
        self.counters.open.fetch_sub(1, Ordering::AcqRel);
        self.counters.changed.notify_waiters();
    }
}
