//! Dense dependency graphs: every connection depends on many others, and a
//! long chain of them. Start must not cost a clone of the registry per rule
//! check, and the shutdown — dependents first, wave by wave — must stay
//! bounded by one shutdown timeout overall, not one per wave.

use std::time::Duration;

use linesman_observer::{ConnState, EventType};
use linesman_supervisor::{Spec, Supervised, Supervisor};
use linesman_testkit::Behavior;

use crate::common::{LIMIT, Running, conn, peer};
use crate::shutdown::Hangs;

/// `count` connections to `endpoint`, connection `i` depending on the
/// `fan_in` connections before it: a chain `count` waves deep, each rule
/// naming up to `fan_in` others.
fn dense(count: usize, fan_in: usize, endpoint: &linesman_stream::Endpoint) -> Vec<Supervised> {
    (0..count)
        .map(|i| {
            let deps: Vec<String> = (i.saturating_sub(fan_in)..i).map(name).collect();
            let c = conn(&name(i), endpoint.clone());
            if deps.is_empty() {
                c
            } else {
                c.depends_on(deps)
            }
        })
        .collect()
}

fn name(i: usize) -> String {
    format!("c{i:04}")
}

/// Waits until every connection has been up once.
async fn all_up(run: &mut Running, count: usize) {
    for i in 0..count {
        run.log.wait_nth(&name(i), EventType::Connected, 1).await;
    }
}

/// Shuts `run` down and returns every connection's final stop reason, as
/// the registry has it.
async fn stop(mut run: Running, count: usize) -> Vec<String> {
    run.control.shutdown();
    tokio::time::timeout(LIMIT, &mut run.task)
        .await
        .expect("run returns after a shutdown, whatever the graph")
        .expect("run does not panic");
    (0..count)
        .map(|i| match run.state(&name(i)) {
            ConnState::Stopped { reason } => reason,
            other => panic!("{} is {other:?}", name(i)),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dense_graph_comes_up_and_shuts_down_cleanly() {
    const COUNT: usize = 300;
    let echo = peer(Behavior::Echo).await;
    let spec = dense(COUNT, 100, &echo.endpoint())
        .into_iter()
        .fold(Spec::builder(), |b, c| b.connection(c))
        .shutdown_timeout(Duration::from_secs(5))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    all_up(&mut run, COUNT).await;
    let reasons = stop(run, COUNT).await;
    assert!(
        reasons.iter().all(|r| r == "shutdown"),
        "every connection stopped cleanly: {:?}",
        reasons
            .iter()
            .filter(|r| *r != "shutdown")
            .take(5)
            .collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deep_chain_of_stuck_sessions_is_shut_down_within_one_timeout() {
    // 100 waves, each of whose sessions never ends by itself: one timeout
    // per wave would be 100 × (200 ms + the backstop), well past LIMIT.
    const COUNT: usize = 100;
    let echo = peer(Behavior::Echo).await;
    let spec = dense(COUNT, 3, &echo.endpoint())
        .into_iter()
        .fold(Spec::builder(), |b, c| b.connection(c))
        .shutdown_timeout(Duration::from_millis(200))
        .build()
        .expect("valid spec");
    let supervisor = (0..COUNT).fold(Supervisor::new(spec), |s, i| {
        s.handler(&name(i), Hangs).expect("declared")
    });
    let mut run = Running::start(supervisor);
    all_up(&mut run, COUNT).await;
    let reasons = stop(run, COUNT).await;
    assert!(
        reasons
            .iter()
            .all(|r| r.starts_with("shutdown") && r != "shutdown"),
        "every connection says its stop was forced: {:?}",
        reasons
            .iter()
            .filter(|r| *r == "shutdown")
            .take(5)
            .collect::<Vec<_>>()
    );
}
