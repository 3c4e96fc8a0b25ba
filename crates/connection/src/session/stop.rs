//! [`SessionStop`]: ends a connection's running session from outside, for
//! [`Connection::run_session_until_stopped`](crate::Connection::run_session_until_stopped).
//!
//! Why not only the `CancellationToken` of
//! [`run_session`](crate::Connection::run_session): a token is an
//! allocation of its own per session, and waiting on it is a future in the
//! session's state (~180 bytes per connection together). The stop here is a
//! flag and a waker in the connection's shared state, which the session
//! polls with everything else it waits on.

use std::fmt;
use std::sync::Arc;

use linesman_observer::{Bus, Publisher};

use crate::shared::Shared;

/// Ends the session of [`Connection::run_session_until_stopped`] that runs
/// now, as a cancelled token ends one of
/// [`run_session`](crate::Connection::run_session); also gives the
/// connection's publisher and bus, so that whoever stops sessions needs no
/// copies of them. Cheap to clone (one `Arc`).
///
/// [`Connection::run_session_until_stopped`]: crate::Connection::run_session_until_stopped
///
/// ```
/// use std::time::Duration;
/// use linesman_connection::{Connection, ConnectionSpec, Counting, Reason};
/// use linesman_observer::Bus;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let endpoint = format!("tcp://{}", listener.local_addr()?).parse()?;
/// let mut conn = Connection::new(ConnectionSpec::new("feed", endpoint), Box::new(Counting), &Bus::default());
/// let stop = conn.session_stop();
/// let session = conn.run_session_until_stopped(1, Duration::from_secs(1));
/// let stopper = async {
///     let peer = listener.accept().await;
///     tokio::time::sleep(Duration::from_millis(10)).await;
///     stop.stop();
///     peer // kept open until the session has ended
/// };
/// let (outcome, _peer) = tokio::join!(session, stopper);
/// assert_eq!(outcome.reason, Reason::Stopped);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct SessionStop {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for SessionStop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionStop")
            .field("conn", &self.shared.publisher.name())
            .finish_non_exhaustive()
    }
}

impl SessionStop {
    /// Asks the running session to stop: it ends as after a cancelled stop
    /// token (queued frames drained, `on_disconnect`, [`Reason::Stopped`](crate::Reason::Stopped)).
    /// Without a running session, the next one forgets it.
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// The publisher of the connection's events (name, kind and tags set).
    pub fn publisher(&self) -> &Publisher {
        &self.shared.publisher
    }

    /// The bus the connection publishes on.
    pub fn bus(&self) -> &Bus {
        &self.shared.bus
    }
}
