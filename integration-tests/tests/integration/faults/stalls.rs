//! Peers that stall in the middle: one that sends a frame a byte at a time
//! (slowloris, bounded by `frame_timeout`), and one that never reads what
//! it is sent (the writer stalls; `write_timeout` reports it as a failure,
//! never as a clean close).

use std::time::Duration;

use bytes::Bytes;
use linesman::connection::ConnectionSpec;
use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer};
use tokio::io::AsyncWriteExt;

use super::{Beside, HEALTHY, assert_healthy_in, faulty, feed, field, last_error, stop};
use crate::cli_harness::PATIENCE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_peer_is_cut_off_by_the_frame_timeout() {
    // Each connection gets a valid 24-byte frame, one byte every 100 ms.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let frame = [0u8, 1, 0, 0, 0, 0, 0, 16].into_iter().chain([0xAB; 16]);
                for byte in frame {
                    if stream.write_all(&[byte]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                std::future::pending::<()>().await;
            });
        }
    });
    let endpoint = format!("tcp://{addr}").parse().expect("an endpoint");
    let bench = Beside::start(
        "fault-slowloris",
        &faulty("faulty", &endpoint, "    frame_timeout: 500ms\n"),
    )
    .await;
    let status = bench
        .daemon
        .wait_status("the slow frame cut off twice", |s| {
            field(s, "faulty", "restarts") >= 2
        })
        .await;
    let error = last_error(&status, "faulty");
    assert!(error.contains("frame timeout"), "{error}");
    assert_eq!(
        field(&status, "faulty", "frames_in"),
        0,
        "no frame got through"
    );
    bench.assert_healthy().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_is_a_write_timeout_not_a_clean_close() {
    let silent = Peer::start(Listen::tcp(), Behavior::Silent)
        .await
        .expect("the silent peer starts");
    let feed = feed().await;
    let stalled = ConnectionSpec::new("stalled", silent.endpoint())
        .write_timeout(Some(Duration::from_millis(500)));
    let spec = Spec::builder()
        .connection(ConnectionSpec::new(HEALTHY, feed.endpoint()))
        .connection(stalled)
        .build()
        .expect("a valid spec");
    let supervisor = Supervisor::new(spec);
    let control = supervisor.control();
    let healthy = supervisor.handle(HEALTHY).expect("the feed exists");
    let handle = supervisor
        .handle("stalled")
        .expect("the stalled one exists");
    let mut downs = supervisor
        .bus()
        .subscribe(Interest::all().conn("stalled").event::<Disconnected>());
    let running = tokio::spawn(supervisor.run());

    // Send until the writer stalls; sends then wait, and end with the session.
    let sender = tokio::spawn(async move {
        let chunk = Bytes::from(vec![0u8; 64 * 1024]);
        loop {
            let _ = handle.send(Frame::new(1, chunk.clone())).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    });
    let down = {
        loop {
            let event = tokio::time::timeout(PATIENCE, downs.next())
                .await
                .expect("the stalled session ends")
                .expect("the bus is open");
            if !event.replay {
                break event;
            }
        }
    };
    let reason = &down.payload::<Disconnected>().expect("a disconnect").reason;
    assert!(reason.contains("write timeout"), "{reason}");
    sender.abort();

    assert_healthy_in(&control, &healthy).await;
    stop(&control, running).await;
}
