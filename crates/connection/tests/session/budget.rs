//! `Connection::limit_open_sockets`: a session holds a place of the shared
//! `SocketBudget` while its socket is open; one that finds none left fails
//! at once, without connecting, saying what to raise, and the place comes
//! back when the socket is closed.

use linesman_connection::{Connection, Counting, Reason, SocketBudget, StopCause};
use linesman_observer::{Bus, EventType, Interest};
use linesman_testkit::Peer;

use crate::common::{finish, spec, start, wait_for};

#[tokio::test]
async fn a_session_without_a_place_fails_at_once_and_never_connects() {
    let peer = Peer::echo().await.expect("peer starts");
    let bus = Bus::default();
    let budget = SocketBudget::new(1);
    let mut events = bus.subscribe(Interest::all().conn("first"));

    let mut first = Connection::new(spec("first", &peer), Box::new(Counting), &bus);
    first.limit_open_sockets(budget.clone());
    let stop_first = first.session_control();
    let running = start(first, 1);
    wait_for(&mut events, EventType::Connected).await;
    assert_eq!(budget.open(), 1);

    let mut second = Connection::new(spec("second", &peer), Box::new(Counting), &bus);
    second.limit_open_sockets(budget.clone());
    let (second, outcome) = finish(start(second, 1)).await;
    let Reason::ConnectFailed { error, .. } = &outcome.reason else {
        panic!("expected a failed connect, got {:?}", outcome.reason);
    };
    assert_eq!(
        error,
        "no socket left: all 1 sockets the budget allows are open (the rest of the open-file limit is kept for the control plane); raise the open-file limit (LimitNOFILE= in systemd, `ulimit -n`) or run fewer connections"
    );
    assert!(!outcome.was_up);
    assert_eq!(peer.stats().accepted, 1, "the second never connected");
    assert_eq!(budget.open(), 1);

    // The first session's socket closes: its place comes back.
    stop_first.stop();
    let (_first, ended) = finish(running).await;
    assert_eq!(ended.reason, Reason::Stopped(StopCause::Requested));
    assert_eq!(budget.open(), 0);
    let stop_second = second.session_control();
    let mut events = bus.subscribe(Interest::all().conn("second"));
    let again = start(second, 2);
    wait_for(&mut events, EventType::Connected).await;
    assert_eq!(budget.open(), 1);
    stop_second.stop();
    finish(again).await;
    assert_eq!(budget.open(), 0);
}

#[tokio::test]
async fn a_refused_connect_gives_its_place_back() {
    let bus = Bus::default();
    let budget = SocketBudget::new(1);
    let endpoint = format!("tcp://127.0.0.1:{}", free_port())
        .parse()
        .expect("endpoint");
    let mut conn = Connection::new(
        linesman_connection::ConnectionSpec::new("refused", endpoint),
        Box::new(Counting),
        &bus,
    );
    conn.limit_open_sockets(budget.clone());
    let (_conn, outcome) = finish(start(conn, 1)).await;
    assert!(matches!(outcome.reason, Reason::ConnectFailed { .. }));
    assert_eq!(budget.open(), 0);
}

/// A port on 127.0.0.1 where nothing listens.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("address").port()
}
