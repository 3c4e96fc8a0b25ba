//! What a peer does with each connection it accepts: the closed set of
//! behaviours, from a well-mannered echo to hostile bytes.
//!
//! Most variants describe one connection. Two describe the peer's lifecycle
//! and wrap another behaviour: [`Behavior::Flap`] (every connection is dropped
//! after a while) and [`Behavior::Refuse`] (nothing listens for a while, so
//! connecting fails with `ECONNREFUSED`, then the peer starts listening).

use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};

/// What a peer does with every connection it accepts.
///
/// Frames use linesman's default wire format (`Codec::default()`). Every
/// behaviour counts what it reads in [`PeerStats`](crate::PeerStats), and ends
/// a connection when the client closes it, on [`Peer::drop_all`](crate::Peer::drop_all)
/// and on [`Peer::stop`](crate::Peer::stop).
///
/// ```
/// use std::time::Duration;
/// use linesman_testkit::Behavior;
///
/// // a feed that sends a frame every 10 ms and drops its clients every second
/// let feed = Behavior::SendForever { ty: 1, payload_len: 32, interval: Some(Duration::from_millis(10)) }
///     .flapping(Duration::from_secs(1));
/// // a peer that starts late: connecting is refused for 2 s, then it echoes
/// let late = Behavior::Echo.after_refusing(Duration::from_secs(2));
/// # let _ = (feed, late);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Behavior {
    /// Send every received frame back: same type, id and payload; a request
    /// (a frame with an id and no reply mark) comes back marked as its reply
    /// (as `Frame::reply` makes it). Serves request/response tests.
    Echo,
    /// Requests in both directions with colliding ids: right after
    /// accepting, send `count` requests of type `ty` with ids 1, 2, … `count`
    /// (the ids a client's own requests start with too; payload:
    /// [`send_payload`] of the id, 8 bytes), while answering the client's
    /// requests as [`Behavior::Echo`] does. The client is expected to answer
    /// each request with `frame.reply(any type, the request's payload)`;
    /// every marked frame it sends is checked against the requests still
    /// waiting: [`PeerStats::replies_matched`](crate::PeerStats::replies_matched)
    /// counts the right answers, [`PeerStats::replies_mismatched`](crate::PeerStats::replies_mismatched)
    /// the rest (an id not waiting, answered twice, another payload).
    CollidingRequests {
        /// How many requests the peer sends on each connection.
        count: u64,
        /// The type of those requests.
        ty: u32,
    },
    /// Send `count` frames of type `ty` right after accepting (payloads from
    /// [`send_payload`]), then keep the connection open, reading and counting.
    Send {
        /// How many frames to send.
        count: u64,
        /// The frame type.
        ty: u32,
        /// Payload length of every frame, in bytes.
        payload_len: usize,
    },
    /// Send frames of type `ty` until the connection ends (payloads from
    /// [`send_payload`], sequence numbers from 0), reading and counting meanwhile.
    SendForever {
        /// The frame type.
        ty: u32,
        /// Payload length of every frame, in bytes.
        payload_len: usize,
        /// One frame per interval; `None` sends as fast as the client reads.
        interval: Option<Duration>,
    },
    /// Accept, then never read, never send and never close: a half-dead peer.
    Silent,
    /// Read at most `bytes_per_read` bytes, then wait `delay`, again and again,
    /// so a client's large write fills its send buffer and takes many reads.
    SlowReader {
        /// Upper bound of one read, in bytes (at least 1 is used).
        bytes_per_read: usize,
        /// Pause before every read.
        delay: Duration,
    },
    /// Accept, then close at once with `SO_LINGER` 0: a TCP client sees a
    /// reset (`ECONNRESET`) instead of an orderly end. Unix sockets just close.
    Reset,
    /// Send the bytes of one hostile frame (see [`HostileKind::bytes`]); then
    /// close for [`HostileKind::TruncatedFrame`], keep reading for the others.
    Hostile(HostileKind),
    /// Behave as `inner`, but drop every connection `every` after accepting it.
    Flap {
        /// How long each connection lives.
        every: Duration,
        /// What the peer does until then.
        inner: Box<Behavior>,
    },
    /// Do not listen at all for `period` (connecting is refused; on TCP the
    /// port is reserved beforehand so the address is known), then listen and
    /// behave as `then`. Also serves as "a peer that starts late".
    Refuse {
        /// How long nothing listens, counted from the start of the peer.
        period: Duration,
        /// What the peer does once it listens.
        then: Box<Behavior>,
    },
}

impl Behavior {
    /// An echo peer that drops every connection `every` after accepting it.
    pub fn flap(every: Duration) -> Self {
        Behavior::Echo.flapping(every)
    }

    /// An echo peer that refuses connections for `period` first.
    pub fn refuse(period: Duration) -> Self {
        Behavior::Echo.after_refusing(period)
    }

    /// This behaviour, with every connection dropped `every` after it was accepted.
    pub fn flapping(self, every: Duration) -> Self {
        Behavior::Flap {
            every,
            inner: Box::new(self),
        }
    }

    /// This behaviour, once the peer has refused connections for `period`.
    pub fn after_refusing(self, period: Duration) -> Self {
        Behavior::Refuse {
            period,
            then: Box::new(self),
        }
    }

