//! A peer child process: started, told to listen (at once or when asked),
//! told to drop every connection, killed on drop.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use anyhow::Context;
use linesman_stream::Endpoint;

use super::{PORT_ENV, child_command};

/// Set in a deferred peer child's environment: it says `ready`, then
/// listens only once it reads `listen` on stdin.
pub(crate) const DEFER_ENV: &str = "LINESMAN_BENCH_PEER_DEFER";

/// A peer child: killed on drop (its stdin closes, and it is killed).
#[derive(Debug)]
pub(crate) struct PeerChild {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pub(crate) endpoint: Endpoint,
}

impl PeerChild {
    /// The testkit echo peer in a child, on a free loopback port.
    pub(super) fn spawn() -> anyhow::Result<PeerChild> {
        PeerChild::spawn_command(child_command("peer")?)
    }

    /// The testkit echo peer in a child, listening on loopback `port`
    /// (0: a free one), e.g. to restart a peer where the last one was.
    pub(crate) fn echo_on(port: u16) -> anyhow::Result<PeerChild> {
        let mut command = child_command("peer")?;
        command.env(PORT_ENV, port.to_string());
        PeerChild::spawn_command(command)
    }

    /// [`PeerChild::echo_on`], deferred: it listens at [`PeerChild::listen`].
    // Used by the zmq benchmark (feature `zmq`) only.
    #[cfg_attr(not(feature = "zmq"), allow(dead_code))]
    pub(crate) fn echo_deferred(port: u16) -> anyhow::Result<PeerChild> {
        let mut command = child_command("peer")?;
        command.env(PORT_ENV, port.to_string());
        PeerChild::spawn_deferred(command)
    }

    /// Starts `command`, a child that prints `listening <endpoint>` once it
    /// listens and runs until its stdin closes.
    pub(crate) fn spawn_command(command: Command) -> anyhow::Result<PeerChild> {
        let mut peer = PeerChild::start(command)?;
        peer.listening()?;
        Ok(peer)
    }

    /// Starts `command` with [`DEFER_ENV`] set: a child that starts, says
    /// `ready`, and listens only when [`PeerChild::listen`] tells it to, so
    /// that a peer replacing a killed one listens within a millisecond of
    /// the kill (process start-up, 30–130 ms on this machine, would
    /// otherwise decide how many reconnect attempts are refused).
    // Used by the zmq benchmark (feature `zmq`) only.
    #[cfg_attr(not(feature = "zmq"), allow(dead_code))]
    pub(crate) fn spawn_deferred(mut command: Command) -> anyhow::Result<PeerChild> {
        command.env(DEFER_ENV, "1");
        let mut peer = PeerChild::start(command)?;
        let line = peer.line()?;
        anyhow::ensure!(line == "ready", "the peer child said {line:?}, not `ready`");
        Ok(peer)
    }

    /// Has a deferred peer listen; returns once it does.
    // Used by the zmq benchmark (feature `zmq`) only.
    #[cfg_attr(not(feature = "zmq"), allow(dead_code))]
    pub(crate) fn listen(&mut self) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("the peer child is stopping")?;
        stdin
            .write_all(b"listen\n")
            .and_then(|()| stdin.flush())
            .context("cannot command the peer child")?;
        self.listening()
    }

    fn start(mut command: Command) -> anyhow::Result<PeerChild> {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("cannot start the peer child")?;
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            anyhow::bail!("the peer child has no pipes");
        };
        Ok(PeerChild {
            child,
            stdin: Some(stdin),
            stdout: BufReader::new(stdout),
            endpoint: Endpoint::Unix("/".into()),
        })
    }

    /// Reads `listening <endpoint>`.
    fn listening(&mut self) -> anyhow::Result<()> {
        let line = self.line()?;
        self.endpoint = line
            .strip_prefix("listening ")
            .and_then(|rest| rest.parse().ok())
            .with_context(|| format!("the peer child said {line:?}, not `listening <endpoint>`"))?;
        Ok(())
    }

    /// The loopback TCP port the peer listens on.
    pub(crate) fn port(&self) -> anyhow::Result<u16> {
        match &self.endpoint {
            Endpoint::Tcp { port, .. } => Ok(*port),
            other => anyhow::bail!("the peer child listens on {other}, not on TCP"),
        }
    }

    fn line(&mut self) -> anyhow::Result<String> {
        let mut line = String::new();
        let n = self
            .stdout
            .read_line(&mut line)
            .context("cannot read the peer child")?;
        anyhow::ensure!(n > 0, "the peer child exited");
        Ok(line.trim_end().to_owned())
    }

    /// Has the peer drop every connection at once; returns once it has.
    pub(super) fn drop_all(&mut self) -> anyhow::Result<()> {
        let stdin = self.stdin.as_mut().context("the peer child is stopping")?;
        stdin
            .write_all(b"drop\n")
            .and_then(|()| stdin.flush())
            .context("cannot command the peer child")?;
        let line = self.line()?;
        anyhow::ensure!(
            line == "dropped",
            "the peer child said {line:?}, not `dropped`"
        );
        Ok(())
    }
}

impl Drop for PeerChild {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
