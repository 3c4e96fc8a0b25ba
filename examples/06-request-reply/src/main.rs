//! Run with: cargo run -p example-request-reply
//!
//! Lesson 6: request/reply in both directions on one connection.
//!
//! - Our requests: `ConnectionHandle::request` (or `Link::request` in a
//!   handler) picks a fresh id, sends, and resolves with the frame that
//!   comes back *marked as a reply* with that id.
//! - The peer's requests: a frame with an id and no reply mark is the
//!   peer's own request; it goes to the handler, which answers with
//!   `frame.reply(ty, payload)` (same id, reply mark set).
//!
//! Both sides number their requests from 1, so ids collide all the time:
//! the peer's request 7 arrives while our request 7 waits for its reply.
//! The reply mark keeps them apart. The example sends 100 requests while
//! the peer sends 100 of its own with the same ids, then prints how many
//! replies matched and how many did not, on both sides.

use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer};
use std::time::Duration;

/// How many requests each side sends.
const REQUESTS: u64 = 100;
/// The type of our requests (the echo peer answers with the same type).
const ASK: u32 = 0x20;
/// The type of our answers to the peer's requests.
const ANSWER: u32 = 0x31;

/// Answers every request of the peer with its own payload, as the peer
/// expects.
struct Answerer;

impl Handler for Answerer {
    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        if frame.id.is_some() && !frame.reply {
            link.send(frame.reply(ANSWER, frame.payload.clone()))
                .await?;
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let peer = Peer::start(
        Listen::tcp(),
        Behavior::CollidingRequests {
            count: REQUESTS,
            ty: 0x30,
        },
    )
    .await?;
    let spec = Spec::builder()
        .connection(ConnectionSpec::new("exchange", peer.endpoint()))
        .build()?;
    let supervisor = Supervisor::new(spec).handler("exchange", Answerer)?;
    let exchange = supervisor
        .handle("exchange")
        .ok_or_else(|| anyhow::anyhow!("the spec declares `exchange`"))?;
    let mut ups = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    let outcome = tokio::time::timeout(Duration::from_secs(20), async {
        ups.next().await;
        // Our requests, all in flight at once, while the peer's arrive.
        let mut requests = tokio::task::JoinSet::new();
        for n in 1..=REQUESTS {
            let exchange = exchange.clone();
            requests.spawn(async move {
                let question = format!("question {n}");
                let reply = exchange
                    .request(Frame::new(ASK, question.clone()), Duration::from_secs(5))
                    .await;
                reply.is_ok_and(|reply| reply.payload == question.as_bytes())
            });
        }
        let (mut matched, mut mismatched) = (0u64, 0u64);
        while let Some(right) = requests.join_next().await {
            if right.unwrap_or(false) {
                matched += 1;
            } else {
                mismatched += 1;
            }
        }
        // And the peer has checked all our answers to its requests.
        let peer_side = peer
            .wait_for(|s| s.replies_matched + s.replies_mismatched >= REQUESTS)
            .await;
        (matched, mismatched, peer_side)
    })
    .await;
    control.shutdown();
    running.await?;
    let (matched, mismatched, peer_side) =
        outcome.map_err(|_| anyhow::anyhow!("the exchange did not finish within 20 s"))?;

    println!("our {REQUESTS} requests: {matched} replies matched, {mismatched} mismatched");
    println!(
        "the peer's {} requests, ids 1..={REQUESTS} like ours: {} answers matched, {} mismatched",
        peer_side.requests_sent, peer_side.replies_matched, peer_side.replies_mismatched
    );
    println!(
        "replies that matched no request of ours (dropped): {}",
        exchange.counters().unmatched_replies
    );
    Ok(())
}
