//! Faults in what a peer sends, or does not: garbage, a length claim it
//! never honours, a frame cut short, a reset right after the accept, and
//! silence. Each ends only the faulty connection's session, with a reason
//! that names the fault, and the connection is restarted.

use linesman_testkit::{Behavior, HostileKind, Listen, Peer};
use tokio::io::AsyncWriteExt;

use super::{Beside, faulty, field, last_error};
use crate::cli_harness::state;

async fn peer(behavior: Behavior) -> Peer {
    Peer::start(Listen::tcp(), behavior)
        .await
        .expect("the faulty peer starts")
}

/// Starts a matrix daemon with one faulty connection to `behavior`, waits
/// until it has been restarted three times, and returns its last error.
async fn three_restarts(label: &str, behavior: Behavior, extra: &str) -> (Beside, String) {
    let bad = peer(behavior).await;
    let bench = Beside::start(label, &faulty("faulty", &bad.endpoint(), extra)).await;
    let status = bench
        .daemon
        .wait_status("the faulty connection restarted three times", |s| {
            field(s, "faulty", "restarts") >= 3
        })
        .await;
    let error = last_error(&status, "faulty").to_owned();
    bench.assert_healthy().await;
    drop(bad);
    (bench, error)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_and_unknown_flags_are_a_protocol_error() {
    let (_bench, error) = three_restarts(
        "fault-garbage",
        Behavior::Hostile(HostileKind::BadFlags),
        "",
    )
    .await;
    assert!(
        error.contains("protocol error") && error.contains("flag"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_length_is_refused_before_anything_is_allocated() {
    let bad = peer(Behavior::Hostile(HostileKind::OversizedLength)).await;
    let bench = Beside::start("fault-oversized", &faulty("faulty", &bad.endpoint(), "")).await;
    let before = bench.rss_kib();
    // Every session the peer gives is a claim refused; after the tenth
    // restart the default intensity gives up on a peer that does this.
    let status = bench
        .daemon
        .wait_status("the claims refused until the connection failed", |s| {
            state(s, "faulty") == "failed"
        })
        .await;
    assert_eq!(field(&status, "faulty", "restarts"), 10);
    let error = last_error(&status, "faulty");
    assert!(
        error.contains("protocol error") && error.contains("1073741824"),
        "{error}"
    );
    let grown = bench.rss_kib().saturating_sub(before);
    println!("oversized length: rss grew {grown} KiB over 11 refused claims of 1 GiB");
    assert!(grown < 16 * 1024, "rss grew {grown} KiB");
    bench.assert_healthy().await;
}

/// Peers that each claim a frame just under the 16 MiB limit, send its
/// header, and then nothing: what each claim costs the daemon.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_length_claim_costs_what_arrives_not_what_it_claims() {
    const CLAIMS: usize = 40;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let (held_tx, mut held_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            // type 1, flags 0, length 16 MiB - 1; then silence.
            let header = [0u8, 1, 0, 0, 0x00, 0xFF, 0xFF, 0xFF];
            if stream.write_all(&header).await.is_ok() {
                let _ = held_tx.send(stream);
            }
        }
    });
    let mut yaml = String::new();
    for i in 0..CLAIMS {
        yaml.push_str(&faulty(
            &format!("claim{i}"),
            &format!("tcp://{addr}").parse().expect("an endpoint"),
            "",
        ));
    }
    let bench = Beside::start("fault-claims", &yaml).await;
    let pid = bench.daemon.pid();
    let before = vm_size_kib(pid);
    let mut held = Vec::new();
    while held.len() < CLAIMS {
        let stream = tokio::time::timeout(crate::cli_harness::PATIENCE, held_rx.recv())
            .await
            .expect("every connection gets its claim")
            .expect("the claiming peer runs");
        held.push(stream);
    }
    // The daemon reads each header as it arrives (its byte counters only
    // move with whole frames, so there is nothing to wait on): give it a
    // moment, then look.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let grown = vm_size_kib(pid).saturating_sub(before);
    println!("{CLAIMS} claims of 16 MiB: address space grew {grown} KiB");
    assert!(
        grown < 64 * 1024,
        "{CLAIMS} unanswered claims of 16 MiB took {grown} KiB of address space"
    );
    bench.assert_healthy().await;
}

/// A peer that claims a frame of 1 GiB and sends it as fast as the daemon
/// reads, once the test opens the gate, on the first `STREAMED` sessions
/// (later ones get the header and then silence).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_the_process_cannot_make_room_for_fails_its_connection_not_the_daemon() {
    const STREAMED: usize = 2;
    const SENT: usize = 320 * 1024 * 1024;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    let (open, gate) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let mut sessions = 0;
        while let Ok((mut stream, _)) = listener.accept().await {
            sessions += 1;
            let mut gate = gate.clone();
            tokio::spawn(async move {
                // type 1, flags 0, length 1 GiB - 1.
                let header = [0u8, 1, 0, 0, 0x3F, 0xFF, 0xFF, 0xFF];
                if stream.write_all(&header).await.is_err() || sessions > STREAMED {
                    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
                    return;
                }
                if gate.wait_for(|open| *open).await.is_err() {
                    return;
                }
                let chunk = vec![0u8; 1024 * 1024];
                for _ in 0..SENT / chunk.len() {
                    if stream.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            });
        }
    });
    let endpoint = format!("tcp://{addr}").parse().expect("an endpoint");
    let bench = Beside::start(
        "fault-no-room",
        &faulty("faulty", &endpoint, "    max_frame: 1GiB\n"),
    )
    .await;
    // An address-space limit (`ulimit -v`, systemd's `LimitAS=`) of what
    // the daemon uses now and 384 MiB more: a frame's buffer growing from
    // 256 to 512 MiB on the way to 1 GiB cannot be had. Rust aborts the
    // process on an allocation that fails: every connection died with it.
    let pid = bench.daemon.pid();
    let limit = (vm_size_kib(pid) + 384 * 1024) * 1024;
    let limited = std::process::Command::new("prlimit")
        .args(["--pid", &pid.to_string(), &format!("--as={limit}")])
        .status()
        .expect("prlimit runs");
    assert!(limited.success(), "prlimit --as={limit} on {pid}");
    open.send_replace(true);
    let status = bench
        .daemon
        .wait_status("the frame refused for want of memory", |s| {
            last_error(s, "faulty").contains("cannot allocate")
        })
        .await;
    let error = last_error(&status, "faulty");
    assert!(
        error.contains("out of memory") && error.contains("max_frame"),
        "{error}"
    );
    assert!(bench.daemon.is_running(), "the daemon lives on");
    bench.assert_healthy().await;
}

fn vm_size_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmSize:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmSize")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_cut_short_by_a_close_is_a_protocol_error() {
    let (_bench, error) = three_restarts(
        "fault-truncated",
        Behavior::Hostile(HostileKind::TruncatedFrame),
        "",
    )
    .await;
    assert!(error.contains("protocol error"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_right_after_the_accept_is_a_reset() {
    let (_bench, error) = three_restarts("fault-reset", Behavior::Reset, "").await;
    assert!(error.contains("reset"), "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_peer_is_dropped_by_the_idle_timeout() {
    let (_bench, error) = three_restarts(
        "fault-silent",
        Behavior::Silent,
        "    idle_timeout: 200ms\n",
    )
    .await;
    assert!(error.contains("idle timeout"), "{error}");
}
