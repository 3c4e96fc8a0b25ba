//! A panic that escapes into a connection's task — here a blocking
//! target's `open`, application code that the connection calls without a
//! guard — leaves the connection `failed` with the panic's message, not
//! silently unsupervised, and the task alive: `start` revives it.

use std::io;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};

use linesman_connection::{BlockingTarget, ConnectionSpec};
use linesman_observer::{ConnState, EventType, GaveUp};
use linesman_stream::{BlockingSource, BlockingSourceOptions};
use linesman_supervisor::{Spec, Supervised, Supervisor};

use crate::common::{Running, built, fast};

/// A target whose first `open` panics; later ones open a driver that
/// blocks until the returned sender is dropped.
fn panics_once() -> (BlockingTarget, std_mpsc::Sender<()>) {
    let (release, wait) = std_mpsc::channel::<()>();
    let wait = Arc::new(Mutex::new(wait));
    let opened = AtomicU32::new(0);
    let target = BlockingTarget::new("driver", move || {
        assert!(
            opened.fetch_add(1, Ordering::SeqCst) > 0,
            "the driver failed to initialise"
        );
        let wait = Arc::clone(&wait);
        let driver = move |_buf: &mut [u8]| -> io::Result<usize> {
            let wait = wait.lock().map_err(|_| io::Error::other("poisoned"))?;
            // Ends (input ends) once the test drops the sender.
            let _ = wait.recv();
            Ok(0)
        };
        BlockingSource::spawn(driver, BlockingSourceOptions::default().name("driver"))
            .map_err(io::Error::other)
    });
    (target, release)
}

#[tokio::test]
async fn a_panicking_task_fails_its_connection_with_the_message_and_start_revives_it() {
    let (target, release) = panics_once();
    let spec = Spec::builder()
        .connection(Supervised::new(ConnectionSpec::blocking("hw", target)).restart(built(fast())))
        .build()
        .expect("valid spec");
    // As the daemon runs it: a failed connection does not end the run.
    let mut run = Running::start(Supervisor::new(spec).keep_running(true));

    let failed = run.log.wait_nth("hw", EventType::GaveUp, 1).await;
    let reason = run.log.events[failed]
        .payload::<GaveUp>()
        .and_then(|g| g.reason.clone());
    assert_eq!(
        reason.as_deref(),
        Some(
            "supervisor task panicked: the driver failed to initialise; `linesman start hw` restarts it"
        )
    );
    assert!(
        matches!(
            run.state("hw"),
            ConnState::Failed {
                reason: Some(_),
                ..
            }
        ),
        "{:?}",
        run.state("hw")
    );

    // The task lives on in `failed`: a start is carried out.
    run.control.start("hw").expect("the task takes commands");
    run.log.wait_nth("hw", EventType::Connected, 1).await;
    assert!(run.state("hw").is_up(), "{:?}", run.state("hw"));
    drop(release);
    run.stop().await;
}
