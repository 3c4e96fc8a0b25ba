//! Hostile tests of the send and request paths: direct writes (a sender
//! that borrows the writer's pen), the request clock, and the handle's
//! send/request API, against peers that read in bursts, stop reading,
//! reset, stay silent or answer late.
//!
//! Every await that could hang is bounded by `T` and fails the test when
//! the bound fires; assertions are on counts, orders and states.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::FutureExt;
use futures_util::future::join_all;
use linesman_connection::{
    Connection, ConnectionHandle, ConnectionSpec, Handler, HandlerError, Link, Reason,
    RequestError, SendError, StopCause,
};
use linesman_ipc_codec::{Codec, Frame};
use linesman_observer::{Bus, EventType, Interest};
use linesman_stream::ConnectOptions;
use linesman_stream::socket2::SockRef;
use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::codec::{Decoder, Encoder};

use crate::common::{Recorder, T, finish, next_frame, spec, start, up, wait_for};

/// A small deterministic generator (xorshift64*): the tests are random in
/// shape but the same on every run.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn shuffle<X>(&mut self, items: &mut [X]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.below(i as u64 + 1)).expect("small");
            items.swap(i, j);
        }
    }
}

/// The frame type of a flood frame: its sender.
const FLOOD: u32 = 100;

/// Payload length of flood frame (`sender`, `seq`): 0..=4 KiB.
fn flood_len(sender: u32, seq: u64) -> usize {
    let mut rng = Rng::new(u64::from(sender) << 32 ^ seq);
    usize::try_from(rng.below(4097)).expect("small")
}

/// Flood frame `seq` of `sender`: type `FLOOD + sender`, the id `seq`, and
/// a payload whose length and bytes both follow from (`sender`, `seq`), so
/// the peer can tell a whole frame from a torn or mixed one. A payload of
/// 12 bytes or more also starts with `sender` and `seq`.
fn flood_frame(sender: u32, seq: u64) -> Frame {
    let len = flood_len(sender, seq);
    // Byte i is (sender * 31 + seq * 7 + i) mod 256: a slice of a table
    // of every byte value, repeated (built byte by byte, a flood of debug
    // builds spent its time here).
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| (0..4096 + 256).map(|i| i as u8).collect());
    let start = usize::from((u64::from(sender) * 31 + seq * 7) as u8);
    let mut payload = BytesMut::from(&table[start..start + len]);
    if len >= 12 {
        payload[..4].copy_from_slice(&sender.to_be_bytes());
        payload[4..12].copy_from_slice(&seq.to_be_bytes());
    }
    Frame::request(FLOOD + sender, seq, payload.freeze())
}

/// (sender, seq) of a flood frame the peer got, after checking it is whole
/// and is the frame its sender made.
fn check_flood(frame: &Frame) -> (u32, u64) {
    let sender = frame
        .ty
        .checked_sub(FLOOD)
        .expect("a flood frame, nothing else");
    let seq = frame.id.expect("a flood frame carries its seq");
    assert_eq!(
        *frame,
        flood_frame(sender, seq),
        "frame ({sender}, {seq}) arrived whole and unmixed"
    );
    (sender, seq)
}

/// What a raw peer read on one connection.
#[derive(Debug, Default)]
struct Read {
    frames: Vec<Frame>,
    /// Bytes after the last whole frame when the input ended.
    leftover: usize,
    /// The input ended with an orderly close (a read of 0), not an error.
    clean_eof: bool,
}

/// How a raw peer reads.
#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Bytes per read at most.
    chunk: usize,
    /// Pause 1 ms after this many reads (0: never).
    pause_every: usize,
    /// Stop reading (and give back what was read) after this many bytes.
    limit: Option<usize>,
}

const BURSTY: Pace = Pace {
    chunk: 16 * 1024,
    pause_every: 8,
    limit: None,
};

/// Reads a page at a time, with a pause every few.
const STEADY: Pace = Pace {
    chunk: 4096,
    pause_every: 4,
    limit: None,
};

/// Reads and decodes frames with the default codec until the input ends
/// (or `pace.limit` bytes were read), pausing as `pace` says; counts the
/// frames in `seen` as they come.
async fn read_frames<R: AsyncRead + Unpin>(stream: &mut R, pace: Pace, seen: &AtomicU64) -> Read {
    let mut codec = Codec::default();
    let mut buf = BytesMut::new();
    let mut chunk = vec![0u8; pace.chunk];
    let mut out = Read::default();
    let mut reads = 0usize;
    let mut total = 0usize;
    loop {
        if pace.limit.is_some_and(|limit| total >= limit) {
            break;
        }
        let want = pace
            .limit
            .map_or(pace.chunk, |limit| pace.chunk.min(limit - total));
        match stream.read(&mut chunk[..want]).await {
            Ok(0) => {
                out.clean_eof = true;
                break;
            }
            Ok(n) => {
                total += n;
                buf.extend_from_slice(&chunk[..n]);
                while let Some(frame) = codec.decode(&mut buf).expect("the stream is well formed") {
                    seen.fetch_add(1, Ordering::Relaxed);
                    out.frames.push(frame);
                }
            }
            Err(_) => break,
        }
        reads += 1;
        if pace.pause_every > 0 && reads.is_multiple_of(pace.pause_every) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    out.leftover = buf.len();
    out
}

/// A TCP listener on loopback with a small receive buffer, so that large
/// writes are taken in part and direct writes leave frames to the writer.
fn small_tcp_listener() -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket
        .set_recv_buffer_size(8192)
        .expect("a small receive buffer");
    socket
        .bind("127.0.0.1:0".parse().expect("an address"))
        .expect("bind");
    socket.listen(4).expect("listen")
}

