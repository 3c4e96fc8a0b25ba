//! Signals in the middle of a connect storm: hundreds of connections
//! connecting to a peer that never accepts (its backlog is full, so the
//! kernel drops their SYNs and each connect waits for its timeout) when the
//! operator stops the daemon.

use std::net::SocketAddr;

use socket2::{Domain, Socket, Type};

use super::{Beside, faulty};

const STORM: usize = 300;

/// A listener with the smallest backlog that never accepts: connects to it
/// hang in SYN retries. Dropping it closes it.
fn never_accepting() -> (Socket, SocketAddr) {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("a socket");
    let any: SocketAddr = "127.0.0.1:0".parse().expect("an address");
    socket.bind(&any.into()).expect("bind");
    socket.listen(1).expect("listen");
    let addr = socket
        .local_addr()
        .expect("an address")
        .as_socket()
        .expect("an inet address");
    (socket, addr)
}

async fn storm(label: &str) -> (Beside, Socket) {
    let (listener, addr) = never_accepting();
    let endpoint = format!("tcp://{addr}").parse().expect("an endpoint");
    let yaml: String = (0..STORM)
        .map(|i| {
            faulty(
                &format!("storm{i}"),
                &endpoint,
                "    connect_timeout: 10s\n",
            )
        })
        .collect();
    let bench = Beside::start(label, &yaml).await;
    bench
        .daemon
        .wait_status("the storm connecting", |s| {
            s["connections"].as_array().is_some_and(|all| {
                all.iter().filter(|c| c["state"] == "connecting").count() > STORM / 2
            })
        })
        .await;
    (bench, listener)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_connect_storm_stops_cleanly() {
    let (mut bench, _listener) = storm("fault-storm-term").await;
    bench.daemon.signal("TERM").await;
    let (code, stderr) = bench.daemon.exit().await;
    assert_eq!(code, 0, "a clean exit: {stderr}");
    assert!(
        !bench.daemon.socket.exists(),
        "the control socket is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_a_connect_storm_stops_cleanly() {
    let (mut bench, _listener) = storm("fault-storm-int").await;
    bench.daemon.signal("INT").await;
    let (code, stderr) = bench.daemon.exit().await;
    assert_eq!(code, 0, "a clean exit: {stderr}");
    assert!(
        !bench.daemon.socket.exists(),
        "the control socket is removed"
    );
}
