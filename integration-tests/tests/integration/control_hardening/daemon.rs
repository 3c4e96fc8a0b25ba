//! A `linesman run` child for the hardening tests: like the harness's
//! daemon, but its stderr is read line by line while it runs (to wait for a
//! log line), it may run under a lower open-file limit (`prlimit`), and it
//! can be asked whether it is still running and for one metric.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use linesman_testkit::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::task::JoinHandle;

use crate::cli_harness::{PATIENCE, Ran, command, linesman, path, run};

/// A running `linesman run -c DIR/config.yaml --socket DIR/control.sock`.
pub(super) struct Child {
    /// The folder of the configuration and the socket.
    pub(super) _dir: TempDir,
    /// The control socket.
    pub(super) socket: PathBuf,
    child: tokio::process::Child,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<JoinHandle<()>>,
}

impl Child {
    /// Starts the daemon on `yaml`; `limits` are `prlimit` resources and
    /// values (`("nofile", 32)`), applied as soft and hard limit. Returns
    /// once the control socket answers.
    pub(super) async fn run(dir: TempDir, yaml: &str, limits: &[(&str, u64)]) -> Child {
        let socket = dir.join("control.sock");
        let flag = ["--socket", path(&socket)].map(str::to_owned);
        Child::spawn(dir, yaml, &flag, limits, &[], socket.clone()).await
    }

    /// Starts the daemon on `yaml` with `XDG_RUNTIME_DIR=xdg` and no
    /// `--socket`; returns once `socket` (where it should serve) answers.
    pub(super) async fn run_in_runtime_dir(
        dir: TempDir,
        yaml: &str,
        xdg: &Path,
        socket: PathBuf,
    ) -> Child {
        Child::spawn(dir, yaml, &[], &[], &[("XDG_RUNTIME_DIR", xdg)], socket).await
    }

    async fn spawn(
        dir: TempDir,
        yaml: &str,
        flags: &[String],
        limits: &[(&str, u64)],
        env: &[(&str, &Path)],
        socket: PathBuf,
    ) -> Child {
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml).expect("write the configuration");
        let mut args = vec!["run", "-c", path(&config)];
        args.extend(flags.iter().map(String::as_str));
        let mut command = if limits.is_empty() {
            command(&args)
        } else {
            let mut prlimit = Command::new("prlimit");
            for (resource, value) in limits {
                prlimit.arg(format!("--{resource}={value}:{value}"));
            }
            prlimit
                .arg("--")
                .arg(linesman())
                .args(args)
                .env_remove("LINESMAN_SOCKET")
                .env("NO_COLOR", "1")
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .kill_on_drop(true);
            prlimit
        };
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("linesman run starts");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let reader = child.stderr.take().map(|pipe| {
            let lines = Arc::clone(&stderr);
            tokio::spawn(async move {
                let mut pipe = BufReader::new(pipe).lines();
                while let Ok(Some(line)) = pipe.next_line().await {
                    lines
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(line);
                }
            })
        });
        let mut daemon = Child {
            _dir: dir,
            socket,
            child,
            stderr,
            reader,
        };
        eventually("the daemon to serve its control socket", || {
            assert!(daemon.is_running(), "{}", daemon.stderr_lines().join("\n"));
            UnixStream::connect(&daemon.socket).is_ok()
        })
        .await;
        daemon
    }

    /// Runs `linesman ARGS --socket SOCKET`.
    pub(super) async fn cli(&self, args: &[&str]) -> Ran {
        let mut all = args.to_vec();
        all.extend(["--socket", path(&self.socket)]);
        run(&all).await
    }

    /// Whether the process has not exited yet.
    pub(super) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What it wrote to stderr so far, line by line.
    pub(super) fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Sends `signal` (`TERM`, `INT`, `STOP`, `CONT`) with `kill`.
    pub(super) async fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("the daemon is running");
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .await
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} {pid} failed");
    }

    /// Waits (within PATIENCE) for the daemon to exit: its code and stderr.
    pub(super) async fn exit(&mut self) -> (i32, String) {
        let status = match tokio::time::timeout(PATIENCE, self.child.wait()).await {
            Ok(status) => status.expect("wait for the daemon"),
            Err(_) => panic!(
                "the daemon did not exit; its log:\n{}",
                self.stderr_lines().join("\n")
            ),
        };
        if let Some(reader) = self.reader.take() {
            let _ = tokio::time::timeout(PATIENCE, reader).await;
        }
        (status.code().unwrap_or(-1), self.stderr_lines().join("\n"))
    }

    /// The value of the Prometheus sample `name` in `GET /metrics`.
    pub(super) fn metric(&self, name: &str) -> i64 {
        let mut stream = UnixStream::connect(&self.socket).expect("connect for /metrics");
        stream
            .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("ask for /metrics");
        let text = read_to_end(stream);
        text.lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {name} in:\n{text}"))
    }
}

/// Everything `stream` sends until it closes (within PATIENCE).
pub(super) fn read_to_end(mut stream: UnixStream) -> String {
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("set a read timeout");
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Polls `done` every 20 ms until it holds; fails the test after PATIENCE.
pub(super) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