fn tcp_spec(name: &str, listener: &tokio::net::TcpListener) -> ConnectionSpec {
    let addr = listener.local_addr().expect("an address");
    ConnectionSpec::new(name, format!("tcp://{addr}").parse().expect("endpoint"))
        .connect(ConnectOptions::default().send_buffer_size(Some(8192)))
}

/// A peer on one accepted connection of `listener` (TCP or Unix).
enum Sink {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener, TempDir),
}

impl Sink {
    fn spec(&self, name: &str) -> ConnectionSpec {
        match self {
            Sink::Tcp(listener) => tcp_spec(name, listener),
            Sink::Unix(_, dir) => ConnectionSpec::new(
                name,
                format!("unix://{}", dir.join("peer.sock").display())
                    .parse()
                    .expect("endpoint"),
            ),
        }
    }

    fn unix() -> Sink {
        let dir = TempDir::new("attack").expect("a temp dir");
        let listener = tokio::net::UnixListener::bind(dir.join("peer.sock")).expect("bind");
        Sink::Unix(listener, dir)
    }

    /// Accepts one connection and reads it as `pace` says; what it read,
    /// and a count of the frames it has read so far.
    fn spawn(self, pace: Pace) -> (JoinHandle<Read>, Arc<AtomicU64>) {
        let seen = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&seen);
        let peer = tokio::spawn(async move {
            let seen = counted;
            match self {
                Sink::Tcp(listener) => {
                    let (mut stream, _) = listener.accept().await.expect("accept");
                    read_frames(&mut stream, pace, &seen).await
                }
                Sink::Unix(listener, _dir) => {
                    let (mut stream, _) = listener.accept().await.expect("accept");
                    read_frames(&mut stream, pace, &seen).await
                }
            }
        });
        (peer, seen)
    }
}

/// Awaits `future`, failing the test if it takes longer than `T`.
async fn bounded<F: std::future::Future>(what: &str, future: F) -> F::Output {
    match tokio::time::timeout(T, future).await {
        Ok(out) => out,
        Err(_) => panic!("{what} hung (no answer within {T:?})"),
    }
}

/// Each sender's seqs, in the order the peer got them.
fn by_sender(frames: &[Frame]) -> HashMap<u32, Vec<u64>> {
    let mut seen: HashMap<u32, Vec<u64>> = HashMap::new();
    for frame in frames {
        let (sender, seq) = check_flood(frame);
        seen.entry(sender).or_default().push(seq);
    }
    seen
}

// ---------------------------------------------------------------------
// 1. Many senders at once to a peer that reads in bursts.
// ---------------------------------------------------------------------

const SENDERS: u32 = 8;
const PER_SENDER: u64 = 2_000;

async fn many_senders_to_a_bursty_reader(sink: Sink) {
    let spec = sink.spec("flood");
    let (peer, _seen) = sink.spawn(BURSTY);
    let (handle, control, session, _frames) = up(spec).await;

    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut failed = Vec::new();
                for seq in 0..PER_SENDER {
                    let sent = bounded("a send", handle.send(flood_frame(sender, seq))).await;
                    if let Err(error) = sent {
                        failed.push((seq, error));
                    }
                }
                failed
            })
        })
        .collect();
    for sender in senders {
        let failed = bounded("a sender", sender).await.expect("no panic");
        assert!(failed.is_empty(), "every send was written: {failed:?}");
    }
    assert_eq!(
        handle.counters().frames_out,
        u64::from(SENDERS) * PER_SENDER
    );
    control.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    let read = bounded("the peer", peer).await.expect("the peer read");
    assert!(read.clean_eof, "the stream was closed, not reset");
    assert_eq!(read.leftover, 0, "no torn frame at the end");
    let seen = by_sender(&read.frames);
    for sender in 0..SENDERS {
        assert_eq!(
            seen.get(&sender).map(Vec::as_slice).unwrap_or_default(),
            (0..PER_SENDER).collect::<Vec<_>>().as_slice(),
            "sender {sender}: every frame once, in its order"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_senders_over_tcp_each_frame_arrives_once_whole_and_in_order() {
    many_senders_to_a_bursty_reader(Sink::Tcp(small_tcp_listener())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_senders_over_unix_each_frame_arrives_once_whole_and_in_order() {
    many_senders_to_a_bursty_reader(Sink::unix()).await;
}

// ---------------------------------------------------------------------
// 2. Requests and sends interleaved against an echo peer.
// ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_requests_and_sends_get_their_own_replies_and_the_counters_add_up() {
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let (handle, control, session, mut frames) = up(spec("mixed", &peer)).await;

    const TASKS: u32 = 4;
    const OPS: u64 = 400;
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut rng = Rng::new(u64::from(task) + 77);
                let (mut sends, mut requests, mut bytes) = (0u64, 0u64, 0u64);
                for op in 0..OPS {
                    let len = usize::try_from(rng.below(2049)).expect("small");
                    let mut payload = vec![(op as u8) ^ (task as u8); len];
                    if len >= 12 {
                        payload[..4].copy_from_slice(&task.to_be_bytes());
                        payload[4..12].copy_from_slice(&op.to_be_bytes());
                    }
                    let payload = Bytes::from(payload);
                    if rng.below(2) == 0 {
                        bounded("a send", handle.send(Frame::new(7, payload)))
                            .await
                            .expect("written");
                        sends += 1;
                        bytes += 8 + len as u64;
                    } else {
                        let reply = bounded(
                            "a request",
                            handle.request(Frame::new(9, payload.clone()), T),
                        )
                        .await
                        .expect("answered");
                        assert_eq!(reply.payload, payload, "the reply to its own request");
                        assert!(reply.reply, "a marked reply");
                        requests += 1;
                        bytes += 16 + len as u64;
                    }
                }
                (sends, requests, bytes)
            })
        })
        .collect();
    let (mut sends, mut requests, mut bytes) = (0, 0, 0);
    for task in tasks {
        let (s, r, b) = bounded("a task", task).await.expect("no panic");
        sends += s;
        requests += r;
        bytes += b;
    }
    // Every echo of a send reaches the handler; no reply does.
    for _ in 0..sends {
        let frame = next_frame(&mut frames).await;
        assert_eq!(frame.ty, 7, "only the echoes of plain sends: {frame:?}");
    }
    // Counted in: complete once the session waits.
    let total = sends + requests;
    let counters = bounded("the counters", async {
        loop {
            let counters = handle.counters();
            if counters.frames_in >= total {
                return counters;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(counters.frames_out, total, "frames out: sends + requests");
    assert_eq!(counters.bytes_out, bytes, "bytes out, headers included");
    assert_eq!(counters.frames_in, total, "one echo per frame");
    assert_eq!(counters.bytes_in, bytes, "the echo has the same sizes");
    assert_eq!(counters.unmatched_replies, 0);
    assert_eq!(counters.sessions, 1);
    assert!(
        frames.try_recv().is_err(),
        "nothing else reached the handler"
    );
    control.stop();
    finish(session).await;
    assert_eq!(peer.stats().frames_received, total);
}

// ---------------------------------------------------------------------
// 3. A graceful stop in the middle of a flood.
// ---------------------------------------------------------------------

/// Each of `senders` tasks sends flood frames until one fails; returns
/// each sender's results in order.
fn flood(handle: &ConnectionHandle, senders: u32) -> Vec<JoinHandle<Vec<Result<(), SendError>>>> {
    (0..senders)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                for seq in 0..1_000_000 {
                    let sent = bounded("a send", handle.send(flood_frame(sender, seq))).await;
                    let failed = sent.is_err();
                    results.push(sent);
                    if failed {
                        // One more after the first failure: it fails too.
                        let again =
                            bounded("a send", handle.send(flood_frame(sender, seq + 1))).await;
                        assert!(again.is_err(), "a send after a failure: {again:?}");
                        break;
                    }
                }
                results
            })
        })
        .collect()
}

