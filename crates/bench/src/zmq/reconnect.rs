//! The libzmq side of `reconnect all up 1k`: 1,000 DEALER sockets to a
//! ROUTER peer in a child process (this executable, re-run with
//! `LINESMAN_BENCH_ZMQ_ROLE=peer`), each watched by a socket monitor. The
//! peer is killed and a new one started on its port; the figures are the
//! time from the new peer listening until every socket has reported
//! `CONNECTED`, and until every one has reported `HANDSHAKE_SUCCEEDED`.
//!
//! libzmq allows 1,023 sockets per context by default and the `zmq` crate
//! cannot raise it, so the sockets are spread over contexts of
//! [`PER_CONTEXT`] DEALERs (with their monitor and reader: three sockets
//! each), each with libzmq's default single I/O thread.

use std::io::{BufRead, Write};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use linesman_stream::Endpoint;

use super::ROLE_ENV;
use crate::scale::PeerChild;
use crate::scale::child::DEFER_ENV;

/// DEALERs per context: three sockets each stay under libzmq's 1,023.
const PER_CONTEXT: usize = 340;
/// The port the peer child binds (0: a free one).
const PORT_ENV: &str = "LINESMAN_BENCH_ZMQ_PORT";
/// The peer's accept backlog: the testkit peer's, so neither side's
/// connects wait for a SYN retry that the other's would not.
const BACKLOG: i32 = 4096;
/// Longest wait for every socket to be up (initially or again).
const PATIENCE: Duration = Duration::from_secs(60);

/// The zmq figures, from the new peer listening.
#[derive(Debug, Clone, Copy)]
pub(super) struct Figures {
    /// Until the last socket's `CONNECTED`.
    pub(super) connected: Duration,
    /// Until the last socket's `HANDSHAKE_SUCCEEDED`.
    pub(super) handshaken: Duration,
}

fn zmq_error(what: &str) -> impl FnOnce(zmq::Error) -> anyhow::Error + '_ {
    move |error| anyhow::anyhow!("zmq: {what}: {error}")
}

/// The peer child's part: a ROUTER bound on loopback (the port from
/// [`PORT_ENV`]), `listening <endpoint>` on stdout, served until stdin ends.
pub(super) fn serve_peer() -> anyhow::Result<()> {
    linesman_testkit::raise_nofile_limit().context("the zmq peer cannot raise RLIMIT_NOFILE")?;
    let port: u16 = match std::env::var(PORT_ENV) {
        Ok(port) => port
            .parse()
            .context("the zmq peer port is not a port number")?,
        Err(_) => 0,
    };
    if std::env::var_os(DEFER_ENV).is_some() {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "ready")?;
        stdout.flush()?;
        let mut line = String::new();
        while line.trim() != "listen" {
            line.clear();
            anyhow::ensure!(
                std::io::stdin().lock().read_line(&mut line)? > 0,
                "no `listen` came"
            );
        }
    }
    let ctx = zmq::Context::new();
    let router = ctx
        .socket(zmq::ROUTER)
        .map_err(zmq_error("ROUTER socket"))?;
    router
        .set_backlog(BACKLOG)
        .map_err(zmq_error("ROUTER backlog"))?;
    router.set_linger(0).map_err(zmq_error("ROUTER linger"))?;
    let bind = if port == 0 {
        "tcp://127.0.0.1:*".to_owned()
    } else {
        format!("tcp://127.0.0.1:{port}")
    };
    router.bind(&bind).map_err(zmq_error("ROUTER bind"))?;
    let bound = router
        .get_last_endpoint()
        .map_err(zmq_error("ROUTER endpoint"))?
        .map_err(|_| anyhow::anyhow!("zmq: the ROUTER endpoint is not UTF-8"))?;
    let endpoint: Endpoint = bound
        .parse()
        .with_context(|| format!("zmq bound {bound}, not a TCP endpoint"))?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening {endpoint}")?;
    stdout.flush()?;
    // Serve (libzmq's I/O thread accepts and handshakes) until stdin ends.
    let mut line = String::new();
    while std::io::stdin().lock().read_line(&mut line)? > 0 {
        line.clear();
    }
    Ok(())
}

