//! `Behavior::CollidingRequests`: the peer's requests use the ids a client's
//! own start with; the peer answers the client's requests with marked
//! replies and checks the client's replies to its own.

use futures_util::{SinkExt, StreamExt};
use linesman_ipc_codec::Frame;
use linesman_testkit::{Behavior, Peer, send_payload};

use crate::{Place, connect, tcp, unix, within};

async fn checks_replies(place: Place) {
    let behavior = Behavior::CollidingRequests { count: 3, ty: 5 };
    let peer = Peer::start(place.listen.clone(), behavior)
        .await
        .expect("peer starts");
    let mut client = connect(&peer.endpoint()).await.expect("client connects");
    let mut requests = Vec::new();
    for _ in 0..3 {
        let frame = within(client.next())
            .await
            .expect("a request")
            .expect("a valid frame");
        requests.push(frame);
    }
    let ids: Vec<Option<u64>> = requests.iter().map(|f| f.id).collect();
    assert_eq!(ids, [Some(1), Some(2), Some(3)], "numbered from 1");
    assert!(requests.iter().all(|f| f.ty == 5 && !f.reply));
    assert_eq!(requests[1].payload, send_payload(2, 8));

    // Our own request 1 collides with the peer's request 1: it is answered.
    client
        .send(Frame::request(9, 1, "ours"))
        .await
        .expect("send our request");
    let answer = within(client.next())
        .await
        .expect("an answer")
        .expect("a valid frame");
    assert_eq!(answer, Frame::request(9, 1, "ours").with_reply(true));

    // Right, twice the same, wrong payload, unknown id, unmarked.
    let right = requests[0].reply(6, requests[0].payload.clone());
    client.send(right.clone()).await.expect("send");
    client.send(right).await.expect("send");
    client
        .send(requests[1].reply(6, "not the payload"))
        .await
        .expect("send");
    client
        .send(Frame::request(6, 99, "x").with_reply(true))
        .await
        .expect("send");
    let stats = within(peer.wait_for(|s| s.replies_matched + s.replies_mismatched == 4)).await;
    assert_eq!((stats.replies_matched, stats.replies_mismatched), (1, 3));
    assert_eq!((stats.requests_sent, stats.requests_answered), (3, 1));
    peer.stop().await;
}

#[tokio::test]
async fn colliding_requests_checks_replies_over_tcp() {
    checks_replies(tcp()).await;
}

#[tokio::test]
async fn colliding_requests_checks_replies_over_unix() {
    checks_replies(unix()).await;
}
