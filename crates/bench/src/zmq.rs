//! `linesman-bench zmq` (cargo feature `zmq`): linesman beside libzmq —
//! what the seed's users pick when they do not hand-write this — doing the
//! same work in the same run. The ratio is linesman / zmq.
//!
//! Cases (every name contains `zmq`):
//! - `frames 64 B vs zmq PUSH/PULL`, `frames 4 KiB vs zmq PUSH/PULL`: a
//!   peer sends 1,000,000 (64 B) or 100,000 (4 KiB) messages at once over
//!   TCP loopback; the application touches each. linesman: the e2e case
//!   (testkit `Send` peer, `Handler::on_frame`). zmq: a PUSH peer on a
//!   thread of its own (own context), a PULL socket in the application
//!   receiving into one reused `zmq::Message`. The clock runs from the
//!   connect to the last message; best of 5, alternating.
//! - `round trips vs zmq DEALER/ROUTER`: 20,000 sequential 64-byte
//!   requests, one in flight. linesman: `ConnectionHandle::request` to the
//!   testkit echo peer. zmq: a DEALER to a ROUTER echo peer (identity and
//!   payload sent back as received). Connecting is not timed.
//! - `reconnect all up 1k vs zmq (tcp)` and `(handshake)`: 1,000
//!   connections to a peer in a child process; the peer is killed and a
//!   new one started on the same port; the time from the new peer
//!   listening until every connection is up again. linesman: a
//!   `Supervisor` with the default restart policy (backoff 100 ms, ×2,
//!   jitter 0.2), `Connected` events. zmq: 1,000 DEALERs with the default
//!   `ZMQ_RECONNECT_IVL` (100 ms, plus libzmq's random 0–100 ms), each
//!   watched by a socket monitor: `CONNECTED` (the TCP connect, what
//!   linesman's `Connected` is) and `HANDSHAKE_SUCCEEDED` (ZMTP greeting
//!   done: the first moment a zmq socket can deliver).
//!
//! See docs/benchmarks.md for the fairness arguments.

mod reconnect;
mod reconnect_ours;
mod wire;

use std::time::Duration;

use crate::e2e::ours::{self, Api};
use crate::e2e::peers::PeerThread;
use crate::e2e::{LARGE_FRAMES, REQUEST_LEN, ROUND_TRIPS, SMALL_FRAMES, best_of, in_task, rate};
use crate::report::{Better, Measurement};

const BENCH: &str = "zmq";
/// Connections of the reconnect case.
const RECONNECTS: usize = 1_000;
/// Which part a child process runs (`peer`: the zmq ROUTER peer).
const ROLE_ENV: &str = "LINESMAN_BENCH_ZMQ_ROLE";

/// Runs every case and returns its figures, or serves as the zmq peer when
/// this process is that child.
pub(crate) fn run() -> Vec<Measurement> {
    let result = match std::env::var(ROLE_ENV).as_deref() {
        Ok("peer") => reconnect::serve_peer().map(|()| Vec::new()),
        _ => measure(),
    };
    result.unwrap_or_else(|error| {
        eprintln!("zmq: {error:#}");
        Vec::new()
    })
}

fn measure() -> anyhow::Result<Vec<Measurement>> {
    let mut out = wire_cases()?;
    out.extend(reconnect_cases()?);
    Ok(out)
}

fn wire_cases() -> anyhow::Result<Vec<Measurement>> {
    let peers = PeerThread::start(SMALL_FRAMES, LARGE_FRAMES)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let ctx = zmq::Context::new();
    let peer_ctx = zmq::Context::new();
    let mut out = Vec::new();
    for (label, target, frames, len) in [
        (
            "frames 64 B vs zmq PUSH/PULL",
            &peers.small,
            SMALL_FRAMES,
            64,
        ),
        (
            "frames 4 KiB vs zmq PUSH/PULL",
            &peers.large,
            LARGE_FRAMES,
            4096,
        ),
    ] {
        let (linesman, zmq) = best_of(|| {
            let linesman = runtime.block_on(ours::frames(target, frames, Api::OnFrame))?;
            let zmq = wire::frames(&ctx, &peer_ctx, frames, len)?;
            Ok((linesman, zmq))
        })?;
        out.push(rate(BENCH, label, "frames/s", frames, linesman, zmq));
    }
    let echo = wire::EchoPeer::start(&peer_ctx)?;
    let (linesman, zmq) = best_of(|| {
        let target = peers.echo.clone();
        let linesman = in_task(&runtime, async move {
            ours::round_trips(&target, ROUND_TRIPS, REQUEST_LEN).await
        })?;
        let zmq = wire::round_trips(&ctx, &echo, ROUND_TRIPS, REQUEST_LEN)?;
        Ok((linesman, zmq))
    })?;
    out.push(rate(
        BENCH,
        "round trips vs zmq DEALER/ROUTER",
        "round trips/s",
        ROUND_TRIPS,
        linesman,
        zmq,
    ));
    echo.stop()?;
    drop(runtime);
    peers.stop();
    Ok(out)
}

fn reconnect_cases() -> anyhow::Result<Vec<Measurement>> {
    let limit = linesman_testkit::raise_nofile_limit()
        .map_err(|error| anyhow::anyhow!("cannot raise RLIMIT_NOFILE: {error}"))?;
    // zmq: a DEALER, its monitor and the monitor's reader: an eventfd each,
    // beside the TCP socket.
    anyhow::ensure!(
        limit > 4 * RECONNECTS as u64 + 100,
        "the open-file limit is {limit}; {RECONNECTS} zmq connections need four descriptors each"
    );
    let linesman = reconnect_ours::run(RECONNECTS)?;
    let zmq = reconnect::run(RECONNECTS)?;
    let figure = |case: &str, linesman: Duration, zmq: Duration| Measurement {
        bench: BENCH,
        case: case.to_owned(),
        unit: "ms",
        linesman: linesman.as_secs_f64() * 1000.0,
        baseline: Some(zmq.as_secs_f64() * 1000.0),
        better: Better::Lower,
    };
    Ok(vec![
        figure("reconnect all up 1k vs zmq (tcp)", linesman, zmq.connected),
        figure(
            "reconnect all up 1k vs zmq (handshake)",
            linesman,
            zmq.handshaken,
        ),
    ])
}