/// The zmq peer child on `port` (0: a free one); `deferred`: it listens
/// at [`PeerChild::listen`].
fn peer_child(port: u16, deferred: bool) -> anyhow::Result<PeerChild> {
    let exe = std::env::current_exe().context("cannot find the running executable")?;
    let mut command = Command::new(exe);
    command
        .args(["--json", "zmq"])
        .env(ROLE_ENV, "peer")
        .env(PORT_ENV, port.to_string())
        .stderr(std::process::Stdio::inherit());
    if deferred {
        PeerChild::spawn_deferred(command)
    } else {
        PeerChild::spawn_command(command)
    }
}

/// What one socket has reported since the peer was killed.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    down: bool,
    connected: bool,
    handshaken: bool,
}

/// Every DEALER with its monitor's reader, and the per-socket record.
struct Fleet {
    // Kept alive: dropping a DEALER closes its connection. Declared before
    // the contexts so they are closed first.
    _dealers: Vec<zmq::Socket>,
    readers: Vec<zmq::Socket>,
    seen: Vec<Seen>,
    connected: usize,
    handshaken: usize,
    last_connected: Option<Instant>,
    last_handshaken: Option<Instant>,
    first_connected: Option<Instant>,
    first_handshaken: Option<Instant>,
    _contexts: Vec<zmq::Context>,
}

impl Fleet {
    fn connect(count: usize, endpoint: &str) -> anyhow::Result<Fleet> {
        let contexts: Vec<zmq::Context> = (0..count.div_ceil(PER_CONTEXT))
            .map(|_| zmq::Context::new())
            .collect();
        let events = zmq::SocketEvent::CONNECTED as i32
            | zmq::SocketEvent::HANDSHAKE_SUCCEEDED as i32
            | zmq::SocketEvent::DISCONNECTED as i32;
        let mut dealers = Vec::with_capacity(count);
        let mut readers = Vec::with_capacity(count);
        for i in 0..count {
            let ctx = &contexts[i / PER_CONTEXT];
            let dealer = ctx
                .socket(zmq::DEALER)
                .map_err(zmq_error("DEALER socket"))?;
            dealer.set_linger(0).map_err(zmq_error("DEALER linger"))?;
            let monitor = format!("inproc://monitor-{i}");
            dealer
                .monitor(&monitor, events)
                .map_err(zmq_error("socket monitor"))?;
            let reader = ctx.socket(zmq::PAIR).map_err(zmq_error("PAIR socket"))?;
            reader
                .connect(&monitor)
                .map_err(zmq_error("monitor connect"))?;
            dealer
                .connect(endpoint)
                .map_err(zmq_error("DEALER connect"))?;
            dealers.push(dealer);
            readers.push(reader);
        }
        Ok(Fleet {
            _dealers: dealers,
            readers,
            seen: vec![Seen::default(); count],
            connected: 0,
            handshaken: 0,
            last_connected: None,
            last_handshaken: None,
            first_connected: None,
            first_handshaken: None,
            _contexts: contexts,
        })
    }

    /// Forgets what was seen: from now on only a socket that went down and
    /// came back counts.
    fn rearm(&mut self) {
        self.seen.fill(Seen::default());
        (self.connected, self.handshaken) = (0, 0);
        (self.last_connected, self.last_handshaken) = (None, None);
        (self.first_connected, self.first_handshaken) = (None, None);
    }

