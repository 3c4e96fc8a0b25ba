//! [`Daemon`]: the real `linesman run` as a child process of a test, on
//! `config.yaml` in a temporary folder of its own, and what tests ask of it:
//! its CLI and HTTP API on the control socket, its stderr, signals, its
//! exit. [`Launch`] says how it starts where [`Daemon::start`]'s defaults do
//! not fit: more arguments and variables, a log filter, an open-file limit,
//! the default socket path, a stderr the test reads itself.
//!
//! Its stderr is otherwise read line by line as it comes (a pipe nobody
//! reads would fill and block the daemon's log writer), and kept, up to a
//! bound.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use linesman_testkit::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::task::JoinHandle;

use super::{Follow, PATIENCE, Ran, clean, command, eventually, linesman, path, run};

/// The most stderr lines kept of one daemon: later ones are still read (so
/// the pipe never fills) but not kept.
const KEPT_LINES: usize = 10_000;

/// How [`Daemon::launch`] starts `linesman run -c DIR/config.yaml`.
/// `Launch::default()` is what [`Daemon::start`] does: `--socket
/// DIR/control.sock`, the environment of [`command`] (`RUST_LOG=warn`), the
/// open-file limit of the test, stderr read as [`Stderr::Lines`].
#[derive(Debug, Default)]
pub(crate) struct Launch<'a> {
    /// More arguments, after `run -c … [--socket …]`.
    pub(crate) args: &'a [&'a str],
    /// `RUST_LOG`, if not `warn`.
    pub(crate) rust_log: Option<&'a str>,
    /// Variables set (`Some`) or removed (`None`), after `RUST_LOG`.
    pub(crate) env: &'a [(&'a str, Option<&'a str>)],
    /// An open-file limit, soft and hard, set by `ulimit -n` in a shell
    /// that then execs the daemon (so the pid is still the daemon's).
    pub(crate) open_files: Option<u64>,
    /// Where the daemon serves when it gets no `--socket` (it finds the
    /// path itself, from `XDG_RUNTIME_DIR` in `env`); if `None`, it gets
    /// `--socket DIR/control.sock`.
    pub(crate) default_socket: Option<PathBuf>,
    /// What becomes of its stderr.
    pub(crate) stderr: Stderr,
}

/// What becomes of a daemon's stderr.
#[derive(Debug, Default)]
pub(crate) enum Stderr {
    /// Read line by line while it runs, on a task of its own:
    /// [`Daemon::stderr_lines`], [`Daemon::wait_logged`] and [`Daemon::exit`]
    /// see it.
    #[default]
    Lines,
    /// Left to the test, which takes it with [`Daemon::take_stderr`] (and
    /// may close it); then the daemon's failures cannot show it.
    Pipe,
}

/// A `linesman run` child process serving `DIR/config.yaml`; killed on drop.
#[derive(Debug)]
pub(crate) struct Daemon {
    /// The folder with the configuration (and the socket, unless
    /// [`Launch::default_socket`] put it elsewhere).
    pub(crate) dir: TempDir,
    /// The control socket.
    pub(crate) socket: PathBuf,
    /// The configuration file.
    pub(crate) config: PathBuf,
    /// Locked only briefly, so that `&self` can ask whether it exited.
    child: Mutex<Child>,
    /// The stderr lines read so far.
    lines: Arc<Mutex<Vec<String>>>,
    /// The task reading them, until [`Daemon::exit`] joins it.
    reader: Option<JoinHandle<()>>,
}

impl Daemon {
    /// Writes `yaml` to `dir/config.yaml`, starts `linesman run` on it with
    /// `--socket dir/control.sock` and waits until the socket answers.
    pub(crate) async fn start(dir: TempDir, yaml: &str) -> Daemon {
        Daemon::launch(dir, yaml, Launch::default()).await
    }

    /// Like [`Daemon::start`], started as `launch` says.
    pub(crate) async fn launch(dir: TempDir, yaml: &str, launch: Launch<'_>) -> Daemon {
        let mut daemon = Daemon::spawn(dir, yaml, launch);
        daemon.serving().await;
        daemon
    }

    /// Writes the configuration and starts the daemon, without waiting for
    /// it to serve (that is [`Daemon::serving`]).
    pub(crate) fn spawn(dir: TempDir, yaml: &str, launch: Launch<'_>) -> Daemon {
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).expect("write the configuration");
        let flagged = dir.join("control.sock");
        let mut args = vec!["run", "-c", path(&config)];
        if launch.default_socket.is_none() {
            args.extend(["--socket", path(&flagged)]);
        }
        args.extend(launch.args);
        let mut command = match launch.open_files {
            None => command(&args),
            Some(limit) => limited(limit, &args),
        };
        if let Some(filter) = launch.rust_log {
            command.env("RUST_LOG", filter);
        }
        for (name, value) in launch.env {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("linesman run starts");
        let lines = Arc::default();
        let reader = match launch.stderr {
            Stderr::Lines => child
                .stderr
                .take()
                .map(|pipe| tokio::spawn(keep_lines(pipe, Arc::clone(&lines)))),
            Stderr::Pipe => None,
        };
        Daemon {
            dir,
            socket: launch.default_socket.unwrap_or(flagged),
            config,
            child: Mutex::new(child),
            lines,
            reader,
        }
    }

