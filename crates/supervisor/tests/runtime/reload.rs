//! Reloading a running supervisor (`SupervisorHandle::reload`) against real
//! peers: an unchanged connection keeps its session (its peer accepts
//! once), removed ones stop dependents first saying so, a changed one moves
//! to its new endpoint, an added one starts, the `reloaded` event names
//! them; a second reload while one runs is refused; the socket budget stays
//! the one the supervisor started with.

use linesman_observer::{ConnectFailed, EventType, Reloaded, Stopped};
use linesman_supervisor::{ReloadError, Spec, Supervised};
use linesman_testkit::{Behavior, Peer};

use crate::common::{Running, accepted_exactly, conn, peer, wait_peer};

async fn echo() -> Peer {
    peer(Behavior::Echo).await
}

fn spec(connections: Vec<Supervised>) -> Spec {
    connections
        .into_iter()
        .fold(Spec::builder(), |spec, c| spec.connection(c))
        .build()
        .expect("valid spec")
}

#[tokio::test]
async fn reload_keeps_unchanged_stops_removed_dependents_first_and_moves_changed() {
    let [kept, gone, child, old, new, fresh] = [
        echo().await,
        echo().await,
        echo().await,
        echo().await,
        echo().await,
        echo().await,
    ];
    let mut run = Running::spec(spec(vec![
        conn("kept", kept.endpoint()),
        conn("gone", gone.endpoint()),
        conn("child", child.endpoint()).depends_on(["gone"]),
        conn("moved", old.endpoint()),
    ]));
    for name in ["kept", "gone", "child", "moved"] {
        run.log.wait_nth(name, EventType::Connected, 1).await;
    }

    let report = run
        .control
        .reload(spec(vec![
            conn("kept", kept.endpoint()),
            conn("moved", new.endpoint()),
            conn("fresh", fresh.endpoint()),
        ]))
        .await
        .expect("the reload is applied");
    assert_eq!(report.added, ["fresh"]);
    assert_eq!(report.removed, ["gone", "child"]);
    assert_eq!(report.changed, ["moved"]);
    assert_eq!(report.unchanged, ["kept"]);
    assert!(report.needs_restart.is_empty(), "{report:?}");

    run.log.wait_nth("fresh", EventType::Connected, 1).await;
    run.log.wait_nth("moved", EventType::Connected, 2).await;
    let reloaded = run
        .log
        .wait(0, "", |e| e.event_type() == EventType::Reloaded)
        .await;
    let what = run.log.events[reloaded]
        .payload::<Reloaded>()
        .expect("a reloaded payload");
    assert_eq!(
        (&what.added, &what.removed, &what.changed),
        (
            &vec!["fresh".to_owned()],
            &vec!["gone".to_owned(), "child".to_owned()],
            &vec!["moved".to_owned()]
        )
    );
    // Dependents first, each saying why.
    assert!(
        run.log.seq_of("child", EventType::Stopped) < run.log.seq_of("gone", EventType::Stopped),
        "{}",
        run.log.render()
    );
    for name in ["child", "gone"] {
        let reason = run
            .log
            .of(name)
            .iter()
            .find_map(|e| e.payload::<Stopped>())
            .map(|s| s.reason.clone());
        assert_eq!(reason.as_deref(), Some("removed by reload"), "{name}");
    }
    // The unchanged one: one session, no event since it came up.
    assert_eq!(run.log.count("kept", EventType::Connected), 1);
    assert_eq!(run.log.count("kept", EventType::Stopping), 0);
    accepted_exactly(&kept, 1).await;
    assert_eq!(kept.stats().open, 1);
    wait_peer(&old, "the old endpoint closed", |s| s.open == 0).await;
    accepted_exactly(&new, 1).await;
    wait_peer(&gone, "gone closed", |s| s.open == 0).await;
    wait_peer(&child, "child closed", |s| s.open == 0).await;
    let names: Vec<String> = run.control.names().iter().map(|n| n.to_string()).collect();
    assert_eq!(names, ["kept", "moved", "fresh"]);
    assert!(run.control.state("gone").is_none(), "gone's record dropped");
    run.stop().await;
}

#[tokio::test]
async fn a_second_reload_while_one_runs_is_refused() {
    let quotes = echo().await;
    let orders = echo().await;
    let mut run = Running::spec(spec(vec![conn("quotes", quotes.endpoint())]));
    run.log.wait_nth("quotes", EventType::Connected, 1).await;
    let more = || {
        spec(vec![
            conn("quotes", quotes.endpoint()),
            conn("orders", orders.endpoint()),
        ])
    };
    // The first takes the desk before the second is polled.
    let (first, second) = tokio::join!(run.control.reload(more()), run.control.reload(more()));
    assert_eq!(first.expect("the first is applied").added, ["orders"]);
    assert_eq!(second, Err(ReloadError::InProgress));
    // Once done, the next one is taken (and changes nothing).
    let again = run.control.reload(more()).await.expect("applied");
    assert_eq!(again.unchanged, ["quotes", "orders"]);
    run.stop().await;
}

#[tokio::test]
async fn a_reload_keeps_the_socket_budget_the_supervisor_started_with() {
    let first = echo().await;
    let second = echo().await;
    let budget = |spec: Spec| spec.with_max_open_sockets(Some(1));
    let mut run = Running::spec(budget(spec(vec![conn("first", first.endpoint())])));
    run.log.wait_nth("first", EventType::Connected, 1).await;

    // The new spec says nothing of a budget: the one in force stays, and
    // the reply says the difference needs a restart.
    let report = run
        .control
        .reload(spec(vec![
            conn("first", first.endpoint()),
            conn("second", second.endpoint()),
        ]))
        .await
        .expect("applied");
    assert_eq!(report.added, ["second"]);
    assert_eq!(
        report.needs_restart,
        ["max_open_sockets (unbounded, was 1)"]
    );
    let refused = run
        .log
        .wait(0, "second", |e| e.event_type() == EventType::ConnectFailed)
        .await;
    let error = &run.log.events[refused]
        .payload::<ConnectFailed>()
        .expect("a connect_failed payload")
        .error;
    assert!(error.contains("no socket left"), "{error}");
    assert_eq!(second.stats().accepted, 0);

    // The one socket freed, the added connection takes it.
    run.control.stop("first").expect("first is supervised");
    run.log.wait_nth("second", EventType::Connected, 1).await;
    accepted_exactly(&second, 1).await;
    run.stop().await;
}
