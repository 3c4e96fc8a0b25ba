//! `use linesman::prelude::*;` beside `use linesman::observer::*;`: every
//! name the two globs share is the same item, so no name is ambiguous —
//! the observer's `Backoff`, `Waiting` and `Stopped` events and the restart
//! policy's `BackoffPolicy` are all usable by their plain names. (While the
//! restart policy's backoff was called `Backoff` too, `Backoff` here was
//! ambiguous: a lint that rustc is turning into an error, denied here.)

#![deny(ambiguous_glob_imports)]

use std::time::{Duration, SystemTime};

use linesman::observer::*;
use linesman::prelude::*;

#[test]
fn the_prelude_and_the_observer_globs_do_not_collide() {
    let backoff = Backoff {
        attempt: 2,
        delay: Duration::from_millis(200),
        until: SystemTime::UNIX_EPOCH,
    };
    let waiting = Waiting {
        on: vec!["quotes".to_owned()],
    };
    let stopped = Stopped {
        reason: "stopped by the operator".to_owned(),
    };
    assert_eq!(<Backoff as EventPayload>::TYPE, EventType::Backoff);
    assert_eq!(<Waiting as EventPayload>::TYPE, EventType::Waiting);
    assert_eq!(<Stopped as EventPayload>::TYPE, EventType::Stopped);
    assert_eq!(waiting.on, ["quotes"]);
    assert!(!stopped.reason.is_empty());

    // Names exported by both globs are one item each.
    let _: fn() -> Interest = Interest::all;
    assert_eq!(<Connected as EventPayload>::TYPE, EventType::Connected);

    let policy = RestartPolicy::builder()
        .mode(RestartMode::OnFailure)
        .backoff(BackoffPolicy::default().initial(backoff.delay))
        .build()
        .expect("a valid policy");
    assert_eq!(policy.backoff().initial, backoff.delay);
    assert_eq!(policy.mode(), RestartMode::OnFailure);
}