    /// Waits until the control socket answers; fails the test, with the
    /// daemon's stderr, if it exits first or never answers.
    pub(crate) async fn serving(&mut self) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while UnixStream::connect(&self.socket).is_err() {
            if let Some(status) = self.exited() {
                let stderr = self.final_stderr().await;
                panic!("linesman run exited with {status} before serving:\n{stderr}");
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "linesman run never served {}",
                self.socket.display()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The read end of its stderr, launched as [`Stderr::Pipe`].
    pub(crate) fn take_stderr(&mut self) -> ChildStderr {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        child
            .stderr
            .take()
            .expect("stderr is a pipe, not taken yet")
    }

    /// The daemon's process id.
    pub(crate) fn pid(&self) -> u32 {
        lock(&self.child).id().expect("the daemon is running")
    }

    /// Whether the process has not exited yet.
    pub(crate) fn is_running(&self) -> bool {
        matches!(lock(&self.child).try_wait(), Ok(None))
    }

    /// How it exited, if it has.
    fn exited(&self) -> Option<ExitStatus> {
        lock(&self.child).try_wait().ok().flatten()
    }

    /// Runs `linesman ARGS --socket SOCKET`.
    pub(crate) async fn cli(&self, args: &[&str]) -> Ran {
        let mut all = args.to_vec();
        all.extend(["--socket", path(&self.socket)]);
        run(&all).await
    }

    /// Starts `linesman ARGS --socket SOCKET`, a command that keeps
    /// printing (`status --watch`, `events`).
    pub(crate) fn follow(&self, args: &[&str]) -> Follow {
        let mut all = args.to_vec();
        all.extend(["--socket", path(&self.socket)]);
        Follow::spawn(&all)
    }

    /// As [`follow`](Self::follow), its stderr kept.
    pub(crate) fn follow_keeping_stderr(&self, args: &[&str]) -> Follow {
        let mut all = args.to_vec();
        all.extend(["--socket", path(&self.socket)]);
        Follow::spawn_keeping_stderr(&all)
    }

    /// `GET /v1/status` through `linesman status -o json`.
    pub(crate) async fn status(&self) -> serde_json::Value {
        let ran = self.cli(&["status", "-o", "json"]).await;
        if ran.code != 0 && ran.code != 3 {
            if let Some(status) = self.exited() {
                panic!("linesman run exited with {status}:\n{}", self.log());
            }
            panic!("status failed ({}): {}", ran.code, ran.stderr);
        }
        serde_json::from_str(&ran.stdout).expect("status -o json prints JSON")
    }

    /// Polls the status until `done` holds for it, and returns it.
    pub(crate) async fn wait_status(
        &self,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let status = self.status().await;
            if done(&status) {
                return status;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "never {what}; last status: {status:#}"
            );
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }

    /// `GET PATH` over a connection of its own to the control socket: the
    /// whole answer, head and body, as far as it could be read.
    pub(crate) fn get(&self, path: &str) -> std::io::Result<String> {
        let mut stream = UnixStream::connect(&self.socket)?;
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )?;
        stream.set_read_timeout(Some(PATIENCE))?;
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// The value of the Prometheus sample `name` in `GET /metrics`.
    pub(crate) fn metric(&self, name: &str) -> i64 {
        let text = self.get("/metrics").expect("ask for /metrics");
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    }

    /// What it wrote to stderr so far, line by line.
    pub(crate) fn stderr_lines(&self) -> Vec<String> {
        lock(&self.lines).clone()
    }

    /// Waits (within PATIENCE) for a line of its stderr that contains
    /// `needle`; `what` names it if it never comes.
    pub(crate) async fn wait_logged(&self, what: &str, needle: &str) {
        eventually(what, || {
            lock(&self.lines).iter().any(|l| l.contains(needle))
        })
        .await;
    }

    /// Sends `signal` (`TERM`, `INT`, `STOP`, `CONT`) to the daemon with `kill`.
    pub(crate) async fn signal(&self, signal: &str) {
        let pid = self.pid();
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Waits (within PATIENCE) for the daemon to exit: its exit code (-1 if
    /// a signal ended it) and stderr.
    pub(crate) async fn exit(&mut self) -> (i32, String) {
        let child = self.child.get_mut().unwrap_or_else(PoisonError::into_inner);
        let waited = tokio::time::timeout(PATIENCE, child.wait()).await;
        let status = match waited {
            Ok(status) => status.expect("wait for the daemon"),
            Err(_) => panic!("the daemon did not exit; its log:\n{}", self.log()),
        };
        (status.code().unwrap_or(-1), self.final_stderr().await)
    }

    /// Its stderr lines so far, joined.
    fn log(&self) -> String {
        lock(&self.lines).join("\n")
    }

    /// Its whole stderr, once it has exited: the reader is joined first.
    async fn final_stderr(&mut self) -> String {
        if let Some(reader) = self.reader.take() {
            tokio::time::timeout(PATIENCE, reader)
                .await
                .expect("stderr ends with the daemon")
                .expect("the stderr reader does not panic");
        }
        self.log()
    }
}

/// `linesman ARGS` (with the environment of [`command`]) under an open-file
/// limit of `limit`, soft and hard: `ulimit -n` in a shell that then execs it.
fn limited(limit: u64, args: &[&str]) -> Command {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
        .arg(linesman())
        .args(args);
    clean(&mut command);
    command
}

/// Reads `pipe` line by line until it ends, keeping the first
/// [`KEPT_LINES`] in `lines`.
async fn keep_lines(pipe: ChildStderr, lines: Arc<Mutex<Vec<String>>>) {
    let mut pipe = BufReader::new(pipe).lines();
    while let Ok(Some(line)) = pipe.next_line().await {
        let mut kept = lock(&lines);
        if kept.len() < KEPT_LINES {
            kept.push(line);
        }
    }
}

/// `mutex`, locked; a test that panicked while holding it left what it
/// holds usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