/// Every send that returned Ok reached the peer whole, once and in its
/// sender's order; no send that failed reached it whole.
fn check_flood_outcome(results: &[Vec<Result<(), SendError>>], got: &[Frame]) {
    let seen = by_sender(got);
    for (sender, results) in results.iter().enumerate() {
        let sender = u32::try_from(sender).expect("small");
        let ok: Vec<u64> = (0..results.len() as u64)
            .filter(|&seq| results[usize::try_from(seq).expect("small")].is_ok())
            .collect();
        let first_failure = results.iter().position(Result::is_err);
        assert_eq!(
            ok.len(),
            first_failure.unwrap_or(results.len()),
            "sender {sender}: sends succeed, then fail"
        );
        assert_eq!(
            seen.get(&sender).map(Vec::as_slice).unwrap_or_default(),
            ok.as_slice(),
            "sender {sender}: exactly its sends that returned Ok arrived, in order \
             (first failure: {:?})",
            first_failure.map(|i| &results[i])
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_mid_flood_loses_no_frame_whose_send_returned_ok() {
    let sink = Sink::Tcp(small_tcp_listener());
    let spec = sink.spec("stop-flood");
    let (peer, seen) = sink.spawn(STEADY);
    let (handle, control, session, _frames) = up(spec).await;
    let senders = flood(&handle, 4);
    bounded("the peer reading 400 frames", async {
        while seen.load(Ordering::Relaxed) < 400 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    control.stop();
    let mut results = Vec::new();
    for sender in senders {
        results.push(bounded("a sender", sender).await.expect("no panic"));
    }
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    for result in results.iter().flatten() {
        if let Err(error) = result {
            assert!(
                matches!(error, SendError::NotConnected | SendError::ConnectionLost),
                "a stop fails a send as not connected or lost: {error:?}"
            );
        }
    }
    let read = bounded("the peer", peer).await.expect("the peer read");
    assert!(read.clean_eof, "the stream was closed once, not reset");
    check_flood_outcome(&results, &read.frames);
}

// ---------------------------------------------------------------------
// 4. The peer resets the connection mid-flood.
// ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_mid_flood_hangs_no_send_and_a_later_session_sends_in_order() {
    let listener = small_tcp_listener();
    let spec = tcp_spec("reset-flood", &listener);
    let (first_read, first) = oneshot::channel();
    let peer = tokio::spawn(async move {
        // The first connection: read about 256 KiB, then reset.
        let (mut stream, _) = listener.accept().await.expect("accept");
        let pace = Pace {
            chunk: 4096,
            pause_every: 8,
            limit: Some(256 * 1024),
        };
        let read = read_frames(&mut stream, pace, &AtomicU64::new(0)).await;
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("linger 0");
        drop(stream);
        let _ = first_read.send(read);
        // The second: read everything.
        let (mut stream, _) = listener.accept().await.expect("accept again");
        read_frames(&mut stream, BURSTY, &AtomicU64::new(0)).await
    });

    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("reset-flood"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let control = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    let senders = flood(&handle, 4);
    let mut results = Vec::new();
    for sender in senders {
        results.push(bounded("a sender", sender).await.expect("no panic"));
    }
    let (conn, outcome) = finish(session).await;
    assert!(
        outcome.reason.is_failure(),
        "a reset is a failure: {}",
        outcome.reason
    );
    for result in results.iter().flatten() {
        if let Err(error) = result {
            assert!(
                matches!(error, SendError::ConnectionLost | SendError::NotConnected),
                "a reset fails a send as lost or not connected: {error:?}"
            );
        }
    }
    // What the peer got whole was sent Ok, in each sender's order (what
    // returned Ok may still be lost with the peer's buffers: no receipt).
    let read = bounded("the first read", first).await.expect("a read");
    for (sender, seqs) in by_sender(&read.frames) {
        let results = &results[usize::try_from(sender).expect("small")];
        for (i, seq) in seqs.iter().enumerate() {
            assert_eq!(*seq, i as u64, "sender {sender}: in order");
            assert_eq!(
                results[usize::try_from(*seq).expect("small")],
                Ok(()),
                "sender {sender}: frame {seq} arrived whole, so its send was Ok"
            );
        }
    }

    // A later session sends again, in order.
    let session = start(conn, 2);
    wait_for(&mut events, EventType::Connected).await;
    let later = flood_n(&handle, 2, 300);
    let mut results = Vec::new();
    for sender in later {
        results.push(bounded("a sender", sender).await.expect("no panic"));
    }
    control.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    let read = bounded("the second read", peer).await.expect("a read");
    assert!(results.iter().flatten().all(Result::is_ok));
    check_flood_outcome(&results, &read.frames);
}

/// As [`flood`], `count` frames per sender, without stopping at errors.
fn flood_n(
    handle: &ConnectionHandle,
    senders: u32,
    count: u64,
) -> Vec<JoinHandle<Vec<Result<(), SendError>>>> {
    (0..senders)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                for seq in 0..count {
                    results.push(bounded("a send", handle.send(flood_frame(sender, seq))).await);
                }
                results
            })
        })
        .collect()
}

// ---------------------------------------------------------------------
// 5. Request timeouts against a silent peer.
// ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_a_silent_peer_each_time_out_after_their_own_timeout() {
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let (handle, control, session, _frames) = up(spec("silent", &peer)).await;

    const REQUESTS: u64 = 200;
    let mut timeouts: Vec<(u64, Duration)> = (0..REQUESTS)
        .map(|i| (i, Duration::from_millis(50 + i * 450 / (REQUESTS - 1))))
        .collect();
    let mut rng = Rng::new(5);
    rng.shuffle(&mut timeouts);
    let tasks: Vec<_> = timeouts
        .chunks(50)
        .map(|chunk| {
            let handle = handle.clone();
            let chunk = chunk.to_vec();
            tokio::spawn(async move {
                let requests = chunk.iter().map(|&(i, timeout)| {
                    let handle = handle.clone();
                    async move {
                        let payload = Bytes::from(i.to_be_bytes().to_vec());
                        (
                            timeout,
                            handle.request(Frame::new(3, payload), timeout).await,
                        )
                    }
                });
                join_all(requests).await
            })
        })
        .collect();
    let mut answered = 0;
    for task in tasks {
        for (timeout, result) in bounded("the requests", task).await.expect("no panic") {
            assert_eq!(
                result,
                Err(RequestError::TimedOut { after: timeout }),
                "a request times out after its own timeout"
            );
            answered += 1;
        }
    }
    assert_eq!(answered, REQUESTS);

    // Long requests still pending when the session ends fail, and the
    // connection dropped afterwards leaves nothing hanging.
    let long: Vec<_> = (0..20)
        .map(|_| {
            let handle = handle.clone();
            tokio::spawn(async move {
                handle
                    .request(Frame::new(3, "long"), Duration::from_secs(3600))
                    .await
            })
        })
        .collect();
    // Let them register (not asserted: one that comes after the stop
    // fails as not sent, which the check below accepts too).
    tokio::time::sleep(Duration::from_millis(50)).await;
    control.stop();
    let (conn, _outcome) = finish(session).await;
    for request in long {
        let result = bounded("a long request", request).await.expect("no panic");
        assert!(
            matches!(
                result,
                Err(RequestError::ConnectionLost | RequestError::Send(_))
            ),
            "a pending request fails when its session ends: {result:?}"
        );
    }
    drop(conn);
    let after = bounded(
        "a request after the connection was dropped",
        handle.request(Frame::new(3, "late"), Duration::from_secs(3600)),
    )
    .await;
    assert_eq!(after, Err(RequestError::Send(SendError::NotConnected)));
}

