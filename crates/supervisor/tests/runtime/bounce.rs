//! `on_dependency_down: stop | restart` and an upstream that drops and
//! reconnects before the dependent's task looks: the task samples the
//! rule, which holds at every look, so only the upstream's up generation
//! tells it that the upstream session it followed is gone.

use std::sync::mpsc;
use std::time::Duration;

use linesman_connection::{Handler, HandlerError, Link};
use linesman_ipc_codec::Frame;
use linesman_observer::EventType;
use linesman_supervisor::{OnDependencyDown, Spec, Supervisor};
use linesman_testkit::Behavior;

use crate::common::{LIMIT, Running, conn, peer, wait_peer};

/// Blocks its thread in its first `on_frame` until the test opens the
/// gate: its task cannot look at anything meanwhile.
struct Blocks {
    entered: mpsc::Sender<()>,
    gate: Option<mpsc::Receiver<()>>,
}

impl Handler for Blocks {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        if let Some(gate) = self.gate.take() {
            let _ = self.entered.send(());
            // Bounded: a broken test must not hang the worker for ever.
            // `block_in_place` hands this worker's other tasks (its LIFO
            // slot too, which no other worker may steal) to another
            // thread: only this task stops looking, not the upstream's
            // session or the bus (without it the test failed now and then
            // on a busy machine, the upstream's drop never published).
            let _ = tokio::task::block_in_place(|| gate.recv_timeout(LIMIT));
        }
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 3)]
async fn a_dependent_reconnects_after_an_upstream_bounce_it_did_not_see() {
    for mode in [OnDependencyDown::Restart, OnDependencyDown::Stop] {
        // The upstream peer drops each connection two seconds after
        // accepting it; the supervisor reconnects it within milliseconds.
        let upstream = peer(Behavior::Echo.flapping(Duration::from_secs(2))).await;
        // The dependent's peer sends one frame, which blocks the task.
        let downstream = peer(Behavior::Send {
            count: 1,
            ty: 1,
            payload_len: 4,
        })
        .await;
        let spec = Spec::builder()
            .connection(conn("upstream", upstream.endpoint()))
            .connection(
                conn("dependent", downstream.endpoint())
                    .depends_on(["upstream"])
                    .on_dependency_down(mode),
            )
            .build()
            .expect("valid spec");
        let (entered_tx, entered) = mpsc::channel();
        let (open, gate) = mpsc::channel();
        let supervisor = Supervisor::new(spec)
            .handler(
                "dependent",
                Blocks {
                    entered: entered_tx,
                    gate: Some(gate),
                },
            )
            .expect("declared");
        let mut run = Running::start(supervisor);
        tokio::task::spawn_blocking(move || entered.recv_timeout(LIMIT))
            .await
            .expect("the waiter does not panic")
            .expect("the dependent's handler got its frame and blocks");
        // The upstream bounces while the dependent's task cannot look.
        run.log
            .wait_nth("upstream", EventType::Disconnected, 1)
            .await;
        run.log.wait_nth("upstream", EventType::Connected, 2).await;
        open.send(()).expect("the handler waits at the gate");

        // The dependent reconnects after the upstream's new session, before
        // the upstream's next drop (two seconds later) could be the cause.
        let reconnected = run.log.wait_nth("dependent", EventType::Connected, 2).await;
        let next_drop = run
            .log
            .wait_nth("upstream", EventType::Disconnected, 2)
            .await;
        assert!(
            reconnected < next_drop,
            "{mode}: the dependent reconnected for the bounce it missed:\n{}",
            run.log.render()
        );
        wait_peer(&downstream, "a second session", |s| s.accepted >= 2).await;
        run.stop().await;
    }
}
