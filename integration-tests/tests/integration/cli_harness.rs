//! Driving the real `linesman` binary: a daemon (`linesman run`) as a child
//! process on a YAML file in a fresh temporary folder
//! ([`Daemon`], in `cli_harness/daemon.rs`), commands that keep printing
//! ([`Follow`], in `cli_harness/follow.rs`), one-shot commands with their
//! exit code and output, and the normalisation of what changes from run to
//! run (ports, temporary paths, times) for snapshots.
//!
//! Peers are testkit [`Peer`](linesman_testkit::Peer)s in the test's own
//! runtime; every wait is bounded, and a child left behind is killed on drop.

mod daemon;
mod follow;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::process::Command;

use crate::support::binary;

pub(crate) use daemon::{Daemon, Launch, Stderr};
pub(crate) use follow::Follow;

/// How long any one wait of these tests may take before it fails: generous,
/// because a loaded CI machine is slow; nothing asserts how long it took.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

/// The `linesman` binary (built first if needed).
pub(crate) fn linesman() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| binary("linesman-cli", "linesman"))
}

/// A `linesman` command with a clean environment: no `LINESMAN_SOCKET`, no
/// `COLUMNS` (tables not fitted to a width), no colours, quiet logs.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(linesman());
    command.args(args);
    clean(&mut command);
    command
}

/// Gives `command` (`linesman` or a wrapper that execs it) the clean
/// environment of [`command`].
fn clean(command: &mut Command) {
    command
        .env_remove("LINESMAN_SOCKET")
        .env_remove("COLUMNS")
        .env("NO_COLOR", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .kill_on_drop(true);
}

/// What a finished command did.
#[derive(Debug)]
pub(crate) struct Ran {
    /// Its exit code (-1 if a signal ended it).
    pub(crate) code: i32,
    /// Its standard output.
    pub(crate) stdout: String,
    /// Its standard error.
    pub(crate) stderr: String,
}

/// Runs `linesman ARGS` to its end.
pub(crate) async fn run(args: &[&str]) -> Ran {
    finish(command(args), args, PATIENCE).await
}

/// Runs `command` (made by [`command`] from `args`, then adjusted) to its
/// end; fails the test if that takes longer than `patience`.
pub(crate) async fn finish(mut command: Command, args: &[&str], patience: Duration) -> Ran {
    let output = tokio::time::timeout(patience, command.output())
        .await
        .unwrap_or_else(|_| panic!("`linesman {}` did not end", args.join(" ")))
        .expect("linesman runs");
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Polls `done` every 20 ms until it holds; fails the test after PATIENCE.
pub(crate) async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The state word of connection `name` in a status JSON.
pub(crate) fn state<'a>(status: &'a serde_json::Value, name: &str) -> &'a str {
    status["connections"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .and_then(|c| c["state"].as_str())
        .unwrap_or("absent")
}

/// A path as `&str` (temporary paths are UTF-8).
pub(crate) fn path(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// A TCP port on loopback where nothing listens: bound, then released.
pub(crate) fn refused_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// `text` with what changes from run to run replaced: `dir` by `[DIR]`,
/// `127.0.0.1:PORT` by `127.0.0.1:[PORT]`, times (`0.3s`, `4m05s`,
/// `250ms`) by `[T]`.
pub(crate) fn normalize(text: &str, dir: &Path) -> String {
    let text = text.replace(path(dir), "[DIR]");
    let text = replace_ports(&text);
    replace_times(&text)
}

fn replace_ports(text: &str) -> String {
    const HOST: &str = "127.0.0.1:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(HOST) {
        out.push_str(&rest[..at + HOST.len()]);
        rest = &rest[at + HOST.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push_str("[PORT]");
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// Replaces every whole word that is a time as the CLI prints it.
fn replace_times(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let boundary = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        if boundary
            && chars[i].is_ascii_digit()
            && let Some(len) = time_len(&chars[i..])
        {
            out.push_str("[T]");
            i += len;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The length of the time at the start of `s`, if one is there and ends a word.
fn time_len(s: &[char]) -> Option<usize> {
    let digits = |from: usize| s[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut n = digits(0);
    if s.get(n) == Some(&'.') && digits(n + 1) > 0 {
        n += 1 + digits(n + 1);
    }
    let rest: String = s[n..].iter().take(4).collect();
    let unit = if rest.starts_with("ms") {
        2
    } else if rest.len() >= 4
        && matches!(&rest[..1], "m" | "h" | "d")
        && rest[1..3].chars().all(|c| c.is_ascii_digit())
        && matches!(&rest[3..4], "s" | "m" | "h")
    {
        4
    } else if rest.starts_with('s') {
        1
    } else {
        return None;
    };
    let end = n + unit;
    match s.get(end) {
        Some(c) if c.is_alphanumeric() => None,
        _ => Some(end),
    }
}

/// A table whose columns are two or more spaces apart, re-aligned after
/// [`normalize`] changed the widths of some cells.
pub(crate) fn realign(table: &str) -> String {
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|line| {
            line.split("  ")
                .map(str::trim)
                .filter(|cell| !cell.is_empty())
                .collect()
        })
        .collect();
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count() + 2;
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[test]
fn normalize_replaces_ports_paths_and_times() {
    let dir = Path::new("/tmp/linesman-x-1-2");
    let text = "up  0.3s  tcp://127.0.0.1:40123  /tmp/linesman-x-1-2/a.sock  next in 4m05s, 250ms, attempt 4, os error 111, 1.5.2";
    assert_eq!(
        normalize(text, dir),
        "up  [T]  tcp://127.0.0.1:[PORT]  [DIR]/a.sock  next in [T], [T], attempt 4, os error 111, 1.5.2"
    );
    assert_eq!(
        realign("A  BB  C\nxxxx  y  zz\n"),
        "A     BB  C\nxxxx  y   zz\n"
    );
}

/// `text` without its ANSI control sequences (`ESC [ … FINAL`: colours,
/// cursor moves, clearing).
pub(crate) fn strip_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.by_ref().skip(1).find(|c| ('@'..='~').contains(c));
        } else {
            out.push(c);
        }
    }
    out
}
