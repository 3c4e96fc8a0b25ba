//! [`Answers`]: the bytes of large answers (`/v1/status`, `/metrics`)
//! that wait for their clients to read them, under one budget.
//!
//! Why: an answer is rendered whole, then written as fast as its client
//! reads. A status of 3,000 connections is 2.6 MB; 60 clients that ask for
//! it and read nothing held 156 MB until their write timeout, and under an
//! address-space limit the daemon aborted on the next allocation, with
//! every connection it supervised (hostile run h22). Each answer's bytes
//! now carry a hold on the budget that is given back when the last of them
//! is written and dropped (`Bytes::from_owner`), not when the handler
//! returns; a request that finds the budget spent is told so at once.
//! The buffer is also allocated fallibly, at the size of the last answer
//! of its kind: a process out of memory answers `503`, it does not abort.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;

/// Room beyond the last answer's size reserved for the next one (answers
/// grow with the daemon): an eighth, and this much at least.
const SLACK: usize = 4 * 1024;

/// Why an answer was not made.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Answers waiting for their clients hold `held` bytes of `budget`.
    Busy { held: usize, budget: usize },
    /// The process could not allocate `wanted` bytes.
    OutOfMemory { wanted: usize },
}

impl Refused {
    /// The message of the `503`.
    pub(crate) fn message(&self) -> String {
        match self {
            Refused::Busy { held, budget } => format!(
                "daemon busy: {} of answers wait for clients that read them slowly (the answer budget is {}); try again when they are read",
                mib(*held),
                mib(*budget)
            ),
            Refused::OutOfMemory { wanted } => format!(
                "the daemon cannot allocate {} for this answer: it is out of memory or at its address-space limit; try again, or raise the limit",
                mib(*wanted)
            ),
        }
    }
}

fn mib(bytes: usize) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// The budget of answer bytes, and the size of the last answer of each
/// kind (to size the next).
#[derive(Debug)]
pub(crate) struct Answers {
    budget: usize,
    held: AtomicUsize,
    /// The last `/v1/status` answer's size.
    pub(crate) status: LastSize,
    /// The last `/metrics` answer's size.
    pub(crate) metrics: LastSize,
}

/// The size of the last answer of one kind.
#[derive(Debug, Default)]
pub(crate) struct LastSize(AtomicUsize);

/// Bytes of the budget an answer holds until it is dropped.
struct Hold {
    answers: Arc<Answers>,
    bytes: usize,
}

impl Drop for Hold {
    fn drop(&mut self) {
        self.answers.held.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// An answer's bytes and its hold, owned by the `Bytes` the response
/// writes: dropped with the last of them.
struct Held {
    text: Vec<u8>,
    _hold: Hold,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.text
    }
}

impl Answers {
    pub(crate) fn new(budget: usize) -> Arc<Answers> {
        Arc::new(Answers {
            budget,
            held: AtomicUsize::new(0),
            status: LastSize::default(),
            metrics: LastSize::default(),
        })
    }

    /// Bytes held by answers now.
    #[cfg(test)]
    pub(crate) fn held(&self) -> usize {
        self.held.load(Ordering::Acquire)
    }

    /// Takes `bytes` of the budget: always when nothing is held (one
    /// answer goes out whatever its size), else only within the budget.
    fn take(self: &Arc<Self>, bytes: usize) -> Result<Hold, Refused> {
        self.held
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                (held == 0 || held.saturating_add(bytes) <= self.budget).then(|| held + bytes)
            })
            .map_err(|held| Refused::Busy {
                held,
                budget: self.budget,
            })?;
        Ok(Hold {
            answers: Arc::clone(self),
            bytes,
        })
    }

    /// Writes an answer with `render` into a buffer sized from `last`
    /// and held against the budget until its bytes are dropped.
    pub(crate) fn make(
        self: &Arc<Self>,
        last: &LastSize,
        render: impl FnOnce(&mut Vec<u8>),
    ) -> Result<Bytes, Refused> {
        let expected = last.0.load(Ordering::Relaxed);
        let room = expected + (expected / 8).max(SLACK);
        let mut hold = self.take(room)?;
        let mut text: Vec<u8> = Vec::new();
        text.try_reserve_exact(room)
            .map_err(|_| Refused::OutOfMemory { wanted: room })?;
        render(&mut text);
        last.0.store(text.len(), Ordering::Relaxed);
        // An answer that outgrew its room holds what it took: the budget
        // may be passed by one answer's growth, never by a new answer.
        if text.capacity() > hold.bytes {
            let more = text.capacity() - hold.bytes;
            self.held.fetch_add(more, Ordering::AcqRel);
            hold.bytes += more;
        }
        Ok(Bytes::from_owner(Held { text, _hold: hold }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_hold_the_budget_until_their_bytes_are_dropped() {
        let answers = Answers::new(64 * 1024);
        let last = LastSize::default();
        let first = answers
            .make(&last, |text| text.extend_from_slice(&[b'x'; 40 * 1024]))
            .expect("nothing held: it goes out");
        assert_eq!(first.len(), 40 * 1024);
        let held = answers.held();
        assert!(held >= 40 * 1024, "{held}");
        // The next is sized from the last: 45 KiB more would pass 64 KiB.
        let refused = answers
            .make(&last, |_| panic!("not rendered when refused"))
            .expect_err("over the budget");
        assert!(matches!(refused, Refused::Busy { .. }), "{refused:?}");
        assert!(refused.message().contains("daemon busy"));
        // A slice of the answer (as a writer keeps the rest) still holds it.
        let rest = first.slice(1024..);
        drop(first);
        assert_eq!(answers.held(), held);
        drop(rest);
        assert_eq!(answers.held(), 0, "given back with the last bytes");
        assert!(answers.make(&last, |text| text.push(b'y')).is_ok());
        assert_eq!(answers.held(), 0);
    }

    #[test]
    fn one_answer_goes_out_whatever_its_size() {
        let answers = Answers::new(1024);
        let last = LastSize::default();
        let big = answers
            .make(&last, |text| text.extend_from_slice(&[b'x'; 10_000]))
            .expect("nothing held");
        assert_eq!(big.len(), 10_000);
        assert!(answers.held() >= 10_000, "it holds what it grew to");
    }
}
