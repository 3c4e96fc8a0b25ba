//! No loss across peer crashes: several senders push frames through one
//! `ConnectionHandle` while the peer process is killed (SIGKILL) and started
//! again at seeded random moments, and every frame is accounted for.
//!
//! What linesman promises, and what this checks:
//!
//! - every send resolves, exactly once (`Ok` once its frame was written
//!   whole to the socket, an error otherwise);
//! - no frame reaches the peer twice, and none in part (the peer, which
//!   records every frame it decodes, never sees a broken one);
//! - a frame reported failed never reached the peer (so resending it is
//!   safe), and every frame the peer got was sent `Ok`: with `received` the
//!   frames on the peer's record, `sent = ok + failed` and
//!   `received = ok − lost`, where `lost` are frames written whole to the
//!   socket that the killed peer never read (in its receive queue when it
//!   died: no end-to-end acknowledgement can exist without the peer's help).
//!   `lost` is printed; a frame on record but never sent, or sent and
//!   failed, fails the test.
//!
//! The seed is printed; set `LINESMAN_FAULT_SEED` to replay a run.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use linesman::connection::{ConnectionSpec, Outbox, SendError};
use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, PeerOptions, PeerProcess, Recording, TempDir};

use crate::cli_harness::PATIENCE;
use crate::support::peer_binary;

const SENDERS: u8 = 4;
const KILLS: usize = 6;
/// Each sender pauses this long every 16 frames, so the run is long enough
/// for every kill to land among sends, and the record stays small.
const PACE: Duration = Duration::from_millis(2);

/// A small deterministic generator (SplitMix64), so a run can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(low + self.next() % (high - low))
    }
}

fn seed() -> u64 {
    std::env::var("LINESMAN_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0009)
}

/// The payload of frame `seq` of sender `sender`: unique across the run.
fn payload(sender: u8, seq: u32) -> Bytes {
    let mut out = BytesMut::with_capacity(21);
    out.put_u8(sender);
    out.put_u32(seq);
    out.put_bytes(0xA5, 16);
    out.freeze()
}

fn spawn_peer(addr: SocketAddr, record: &std::path::Path) -> PeerProcess {
    let listen = Listen::Tcp(addr);
    let options = PeerOptions::default().record(record);
    // The port of the peer just killed may take a moment to be free.
    let deadline = std::time::Instant::now() + PATIENCE;
    loop {
        match PeerProcess::spawn_with_options(peer_binary(), &listen, &Behavior::Echo, &options) {
            Ok(peer) => return peer,
            Err(error) if std::time::Instant::now() < deadline => {
                eprintln!("peer did not start yet ({error}); again");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("the peer never started again: {error}"),
        }
    }
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_send_resolves_once_and_nothing_arrives_twice_in_part_or_after_a_failure() {
    let seed = seed();
    println!("no-loss seed {seed} (LINESMAN_FAULT_SEED={seed} replays it)");
    let mut rng = Rng(seed);
    let dir = TempDir::new("no-loss").expect("a temporary folder");
    let record = dir.join("peer.record");
    let addr = free_addr();
    let mut peer = spawn_peer(addr, &record);

    let endpoint: Endpoint = format!("tcp://{addr}").parse().expect("an endpoint");
    let connection = ConnectionSpec::new("feed", endpoint).outbox(Some(Outbox {
        max_frames: 512,
        max_bytes: 1 << 20,
    }));
    let policy = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(5))
                .max(Duration::from_millis(50)),
        )
        .build()
        .expect("a valid policy");
    let spec = Spec::builder()
        .connection(Supervised::new(connection).restart(policy))
        .build()
        .expect("a valid spec");
    let supervisor = Supervisor::new(spec);
    let handle = supervisor.handle("feed").expect("the connection exists");
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    // The senders send until the last kill is over.
    let killing = Arc::new(AtomicBool::new(true));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let handle = handle.clone();
            let killing = Arc::clone(&killing);
            tokio::spawn(async move {
                let mut results = Vec::new();
                let mut seq = 0u32;
                while killing.load(Ordering::Acquire) {
                    let frame = Frame::new(1, payload(sender, seq));
                    let result = tokio::time::timeout(PATIENCE, handle.send(frame))
                        .await
                        .unwrap_or_else(|_| panic!("send {sender}/{seq} never resolved"));
                    results.push((payload(sender, seq), result));
                    seq += 1;
                    if seq.is_multiple_of(16) {
                        tokio::time::sleep(PACE).await;
                    }
                }
                results
            })
        })
        .collect();

    // Kill the peer at random moments while the senders run.
    for _ in 0..KILLS {
        tokio::time::sleep(rng.millis(20, 200)).await;
        peer.kill().expect("kill the peer");
        tokio::time::sleep(rng.millis(0, 60)).await;
        peer = tokio::task::block_in_place(|| spawn_peer(addr, &record));
    }
    tokio::time::sleep(rng.millis(20, 200)).await;
    killing.store(false, Ordering::Release);

    let mut ok: HashSet<Bytes> = HashSet::new();
    let mut failed: HashMap<Bytes, SendError> = HashMap::new();
    let mut sent_count = 0;
    for sender in senders {
        for (payload, result) in sender.await.expect("a sender does not panic") {
            sent_count += 1;
            match result {
                Ok(()) => assert!(ok.insert(payload), "a payload is sent once"),
                Err(error) => {
                    failed.insert(payload, error);
                }
            }
        }
    }
    let sent = sent_count;
    assert_eq!(
        ok.len() + failed.len(),
        sent,
        "every send resolved exactly once"
    );

    // Everything sent before this request, on its session, reached the
    // peer (and its record) before the reply came back.
    let marker = handle
        .request(Frame::new(2, Bytes::from_static(b"marker")), PATIENCE)
        .await
        .expect("the last peer answers");
    assert_eq!(marker.payload, Bytes::from_static(b"marker"));
    control.shutdown();
    tokio::time::timeout(PATIENCE, running)
        .await
        .expect("the supervisor stops")
        .expect("the supervisor does not panic");
    drop(peer);

    let recording = Recording::read(&record).expect("the peer's record reads");
    assert_eq!(
        recording.protocol_errors, 0,
        "the peer never received a frame in part"
    );
    let mut received: HashSet<Bytes> = HashSet::new();
    for frame in recording.frames.iter().filter(|f| f.ty == 1) {
        assert!(
            received.insert(frame.payload.clone()),
            "frame {:?} reached the peer twice",
            frame.payload
        );
    }
    for payload in &received {
        assert!(
            !failed.contains_key(payload),
            "frame {payload:?} reached the peer although its send failed with: {}",
            failed[payload]
        );
        assert!(ok.contains(payload), "frame {payload:?} was never sent");
    }
    let lost = ok.len() - received.len();
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for error in failed.values() {
        *reasons.entry(error.to_string()).or_default() += 1;
    }
    println!(
        "no-loss: sent {sent}, ok {}, failed {} {reasons:?}, received {}, lost in the killed peers' buffers {lost}, peer lives {}, lines cut by a kill {}",
        ok.len(),
        failed.len(),
        received.len(),
        recording.lives,
        recording.cut_lines,
    );
    assert_eq!(
        recording.lives,
        KILLS + 1,
        "every life of the peer recorded"
    );
    // Frames on a cut line may or may not have been received whole; they are
    // among the frames sent `Ok` and not on record.
    assert!(
        recording.cut_lines <= KILLS,
        "at most one cut line per kill"
    );
}
