//! [`Follow`]: a `linesman` command that keeps printing (`status --watch`,
//! `events`) as a child process, read a line at a time, each read bounded
//! by [`PATIENCE`]; killed on drop.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout};

use super::{PATIENCE, command};

/// A running `linesman ARGS` whose stdout is read line by line.
pub(crate) struct Follow {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    /// Its stderr, when kept ([`spawn_keeping_stderr`](Self::spawn_keeping_stderr)).
    errors: Option<Lines<BufReader<ChildStderr>>>,
}

impl Follow {
    /// Starts `linesman ARGS` (stderr discarded).
    pub(crate) fn spawn(args: &[&str]) -> Follow {
        Follow::start(args, false)
    }

    /// Starts `linesman ARGS` with its stderr kept for
    /// [`error_line`](Self::error_line) (a command that writes much there
    /// while it is not read would block).
    pub(crate) fn spawn_keeping_stderr(args: &[&str]) -> Follow {
        Follow::start(args, true)
    }

    fn start(args: &[&str], keep_stderr: bool) -> Follow {
        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(if keep_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .kill_on_drop(true)
            .spawn()
            .expect("the following command starts");
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let errors = child
            .stderr
            .take()
            .map(|stderr| BufReader::new(stderr).lines());
        Follow {
            child,
            lines,
            errors,
        }
    }

    /// The next line of its stderr, within PATIENCE.
    pub(crate) async fn error_line(&mut self) -> String {
        let errors = self.errors.as_mut().expect("stderr kept");
        tokio::time::timeout(PATIENCE, errors.next_line())
            .await
            .expect("a line in time")
            .expect("read its stderr")
            .expect("the command keeps going")
    }

    /// The next line, within PATIENCE; `None` once the command ended.
    pub(crate) async fn next(&mut self) -> Option<String> {
        tokio::time::timeout(PATIENCE, self.lines.next_line())
            .await
            .expect("a line in time")
            .expect("read its stdout")
    }

    /// The next line, which must come: the command keeps going.
    pub(crate) async fn line(&mut self) -> String {
        self.next().await.expect("the command keeps going")
    }

    /// Stops the command.
    pub(crate) async fn stop(mut self) {
        self.child.kill().await.expect("stop the command");
    }
}
