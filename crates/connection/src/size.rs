//! The size of a running session's future, pinned: a supervisor holds one
//! per connection for its whole life (inside the connection's task), so it
//! is paid once per connection (10,000 in the scale benchmark). The test
//! fails when it grows, so a change that grows it raises the number here,
//! with its reason, in the same commit.

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use linesman_observer::Bus;

    use crate::{Connection, ConnectionSpec, Counting};

    /// The bytes of `Connection::run_session`'s future (x86-64, debug and
    /// release alike), while the session is up, which is its largest state:
    /// the reader and its codec, the writer's slot, the idle timer's box,
    /// the burst, and the references to the handler and the shared state.
    /// What exists only in some sessions or phases (the handshake, the end
    /// of a session, the connect permit, the frame timer) is boxed.
    const SESSION_FUTURE: usize = 520;

    #[test]
    fn a_session_future_stays_within_its_budget() {
        let spec = ConnectionSpec::new("c", "tcp://127.0.0.1:9".parse().expect("an endpoint"));
        let mut conn = Connection::new(spec, Box::new(Counting), &Bus::default());
        let size = std::mem::size_of_val(&conn.run_session(1, Duration::ZERO));
        println!("session future: {size} bytes");
        assert!(
            size <= SESSION_FUTURE,
            "{size} > {SESSION_FUTURE}: see the module docs"
        );
    }
}
