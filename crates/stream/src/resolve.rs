//! Name resolution with bounds: at most [`MAX_LOOKUPS`] lookups run at once,
//! each waited for at most the connect timeout.
//!
//! Why: `getaddrinfo` blocks and cannot be cancelled, so a lookup runs on
//! tokio's blocking pool, and a timed-out lookup's thread stays busy until
//! the resolver answers. With a hung resolver, every reconnect would leave
//! one more thread behind, until the blocking pool (512 threads) is
//! exhausted and everything else that needs it (file I/O, blocking
//! sources) waits. Here a lookup holds a permit *inside* its blocking task,
//! released only when `getaddrinfo` returns, so at most `MAX_LOOKUPS`
//! threads can hang; a connect that finds them all busy waits for a permit
//! within its timeout, then fails naming the bound.

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// How many name lookups may run at once in this process (each on one
/// blocking thread, hung or not).
pub const MAX_LOOKUPS: usize = 16;

/// The permits of the lookups in flight.
static LOOKUPS: Semaphore = Semaphore::const_new(MAX_LOOKUPS);

/// Resolves `host:port` within `timeout`: an IP address at once, a name
/// through `getaddrinfo` on a blocking thread.
pub(crate) async fn lookup(
    host: &str,
    port: u16,
    timeout: Duration,
) -> io::Result<Vec<SocketAddr>> {
    if let Ok(ip) = host.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let target = (host.to_owned(), port);
    bounded(&LOOKUPS, MAX_LOOKUPS, timeout, move || {
        target.to_socket_addrs().map(Iterator::collect)
    })
    .await
}

/// Runs the blocking `lookup` on tokio's blocking pool under a permit of
/// `permits` (which has `max` in all), which the blocking task holds until
/// `lookup` returns (not until this future ends), waiting for both at most
/// `timeout` in all.
pub(crate) async fn bounded<T, F>(
    permits: &'static Semaphore,
    max: usize,
    timeout: Duration,
    lookup: F,
) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    let deadline = Instant::now() + timeout;
    let permit: SemaphorePermit<'static> = match tokio::time::timeout_at(
        deadline,
        permits.acquire(),
    )
    .await
    {
        Ok(Ok(permit)) => permit,
        Ok(Err(_closed)) => return Err(io::Error::other("name resolution is shut down")),
        Err(_elapsed) => {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!(
                    "name resolution timed out after {timeout:?}: all {max} lookups this process may run at once are busy (the resolver is slow or hung)"
                ),
            ));
        }
    };
    let task = tokio::task::spawn_blocking(move || {
        let found = lookup();
        drop(permit);
        found
    });
    match tokio::time::timeout_at(deadline, task).await {
        Ok(Ok(found)) => found,
        Ok(Err(join)) => Err(io::Error::other(format!("name resolution failed: {join}"))),
        Err(_elapsed) => Err(io::Error::new(
            io::ErrorKind::TimedOut,
            format!("name resolution timed out after {timeout:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Condvar, Mutex};

    use super::*;

    /// A resolver that hangs until opened.
    #[derive(Default)]
    struct Gate {
        open: Mutex<bool>,
        opened: Condvar,
    }

    impl Gate {
        fn wait(&self) {
            let mut open = self.open.lock().expect("gate lock");
            while !*open {
                open = self.opened.wait(open).expect("gate lock");
            }
        }

        fn open(&self) {
            *self.open.lock().expect("gate lock") = true;
            self.opened.notify_all();
        }
    }

    const SHORT: Duration = Duration::from_millis(50);

    #[tokio::test]
    async fn hung_lookups_keep_their_threads_bounded_and_the_rest_fail_in_time() {
        static PERMITS: Semaphore = Semaphore::const_new(2);
        let gate = Arc::new(Gate::default());
        for _ in 0..2 {
            let gate = Arc::clone(&gate);
            let hung = bounded(&PERMITS, 2, SHORT, move || {
                gate.wait();
                Ok(1)
            })
            .await;
            assert_eq!(hung.expect_err("it hangs").kind(), io::ErrorKind::TimedOut);
        }
        // A lookup that timed out still holds its permit: its thread is busy.
        assert_eq!(PERMITS.available_permits(), 0);
        let started = Arc::new(AtomicBool::new(false));
        let third = bounded(&PERMITS, 2, SHORT, {
            let started = Arc::clone(&started);
            move || {
                started.store(true, Ordering::SeqCst);
                Ok(3)
            }
        })
        .await;
        let error = third.expect_err("no permit is free");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(
            error
                .to_string()
                .contains("all 2 lookups this process may run at once are busy"),
            "{error}"
        );
        assert!(!started.load(Ordering::SeqCst), "no third thread was taken");
        // The resolver answers: the threads end and give their permits back.
        gate.open();
        let deadline = Instant::now() + Duration::from_secs(10);
        while PERMITS.available_permits() < 2 {
            assert!(Instant::now() < deadline, "the hung lookups never ended");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let fourth = bounded(&PERMITS, 2, Duration::from_secs(10), || Ok(4)).await;
        assert_eq!(fourth.expect("a permit is free"), 4);
    }

    #[tokio::test]
    async fn an_ip_address_needs_no_lookup() {
        let found = lookup("::1", 7, Duration::ZERO).await.expect("no lookup");
        assert_eq!(found, vec!["[::1]:7".parse().expect("address")]);
    }
}
