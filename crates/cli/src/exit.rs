//! The exit codes of `linesman`, in one place with their meanings (the
//! one function that turns a command's result into one is in `report.rs`).
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success; for `status`, every connection shown is up; for `wait`, the condition holds; for `start`/`stop`/`restart`, every connection reached its state; or stdout was a pipe whose reader went away (nothing is printed) |
//! | 1 | no daemon answers on the control socket, or it does not answer in time (the message names the socket), stdout cannot be written (`/dev/full`), or any other runtime error |
//! | 2 | bad usage (clap's own code) or an invalid configuration file (`check`, `run`, `graph`, `-c FILE`) |
//! | 3 | `status`: the daemon answered, but some connection is not up |
//! | 4 | `wait`, `start`, `stop`, `restart`: the timeout passed before the condition held (or, for `wait`, before the daemon appeared) |
//! | 5 | `run`, `demo`: a second SIGINT/SIGTERM cut the shutdown short (the socket file was removed first) |
//! | 6 | `status`, `wait`, `start`, `stop`, `restart`: a name the daemon does not know, or a selector that picks nothing (nothing was done) |

/// What a command ended with, when it did not fail. Failures are
/// [`CliError`](crate::error::CliError)s, whose codes are
/// [`CliError::code`](crate::error::CliError::code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    /// 0: success; every connection up; the awaited condition holds.
    Ok,
    /// 1: no daemon, a reload in progress, or any other runtime error.
    Failure,
    /// 2: bad usage or an invalid configuration (for `reload`: the
    /// daemon's file, which it then did not apply).
    Invalid,
    /// 3: `status`: some connection is not up.
    NotUp,
    /// 4: `wait`, `start`, `stop`, `restart`: timed out.
    TimedOut,
    /// 5: `run`, `demo`: a second signal forced the exit during the
    /// shutdown. Not returned by a command: the daemon exits with it.
    Forced,
    /// 6: a connection name the daemon does not know, or a selector that
    /// picks no connection.
    Unknown,
}

impl Code {
    /// The process exit status.
    pub(crate) fn number(self) -> u8 {
        match self {
            Code::Ok => 0,
            Code::Failure => 1,
            Code::Invalid => 2,
            Code::NotUp => 3,
            Code::TimedOut => 4,
            Code::Forced => 5,
            Code::Unknown => 6,
        }
    }
}

/// The exit codes as `--help` shows them.
pub(crate) const HELP: &str = "\
Exit codes:
  0  success; `status`: every connection is up; `wait`: the condition holds
     (also when the reader of stdout went away: `| head` ends it quietly)
  1  no daemon answers on the control socket (or not in time), stdout cannot
     be written, `reload`: another reload is in progress, or another
     runtime error
  2  bad usage, or an invalid configuration file (`reload`: the daemon's
     file has errors; nothing changed)
  3  `status`: some connection is not up
  4  `wait`, `start`, `stop`, `restart`: the timeout passed first
  5  `run`, `demo`: a second SIGINT/SIGTERM cut the shutdown short
  6  `status`, `wait`, `start`, `stop`, `restart`: an unknown connection
     name, or a selector that picks none (nothing was done)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_documented_number() {
        let numbers: Vec<u8> = [
            Code::Ok,
            Code::Failure,
            Code::Invalid,
            Code::NotUp,
            Code::TimedOut,
            Code::Forced,
            Code::Unknown,
        ]
        .into_iter()
        .map(Code::number)
        .collect();
        assert_eq!(numbers, [0, 1, 2, 3, 4, 5, 6]);
        for n in numbers {
            assert!(HELP.contains(&format!("  {n}  ")), "--help documents {n}");
        }
    }
}
