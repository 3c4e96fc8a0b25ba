//! The mailbox on its own: order, coalescing, the bound, and the restart
//! hold (absorbed while unsettled, deferred while settled, released once).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::*;

/// The next signal, or `None` if none is ready.
async fn ready(inbox: &mut Inbox) -> Option<Signal> {
    tokio::time::timeout(Duration::ZERO, inbox.next())
        .await
        .ok()
}

#[tokio::test]
async fn shutdown_comes_first_and_stays() {
    let (mailbox, mut inbox) = Inbox::new();
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    mailbox.rules_changed();
    mailbox.shut_down();
    assert_eq!(inbox.next().await, Signal::Shutdown);
    assert_eq!(inbox.next().await, Signal::Shutdown);
    assert!(inbox.is_shut_down());
}

#[tokio::test]
async fn commands_in_order_then_one_rules_signal() {
    let (mailbox, mut inbox) = Inbox::new();
    mailbox.rules_changed();
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    assert_eq!(mailbox.command(Command::Start), Ok(()));
    mailbox.rules_changed();
    assert_eq!(inbox.next().await, Signal::Command(Command::Stop));
    assert_eq!(inbox.next().await, Signal::Command(Command::Start));
    assert_eq!(inbox.next().await, Signal::Rules);
    // Both rule changes were one signal: nothing is left.
    assert_eq!(ready(&mut inbox).await, None);
}

#[tokio::test]
async fn a_waiting_task_is_woken() {
    let (mailbox, mut inbox) = Inbox::new();
    let waiter = tokio::spawn(async move { inbox.next().await });
    tokio::task::yield_now().await;
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    let signal = waiter.await.expect("the waiter does not panic");
    assert_eq!(signal, Signal::Command(Command::Restart));
}

#[test]
fn commands_are_refused_once_the_inbox_is_gone() {
    let (mailbox, inbox) = Inbox::new();
    assert_eq!(mailbox.command(Command::Start), Ok(()));
    drop(inbox);
    assert_eq!(mailbox.command(Command::Start), Err(Refused::Closed));
}

#[tokio::test]
async fn equal_commands_in_a_row_are_one() {
    let (mailbox, mut inbox) = Inbox::new();
    for _ in 0..500 {
        assert_eq!(mailbox.command(Command::Restart), Ok(()));
    }
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(inbox.next().await, Signal::Command(Command::Restart));
    assert_eq!(inbox.next().await, Signal::Command(Command::Stop));
    assert_eq!(inbox.next().await, Signal::Command(Command::Restart));
    assert_eq!(ready(&mut inbox).await, None);
}

#[tokio::test]
async fn at_most_max_queued_commands_wait() {
    let (mailbox, mut inbox) = Inbox::new();
    let alternate = |i: usize| {
        if i.is_multiple_of(2) {
            Command::Stop
        } else {
            Command::Start
        }
    };
    for i in 0..MAX_QUEUED {
        assert_eq!(mailbox.command(alternate(i)), Ok(()), "command {i}");
    }
    assert_eq!(mailbox.command(alternate(MAX_QUEUED)), Err(Refused::Full));
    // Equal to the last one queued: coalesced, so not refused.
    assert_eq!(mailbox.command(alternate(MAX_QUEUED - 1)), Ok(()));
    // Once one is taken, there is room again.
    assert_eq!(inbox.next().await, Signal::Command(Command::Stop));
    assert_eq!(mailbox.command(alternate(MAX_QUEUED)), Ok(()));
    assert_eq!(mailbox.command(Command::Restart), Err(Refused::Full));
}

/// A flag for [`Inbox::hold_restarts`]'s `settled`, and the probe.
fn settle_flag() -> (Arc<AtomicBool>, impl FnMut() -> bool + Send + 'static) {
    let flag = Arc::new(AtomicBool::new(false));
    let probe = {
        let flag = Arc::clone(&flag);
        move || flag.load(Ordering::Acquire)
    };
    (flag, probe)
}

/// Lets the hold see a change of its flag.
async fn poll_once() {
    tokio::time::sleep(SETTLE_POLL + Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_held_restart_absorbs_restarts_until_settled_then_defers_them_into_one() {
    let (mailbox, mut inbox) = Inbox::new();
    let (settle, settled) = settle_flag();
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(inbox.next().await, Signal::Command(Command::Restart));
    inbox.hold_restarts(settled);
    // Not settled yet: the restart being carried out is this one.
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(ready(&mut inbox).await, None);

    settle.store(true, Ordering::Release);
    poll_once().await;
    // Settled, within the hold: deferred, however many.
    for _ in 0..3 {
        assert_eq!(mailbox.command(Command::Restart), Ok(()));
        assert_eq!(ready(&mut inbox).await, None);
    }
    // At the end of the hold, one restart.
    tokio::time::sleep(RESTART_HOLD).await;
    assert_eq!(
        ready(&mut inbox).await,
        Some(Signal::Command(Command::Restart))
    );
    assert_eq!(ready(&mut inbox).await, None);
}

#[tokio::test(start_paused = true)]
async fn the_hold_lasts_until_the_restart_settled() {
    let (mailbox, mut inbox) = Inbox::new();
    let (settle, settled) = settle_flag();
    inbox.hold_restarts(settled);
    tokio::time::sleep(RESTART_HOLD * 5).await;
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(ready(&mut inbox).await, None, "absorbed while unsettled");
    settle.store(true, Ordering::Release);
    poll_once().await;
    // Released at once (the hold time is over): restarts are carried out.
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(
        ready(&mut inbox).await,
        Some(Signal::Command(Command::Restart))
    );
}

#[tokio::test(start_paused = true)]
async fn a_stop_overrides_a_deferred_restart_and_a_restart_after_it_is_kept() {
    let (mailbox, mut inbox) = Inbox::new();
    inbox.hold_restarts(|| true);
    tokio::task::yield_now().await;
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(ready(&mut inbox).await, None, "deferred");
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    assert_eq!(
        ready(&mut inbox).await,
        Some(Signal::Command(Command::Stop))
    );
    tokio::time::sleep(RESTART_HOLD + Duration::from_millis(1)).await;
    assert_eq!(ready(&mut inbox).await, None, "the stop overrode it");

    // Restart, then stop, then restart while unsettled: the last restart
    // is not the one being carried out, so it is deferred, not absorbed.
    let (settle, settled) = settle_flag();
    inbox.hold_restarts(settled);
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    assert_eq!(mailbox.command(Command::Restart), Ok(()));
    assert_eq!(
        ready(&mut inbox).await,
        Some(Signal::Command(Command::Stop))
    );
    assert_eq!(ready(&mut inbox).await, None);
    settle.store(true, Ordering::Release);
    tokio::time::sleep(RESTART_HOLD + Duration::from_millis(1)).await;
    assert_eq!(
        ready(&mut inbox).await,
        Some(Signal::Command(Command::Restart))
    );
}

#[tokio::test(start_paused = true)]
async fn a_hold_ends_with_its_task() {
    let (mailbox, inbox) = Inbox::new();
    inbox.hold_restarts(|| false);
    drop(inbox);
    poll_once().await;
    // The hold's task saw the mailbox closed and ended: only it held a
    // second reference.
    assert_eq!(Arc::strong_count(&mailbox), 1);
}