#[tokio::test]
async fn extreme_request_timeouts_neither_panic_nor_fire_early() {
    let peer = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("peer starts");
    let (handle, control, session, _frames) = up(spec("extreme", &peer)).await;
    let zero = bounded(
        "a zero timeout",
        handle.request(Frame::new(3, "0"), Duration::ZERO),
    )
    .await;
    assert_eq!(
        zero,
        Err(RequestError::TimedOut {
            after: Duration::ZERO
        })
    );
    let nano = Duration::from_nanos(1);
    let tiny = bounded("a 1 ns timeout", handle.request(Frame::new(3, "1"), nano)).await;
    assert_eq!(tiny, Err(RequestError::TimedOut { after: nano }));
    // Duration::MAX: no overflow, and still pending a while later.
    let mut max = Box::pin(handle.request(Frame::new(3, "max"), Duration::MAX));
    assert!((&mut max).now_or_never().is_none());
    let short = bounded(
        "a short request behind the endless one",
        handle.request(Frame::new(3, "short"), Duration::from_millis(30)),
    )
    .await;
    assert!(matches!(short, Err(RequestError::TimedOut { .. })));
    assert!((&mut max).now_or_never().is_none(), "MAX has not fired");
    control.stop();
    finish(session).await;
    assert_eq!(
        bounded("the endless request", max).await,
        Err(RequestError::ConnectionLost)
    );
}

// ---------------------------------------------------------------------
// 6. Callers who give up, and replies that come late.
// ---------------------------------------------------------------------