    /// How long the peer does not listen after it starts: the sum of every
    /// [`Behavior::Refuse`] period in this behaviour, `None` when there is none.
    pub fn refuse_period(&self) -> Option<Duration> {
        let mut total: Option<Duration> = None;
        let mut current = self;
        loop {
            match current {
                Behavior::Refuse { period, then } => {
                    total = Some(total.unwrap_or_default().saturating_add(*period));
                    current = then;
                }
                Behavior::Flap { inner, .. } => current = inner,
                _ => return total,
            }
        }
    }

    /// How long each connection lives: the shortest [`Behavior::Flap`] period
    /// in this behaviour, `None` when connections live until closed.
    pub fn flap_period(&self) -> Option<Duration> {
        let mut shortest: Option<Duration> = None;
        let mut current = self;
        loop {
            match current {
                Behavior::Flap { every, inner } => {
                    shortest = Some(shortest.map_or(*every, |s| s.min(*every)));
                    current = inner;
                }
                Behavior::Refuse { then, .. } => current = then,
                _ => return shortest,
            }
        }
    }

    /// The per-connection behaviour without its [`Flap`](Behavior::Flap) and
    /// [`Refuse`](Behavior::Refuse) wrappers.
    pub fn base(&self) -> &Behavior {
        let mut current = self;
        loop {
            match current {
                Behavior::Flap { inner, .. } => current = inner,
                Behavior::Refuse { then, .. } => current = then,
                other => return other,
            }
        }
    }
}

/// Which hostile frame a [`Behavior::Hostile`] peer sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostileKind {
    /// A header of type 1 with flags `0x0004`, a bit the default layout does
    /// not define: the codec reports unknown flag bits.
    BadFlags,
    /// A header of type 1 claiming a payload of 1 GiB (`0x4000_0000` bytes),
    /// far over the default 16 MiB limit: the codec reports the length.
    OversizedLength,
    /// A header of type 1 announcing 16 payload bytes, then only 8 of them,
    /// then the connection closes: the codec reports a frame cut short.
    TruncatedFrame,
}

impl HostileKind {
    /// Every kind, in declaration order.
    pub const ALL: [HostileKind; 3] = [
        HostileKind::BadFlags,
        HostileKind::OversizedLength,
        HostileKind::TruncatedFrame,
    ];

    /// The exact bytes the peer sends.
    ///
    /// ```
    /// use linesman_testkit::HostileKind;
    ///
    /// assert_eq!(&HostileKind::BadFlags.bytes()[..], &[0, 1, 0, 4, 0, 0, 0, 0]);
    /// assert_eq!(&HostileKind::OversizedLength.bytes()[..], &[0, 1, 0, 0, 0x40, 0, 0, 0]);
    /// assert_eq!(HostileKind::TruncatedFrame.bytes().len(), 8 + 8);
    /// ```
    pub fn bytes(self) -> Bytes {
        let mut out = BytesMut::with_capacity(16);
        out.put_u16(1);
        match self {
            HostileKind::BadFlags => {
                out.put_u16(0x0004);
                out.put_u32(0);
            }
            HostileKind::OversizedLength => {
                out.put_u16(0);
                out.put_u32(0x4000_0000);
            }
            HostileKind::TruncatedFrame => {
                out.put_u16(0);
                out.put_u32(16);
                out.put_slice(&[0xAB; 8]);
            }
        }
        out.freeze()
    }

    /// The kind's name on the `linesman-peer` command line (`bad-flags`, …).
    pub fn name(self) -> &'static str {
        match self {
            HostileKind::BadFlags => "bad-flags",
            HostileKind::OversizedLength => "oversized-length",
            HostileKind::TruncatedFrame => "truncated-frame",
        }
    }
}

/// The payload of the frame with sequence number `seq` sent by
/// [`Behavior::Send`] and [`Behavior::SendForever`]: `seq` as a big-endian
/// `u64` (cut to `len` when shorter), then zeros up to `len` bytes.
///
/// ```
/// use linesman_testkit::send_payload;
///
/// assert_eq!(&send_payload(258, 10)[..], &[0, 0, 0, 0, 0, 0, 1, 2, 0, 0]);
/// assert_eq!(&send_payload(258, 2)[..], &[0, 0]);
/// ```
pub fn send_payload(seq: u64, len: usize) -> Bytes {
    let mut out = BytesMut::zeroed(len);
    let seq = seq.to_be_bytes();
    let n = len.min(seq.len());
    out[..n].copy_from_slice(&seq[..n]);
    out.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrappers_compose_into_periods_and_base() {
        let b = Behavior::Silent
            .flapping(Duration::from_secs(3))
            .after_refusing(Duration::from_secs(1))
            .flapping(Duration::from_secs(2))
            .after_refusing(Duration::from_secs(4));
        assert_eq!(b.refuse_period(), Some(Duration::from_secs(5)));
        assert_eq!(b.flap_period(), Some(Duration::from_secs(2)));
        assert_eq!(b.base(), &Behavior::Silent);
        assert_eq!(Behavior::Echo.refuse_period(), None);
        assert_eq!(Behavior::Echo.flap_period(), None);
    }
}
