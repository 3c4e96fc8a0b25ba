//! The size of a running session's future and of a connection's shared
//! state, pinned: a supervisor holds one of each per connection for its
//! whole life (the future inside the connection's task), so each is paid
//! once per connection (10,000 in the scale benchmark). The test
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
    /// of a session, the connect permit, the frame timer, the reason that
    /// ends it) is boxed.
    ///
    /// 440 (was 520): the reason boxed (−24), the connect's locals in a
    /// block that ends before the session's await (a local whose scope
    /// spans an await keeps its slot while up even once moved from: −24),
    /// the drain kept in the `Connection` (−16 in each of two layers), and
    /// the blocking session's future no longer the larger (an `async fn`
    /// holds its arguments twice).
    const SESSION_FUTURE: usize = 440;

    /// The bytes of the state a connection shares with its handles (one
    /// `Arc` per connection): the publisher, the counters, the send
    /// queues and the wakers. What most connections never use is made on
    /// first use (the pending-request map, the unmatched-reply log limit,
    /// a supervisor's stop cause).
    ///
    /// History: 416 before the bus handle (the publisher has it) and the
    /// unmatched-reply log limit (48 bytes, boxed on the first unmatched
    /// reply) left it; 368, then 384 with the ends by class (a lock of its
    /// own); 360 with the ends under the last error's lock and the
    /// pending requests and unmatched-reply limit in one box.
    ///
    /// 400 with the connection's own target (40 bytes) here, so that
    /// connections whose other settings are the same share one copy of
    /// them whatever their endpoints (`Connection::with_settings`): the
    /// 368-byte spec left every connection's task future for 40 bytes.
    ///
    /// 376 with the handshake sends boxed and made on the first one: the
    /// `Arc` is 392 bytes, malloc's 400-byte size class (432 before). 376
    /// is the most that class holds: 8 bytes more cost 32 per connection.
    const SHARED: usize = 376;

    /// The bytes of a session writer's pen (boxed, made with the writer:
    /// only a connection that sends holds one): the write half, the codec,
    /// the write buffer, and the boxed frame and error a sender's direct
    /// write may leave for the writer. The writer's own task holds 64 bytes
    /// less than when it kept the half, codec and buffer inline.
    const PEN: usize = 88;

    #[test]
    fn the_shared_state_stays_within_its_budget() {
        let size = std::mem::size_of::<crate::shared::Shared>();
        println!("shared state: {size} bytes");
        assert!(size <= SHARED, "{size} > {SHARED}: see the module docs");
    }

    #[test]
    fn the_writers_pen_stays_within_its_budget() {
        let size = std::mem::size_of::<crate::shared::Pen>();
        println!("pen: {size} bytes");
        assert!(size <= PEN, "{size} > {PEN}: see the module docs");
    }

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
