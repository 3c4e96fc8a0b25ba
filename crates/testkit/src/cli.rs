//! The command-line form of a [`Behavior`]: the flags of `linesman-peer`,
//! parsed by clap, and the way back from a `Behavior` to those flags, used by
//! [`PeerProcess`](crate::PeerProcess) to start a child with a given behaviour.

use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::behavior::{Behavior, HostileKind};

/// The behaviour names accepted by `--behavior`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BehaviorName {
    /// [`Behavior::Echo`].
    Echo,
    /// [`Behavior::Send`] (`--count`, `--type`, `--payload-len`).
    Send,
    /// [`Behavior::SendForever`] (`--type`, `--payload-len`, `--interval`).
    SendForever,
    /// [`Behavior::Silent`].
    Silent,
    /// [`Behavior::SlowReader`] (`--bytes-per-read`, `--delay`).
    SlowReader,
    /// [`Behavior::Reset`].
    Reset,
    /// [`Behavior::CollidingRequests`] (`--count`, `--type`).
    CollidingRequests,
    /// [`Behavior::Hostile`] with [`HostileKind::BadFlags`].
    BadFlags,
    /// [`Behavior::Hostile`] with [`HostileKind::OversizedLength`].
    OversizedLength,
    /// [`Behavior::Hostile`] with [`HostileKind::TruncatedFrame`].
    TruncatedFrame,
    /// Echo, dropping every connection after `--every`.
    Flap,
    /// Refuse connections for `--for`, then echo.
    Refuse,
}

/// The `linesman-peer` flags that choose a [`Behavior`].
///
/// `--drop-every` and `--refuse-for` wrap any behaviour in
/// [`Behavior::Flap`] and [`Behavior::Refuse`]; `--behavior flap --every T` and
/// `--behavior refuse --for T` are short for echo with those wrappers.
#[derive(Debug, Clone, PartialEq, Eq, Args)]
pub struct BehaviorArgs {
    /// What the peer does with each connection.
    #[arg(long, value_enum, default_value = "echo")]
    pub behavior: BehaviorName,
    /// send: how many frames to send after accepting; colliding-requests:
    /// how many requests.
    #[arg(long, default_value_t = 1)]
    pub count: u64,
    /// send, send-forever, colliding-requests: the frame type.
    #[arg(long = "type", default_value_t = 1)]
    pub ty: u32,
    /// send, send-forever: payload bytes per frame.
    #[arg(long, default_value_t = 16)]
    pub payload_len: usize,
    /// send-forever: one frame per interval (e.g. `10ms`); as fast as possible when absent.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub interval: Option<Duration>,
    /// slow-reader: upper bound of one read, in bytes.
    #[arg(long, default_value_t = 1)]
    pub bytes_per_read: usize,
    /// slow-reader: pause before every read.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10ms")]
    pub delay: Duration,
    /// flap: how long each connection lives.
    #[arg(long, value_parser = humantime::parse_duration, required_if_eq("behavior", "flap"))]
    pub every: Option<Duration>,
    /// refuse: how long nothing listens.
    #[arg(long = "for", value_parser = humantime::parse_duration, required_if_eq("behavior", "refuse"))]
    pub for_: Option<Duration>,
    /// Any behaviour: drop every connection this long after accepting it.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub drop_every: Option<Duration>,
    /// Any behaviour: do not listen for this long after starting.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub refuse_for: Option<Duration>,
}

impl BehaviorArgs {
    /// The behaviour these flags describe.
    pub fn to_behavior(&self) -> Behavior {
        let mut behavior = match self.behavior {
            BehaviorName::Echo | BehaviorName::Flap | BehaviorName::Refuse => Behavior::Echo,
            BehaviorName::Send => Behavior::Send {
                count: self.count,
                ty: self.ty,
                payload_len: self.payload_len,
            },
            BehaviorName::SendForever => Behavior::SendForever {
                ty: self.ty,
                payload_len: self.payload_len,
                interval: self.interval,
            },
            BehaviorName::Silent => Behavior::Silent,
            BehaviorName::SlowReader => Behavior::SlowReader {
                bytes_per_read: self.bytes_per_read,
                delay: self.delay,
            },
            BehaviorName::Reset => Behavior::Reset,
            BehaviorName::CollidingRequests => Behavior::CollidingRequests {
                count: self.count,
                ty: self.ty,
            },
            BehaviorName::BadFlags => Behavior::Hostile(HostileKind::BadFlags),
            BehaviorName::OversizedLength => Behavior::Hostile(HostileKind::OversizedLength),
            BehaviorName::TruncatedFrame => Behavior::Hostile(HostileKind::TruncatedFrame),
        };
        let flap = match self.behavior {
            BehaviorName::Flap => self.every,
            _ => None,
        };
        for every in [flap, self.drop_every].into_iter().flatten() {
            behavior = behavior.flapping(every);
        }
        let refuse = match self.behavior {
            BehaviorName::Refuse => self.for_,
            _ => None,
        };
        for period in [refuse, self.refuse_for].into_iter().flatten() {
            behavior = behavior.after_refusing(period);
        }
        behavior
    }
}