    /// Reads monitor events until every socket has handshaken (`initial`:
    /// without going down first), or [`PATIENCE`] passes.
    fn wait_all(&mut self, initial: bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + PATIENCE;
        let mut msg = zmq::Message::new();
        while self.handshaken < self.seen.len() {
            anyhow::ensure!(
                Instant::now() < deadline,
                "zmq: {} of {} sockets handshaken within {PATIENCE:?}",
                self.handshaken,
                self.seen.len()
            );
            // Only the sockets still awaited are polled: a poll costs
            // libzmq a look at every socket, and that cost would be counted
            // against zmq.
            let pending: Vec<usize> = (0..self.seen.len())
                .filter(|&i| !self.seen[i].handshaken)
                .collect();
            let mut items: Vec<zmq::PollItem<'_>> = pending
                .iter()
                .map(|&i| self.readers[i].as_poll_item(zmq::POLLIN))
                .collect();
            zmq::poll(&mut items, 100).map_err(zmq_error("poll"))?;
            let ready: Vec<usize> = (0..items.len())
                .filter(|&k| items[k].is_readable())
                .map(|k| pending[k])
                .collect();
            drop(items);
            for i in ready {
                while self.readers[i].recv(&mut msg, zmq::DONTWAIT).is_ok() {
                    // Frame 1: event (u16) and value (u32), native order;
                    // frame 2: the endpoint.
                    let event = (msg.len() >= 2).then(|| u16::from_ne_bytes([msg[0], msg[1]]));
                    if msg.get_more() {
                        self.readers[i]
                            .recv(&mut msg, 0)
                            .map_err(zmq_error("monitor recv"))?;
                    }
                    if let Some(event) = event {
                        self.record(i, event, initial, Instant::now());
                    }
                }
            }
        }
        Ok(())
    }

    fn record(&mut self, i: usize, event: u16, initial: bool, at: Instant) {
        let seen = &mut self.seen[i];
        if event == zmq::SocketEvent::DISCONNECTED.to_raw() {
            seen.down = true;
        } else if !(seen.down || initial) {
            // An event of the connection before the kill.
        } else if event == zmq::SocketEvent::CONNECTED.to_raw() && !seen.connected {
            seen.connected = true;
            self.connected += 1;
            self.last_connected = Some(at);
            self.first_connected.get_or_insert(at);
        } else if event == zmq::SocketEvent::HANDSHAKE_SUCCEEDED.to_raw() && !seen.handshaken {
            seen.handshaken = true;
            self.handshaken += 1;
            self.last_handshaken = Some(at);
            self.first_handshaken.get_or_insert(at);
        }
    }
}

/// Connects `count` DEALERs to a peer child, kills the peer, starts a new
/// one on its port, and times every socket's return.
pub(super) fn run(count: usize) -> anyhow::Result<Figures> {
    let peer = peer_child(0, false)?;
    let port = peer.port()?;
    let mut fleet = Fleet::connect(count, &format!("tcp://127.0.0.1:{port}"))?;
    fleet.wait_all(true)?;
    fleet.rearm();
    let mut next = peer_child(port, true)?;
    let killed = Instant::now();
    drop(peer);
    next.listen()?;
    let peer = next;
    let back = Instant::now();
    fleet.wait_all(false)?;
    eprintln!(
        "zmq: the peer restarted in {:?} (kill to listening); first CONNECTED {:?}, first handshake {:?} after it",
        back - killed,
        fleet
            .first_connected
            .map(|at| at.saturating_duration_since(back)),
        fleet
            .first_handshaken
            .map(|at| at.saturating_duration_since(back)),
    );
    anyhow::ensure!(
        fleet.connected == count,
        "zmq: {} of {count} sockets reported CONNECTED again",
        fleet.connected
    );
    let since =
        |at: Option<Instant>| at.map_or(Duration::ZERO, |at| at.saturating_duration_since(back));
    let figures = Figures {
        connected: since(fleet.last_connected),
        handshaken: since(fleet.last_handshaken),
    };
    drop(fleet);
    drop(peer);
    Ok(figures)
}
