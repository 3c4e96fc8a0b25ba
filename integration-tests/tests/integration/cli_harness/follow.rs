//! [`Follow`]: a `linesman` command that keeps printing (`status --watch`,
//! `events`) as a child process, read a line at a time, each read bounded
//! by [`PATIENCE`]; killed on drop.

use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout};

use super::{PATIENCE, command};

/// A running `linesman ARGS` whose stdout is read line by line.
pub(crate) struct Follow {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Follow {
    /// Starts `linesman ARGS` (stderr discarded).
    pub(crate) fn spawn(args: &[&str]) -> Follow {
        let mut child = command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("the following command starts");
        let lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        Follow { child, lines }
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