const SYNC: u32 = 50;
const MARKER: u32 = 51;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_replies_to_given_up_requests_are_counted_and_never_handled() {
    // The peer holds every request until a SYNC frame comes; then it
    // answers them all (marked as replies) and sends a MARKER frame.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut codec = Codec::default();
        let mut buf = BytesMut::new();
        let mut held = Vec::new();
        loop {
            if stream.read_buf(&mut buf).await.expect("read") == 0 {
                return held.len();
            }
            while let Some(frame) = codec.decode(&mut buf).expect("well formed") {
                if frame.ty != SYNC {
                    held.push(frame);
                    continue;
                }
                let mut out = BytesMut::new();
                for request in &held {
                    codec
                        .encode(request.reply(request.ty, request.payload.clone()), &mut out)
                        .expect("encode");
                }
                codec
                    .encode(Frame::new(MARKER, "marker"), &mut out)
                    .expect("encode");
                stream.write_all(&out).await.expect("write");
            }
        }
    });
    let spec = ConnectionSpec::new("late", format!("tcp://{addr}").parse().expect("endpoint"));
    let (handle, control, session, mut frames) = up(spec).await;

    // Half give up through their caller's timeout (their own is an hour),
    // half through their own (the request clock's).
    const EACH: usize = 100;
    let tasks: Vec<_> = (0..4)
        .map(|task| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let requests = (0..EACH / 4).map(|i| {
                    let handle = handle.clone();
                    async move {
                        let frame = Frame::new(9, format!("{task}/{i}"));
                        if i % 2 == 0 {
                            let caller = tokio::time::timeout(
                                Duration::from_millis(20),
                                handle.request(frame, Duration::from_secs(3600)),
                            )
                            .await;
                            assert!(caller.is_err(), "the caller gave up: {caller:?}");
                        } else {
                            let own = handle.request(frame, Duration::from_millis(20)).await;
                            assert!(matches!(own, Err(RequestError::TimedOut { .. })));
                        }
                    }
                });
                join_all(requests).await;
            })
        })
        .collect();
    for task in tasks {
        bounded("the requests", task).await.expect("no panic");
    }
    handle.send(Frame::new(SYNC, "")).await.expect("sync sent");
    let marker = next_frame(&mut frames).await;
    assert_eq!(
        marker,
        Frame::new(MARKER, "marker"),
        "no late reply reached the handler before the marker"
    );
    control.stop();
    finish(session).await;
    let held = bounded("the peer", peer).await.expect("the peer read");
    assert!(held > 0, "the peer got requests to answer");
    assert_eq!(
        handle.counters().unmatched_replies,
        held as u64,
        "every late reply was counted as unmatched"
    );
    assert!(frames.try_recv().is_err(), "and none was handled");
}

// ---------------------------------------------------------------------
// 7. Other attacks on the pen.
// ---------------------------------------------------------------------

/// Frames the codec refuses (too large for `max_frame`, a type too wide),
/// sent among good ones by several tasks: each fails alone, with `Encode`,
/// and leaves no byte on the wire.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_frames_among_a_flood_fail_alone_and_leave_the_stream_whole() {
    let sink = Sink::Tcp(small_tcp_listener());
    let spec = sink.spec("refused").max_frame(4096 - 1);
    let (peer, _seen) = sink.spawn(BURSTY);
    let (handle, control, session, _frames) = up(spec).await;
    let senders: Vec<_> = (0..4u32)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut good = Vec::new();
                for seq in 0..1_500u64 {
                    let frame = flood_frame(sender, seq);
                    let refused = match seq % 13 {
                        0 => Some(Frame::new(70_000, "a type too wide")),
                        5 => Some(Frame::new(FLOOD, vec![0xEE; 8192])),
                        9 => Some(Frame::new(FLOOD, vec![0xEE; 4096])),
                        _ => None,
                    };
                    if let Some(bad) = refused {
                        let sent = bounded("a refused send", handle.send(bad.clone())).await;
                        assert!(matches!(sent, Err(SendError::Encode(_))), "{sent:?}");
                        let asked = bounded(
                            "a refused request",
                            handle.request(bad, Duration::from_secs(5)),
                        )
                        .await;
                        assert!(
                            matches!(asked, Err(RequestError::Send(SendError::Encode(_)))),
                            "{asked:?}"
                        );
                    }
                    match bounded("a send", handle.send(frame.clone())).await {
                        Ok(()) => good.push(seq),
                        Err(SendError::Encode(_)) => assert!(frame.payload.len() > 4095),
                        Err(other) => panic!("a good frame failed: {other:?}"),
                    }
                }
                good
            })
        })
        .collect();
    let mut good = Vec::new();
    for sender in senders {
        good.push(bounded("a sender", sender).await.expect("no panic"));
    }
    control.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    let read = bounded("the peer", peer).await.expect("the peer read");
    assert!(read.clean_eof);
    assert_eq!(read.leftover, 0);
    let seen = by_sender(&read.frames);
    for (sender, good) in good.iter().enumerate() {
        let sender = u32::try_from(sender).expect("small");
        assert_eq!(
            seen.get(&sender).map(Vec::as_slice).unwrap_or_default(),
            good.as_slice(),
            "sender {sender}: the good frames, in order, nothing else"
        );
    }
}

