//! The mailbox on its own: order, coalescing and the bound. (What a burst
//! of restarts becomes is the lifecycle's: see its tables.)

use std::time::Duration;

use super::*;

/// The next signal, or `None` if none is ready.
async fn ready(inbox: &mut Inbox) -> Option<Signal> {
    tokio::time::timeout(Duration::ZERO, inbox.next())
        .await
        .ok()
}

#[tokio::test]
async fn shutdown_comes_first_once_and_stays_known() {
    let (mailbox, mut inbox) = Inbox::new();
    assert_eq!(mailbox.command(Command::Stop), Ok(()));
    mailbox.rules_changed();
    mailbox.shut_down();
    assert_eq!(inbox.next().await, Signal::Shutdown);
    // Given once (the lifecycle remembers it), then what else is there.
    assert_eq!(inbox.next().await, Signal::Command(Command::Stop));
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

#[tokio::test]
async fn commands_keep_their_order_across_the_rings_end() {
    let (mailbox, mut inbox) = Inbox::new();
    let cycle = [Command::Stop, Command::Start, Command::Restart];
    // Three rounds of filling and emptying most of the ring: the oldest
    // command moves all the way around it.
    let mut sent = Vec::new();
    let mut taken = Vec::new();
    for round in 0..3 {
        for i in 0..MAX_QUEUED - 1 {
            let command = cycle[(round + i) % cycle.len()];
            assert_eq!(mailbox.command(command), Ok(()), "round {round}, {i}");
            sent.push(command);
        }
        for _ in 0..MAX_QUEUED - 1 {
            match inbox.next().await {
                Signal::Command(command) => taken.push(command),
                other => panic!("expected a command, got {other:?}"),
            }
        }
    }
    assert_eq!(taken, sent);
    assert_eq!(ready(&mut inbox).await, None);
}
