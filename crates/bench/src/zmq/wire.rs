//! The libzmq side of the zmq e2e cases: PUSH/PULL messages from a peer
//! to the application, and DEALER/ROUTER round trips, over TCP loopback.
//!
//! The peer sockets live in a context of their own, on threads of their
//! own (as the e2e testkit peers do), so the application's context and the
//! peer's each have their I/O thread, as two processes would.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::Context;

/// How long the echo peer blocks in one receive before it checks whether it
/// should stop.
const ECHO_POLL_MS: i32 = 100;
/// Longest a send or receive may block before the case fails (no wait of
/// the harness is unbounded; none comes near it on loopback).
const STALL_MS: i32 = 30_000;

fn zmq_error(what: &str) -> impl FnOnce(zmq::Error) -> anyhow::Error + '_ {
    move |error| anyhow::anyhow!("zmq: {what}: {error}")
}

/// A PUSH peer bound on a free loopback port, on a thread of its own,
/// sending `count` messages of `len` bytes as soon as it can; returns the
/// endpoint to connect to and the thread, which ends after its last send
/// and hands the socket back, to be closed once everything was received.
fn push_peer(
    peer_ctx: &zmq::Context,
    count: u64,
    len: usize,
) -> anyhow::Result<(String, JoinHandle<anyhow::Result<zmq::Socket>>)> {
    let push = peer_ctx
        .socket(zmq::PUSH)
        .map_err(zmq_error("PUSH socket"))?;
    // If the receiver fails, the sender gives up instead of blocking at its
    // high-water mark, and its close drops what is queued.
    push.set_sndtimeo(STALL_MS)
        .and_then(|()| push.set_linger(0))
        .map_err(zmq_error("PUSH options"))?;
    push.bind("tcp://127.0.0.1:*")
        .map_err(zmq_error("PUSH bind"))?;
    let endpoint = push
        .get_last_endpoint()
        .map_err(zmq_error("PUSH endpoint"))?
        .map_err(|_| anyhow::anyhow!("zmq: the PUSH endpoint is not UTF-8"))?;
    let thread = std::thread::Builder::new()
        .name("zmq-push".into())
        .spawn(move || {
            let payload = vec![0x5a_u8; len];
            for _ in 0..count {
                push.send(&payload[..], 0).map_err(zmq_error("PUSH send"))?;
            }
            Ok(push)
        })
        .context("cannot start the PUSH thread")?;
    Ok((endpoint, thread))
}

/// Connects a PULL socket to a fresh PUSH peer and receives `count`
/// messages of `len` bytes, touching each; the time from the connect to the
/// last (the socket is made before the clock starts, as linesman's
/// `Connection` is).
pub(super) fn frames(
    ctx: &zmq::Context,
    peer_ctx: &zmq::Context,
    count: u64,
    len: usize,
) -> anyhow::Result<Duration> {
    let (endpoint, sender) = push_peer(peer_ctx, count, len)?;
    let pull = ctx.socket(zmq::PULL).map_err(zmq_error("PULL socket"))?;
    pull.set_rcvtimeo(STALL_MS)
        .map_err(zmq_error("PULL options"))?;
    let mut msg = zmq::Message::new();
    let start = Instant::now();
    pull.connect(&endpoint).map_err(zmq_error("PULL connect"))?;
    for _ in 0..count {
        pull.recv(&mut msg, 0).map_err(zmq_error("PULL recv"))?;
        black_box(&msg[..]);
    }
    let elapsed = start.elapsed();
    anyhow::ensure!(msg.len() == len, "zmq: a message of {} bytes", msg.len());
    let push = sender
        .join()
        .map_err(|_| anyhow::anyhow!("the PUSH thread panicked"))??;
    drop(push);
    Ok(elapsed)
}

/// A ROUTER echo peer on a thread of its own: every message comes back to
/// the DEALER that sent it.
#[derive(Debug)]
pub(super) struct EchoPeer {
    pub(super) endpoint: String,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<anyhow::Result<()>>,
}

impl EchoPeer {
    /// Binds the ROUTER on a free loopback port and serves.
    pub(super) fn start(peer_ctx: &zmq::Context) -> anyhow::Result<EchoPeer> {
        let router = peer_ctx
            .socket(zmq::ROUTER)
            .map_err(zmq_error("ROUTER socket"))?;
        router
            .set_rcvtimeo(ECHO_POLL_MS)
            .and_then(|()| router.set_sndtimeo(STALL_MS))
            .and_then(|()| router.set_linger(0))
            .map_err(zmq_error("ROUTER options"))?;
        router
            .bind("tcp://127.0.0.1:*")
            .map_err(zmq_error("ROUTER bind"))?;
        let endpoint = router
            .get_last_endpoint()
            .map_err(zmq_error("ROUTER endpoint"))?
            .map_err(|_| anyhow::anyhow!("zmq: the ROUTER endpoint is not UTF-8"))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let (ready, started) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("zmq-echo".into())
            .spawn(move || {
                let _ = ready.send(());
                while !stopping.load(Ordering::Relaxed) {
                    // Identity frame, then the payload; both go back as
                    // they came (the messages are moved, not copied).
                    let mut identity = zmq::Message::new();
                    match router.recv(&mut identity, 0) {
                        Ok(()) => {}
                        Err(zmq::Error::EAGAIN) => continue,
                        Err(error) => return Err(zmq_error("ROUTER recv")(error)),
                    }
                    let mut payload = zmq::Message::new();
                    router
                        .recv(&mut payload, 0)
                        .map_err(zmq_error("ROUTER recv"))?;
                    router
                        .send(identity, zmq::SNDMORE)
                        .and_then(|()| router.send(payload, 0))
                        .map_err(zmq_error("ROUTER send"))?;
                }
                Ok(())
            })
            .context("cannot start the echo thread")?;
        started
            .recv()
            .context("the echo thread ended before it served")?;
        Ok(EchoPeer {
            endpoint,
            stop,
            thread,
        })
    }

    /// Stops the echo thread and joins it.
    pub(super) fn stop(self) -> anyhow::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the echo thread panicked"))?
    }
}

/// Connects a DEALER to `echo`, makes one round trip untimed (libzmq
/// connects and handshakes in the background: linesman's side waits for
/// `Connected` untimed too), then times `count` sequential round trips of
/// `len`-byte payloads.
pub(super) fn round_trips(
    ctx: &zmq::Context,
    echo: &EchoPeer,
    count: u64,
    len: usize,
) -> anyhow::Result<Duration> {
    let dealer = ctx
        .socket(zmq::DEALER)
        .map_err(zmq_error("DEALER socket"))?;
    dealer
        .set_rcvtimeo(STALL_MS)
        .and_then(|()| dealer.set_sndtimeo(STALL_MS))
        .and_then(|()| dealer.set_linger(0))
        .map_err(zmq_error("DEALER options"))?;
    dealer
        .connect(&echo.endpoint)
        .map_err(zmq_error("DEALER connect"))?;
    let payload = vec![0x5a_u8; len];
    let mut reply = zmq::Message::new();
    let mut once = || -> anyhow::Result<()> {
        dealer
            .send(&payload[..], 0)
            .map_err(zmq_error("DEALER send"))?;
        dealer
            .recv(&mut reply, 0)
            .map_err(zmq_error("DEALER recv"))?;
        black_box(&reply[..]);
        Ok(())
    };
    once()?;
    let start = Instant::now();
    for _ in 0..count {
        once()?;
    }
    Ok(start.elapsed())
}
