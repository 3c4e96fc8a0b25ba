//! `Connection::limit_connects`: a session holds a permit of the shared
//! semaphore from before it opens its socket until its handshake is over,
//! and a session stopped while it waits for one never connects.

use std::sync::Arc;

use linesman_connection::{Connection, Handler, HandlerError, Link, Reason, StopCause};
use linesman_observer::{Bus, EventType, Interest};
use linesman_testkit::Peer;
use tokio::sync::{Semaphore, oneshot};

use crate::common::{T, finish, spec, start, wait_for};

/// Says when `on_connect` began, then finishes it when told.
struct Gate {
    entered: Option<oneshot::Sender<()>>,
    release: Option<oneshot::Receiver<()>>,
}
impl Handler for Gate {
    async fn on_connect(&mut self, _link: &Link) -> Result<(), HandlerError> {
        if let Some(entered) = self.entered.take() {
            let _ = entered.send(());
        }
        if let Some(release) = self.release.take() {
            let _ = release.await;
        }
        Ok(())
    }

    async fn on_frame(
        &mut self,
        _frame: linesman_ipc_codec::Frame,
        _link: &Link,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_permit_is_held_from_the_connect_until_the_handshake_is_done() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let limit = Arc::new(Semaphore::new(1));
    let (entered, in_handshake) = oneshot::channel();
    let (release, released) = oneshot::channel();
    let gate = Gate {
        entered: Some(entered),
        release: Some(released),
    };
    let mut first = Connection::new(spec("first", &peer), Box::new(gate), &bus);
    first.limit_connects(Arc::clone(&limit));
    let mut second_events = bus.subscribe(Interest::all().conn("second"));
    let mut second = Connection::new(
        spec("second", &peer),
        Box::new(linesman_connection::Counting),
        &bus,
    );
    second.limit_connects(Arc::clone(&limit));

    let stop_first = first.session_control();
    let stop_second = second.session_control();
    let first_session = start(first, 1);
    tokio::time::timeout(T, in_handshake)
        .await
        .expect("the handshake begins in time")
        .expect("the handler says so");
    assert_eq!(
        limit.available_permits(),
        0,
        "the handshake holds the permit"
    );
    peer.wait_connections(1).await;

    let second_session = start(second, 1);
    wait_for(&mut second_events, EventType::Connecting).await;
    // The second is `Connecting` but waits for the permit: the peer has
    // seen one connection only (it cannot have seen more without a permit).
    assert_eq!(peer.stats().accepted, 1);

    release.send(()).expect("the handshake waits");
    wait_for(&mut second_events, EventType::Connected).await;
    assert_eq!(peer.wait_connections(2).await.accepted, 2);
    // Both handshakes are over: every permit is back.
    assert_eq!(limit.available_permits(), 1);

    stop_first.stop();
    stop_second.stop();
    assert_eq!(
        finish(first_session).await.1.reason,
        Reason::Stopped(StopCause::Requested)
    );
    assert_eq!(
        finish(second_session).await.1.reason,
        Reason::Stopped(StopCause::Requested)
    );
}

#[tokio::test]
async fn a_session_stopped_while_waiting_for_a_permit_never_connects() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    // No permit will ever be free.
    let limit = Arc::new(Semaphore::new(0));
    let mut events = bus.subscribe(Interest::all().conn("waiting"));
    let mut conn = Connection::new(
        spec("waiting", &peer),
        Box::new(linesman_connection::Counting),
        &bus,
    );
    conn.limit_connects(limit);
    let stop = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connecting).await;
    stop.stop();
    let (_, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    assert!(!outcome.was_up);
    assert_eq!(peer.stats().accepted, 0);
}
