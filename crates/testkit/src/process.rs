//! [`PeerProcess`]: a peer in a child process (the `linesman-peer` binary),
//! for tests that kill the peer and watch what the client does.
//!
//! The child is told to exit when its stdin closes, and its stdin is a pipe
//! held by the handle, so it ends when the handle drops, and even when the
//! test process itself is killed: no orphan peers outlive a test run.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use linesman_stream::Endpoint;

use crate::behavior::Behavior;
use crate::cli::behavior_args;
use crate::error::ProcessError;
use crate::listen::Listen;
use crate::options::PeerOptions;

/// The name of the binary.
const BINARY: &str = "linesman-peer";
/// The environment variable that overrides where the binary is looked for.
pub const BINARY_ENV: &str = "LINESMAN_PEER_BIN";

/// A `linesman-peer` child process serving one [`Behavior`].
///
/// Killed (and reaped) on drop.
///
/// ```no_run
/// use linesman_testkit::{Behavior, Listen, PeerProcess};
///
/// let mut peer = PeerProcess::spawn(&Listen::default(), &Behavior::Echo)?;
/// println!("{} listens on {}", peer.pid(), peer.endpoint());
/// peer.kill()?; // the peer dies like a crashed server
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct PeerProcess {
    child: Child,
    endpoint: Endpoint,
    stdout: BufReader<ChildStdout>,
    listening: bool,
    /// Held open: the child exits when it closes.
    _stdin: ChildStdin,
}

impl PeerProcess {
    /// Starts `linesman-peer` found by [`PeerProcess::binary_path`]; see
    /// [`PeerProcess::spawn_with`].
    pub fn spawn(listen: &Listen, behavior: &Behavior) -> Result<PeerProcess, ProcessError> {
        PeerProcess::spawn_with(&PeerProcess::binary_path()?, listen, behavior)
    }

    /// Starts `binary` listening on `listen` with `behavior`, and returns
    /// once it printed its address: `listening <endpoint>`, or for a
    /// [`Behavior::Refuse`] peer `reserved <endpoint>` before its refuse
    /// period (then [`PeerProcess::wait_listening`] waits for the rest).
    ///
    /// Blocks the calling thread until that line arrives.
    pub fn spawn_with(
        binary: &Path,
        listen: &Listen,
        behavior: &Behavior,
    ) -> Result<PeerProcess, ProcessError> {
        PeerProcess::spawn_with_options(binary, listen, behavior, &PeerOptions::default())
    }

    /// [`PeerProcess::spawn_with`], with `options` (e.g. a record file that
    /// survives the child being killed).
    pub fn spawn_with_options(
        binary: &Path,
        listen: &Listen,
        behavior: &Behavior,
        options: &PeerOptions,
    ) -> Result<PeerProcess, ProcessError> {
        let mut command = Command::new(binary);
        if let Some(record) = &options.record {
            command.arg("--record").arg(record);
        }
        let mut child = command
            .arg("--listen")
            .arg(listen.to_string())
            .args(behavior_args(behavior))
            .arg("--exit-on-stdin-eof")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|source| ProcessError::Spawn {
                binary: binary.to_owned(),
                source,
            })?;
        let pid = child.id();
        let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(ProcessError::Exited {
                pid,
                expected: "listening",
            });
        };
        let mut stdout = BufReader::new(stdout);
        let first = match read_line(&mut stdout, pid, "listening") {
            Ok(line) => line,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let parsed = parse_line(&first, pid);
        let (word, endpoint) = match parsed {
            Ok(parsed) => parsed,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        Ok(PeerProcess {
            child,
            endpoint,
            stdout,
            listening: word == "listening",
            _stdin: stdin,
        })
    }

    /// Where `linesman-peer` is: `$LINESMAN_PEER_BIN` when set, else the
    /// first `linesman-peer` in a directory that contains the running
    /// executable (tests run from `target/debug/deps`, so this finds
    /// `target/debug/linesman-peer`).
    ///
    /// Cargo builds the binary for testkit's own tests and for
    /// `cargo test --workspace`; anything else must build it first with
    /// `cargo build -p linesman-testkit --bin linesman-peer`.
    pub fn binary_path() -> Result<PathBuf, ProcessError> {
        if let Some(path) = std::env::var_os(BINARY_ENV) {
            let path = PathBuf::from(path);
            return if path.is_file() {
                Ok(path)
            } else {
                Err(ProcessError::BinaryNotFound {
                    searched: vec![path],
                })
            };
        }
        let mut searched = Vec::new();
        if let Ok(exe) = std::env::current_exe() {
            for dir in exe.ancestors().skip(1) {
                let candidate = dir.join(BINARY);
                if candidate.is_file() {
                    return Ok(candidate);
                }
                searched.push(candidate);
            }
        }
        Err(ProcessError::BinaryNotFound { searched })
    }

    /// Where clients connect.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Blocks until the child listens: at once, unless it was started with a
    /// [`Behavior::Refuse`] period and printed only `reserved` so far.
    pub fn wait_listening(&mut self) -> Result<(), ProcessError> {
        if self.listening {
            return Ok(());
        }
        let pid = self.child.id();
        let line = read_line(&mut self.stdout, pid, "listening")?;
        match parse_line(&line, pid)? {
            ("listening", _) => {
                self.listening = true;
                Ok(())
            }
            _ => Err(ProcessError::UnexpectedLine { pid, line }),
        }
    }

    /// Kills the child with `SIGKILL`, like a crash: the OS closes its
    /// sockets, and nothing listens on its address afterwards. Waits until
    /// the child is gone.
    pub fn kill(&mut self) -> std::io::Result<()> {
        match self.child.try_wait()? {
            Some(_) => Ok(()),
            None => {
                self.child.kill()?;
                self.child.wait().map(|_| ())
            }
        }
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// Reads one line of the child's stdout.
fn read_line(
    stdout: &mut BufReader<ChildStdout>,
    pid: u32,
    expected: &'static str,
) -> Result<String, ProcessError> {
    let mut line = String::new();
    match stdout.read_line(&mut line) {
        Ok(0) => Err(ProcessError::Exited { pid, expected }),
        Ok(_) => Ok(line.trim_end().to_owned()),
        Err(source) => Err(ProcessError::Read { pid, source }),
    }
}

/// Splits `listening <endpoint>` / `reserved <endpoint>`.
fn parse_line(line: &str, pid: u32) -> Result<(&'static str, Endpoint), ProcessError> {
    let unexpected = || ProcessError::UnexpectedLine {
        pid,
        line: line.to_owned(),
    };
    let (word, rest) = line.split_once(' ').ok_or_else(unexpected)?;
    let word = match word {
        "listening" => "listening",
        "reserved" => "reserved",
        _ => return Err(unexpected()),
    };
    let endpoint = rest.parse().map_err(|_| unexpected())?;
    Ok((word, endpoint))
}
