//! The listener drain at the end of a run (issue 11, item 4): a listener
//! taking 250 ms per event, with a backlog when the connections are down,
//! is given the bus's `listener_drain` (1 s by default) — not another
//! whole `shutdown_timeout` (an hour here) — then cut off, and what it was
//! not given is counted in the run's report and logged at warn.
//!
//! Paused time: the listener's sleeps and the backoff are simulated, so
//! had the close waited the shutdown timeout, the listener would have
//! finished its backlog and nothing would be cut off. A Unix socket path
//! that does not exist fails every connect at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use linesman_observer::listener::{from_async_fn, named};
use linesman_observer::{Event, EventType, Interest};
use linesman_stream::Endpoint;
use linesman_supervisor::{Spec, Supervisor};
use linesman_testkit::TempDir;

use crate::captured::Captured;
use crate::common::{SIMULATED_LIMIT, conn};

// Current thread: the subscriber set for this thread sees every task.
#[tokio::test(start_paused = true)]
async fn a_slow_listener_is_cut_off_after_the_drain_and_what_it_missed_is_reported() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::WARN)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    let dir = TempDir::new("supervisor-drain").expect("temp dir");
    let spec = Spec::builder()
        .connection(conn("absent", Endpoint::Unix(dir.join("absent.sock"))))
        .shutdown_timeout(Duration::from_secs(3600))
        .build()
        .expect("valid spec");
    let handled = Arc::new(AtomicU64::new(0));
    let given = Arc::new(AtomicU64::new(0));
    let supervisor = Supervisor::new(spec)
        .listen(named(
            "slow",
            from_async_fn({
                let handled = Arc::clone(&handled);
                move |_: Event| {
                    let handled = Arc::clone(&handled);
                    async move {
                        tokio::time::sleep(Duration::from_millis(250)).await;
                        handled.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }),
        ))
        .listen(named("quick", {
            let given = Arc::clone(&given);
            move |_: &Event| {
                given.fetch_add(1, Ordering::SeqCst);
            }
        }));
    assert_eq!(
        supervisor.bus().options().listener_drain,
        Duration::from_secs(1),
        "the default drain"
    );
    let mut attempts = supervisor
        .bus()
        .subscribe(Interest::all().event_type(EventType::Connecting));
    let control = supervisor.control();
    let run = tokio::spawn(supervisor.run());
    for _ in 0..20 {
        tokio::time::timeout(SIMULATED_LIMIT, attempts.next())
            .await
            .expect("the connection keeps trying")
            .expect("the bus is open");
    }
    control.shutdown();
    let report = tokio::time::timeout(SIMULATED_LIMIT, run)
        .await
        .expect("run returns after the drain")
        .expect("run does not panic");

    let (handled, given) = (handled.load(Ordering::SeqCst), given.load(Ordering::SeqCst));
    assert_eq!(report.signal, None, "no signal ended this run");
    assert!(!report.all_delivered());
    let cut: Vec<(&str, u64)> = report
        .cut_off
        .iter()
        .map(|cut| (cut.listener.as_str(), cut.undelivered))
        .collect();
    assert!(
        handled > 0 && handled < given,
        "handled {handled} of {given}"
    );
    // Only the slow one, and exactly what it did not handle.
    assert_eq!(cut, [("slow", given - handled)]);

    let logs = captured.text();
    let warned: Vec<&str> = logs
        .lines()
        .filter(|line| line.contains("WARN") && line.contains("cut off"))
        .collect();
    assert_eq!(warned.len(), 1, "{logs}");
    assert!(
        warned[0].contains("listener=slow")
            && warned[0].contains(&format!("undelivered={}", given - handled)),
        "{}",
        warned[0]
    );
}
