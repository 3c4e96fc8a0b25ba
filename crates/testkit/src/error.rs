//! Every error of the crate: listen addresses that cannot be served
//! ([`ListenError`]) and child-process peers that cannot be started
//! ([`ProcessError`]).
//!
//! Starting an in-process peer returns plain [`std::io::Error`]s: binding and
//! accepting fail only the way the OS says.

use std::io;
use std::path::PathBuf;

/// An endpoint that an in-process peer cannot listen on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListenError {
    /// The text is not an endpoint at all.
    #[error("cannot listen on {input:?}: {source}")]
    Endpoint {
        /// The text as given.
        input: String,
        /// Why it is not an endpoint.
        #[source]
        source: linesman_stream::EndpointError,
    },
    /// A TCP listen address names a host instead of an IP address.
    #[error(
        "cannot listen on host {host:?}: a peer listens on an IP address; use tcp://127.0.0.1:PORT (port 0 picks a free one)"
    )]
    HostName {
        /// The host as given.
        host: String,
    },
}

/// A `linesman-peer` child process that could not be started or did not say
/// where it listens.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    /// The `linesman-peer` binary is not built.
    #[error(
        "linesman-peer binary not found (looked in {searched:?}); build it with `cargo build -p linesman-testkit --bin linesman-peer` or set LINESMAN_PEER_BIN to its path"
    )]
    BinaryNotFound {
        /// Every path that was tried, in order.
        searched: Vec<PathBuf>,
    },
    /// The OS refused to start the binary.
    #[error("cannot start {binary}: {source}")]
    Spawn {
        /// The binary that was run.
        binary: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The process ended (or closed its stdout) before printing the expected line.
    #[error(
        "peer process {pid} exited before printing `{expected} <endpoint>`; its stderr above says why"
    )]
    Exited {
        /// The process id.
        pid: u32,
        /// The first word of the line that was awaited (`listening` or `reserved`).
        expected: &'static str,
    },
    /// The process printed something other than `listening <endpoint>` or `reserved <endpoint>`.
    #[error(
        "peer process {pid} printed {line:?}, expected `listening <endpoint>`; is the binary a linesman-peer of this version?"
    )]
    UnexpectedLine {
        /// The process id.
        pid: u32,
        /// The line as printed.
        line: String,
    },
    /// Reading the process's stdout failed.
    #[error("cannot read the stdout of peer process {pid}: {source}")]
    Read {
        /// The process id.
        pid: u32,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
}
