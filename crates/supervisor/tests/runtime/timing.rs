//! The backoff on paused tokio time: the supervisor really waits each
//! published delay before the next attempt, exactly. A Unix socket path
//! that does not exist fails every connect at once, without real I/O time.

use std::time::Duration;

use linesman_observer::{EventType, Interest};
use linesman_stream::Endpoint;
use linesman_supervisor::{BackoffPolicy, Intensity, RestartPolicy, Spec, Supervisor};
use linesman_testkit::TempDir;
use tokio::time::Instant;

use crate::common::conn;

#[tokio::test(start_paused = true)]
async fn attempts_are_spaced_by_the_backoff_delays() {
    let dir = TempDir::new("supervisor-timing").expect("temp dir");
    let policy = RestartPolicy::builder()
        .backoff(
            BackoffPolicy::default()
                .initial(Duration::from_millis(10))
                .max(Duration::from_millis(80))
                .jitter(0.0),
        )
        .intensity(Intensity::default().max_restarts(1))
        .build()
        .expect("a valid policy");
    let spec = Spec::builder()
        .connection(conn("absent", Endpoint::Unix(dir.join("absent.sock"))).restart(policy))
        .build()
        .expect("valid spec");
    let supervisor = Supervisor::new(spec);
    let control = supervisor.control();
    let mut events = supervisor
        .bus()
        .subscribe(Interest::all().event_type(EventType::Connecting));
    let run = tokio::spawn(supervisor.run());
    let mut attempts = Vec::new();
    // Connect failures never give up (whatever the intensity): six attempts
    // are enough.
    while let Some(event) = events.next().await {
        if event.event_type() == EventType::Connecting && !event.replay {
            attempts.push(Instant::now());
        }
        if attempts.len() == 6 {
            control.shutdown();
        }
    }
    run.await.expect("run returns after the shutdown");
    let gaps: Vec<u128> = attempts
        .windows(2)
        .map(|w| (w[1] - w[0]).as_millis())
        .collect();
    assert_eq!(gaps, [10, 20, 40, 80, 80]);
}
