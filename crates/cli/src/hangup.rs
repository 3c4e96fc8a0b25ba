//! SIGHUP: read the configuration file again. One reload at a time, in a
//! task of its own (SIGINT and SIGTERM are still heard meanwhile), and no
//! SIGHUP is lost: one that comes while a reload runs makes that task read
//! the file once more when it is done, however many came (a tool that
//! writes the file and signals, twice in a row, gets its second file). A
//! reload asked for through the control socket (`linesman reload`) that
//! is running when the signal comes is waited for, up to [`BUSY_PATIENCE`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use linesman_control::ControlState;
use linesman_supervisor::ReloadError;

/// No reload runs for a SIGHUP.
const IDLE: u8 = 0;
/// One runs.
const RUNNING: u8 = 1;
/// One runs, and a SIGHUP came after it read the file: read it again.
const AGAIN: u8 = 2;

/// How often a SIGHUP's reload asks again while another reload (from the
/// control socket) is in progress.
const BUSY_RETRY: Duration = Duration::from_millis(100);
/// How long a SIGHUP's reload waits for another reload to be done before
/// it gives up, in words.
const BUSY_PATIENCE: Duration = Duration::from_secs(60);

/// The daemon's SIGHUP reloads.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hangups {
    state: Arc<AtomicU8>,
}

impl Hangups {
    /// A SIGHUP came: starts a reload of `control`'s file, or marks the
    /// running one to read the file again when it is done.
    pub(crate) fn received(&self, control: &ControlState) {
        // From idle to running (this SIGHUP reloads), or from running to
        // again (the running task reads the file once more); never to
        // "again" while nothing runs, which no task would ever see.
        let before = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(if now == IDLE { RUNNING } else { AGAIN })
            });
        match before {
            Ok(IDLE) => {
                tracing::info!(signal = "SIGHUP", "reloading the configuration");
                let hangups = self.clone();
                let control = control.clone();
                tokio::spawn(async move { hangups.reload_until_current(&control).await });
            }
            Ok(RUNNING) => tracing::info!(
                signal = "SIGHUP",
                "a reload is in progress: the file will be read again once it is done"
            ),
            // Marked already: the next read covers this one too.
            _ => {}
        }
    }

    /// Reloads, and again while SIGHUPs came during the last one.
    async fn reload_until_current(&self, control: &ControlState) {
        loop {
            reload_once(control).await;
            // Running back to idle, unless a SIGHUP came meanwhile: then
            // once more (any number of them is one more read of the file).
            let before = self
                .state
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                    Some(if now == AGAIN { RUNNING } else { IDLE })
                });
            if before != Ok(AGAIN) {
                return;
            }
            tracing::info!(signal = "SIGHUP", "reloading the configuration again");
        }
    }
}

/// One reload for a SIGHUP, logged; waits behind a reload from the control
/// socket.
async fn reload_once(control: &ControlState) {
    let mut waited = Duration::ZERO;
    loop {
        match control.run_reloader().await {
            None => tracing::warn!("SIGHUP: this daemon has no configuration file to reload"),
            Some(Ok(_)) => {}
            Some(Err(ReloadError::InProgress)) if waited < BUSY_PATIENCE => {
                tokio::time::sleep(BUSY_RETRY).await;
                waited += BUSY_RETRY;
                continue;
            }
            Some(Err(error)) => tracing::warn!(%error, "SIGHUP: reload refused"),
        }
        return;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use linesman_connection::ConnectionSpec;
    use linesman_control::{ReloadResponse, Reloader};
    use linesman_supervisor::{Spec, Supervisor};
    use tokio::sync::Semaphore;

    use super::*;

    /// A daemon's control state whose reloader counts its runs, answers
    /// each run with the next of `answers` (then `Ok`), and ends each only
    /// when `gate` gives it a permit.
    fn gated(
        runs: &Arc<AtomicUsize>,
        gate: &Arc<Semaphore>,
        answers: Vec<ReloadError>,
    ) -> ControlState {
        let spec = Spec::builder()
            .connection(ConnectionSpec::new(
                "a",
                "tcp://127.0.0.1:1".parse().expect("an endpoint"),
            ))
            .build()
            .expect("a valid spec");
        let (runs, gate) = (Arc::clone(runs), Arc::clone(gate));
        let answers = Arc::new(std::sync::Mutex::new(answers));
        let reloader: Reloader = Arc::new(move |_| {
            let (runs, gate, answers) =
                (Arc::clone(&runs), Arc::clone(&gate), Arc::clone(&answers));
            Box::pin(async move {
                let run = runs.fetch_add(1, Ordering::SeqCst);
                gate.acquire().await.expect("the gate stays open").forget();
                match answers.lock().expect("not poisoned").get(run) {
                    Some(error) => Err(error.clone()),
                    None => Ok(ReloadResponse::default()),
                }
            })
        });
        ControlState::new(&Supervisor::new(spec)).with_reloader(reloader)
    }

    /// Yields until `done` holds (within 10 s of the test's clock).
    async fn until(what: &str, done: impl Fn() -> bool) {
        tokio::time::timeout(Duration::from_secs(10), async {
            while !done() {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("never: {what}"));
    }

    #[tokio::test]
    async fn sighups_during_a_reload_make_one_more_read_of_the_file_after_it() {
        let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
        let control = gated(&runs, &gate, Vec::new());
        let hangups = Hangups::default();
        let state = || hangups.state.load(Ordering::SeqCst);
        hangups.received(&control);
        until("the first reload runs", || runs.load(Ordering::SeqCst) == 1).await;
        // Three while it runs: the file is read once more, after it.
        for _ in 0..3 {
            hangups.received(&control);
        }
        assert_eq!(state(), AGAIN);
        gate.add_permits(1);
        until("the second reload runs", || {
            runs.load(Ordering::SeqCst) == 2
        })
        .await;
        assert_eq!(state(), RUNNING);
        gate.add_permits(1);
        until("idle again", || state() == IDLE).await;
        assert_eq!(runs.load(Ordering::SeqCst), 2, "one more read, not three");
        // Idle: the next SIGHUP reloads as the first did.
        hangups.received(&control);
        until("a third reload runs", || runs.load(Ordering::SeqCst) == 3).await;
        gate.add_permits(1);
        until("idle at the end", || state() == IDLE).await;
    }

    #[tokio::test]
    async fn a_sighup_waits_behind_a_reload_from_the_control_socket() {
        let (runs, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(100)));
        // Busy twice, then done: the SIGHUP's reload asks three times.
        let busy = vec![ReloadError::InProgress, ReloadError::InProgress];
        let control = gated(&runs, &gate, busy);
        let hangups = Hangups::default();
        hangups.received(&control);
        until("idle again", || {
            hangups.state.load(Ordering::SeqCst) == IDLE
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
