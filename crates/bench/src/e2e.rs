//! `linesman-bench e2e`: one loopback TCP connection end to end — frames
//! from a peer to a linesman [`Handler`](linesman_connection::Handler), and
//! sequential request/response round trips through
//! [`ConnectionHandle::request`](linesman_connection::ConnectionHandle::request)
//! — beside plain tokio `Framed<TcpStream, LengthDelimitedCodec>` doing the
//! same against the same peers, in the same run.
//!
//! Setup, and why:
//! - The peers are in-process testkit [`Peer`](linesman_testkit::Peer)s
//!   (`Send { count }` for frames, `Echo` for round trips) on a thread of
//!   their own with a current-thread runtime, so on a 2-core machine the
//!   peer and the client each have a core. The client side (linesman or the
//!   baseline) runs on one current-thread runtime on the calling thread.
//! - Frames: each repetition opens a fresh connection; the peer sends
//!   `count` frames at once (64 KiB writes) and the client counts them. The
//!   clock runs from the connect to the last frame. linesman: one
//!   `Connection::run_session` (no supervisor: it is not on the data path)
//!   whose handler counts frames and signals the last — through `on_frame`
//!   (one call per frame: `frames 64 B`, `frames 4 KiB`) or an overridden
//!   `on_frames` (one call per burst: the `(on_frames)` cases), each against
//!   its own baseline repetitions. Baseline: a
//!   `Framed<TcpStream, LengthDelimitedCodec>` whose codec is configured to
//!   linesman's 8-byte header (length at offset 4, 4 bytes, header kept),
//!   so it splits the same bytes into the same frames.
//! - Round trips: one request in flight, 64-byte payload. linesman:
//!   `ConnectionHandle::request` (fresh id, reply matched by id, within a
//!   5 s timeout: `request` always has one). Baseline: encode the 8-byte
//!   header and payload into a reused buffer, `write_all`, then read one
//!   frame from the `Framed` within the same timeout (`tokio::time::timeout`)
//!   — `round trips`; and, as it was measured until 2026-12-03, with no
//!   timeout at all — `round trips vs untimed reads` (an armed timer costs
//!   the waiting thread a timer-wheel lookup and an `epoll_wait` with a
//!   timeout each time it parks: ~7 points of the ratio here). The baseline
//!   sends no request id (its codec splits frames on an 8-byte header), so
//!   linesman's frames are 8 bytes longer. Connecting is not timed.
//!   And `round trips vs matched replies` (since 2026-12-03, for context;
//!   the target is `round trips`): the baseline as a tokio client that
//!   lets requests be concurrent is written, doing linesman's work per
//!   request — a fresh id in linesman's own frame, a oneshot for the reply
//!   in a pending table (hashed as linesman hashes it), the write, a wait
//!   for the oneshot within the same timeout, and a reader task on the
//!   read half that matches each reply to its request by id.
//! - Best of [`REPETITIONS`], linesman and baseline alternating.
//! - `LINESMAN_BENCH_E2E_ONLY=frames` or `=round-trips` runs only those
//!   cases, to profile one path; `=models` runs only the models of request
//!   designs in plain tokio (`e2e/model.rs`), which are not linesman.

mod model;
pub(crate) mod ours;
pub(crate) mod peers;
mod plain;

use std::future::Future;
use std::time::Duration;

use self::model::Rearm;
use self::ours::Api;
use crate::report::{Better, Measurement};

const BENCH: &str = "e2e";
/// Set to `frames` or `round-trips` to run only those cases (for profiling
/// one path, e.g. under callgrind or `strace -c`).
const ONLY_ENV: &str = "LINESMAN_BENCH_E2E_ONLY";
/// Repetitions per figure; the best counts.
pub(crate) const REPETITIONS: usize = 5;
/// 64-byte frames per repetition.
pub(crate) const SMALL_FRAMES: u64 = 1_000_000;
/// 4 KiB frames per repetition.
pub(crate) const LARGE_FRAMES: u64 = 100_000;
/// Round trips per repetition.
pub(crate) const ROUND_TRIPS: u64 = 20_000;
/// Payload bytes of a request.
pub(crate) const REQUEST_LEN: usize = 64;
/// Request timeout of both sides of the round trips; never reached on
/// loopback.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs every case and returns its figures.
pub(crate) fn run() -> Vec<Measurement> {
    match measure() {
        Ok(measurements) => measurements,
        Err(error) => {
            eprintln!("e2e: {error:#}");
            Vec::new()
        }
    }
}

