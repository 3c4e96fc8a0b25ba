//! Tracing: everything a connection's sessions log happens inside a span
//! `connection` that names the connection and its endpoint; the lines of
//! one attempt name it themselves, once (recording it into the long-lived
//! span appended it again at every restart: `attempt=1 attempt=2 …`).

use std::time::Duration;

use linesman_observer::EventType;
use linesman_supervisor::Spec;
use linesman_testkit::Behavior;

use crate::captured::Captured;
use crate::common::{Running, conn, peer};

// A current-thread runtime: the subscriber set for this thread sees every
// task of the supervisor.
#[tokio::test]
async fn sessions_log_inside_a_span_naming_connection_and_endpoint_and_name_their_attempt() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .finish();
    let _default = tracing::subscriber::set_default(subscriber);

    // The peer closes each connection after 20 ms: the second session is
    // attempt 2 of the same connection.
    let flapping = peer(Behavior::flap(Duration::from_millis(20))).await;
    let endpoint = flapping.endpoint();
    let spec = Spec::builder()
        .connection(conn("feed", endpoint.clone()))
        .build()
        .expect("valid spec");
    let mut run = Running::spec(spec);
    run.log.wait_nth("feed", EventType::Connected, 2).await;
    run.stop().await;

    let text = captured.text();
    let span = format!("connection{{conn=feed endpoint={endpoint}}}:");
    let up = |attempt: u32| {
        text.lines()
            .any(|line| line.contains(&span) && line.ends_with(&format!(": up attempt={attempt}")))
    };
    assert!(
        up(1),
        "the first session's `up` in the span, attempt 1:\n{text}"
    );
    assert!(
        up(2),
        "the second session's `up` in the span, attempt 2:\n{text}"
    );
    let repeated: Vec<&str> = text
        .lines()
        .filter(|line| line.matches(" attempt=").count() > 1)
        .collect();
    assert!(repeated.is_empty(), "one attempt per line: {repeated:#?}");
}
