//! Run with: cargo run -p example-signals
//!
//! Lesson 5: ending on a signal. `Supervisor::run_until_signal` runs the
//! connections until SIGINT (Ctrl-C) or SIGTERM (what `kill`, systemd and
//! container runtimes send), then shuts them down gracefully: dependents
//! before what they depend on, every listener told every event. A second
//! signal forces the shutdown. Its signal watcher ends with the run, so
//! nothing is left to keep the runtime alive: `main` returns and the
//! process exits.
//!
//! So that the lesson ends on its own, it sends itself SIGTERM once both
//! connections are up (as `kill -TERM PID` would); press Ctrl-C before
//! that to see the same shutdown.

use linesman::prelude::*;
use linesman_testkit::Peer;
use std::time::Duration;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let quotes_peer = Peer::echo().await?;
    let orders_peer = Peer::echo().await?;
    let spec = Spec::builder()
        .connection(ConnectionSpec::new("quotes", quotes_peer.endpoint()))
        .connection(
            Supervised::new(ConnectionSpec::new("orders", orders_peer.endpoint()))
                .depends_on(["quotes"]),
        )
        .build()?;
    let supervisor = Supervisor::new(spec)
        .listen(|event: &Event| println!("#{:<3} {:<7} {}", event.seq, event.conn, event.what));

    // The stand-in for the operator: once both are up, SIGTERM.
    let mut ups = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let operator = tokio::spawn(async move {
        let both_up = tokio::time::timeout(Duration::from_secs(10), async {
            ups.next().await;
            ups.next().await;
        })
        .await;
        if both_up.is_err() {
            println!("the connections did not come up within 10 s; stopping anyway");
        }
        let pid = std::process::id();
        println!("sending myself SIGTERM (pid {pid}), as `kill -TERM {pid}` would");
        // SAFETY: `raise` takes no pointers and only sends a signal to this
        // process, whose SIGTERM handler `run_until_signal` has installed.
        let sent = unsafe { libc::raise(libc::SIGTERM) };
        if sent != 0 {
            println!("raise(SIGTERM) failed: {}", std::io::Error::last_os_error());
        }
    });

    let report = supervisor.run_until_signal().await?;
    let signal = report
        .signal
        .map_or_else(|| "no signal".to_owned(), |s| s.name().to_owned());
    println!(
        "run_until_signal returned after {signal}: every connection stopped, dependents first"
    );
    // tokio keeps catching SIGTERM for the rest of the process and nobody
    // acts on it any more. This lesson works on for a moment (stopping its
    // peers), so it gives SIGINT and SIGTERM their default action back: a
    // second `kill` now ends it. A process with nothing left to do would
    // call `signal.exit()` instead, and die by the signal it obeyed.
    linesman::supervisor::restore_default_signals()?;
    println!("SIGINT and SIGTERM have their default action again");

    operator.await?;
    quotes_peer.stop().await;
    orders_peer.stop().await;
    // What was aborted (the signal watcher, the peers' connections) ends
    // the next time the runtime reaches it: give it a moment, bounded.
    let metrics = tokio::runtime::Handle::current().metrics();
    for _ in 0..100 {
        if metrics.num_alive_tasks() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let alive = metrics.num_alive_tasks();
    println!("tasks still alive in the runtime: {alive}; main returns and the process exits");
    Ok(())
}