fn measure() -> anyhow::Result<Vec<Measurement>> {
    let peers = peers::PeerThread::start(SMALL_FRAMES, LARGE_FRAMES)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let only = std::env::var(ONLY_ENV).unwrap_or_default();
    let mut out = Vec::new();
    for (label, endpoint, frames, api) in [
        ("frames 64 B", &peers.small, SMALL_FRAMES, Api::OnFrame),
        ("frames 4 KiB", &peers.large, LARGE_FRAMES, Api::OnFrame),
        (
            "frames 64 B (on_frames)",
            &peers.small,
            SMALL_FRAMES,
            Api::OnFrames,
        ),
        (
            "frames 4 KiB (on_frames)",
            &peers.large,
            LARGE_FRAMES,
            Api::OnFrames,
        ),
    ] {
        if only == "round-trips" || only == MODELS {
            break;
        }
        let (ours, theirs) = best_of(|| {
            let ours = runtime.block_on(ours::frames(endpoint, frames, api))?;
            let theirs = runtime.block_on(plain::frames(endpoint, frames))?;
            Ok((ours, theirs))
        })?;
        out.push(rate(BENCH, label, "frames/s", frames, ours, theirs));
    }
    if only != "frames" {
        let cases: &[(&str, Client, Client)] = if only == MODELS {
            // The "linesman" column is the model here (`e2e/model.rs`).
            &[
                (
                    "model: two tasks, not linesman",
                    Client::Matched,
                    Client::Timed,
                ),
                (
                    "model: lent reader, not linesman",
                    Client::Lent(Rearm::WakeSession),
                    Client::Timed,
                ),
                (
                    "model: lent reader re-armed, not linesman",
                    Client::Lent(Rearm::SessionWaker),
                    Client::Timed,
                ),
            ]
        } else {
            &[
                ("round trips", Client::Linesman, Client::Timed),
                (
                    "round trips vs untimed reads",
                    Client::Linesman,
                    Client::Untimed,
                ),
                (
                    "round trips vs matched replies",
                    Client::Linesman,
                    Client::Matched,
                ),
            ]
        };
        for &(label, ours, theirs) in cases {
            let (ours, theirs) = best_of(|| {
                let ours = ours.round_trips(&runtime, &peers.echo)?;
                let theirs = theirs.round_trips(&runtime, &peers.echo)?;
                Ok((ours, theirs))
            })?;
            out.push(rate(
                BENCH,
                label,
                "round trips/s",
                ROUND_TRIPS,
                ours,
                theirs,
            ));
        }
    }
    drop(runtime);
    peers.stop();
    Ok(out)
}

/// The value of [`ONLY_ENV`] that runs the models of request designs
/// alone.
const MODELS: &str = "models";

/// A client whose round trips are measured.
#[derive(Debug, Clone, Copy)]
enum Client {
    /// linesman's `ConnectionHandle::request`.
    Linesman,
    /// Plain tokio, one task that reads its own reply within a timeout:
    /// the target's baseline.
    Timed,
    /// The same without a timeout.
    Untimed,
    /// Plain tokio, a reader task that matches replies to concurrent
    /// requests by id (also the model of the two-task design).
    Matched,
    /// The model of a lent reader (`e2e/model.rs`).
    Lent(Rearm),
}

impl Client {
    /// The time of [`ROUND_TRIPS`] sequential round trips to `echo`, on a
    /// task of its own (see [`in_task`]).
    fn round_trips(
        self,
        runtime: &tokio::runtime::Runtime,
        echo: &peers::Target,
    ) -> anyhow::Result<Duration> {
        let echo = echo.clone();
        in_task(runtime, async move {
            match self {
                Client::Linesman => ours::round_trips(&echo, ROUND_TRIPS, REQUEST_LEN).await,
                Client::Timed => {
                    plain::round_trips(&echo, ROUND_TRIPS, REQUEST_LEN, Some(REQUEST_TIMEOUT)).await
                }
                Client::Untimed => plain::round_trips(&echo, ROUND_TRIPS, REQUEST_LEN, None).await,
                Client::Matched => {
                    plain::round_trips_matched(&echo, ROUND_TRIPS, REQUEST_LEN, REQUEST_TIMEOUT)
                        .await
                }
                Client::Lent(rearm) => {
                    model::round_trips_lent(&echo, ROUND_TRIPS, REQUEST_LEN, REQUEST_TIMEOUT, rearm)
                        .await
                }
            }
        })
    }
}

/// Runs `work` on a task of its own, as application code that makes
/// requests runs. Both sides of the round trips run this way: tokio's
/// current-thread scheduler polls its I/O driver (a zero-timeout
/// `epoll_wait`) before it polls the future `block_on` drives when another
/// task woke it, which a spawned task does not pay; linesman's requester is
/// woken by the session's task, the baseline's loop only by I/O, so in
/// `block_on` the harness would charge linesman one syscall per round trip.
pub(crate) fn in_task<T: Send + 'static>(
    runtime: &tokio::runtime::Runtime,
    work: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    runtime.block_on(async {
        tokio::spawn(work)
            .await
            .map_err(|error| anyhow::anyhow!("the measured task failed: {error}"))?
    })
}

/// The shortest of [`REPETITIONS`] runs of each side; `once` runs both.
pub(crate) fn best_of(
    mut once: impl FnMut() -> anyhow::Result<(Duration, Duration)>,
) -> anyhow::Result<(Duration, Duration)> {
    let mut best = (Duration::MAX, Duration::MAX);
    for _ in 0..REPETITIONS {
        let (ours, theirs) = once()?;
        best = (best.0.min(ours), best.1.min(theirs));
    }
    Ok(best)
}

/// A rate of `bench`'s `case`: `count` things in `ours` beside `theirs`.
pub(crate) fn rate(
    bench: &'static str,
    case: &str,
    unit: &'static str,
    count: u64,
    ours: Duration,
    theirs: Duration,
) -> Measurement {
    let per_second = |d: Duration| count as f64 / d.as_secs_f64().max(f64::MIN_POSITIVE);
    Measurement {
        bench,
        case: case.to_owned(),
        unit,
        linesman: per_second(ours),
        baseline: Some(per_second(theirs)),
        better: Better::Higher,
    }
}