/// Sends cancelled at random points (their futures dropped at the first
/// poll, or after a short while) among sends that complete: the wire holds
/// whole frames only, every completed send arrived, and each sender's
/// frames in its order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelled_sends_never_tear_the_stream_or_lose_a_completed_one() {
    let sink = Sink::Tcp(small_tcp_listener());
    let spec = sink.spec("cancelled");
    let (peer, _seen) = sink.spawn(STEADY);
    let (handle, control, session, _frames) = up(spec).await;
    let senders: Vec<_> = (0..4u32)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut rng = Rng::new(u64::from(sender) + 1000);
                let (mut done, mut dropped) = (Vec::new(), HashSet::new());
                for seq in 0..1_500u64 {
                    let frame = flood_frame(sender, seq);
                    match rng.below(4) {
                        0 => {
                            if handle.send(frame).now_or_never().is_none() {
                                dropped.insert(seq);
                            } else {
                                done.push(seq);
                            }
                        }
                        1 => match tokio::time::timeout(
                            Duration::from_micros(200),
                            handle.send(frame),
                        )
                        .await
                        {
                            Ok(sent) => {
                                sent.expect("written");
                                done.push(seq);
                            }
                            Err(_) => {
                                dropped.insert(seq);
                            }
                        },
                        _ => {
                            bounded("a send", handle.send(frame))
                                .await
                                .expect("written");
                            done.push(seq);
                        }
                    }
                }
                (done, dropped)
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for sender in senders {
        outcomes.push(bounded("a sender", sender).await.expect("no panic"));
    }
    control.stop();
    finish(session).await;
    let read = bounded("the peer", peer).await.expect("the peer read");
    assert!(read.clean_eof);
    assert_eq!(read.leftover, 0, "no torn frame");
    let seen = by_sender(&read.frames);
    for (sender, (done, dropped)) in outcomes.iter().enumerate() {
        let sender = u32::try_from(sender).expect("small");
        let got = seen.get(&sender).cloned().unwrap_or_default();
        let mut sorted = got.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, got, "sender {sender}: in order, once each");
        let got: HashSet<u64> = got.into_iter().collect();
        for seq in done {
            assert!(
                got.contains(seq),
                "sender {sender}: completed {seq} arrived"
            );
        }
        for seq in &got {
            assert!(
                done.contains(seq) || dropped.contains(seq),
                "sender {sender}: {seq} was sent"
            );
        }
    }
}

/// A handler that answers every PING with the next one through its link
/// (the writer's pen often lent meanwhile), while other tasks flood.
struct Pinger {
    pings: mpsc::UnboundedSender<u64>,
    others: mpsc::UnboundedSender<Frame>,
}

const PING: u32 = 60;
const PINGS: u64 = 300;

impl Handler for Pinger {
    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        if frame.ty != PING {
            let _ = self.others.send(frame);
            return Ok(());
        }
        let n = u64::from_be_bytes(frame.payload[..8].try_into().expect("8 bytes"));
        let _ = self.pings.send(n);
        if n + 1 < PINGS {
            link.send(Frame::new(PING, (n + 1).to_be_bytes().to_vec()))
                .await?;
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_sending_through_its_link_while_others_flood_keeps_every_order() {
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("peer starts");
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("pinger"));
    let (pings_tx, mut pings) = mpsc::unbounded_channel();
    let (others_tx, mut others) = mpsc::unbounded_channel();
    let handler = Pinger {
        pings: pings_tx,
        others: others_tx,
    };
    let conn = Connection::new(spec("pinger", &peer), Box::new(handler), &bus);
    let handle = conn.handle();
    let control = conn.session_control();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    handle
        .send(Frame::new(PING, 0u64.to_be_bytes().to_vec()))
        .await
        .expect("first ping");
    // Plain frames (no id: the echo would mark a frame with an id as a
    // reply), type FLOOD + sender, the seq as payload.
    let senders: Vec<_> = (0..3u32)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                for seq in 0..800u64 {
                    let frame = Frame::new(FLOOD + sender, seq.to_be_bytes().to_vec());
                    bounded("a send", handle.send(frame))
                        .await
                        .expect("written");
                }
            })
        })
        .collect();
    for sender in senders {
        bounded("a sender", sender).await.expect("no panic");
    }
    for n in 0..PINGS {
        let got = bounded("a ping", pings.recv()).await.expect("open");
        assert_eq!(got, n, "pings in order");
    }
    let mut seen: HashMap<u32, Vec<u64>> = HashMap::new();
    for _ in 0..3 * 800 {
        let frame = bounded("an echo", others.recv()).await.expect("open");
        let seq = u64::from_be_bytes(frame.payload[..].try_into().expect("8 bytes"));
        seen.entry(frame.ty - FLOOD).or_default().push(seq);
    }
    for sender in 0..3 {
        assert_eq!(
            seen.get(&sender).map(Vec::as_slice).unwrap_or_default(),
            (0..800).collect::<Vec<_>>().as_slice()
        );
    }
    control.stop();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
}

// ---------------------------------------------------------------------
// 8. An outbox across sessions that the peer keeps resetting.
// ---------------------------------------------------------------------

