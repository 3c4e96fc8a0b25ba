//! [`SessionControl`]: steers a connection's sessions from outside — stops
//! the one that runs, tells whether it is up — and publishes the steering
//! party's own events under the connection's name (a supervisor's
//! `Started`, `Backoff`, `Stopped`…).
//!
//! Why a stop is not a `CancellationToken`: a token is an allocation of its
//! own per session, and waiting on it is a future in the session's state
//! (~180 bytes per connection together). The stop here is a flag and a
//! waker in the connection's shared state, which the session polls with
//! everything else it waits on.

use std::fmt;
use std::sync::Arc;

use linesman_observer::What;

use crate::reason::StopCause;
use crate::shared::{Phase, Shared};

/// Steers the sessions of one [`Connection`](crate::Connection) from
/// outside, while [`Connection::run_session`](crate::Connection::run_session)
/// runs them. Cheap to clone (one `Arc`).
///
/// ```
/// use std::time::Duration;
/// use linesman_connection::{Connection, ConnectionSpec, Counting, Reason, StopCause};
/// use linesman_observer::Bus;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let endpoint = format!("tcp://{}", listener.local_addr()?).parse()?;
/// let mut conn = Connection::new(ConnectionSpec::new("feed", endpoint), Box::new(Counting), &Bus::default());
/// let control = conn.session_control();
/// let session = conn.run_session(1, Duration::from_secs(1));
/// let stopper = async {
///     let peer = listener.accept().await;
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     control.stop();
///     peer // kept open until the session has ended
/// };
/// let (outcome, _peer) = tokio::join!(session, stopper);
/// assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SessionControl {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for SessionControl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionControl")
            .field("conn", &self.shared.publisher.name())
            .finish_non_exhaustive()
    }
}

impl SessionControl {
    /// Asks the running session to stop: queued frames are drained,
    /// `on_disconnect` runs, and it ends with
    /// [`Reason::Stopped`](crate::Reason::Stopped)`(`[`StopCause::Requested`]`)`.
    /// Without a running session, the next one forgets it.
    pub fn stop(&self) {
        self.stop_for(StopCause::Requested);
    }

    /// As [`stop`](Self::stop), saying why: the session ends with
    /// [`Reason::Stopped`](crate::Reason::Stopped)`(cause)`, so its
    /// `Disconnected` event names the cause (a shutdown, a dependency that
    /// went down).
    pub fn stop_for(&self, cause: StopCause) {
        self.shared.request_stop(cause);
    }

    /// Whether a session is up now (connected, handshake done).
    pub fn is_up(&self) -> bool {
        self.shared.phase() == Phase::Up
    }

    /// Publishes `what` as an event of this connection (its name, kind and
    /// tags), for whoever runs its sessions: a supervisor's own events. A
    /// closed bus refuses it, which is logged at debug and otherwise ignored.
    pub fn publish(&self, what: impl Into<What>) {
        self.shared.publish(what);
    }
}