/// The `linesman-peer` flags for `behavior`.
///
/// Wrappers are folded into `--drop-every` (the shortest flap period) and
/// `--refuse-for` (the sum of the refuse periods), which serve the same.
///
/// ```
/// use std::time::Duration;
/// use linesman_testkit::{Behavior, behavior_args};
///
/// let args = behavior_args(&Behavior::flap(Duration::from_millis(50)));
/// assert_eq!(args, ["--behavior", "echo", "--drop-every", "50ms"]);
/// ```
pub fn behavior_args(behavior: &Behavior) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |flag: &str, value: String| {
        args.push(flag.to_owned());
        args.push(value);
    };
    match behavior.base() {
        Behavior::Echo | Behavior::Flap { .. } | Behavior::Refuse { .. } => {
            push("--behavior", "echo".into());
        }
        Behavior::Send {
            count,
            ty,
            payload_len,
        } => {
            push("--behavior", "send".into());
            push("--count", count.to_string());
            push("--type", ty.to_string());
            push("--payload-len", payload_len.to_string());
        }
        Behavior::SendForever {
            ty,
            payload_len,
            interval,
        } => {
            push("--behavior", "send-forever".into());
            push("--type", ty.to_string());
            push("--payload-len", payload_len.to_string());
            if let Some(interval) = interval {
                push("--interval", duration(*interval));
            }
        }
        Behavior::Silent => push("--behavior", "silent".into()),
        Behavior::SlowReader {
            bytes_per_read,
            delay,
        } => {
            push("--behavior", "slow-reader".into());
            push("--bytes-per-read", bytes_per_read.to_string());
            push("--delay", duration(*delay));
        }
        Behavior::Reset => push("--behavior", "reset".into()),
        Behavior::CollidingRequests { count, ty } => {
            push("--behavior", "colliding-requests".into());
            push("--count", count.to_string());
            push("--type", ty.to_string());
        }
        Behavior::Hostile(kind) => push("--behavior", kind.name().into()),
    }
    if let Some(every) = behavior.flap_period() {
        push("--drop-every", duration(every));
    }
    if let Some(period) = behavior.refuse_period() {
        push("--refuse-for", duration(period));
    }
    args
}

/// A duration as humantime writes it, which `humantime::parse_duration` reads back exactly.
fn duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        behavior: BehaviorArgs,
    }

    fn parse(args: &[&str]) -> Result<Behavior, clap::Error> {
        let argv = std::iter::once("linesman-peer").chain(args.iter().copied());
        Cli::try_parse_from(argv).map(|cli| cli.behavior.to_behavior())
    }

    #[test]
    fn every_behavior_survives_the_round_trip_through_flags() {
        let ms = Duration::from_millis;
        let cases = [
            Behavior::Echo,
            Behavior::Send {
                count: 7,
                ty: 300,
                payload_len: 3,
            },
            Behavior::SendForever {
                ty: 2,
                payload_len: 0,
                interval: None,
            },
            Behavior::SendForever {
                ty: 2,
                payload_len: 9,
                interval: Some(ms(5)),
            },
            Behavior::Silent,
            Behavior::SlowReader {
                bytes_per_read: 4,
                delay: ms(1),
            },
            Behavior::Reset,
            Behavior::CollidingRequests { count: 3, ty: 9 },
            Behavior::Hostile(HostileKind::BadFlags),
            Behavior::Hostile(HostileKind::OversizedLength),
            Behavior::Hostile(HostileKind::TruncatedFrame),
            Behavior::flap(ms(50)),
            Behavior::refuse(Duration::from_secs(2)),
            Behavior::Silent.flapping(ms(1500)).after_refusing(ms(20)),
        ];
        for behavior in cases {
            let args = behavior_args(&behavior);
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            assert_eq!(
                parse(&argv).expect("flags of a behavior parse"),
                behavior,
                "{args:?}"
            );
        }
    }

    #[test]
    fn short_forms_mean_echo_with_a_wrapper() {
        let flap = parse(&["--behavior", "flap", "--every", "2s"]).expect("flap parses");
        assert_eq!(flap, Behavior::flap(Duration::from_secs(2)));
        let refuse = parse(&["--behavior", "refuse", "--for", "1m 30s"]).expect("refuse parses");
        assert_eq!(refuse, Behavior::refuse(Duration::from_secs(90)));
        assert_eq!(parse(&[]).expect("no flags is echo"), Behavior::Echo);
    }

    #[test]
    fn flap_without_every_and_unknown_names_are_refused() {
        assert!(parse(&["--behavior", "flap"]).is_err());
        assert!(parse(&["--behavior", "refuse"]).is_err());
        assert!(parse(&["--behavior", "bogus"]).is_err());
        assert!(parse(&["--delay", "soon"]).is_err());
    }
}