/// Sessions come and go (the peer resets each of the first connections
/// after a while) while several tasks flood through an outbox: a frame the
/// peer got whole was sent Ok, none arrives twice (across sessions too),
/// each sender's frames arrive in its order, and the last session gets
/// every frame sent to it.
/// Every sender's frames over all the connections `reads` (in the order
/// the connections were made): each at most once and in the sender's
/// order, and each that arrived whole had its send return Ok.
fn check_order_across(reads: &[Read], results: &[Vec<Result<(), SendError>>]) {
    let mut seen: HashMap<u32, Vec<u64>> = HashMap::new();
    for read in reads {
        for (sender, seqs) in by_sender(&read.frames) {
            seen.entry(sender).or_default().extend(seqs);
        }
    }
    for (sender, results) in results.iter().enumerate() {
        let sender = u32::try_from(sender).expect("small");
        let got = seen.get(&sender).cloned().unwrap_or_default();
        let per_connection: Vec<String> = reads
            .iter()
            .enumerate()
            .map(|(i, read)| {
                let seqs = by_sender(&read.frames).remove(&sender).unwrap_or_default();
                format!("conn {i}: {:?}..{:?}", seqs.first(), seqs.last())
            })
            .collect();
        assert!(
            got.windows(2).all(|w| w[0] < w[1]),
            "sender {sender}: once each, in order across the connections: {per_connection:?}"
        );
        for seq in &got {
            assert_eq!(
                results[usize::try_from(*seq).expect("small")],
                Ok(()),
                "sender {sender}: frame {seq} arrived whole, so its send was Ok"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_across_resets_never_duplicates_or_reorders_a_frame() {
    const RESETS: usize = 4;
    let listener = small_tcp_listener();
    let spec = tcp_spec("outbox-flood", &listener).outbox(Some(linesman_connection::Outbox {
        max_frames: 100_000,
        max_bytes: 1 << 30,
    }));
    let peer = tokio::spawn(async move {
        let mut reads = Vec::new();
        for i in 0..=RESETS {
            let (mut stream, _) = listener.accept().await.expect("accept");
            let last = i == RESETS;
            let pace = Pace {
                chunk: 4096,
                pause_every: 8,
                limit: (!last).then_some(128 * 1024),
            };
            let read = read_frames(&mut stream, pace, &AtomicU64::new(0)).await;
            if !last {
                SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .expect("linger 0");
            }
            drop(stream);
            reads.push(read);
        }
        reads
    });
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("outbox-flood"));
    let (recorder, _log, _frames) = Recorder::new();
    let mut conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let control = conn.session_control();
    let senders = flood_n(&handle, 4, 1_500);
    // The sessions, one after another, as a supervisor would run them.
    let sessions = tokio::spawn(async move {
        let mut reasons = Vec::new();
        for attempt in 1..=u32::try_from(RESETS + 1).expect("small") {
            let outcome = conn.run_session(attempt, crate::common::DRAIN).await;
            reasons.push(outcome.reason);
        }
        reasons
    });
    let mut results = Vec::new();
    for sender in senders {
        results.push(bounded("a sender", sender).await.expect("no panic"));
    }
    // A stop asked for before a session is made is forgotten by it: stop
    // once the last session is up.
    for _ in 0..=RESETS {
        wait_for(&mut events, EventType::Connected).await;
    }
    control.stop();
    let reasons = bounded("the sessions", sessions).await.expect("no panic");
    assert_eq!(reasons.last(), Some(&Reason::Stopped(StopCause::Requested)));
    let reads = bounded("the peer", peer).await.expect("the peer read");
    for result in results.iter().flatten() {
        if let Err(error) = result {
            assert_eq!(
                *error,
                SendError::ConnectionLost,
                "with an outbox only a frame being written is lost"
            );
        }
    }
    check_order_across(&reads, &results);
    // The last session was stopped, not reset: everything sent Ok to it
    // arrived (frames sent after the last reset).
    let last = reads.last().expect("the last connection");
    assert!(last.clean_eof);
    assert_eq!(last.leftover, 0);
    for (sender, got) in by_sender(&last.frames) {
        let results = &results[usize::try_from(sender).expect("small")];
        let first = usize::try_from(got[0]).expect("small");
        let ok: Vec<u64> = (first..results.len())
            .filter(|&seq| results[seq].is_ok())
            .map(|seq| seq as u64)
            .collect();
        assert_eq!(
            got, ok,
            "sender {sender}: every send of the last session that returned Ok arrived"
        );
    }
}

// ---------------------------------------------------------------------
// 9. A session that fails while senders keep the pen busy.
// ---------------------------------------------------------------------

/// The peer reads fast and, once it has read a few hundred frames, shuts
/// its side for writing (the session ends: the peer closed) while it goes
/// on reading. Senders flooding with direct writes must not keep the
/// writer from taking its pen back: the session ends, every send resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_failing_under_a_flood_of_direct_writes_still_ends() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let peer = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.expect("accept");
        let (mut read, mut write) = stream.into_split();
        let seen = Arc::new(AtomicU64::new(0));
        let reader = {
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let pace = Pace {
                    chunk: 64 * 1024,
                    pause_every: 0,
                    limit: None,
                };
                read_frames(&mut read, pace, &seen).await
            })
        };
        while seen.load(Ordering::Relaxed) < 300 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        write.shutdown().await.expect("shutdown");
        let read = reader.await.expect("the reader");
        drop(write);
        read
    });
    let spec = ConnectionSpec::new(
        "busy-pen",
        format!("tcp://{addr}").parse().expect("endpoint"),
    );
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("busy-pen"));
    let (recorder, _log, _frames) = Recorder::new();
    let conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let session = start(conn, 1);
    wait_for(&mut events, EventType::Connected).await;
    // Small frames: each direct write is quick, and the pen is borrowed
    // again and again.
    let senders: Vec<_> = (0..4u32)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut ok = 0u64;
                loop {
                    let frame = Frame::new(FLOOD + sender, ok.to_be_bytes().to_vec());
                    match handle.send(frame).await {
                        Ok(()) => ok += 1,
                        Err(error) => return (ok, error),
                    }
                }
            })
        })
        .collect();
    let (_conn, outcome) = finish(session).await;
    assert_eq!(outcome.reason, Reason::PeerClosed);
    for sender in senders {
        let (_ok, error) = bounded("a sender", sender).await.expect("no panic");
        assert!(
            matches!(error, SendError::NotConnected | SendError::ConnectionLost),
            "{error:?}"
        );
    }
    let read = bounded("the peer", peer).await.expect("the peer read");
    assert!(read.clean_eof);
}

// ---------------------------------------------------------------------
// 10. Requests in flight when the peer resets.
// ---------------------------------------------------------------------

