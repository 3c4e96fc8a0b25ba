//! The sizes that decide memory per connection, pinned in one place.
//!
//! A supervisor of 10,000 connections holds 10,000 connection tasks for its
//! whole life, so the size of one task's future is paid 10,000 times
//! (docs/benchmarks.md, "rss per connection"). These tests fail when it
//! grows, so that readability and memory never trade silently: a change
//! that grows it raises the number here, with its reason, in the same
//! commit.
//!
//! Where an `async fn` would cost more than the `fn … -> impl Future` with
//! an `async move` block it is written as (an `async fn` keeps its
//! arguments twice in its future: as arguments and as moved locals), the
//! function says so in its `#[expect(clippy::manual_async_fn)]`, with the
//! bytes measured: `Task::run` (+592: it takes the task by value), and in
//! `linesman-connection` the session's `session` (+24), `socket_session`
//! (+32), `drive` (+24) and `pump` (+32). Everywhere else (`Task::session`,
//! `blocking_session`) an `async fn` costs nothing more, and is one.

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use linesman_connection::{Connection, ConnectionSpec, Counting};
    use linesman_observer::Bus;
    use tokio::sync::watch;

    use crate::lifecycle::Lifecycle;
    use crate::lifecycle::Phase;
    use crate::mailbox::Inbox;
    use crate::restart::RestartPolicy;
    use crate::rule::OnDependencyDown;
    use crate::task::{PhaseReport, Shell, Task, TaskCommon};
    use crate::tracker::RestartTracker;

    /// The bytes of one connection task's future, as `tokio::spawn` boxes
    /// it (x86-64, debug and release alike): the task itself, 232 bytes (the
    /// `Connection` 72, the lifecycle 112 — its state 32 and restart
    /// tracker 72 — and the shell's handles), plus its deepest wait, a
    /// running session polled in place (`Connection::run_session`'s future,
    /// 440 bytes, pinned in `linesman-connection`), plus what `drive` and
    /// `session` hold around it (the input, the stop deadline, references).
    ///
    /// History: 1,192 before the lifecycle became a machine; +40 since: the
    /// state now lives in the task (it had its own slot in the future
    /// before, which the session's state did not overlap either) and the
    /// restart hold's timer (8); +8 when the tracker began to count the
    /// connect failures apart from the flaps (a session that came up
    /// forgets the failures before it, not the flaps); 880 (−360) since the
    /// connection holds its settings in an `Arc` shared with the other
    /// connections whose settings are the same, not a 368-byte copy of its
    /// spec. With the tracing span (40) and tokio's header and trailer the
    /// task cell is now 1,024 bytes, down from 1,408 (it grows in steps of
    /// 128).
    ///
    /// 752 (−128), which takes the cell a step further, to 896 bytes:
    /// `drive` holds its arguments once (−32), an `Input` is 16 bytes (the
    /// panic message a thin box; −8), the shutdown timeout is in the `Arc`
    /// the tasks share (−16), the tracker's recent restarts a `Vec` (−8),
    /// and in the session (`linesman-connection`'s `size.rs`): the reason
    /// that ends a burst boxed (−24), the locals of the connect scoped to a
    /// block that ends before the session's await (−24), the drain in the
    /// `Connection` rather than in two layers of the session (−16 net), the
    /// blocking session not an `async fn` (−24 on the larger of the two
    /// session futures). 752 is the largest size the 896-byte cell holds:
    /// a change that adds 8 bytes here costs 128 bytes per connection.
    const TASK_FUTURE: usize = 752;

    fn task() -> Task {
        let bus = Bus::default();
        let spec = ConnectionSpec::new("c", "tcp://127.0.0.1:9".parse().expect("an endpoint"));
        let conn = Connection::new(spec, Box::new(Counting), &bus);
        let (_mailbox, inbox) = Inbox::new();
        let tracker = RestartTracker::new(RestartPolicy::default(), 1);
        let (phases, _) = watch::channel(vec![Phase::Active]);
        Task {
            shell: Shell {
                lifecycle: Lifecycle::new(tracker, OnDependencyDown::Stop),
                control: conn.session_control(),
                inbox,
                rule: None,
                report: PhaseReport {
                    common: Arc::new(TaskCommon {
                        phases,
                        timeout: Duration::from_secs(5),
                    }),
                    index: 0,
                },
                hold: None,
            },
            conn,
        }
    }

    /// The bytes of one connection's mailbox (one `Arc` per connection):
    /// 72 with the `Arc`'s counts, malloc's 80-byte size class (96 when its
    /// ring's indices were `usize`s; a `VecDeque` and a block before that).
    const MAILBOX: usize = 56;

    #[test]
    fn a_mailbox_stays_within_its_budget() {
        let size = std::mem::size_of::<crate::mailbox::Mailbox>();
        println!("mailbox: {size} bytes");
        assert!(size <= MAILBOX, "{size} > {MAILBOX}: see the module docs");
    }

    #[test]
    fn a_connection_task_future_stays_within_its_budget() {
        let size = std::mem::size_of_val(&task().run());
        println!(
            "task future: {size} bytes (Task {} bytes, of which Connection {}, Shell {}, Lifecycle {})",
            std::mem::size_of::<Task>(),
            std::mem::size_of::<Connection>(),
            std::mem::size_of::<Shell>(),
            std::mem::size_of::<Lifecycle>(),
        );
        let (drive, session, wait) = task().sizes();
        println!("drive {drive}, session {session}, wait {wait} bytes");
        assert!(
            size <= TASK_FUTURE,
            "{size} > {TASK_FUTURE}: see the module docs"
        );
    }
}
