//! [`SocketBudget`]: how many sessions may hold an open socket (or blocking
//! source) at once, shared by many connections, so that the file
//! descriptors left over stay for the rest of the process.
//!
//! Why: every session holds one fd while its socket is open. Without a
//! bound, enough connections (or a reconnect storm) take every fd the
//! process may open, and then nothing else can open one: the control plane
//! cannot accept `linesman status`, a log file cannot rotate. With a budget
//! below the open-file limit, a session that finds none left fails at once,
//! before `socket(2)`, with a reason that says so, and the rest stays free.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A bound on the sockets open at once, shared by the connections given it
/// with [`Connection::limit_open_sockets`](crate::Connection::limit_open_sockets).
///
/// A session takes one place before it opens its socket (or blocking
/// source) and gives it back once that is closed. A session that finds no
/// place fails at once with
/// [`Reason::ConnectFailed`](crate::Reason::ConnectFailed), without trying
/// to connect; its restart policy applies as to any failed connect.
///
/// ```
/// use linesman_connection::SocketBudget;
///
/// let budget = SocketBudget::new(950);
/// assert_eq!((budget.max(), budget.open()), (950, 0));
/// ```
#[derive(Debug)]
pub struct SocketBudget {
    max: usize,
    open: AtomicUsize,
}

impl SocketBudget {
    /// A budget of `max` sockets open at once, shared through an `Arc`.
    pub fn new(max: usize) -> Arc<SocketBudget> {
        Arc::new(SocketBudget {
            max,
            open: AtomicUsize::new(0),
        })
    }

    /// How many sockets may be open at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// How many are open now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// A place for one more socket, if one is left.
    pub(crate) fn take(self: &Arc<Self>) -> Option<SocketPermit> {
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.max).then_some(open + 1)
            })
            .ok()
            .map(|_| SocketPermit(Arc::clone(self)))
    }

    /// Why a session found no place: the text of its `ConnectFailed`.
    pub(crate) fn exhausted(&self) -> String {
        format!(
            "no socket left: all {} sockets the budget allows are open (the rest of the open-file limit is kept for the control plane); raise the open-file limit (LimitNOFILE= in systemd, `ulimit -n`) or run fewer connections",
            self.max
        )
    }
}

/// One place in a [`SocketBudget`], given back on drop.
pub(crate) struct SocketPermit(Arc<SocketBudget>);

impl Drop for SocketPermit {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

impl fmt::Debug for SocketPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SocketPermit")
    }
}