/// The peer answers requests, then resets mid-stream: every request
/// resolves (its reply, or `ConnectionLost`, or not sent at all once the
/// session is gone), none with another's reply, none hangs, even with a
/// timeout of an hour.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_when_the_peer_resets_all_resolve() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let peer = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.expect("accept");
        let mut codec = Codec::default();
        let mut buf = BytesMut::new();
        let mut answered = 0u64;
        'outer: loop {
            if stream.read_buf(&mut buf).await.expect("read") == 0 {
                break;
            }
            let mut out = BytesMut::new();
            while let Some(frame) = codec.decode(&mut buf).expect("well formed") {
                if answered == 500 {
                    break 'outer;
                }
                // Answers every other request, so some always wait.
                if frame.id.is_some_and(|id| id % 2 == 0) {
                    codec
                        .encode(frame.reply(frame.ty, frame.payload.clone()), &mut out)
                        .expect("encode");
                    answered += 1;
                }
            }
            stream.write_all(&out).await.expect("write");
        }
        SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .expect("linger 0");
        drop(stream);
        answered
    });
    let spec = ConnectionSpec::new(
        "rq-reset",
        format!("tcp://{addr}").parse().expect("endpoint"),
    );
    let (handle, _control, session, _frames) = up(spec).await;
    let tasks: Vec<_> = (0..4u32)
        .map(|task| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let requests = (0..400u32).map(|i| {
                    let handle = handle.clone();
                    async move {
                        let payload = format!("{task}/{i}");
                        let result = handle
                            .request(Frame::new(9, payload.clone()), Duration::from_secs(3600))
                            .await;
                        (payload, result)
                    }
                });
                join_all(requests).await
            })
        })
        .collect();
    let (_conn, outcome) = finish(session).await;
    assert!(outcome.reason.is_failure(), "{}", outcome.reason);
    let mut replies = 0u64;
    for task in tasks {
        for (payload, result) in bounded("the requests", task).await.expect("no panic") {
            match result {
                Ok(reply) => {
                    assert_eq!(reply.payload, Bytes::from(payload), "its own reply");
                    replies += 1;
                }
                Err(RequestError::ConnectionLost | RequestError::Send(SendError::NotConnected)) => {
                }
                Err(other) => panic!("a request failed with {other:?}"),
            }
        }
    }
    let answered = bounded("the peer", peer).await.expect("the peer");
    assert!(
        replies <= answered,
        "{replies} replies, {answered} answered"
    );
    assert_eq!(handle.counters().unmatched_replies, 0);
}

// ---------------------------------------------------------------------
// 11. Session futures dropped mid-flood (a caller that gives up on them).
// ---------------------------------------------------------------------

/// A caller runs each session under a short timeout, so the session future
/// is dropped in the middle of a flood (its writer aborted, its lent pen
/// dropped), again and again, then runs one to its stop. No send hangs;
/// no frame arrives twice or out of its sender's order across the
/// connections; a frame the peer got whole was sent Ok.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_futures_dropped_mid_flood_leave_no_stale_writer() {
    const DROPPED: usize = 40;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let peer = tokio::spawn(async move {
        let mut readers = Vec::new();
        for _ in 0..=DROPPED {
            let (mut stream, _) = listener.accept().await.expect("accept");
            readers.push(tokio::spawn(async move {
                read_frames(&mut stream, BURSTY, &AtomicU64::new(0)).await
            }));
        }
        let mut reads = Vec::new();
        for reader in readers {
            reads.push(reader.await.expect("a reader"));
        }
        reads
    });
    let spec = ConnectionSpec::new(
        "dropped",
        format!("tcp://{addr}").parse().expect("endpoint"),
    );
    let bus = Bus::default();
    let mut events = bus.subscribe(Interest::all().conn("dropped"));
    let (recorder, _log, _frames) = Recorder::new();
    let mut conn = Connection::new(spec, Box::new(recorder), &bus);
    let handle = conn.handle();
    let control = conn.session_control();
    let senders: Vec<_> = (0..4u32)
        .map(|sender| {
            let handle = handle.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                for seq in 0..6_000u64 {
                    let sent = bounded("a send", handle.send(flood_frame(sender, seq))).await;
                    if sent == Err(SendError::NotConnected) {
                        tokio::task::yield_now().await;
                    }
                    results.push(sent);
                }
                results
            })
        })
        .collect();
    let mut rng = Rng::new(11);
    for attempt in 1..=u32::try_from(DROPPED).expect("small") {
        let cut = Duration::from_micros(2_000 + rng.below(8_000));
        let session = conn.run_session(attempt, crate::common::DRAIN);
        let ran = async {
            tokio::pin!(session);
            // Up first, then cut a little later: the future is dropped.
            tokio::select! {
                outcome = &mut session => Some(outcome),
                () = async {
                    wait_for(&mut events, EventType::Connected).await;
                    tokio::time::sleep(cut).await;
                } => None,
            }
        };
        let outcome = bounded("a session", ran).await;
        assert!(
            outcome.is_none(),
            "the session was cut, not ended: {outcome:?}"
        );
    }
    let last = start(conn, u32::try_from(DROPPED).expect("small") + 1);
    // A stop asked for before a session is made is forgotten by it.
    wait_for(&mut events, EventType::Connected).await;
    let mut results = Vec::new();
    for sender in senders {
        results.push(bounded("a sender", sender).await.expect("no panic"));
    }
    control.stop();
    let (_conn, outcome) = finish(last).await;
    assert_eq!(outcome.reason, Reason::Stopped(StopCause::Requested));
    let reads = bounded("the peer", peer).await.expect("the peer read");
    for result in results.iter().flatten() {
        if let Err(error) = result {
            assert!(
                matches!(error, SendError::NotConnected | SendError::ConnectionLost),
                "{error:?}"
            );
        }
    }
    check_order_across(&reads, &results);
    let last = reads.last().expect("the last connection");
    assert!(last.clean_eof);
    assert_eq!(last.leftover, 0);
}
