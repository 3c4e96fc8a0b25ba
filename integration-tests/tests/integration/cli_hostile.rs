//! The real `linesman` binary in the hands of a careless operator and a
//! hostile environment: stdout a pipe nobody reads any more or a full
//! disk, a FIFO or a directory given as the configuration, a relative
//! `control.socket` used from another directory, `wait --timeout 0`, a
//! planted configuration full of escape sequences.
//! No panic, no hang: a clear word and a documented exit code.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use linesman_testkit::{Behavior, Listen, Peer, TempDir};

use crate::cli_harness::{
    Daemon, Launch, PATIENCE, Ran, command, finish, path, refused_port, state,
};

/// One connection that stays down: enough for every command to print.
fn one_down() -> String {
    format!(
        "connections:\n  a: {{ endpoint: tcp://127.0.0.1:{}, restart: {{ policy: never }} }}\n",
        refused_port()
    )
}

/// Runs `linesman ARGS` with stdout as `stdout`, stderr read. (Not
/// `Command::output`, which would make stdout a pipe of its own.)
async fn run_with_stdout(args: &[&str], stdout: Stdio) -> Ran {
    let mut command = command(args);
    command.stdout(stdout).stderr(Stdio::piped());
    let child = command.spawn().expect("linesman runs");
    let output = tokio::time::timeout(PATIENCE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("`linesman {}` did not end", args.join(" ")))
        .expect("linesman runs");
    Ran {
        code: output.status.code().unwrap_or(-1),
        stdout: String::new(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A pipe whose read end is already closed: every write gets EPIPE.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("make a pipe");
    drop(reader);
    Stdio::from(writer)
}

fn dev_full() -> Stdio {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    Stdio::from(full)
}

fn assert_no_panic(ran: &Ran, what: &str) {
    for word in ["panicked", "RUST_BACKTRACE", "Broken pipe"] {
        assert!(
            !ran.stderr.contains(word),
            "{what}: {word:?} in:\n{}",
            ran.stderr
        );
    }
}

#[tokio::test]
async fn a_closed_stdout_ends_every_command_quietly() {
    let daemon = Daemon::start(TempDir::new("cli-epipe").expect("temp dir"), &one_down()).await;
    let socket = path(&daemon.socket).to_owned();
    let config = path(&daemon.config).to_owned();
    let commands: [&[&str]; 6] = [
        &["status", "--socket", &socket],
        &["status", "-o", "json", "--socket", &socket],
        &["deps", "--socket", &socket],
        &["check", &config],
        &["graph", &config],
        &["graph", &config, "--format", "mermaid"],
    ];
    for args in commands {
        let ran = run_with_stdout(args, closed_pipe()).await;
        let what = args.join(" ");
        assert_no_panic(&ran, &what);
        assert_eq!(ran.code, 0, "{what}: {}", ran.stderr);
        assert!(ran.stderr.is_empty(), "{what}: {}", ran.stderr);
    }
}

#[tokio::test]
async fn a_full_stdout_is_one_line_on_stderr_and_exit_1() {
    let daemon = Daemon::start(TempDir::new("cli-enospc").expect("temp dir"), &one_down()).await;
    let socket = path(&daemon.socket).to_owned();
    let config = path(&daemon.config).to_owned();
    let commands: [&[&str]; 5] = [
        &["status", "--socket", &socket],
        &["status", "--watch", "--socket", &socket],
        &["deps", "--socket", &socket],
        &["check", &config],
        &["graph", &config],
    ];
    for args in commands {
        let ran = run_with_stdout(args, dev_full()).await;
        let what = args.join(" ");
        assert_no_panic(&ran, &what);
        assert_eq!(ran.code, 1, "{what}: {}", ran.stderr);
        assert_eq!(
            ran.stderr.trim_end(),
            "linesman: error: cannot write to standard output: No space left on device (os error 28)",
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_fifo_or_a_directory_as_the_configuration_is_refused_at_once() {
    let dir = TempDir::new("cli-fifo").expect("temp dir");
    let fifo = dir.join("linesman.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    let cases = [
        (path(&fifo), "is a FIFO (named pipe), not a regular file"),
        (path(dir.path()), "is a directory, not a regular file"),
    ];
    for (given, expected) in cases {
        // Nobody ever writes to the FIFO: a blocking open would hang until
        // PATIENCE runs out.
        for args in [
            vec!["check", given],
            vec!["run", "-c", given],
            vec!["status", "-c", given],
        ] {
            let ran = finish(command(&args), &args, PATIENCE).await;
            assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
            // miette wraps long lines: compare words.
            let said = ran
                .stderr
                .split_whitespace()
                .filter(|word| *word != "│")
                .collect::<Vec<_>>()
                .join(" ");
            assert!(said.contains(expected), "{args:?}: {}", ran.stderr);
        }
    }
}

#[tokio::test]
async fn a_relative_control_socket_is_found_from_any_directory() {
    let dir = TempDir::new("cli-relative-socket").expect("temp dir");
    let socket = dir.join("ctl.sock");
    let yaml = format!("control: {{ socket: ctl.sock }}\n{}", one_down());
    // No --socket: the daemon takes control.socket from the file, relative
    // to the file's directory (not to its own working directory).
    let launch = Launch {
        default_socket: Some(socket.clone()),
        ..Launch::default()
    };
    let daemon = Daemon::launch(dir, &yaml, launch).await;
    let config = daemon.config.clone();
    let parent = daemon.dir.path().parent().expect("a parent").to_owned();
    let name = daemon.dir.path().file_name().expect("a name").to_owned();
    let relative = Path::new(&name).join("config.yaml");
    // From the parent, with a relative -c; from `/`, with an absolute one.
    for (cwd, given) in [
        (parent.as_path(), relative.as_path()),
        (Path::new("/"), config.as_path()),
    ] {
        let args = ["status", "-o", "json", "-c", path(given)];
        let mut command = command(&args);
        command.current_dir(cwd);
        let ran = finish(command, &args, PATIENCE).await;
        assert_eq!(ran.code, 3, "from {}: {}", cwd.display(), ran.stderr);
        assert!(ran.stdout.contains("\"a\""), "{}", ran.stdout);
    }
}

#[tokio::test]
async fn a_timeout_of_u64_max_seconds_means_never_and_does_not_panic() {
    // `--timeout 18446744073709551615s` (an operator's "never") overflowed
    // the clock: exit 101 and a backtrace.
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let yaml = format!("connections:\n  b: {{ endpoint: {} }}\n", peer.endpoint());
    let daemon = Daemon::start(TempDir::new("cli-never").expect("temp dir"), &yaml).await;
    let never = "18446744073709551615s";
    let up = daemon.cli(&["wait", "--up", "b", "--timeout", never]).await;
    assert_no_panic(&up, "wait");
    assert_eq!(up.code, 0, "{}", up.stderr);
    for action in ["restart", "stop", "start"] {
        let ran = daemon.cli(&[action, "b", "--timeout", never]).await;
        assert_no_panic(&ran, action);
        assert_eq!(ran.code, 0, "{action}: {}", ran.stderr);
    }
}

#[tokio::test]
async fn wait_with_a_zero_timeout_checks_once_and_answers() {
    let peer = Peer::start(Listen::tcp(), Behavior::Echo)
        .await
        .expect("an echo peer starts");
    let yaml = format!("{}  b: {{ endpoint: {} }}\n", one_down(), peer.endpoint());
    let daemon = Daemon::start(TempDir::new("cli-wait-0").expect("temp dir"), &yaml).await;
    daemon
        .wait_status("b up, a down", |s| {
            state(s, "b") == "up" && matches!(state(s, "a"), "stopped" | "failed")
        })
        .await;
    let up = daemon.cli(&["wait", "--up", "b", "--timeout", "0"]).await;
    assert_eq!(up.code, 0, "{}", up.stderr);
    assert_eq!(up.stdout, "up: b\n");
    let down = daemon
        .cli(&["wait", "--up", "a", "b", "--timeout", "0s"])
        .await;
    assert_eq!(down.code, 4, "{}", down.stderr);
    assert!(down.stderr.contains("`a` is "), "{}", down.stderr);
    assert!(!down.stderr.contains("did not answer"), "{}", down.stderr);
    let unknown = daemon
        .cli(&["wait", "--up", "nope", "--timeout", "0"])
        .await;
    assert_eq!(unknown.code, 6, "an unknown name: {}", unknown.stderr);
}

#[tokio::test]
async fn a_control_socket_path_that_is_not_a_socket_is_named_as_such() {
    let dir = TempDir::new("cli-not-a-socket").expect("temp dir");
    let plain = dir.join("control.sock");
    std::fs::write(&plain, "").expect("write a plain file");
    for (given, what) in [
        (path(&plain), "a regular file"),
        (path(dir.path()), "a directory"),
    ] {
        let args = ["status", "--socket", given];
        let ran = finish(command(&args), &args, PATIENCE).await;
        assert_eq!(ran.code, 1, "{}", ran.stderr);
        assert_eq!(
            ran.stderr.trim_end(),
            format!(
                "linesman: error: {given} exists but is not a socket (it is {what}): point --socket (LINESMAN_SOCKET) or control.socket at the daemon's control socket"
            )
        );
    }
}

#[tokio::test]
async fn a_socket_path_longer_than_the_unix_limit_says_its_length_and_the_limit() {
    let dir = TempDir::new("cli-long-socket").expect("temp dir");
    let prefix = format!("{}/", dir.path().display());
    let long = format!("{prefix}{}.sock", "s".repeat(120 - prefix.len() - 5));
    assert_eq!(long.len(), 120);
    let config = dir.join("linesman.yaml");
    std::fs::write(&config, one_down()).expect("write the configuration");
    let limit = "a Unix socket path can be at most 107 bytes (108 with the closing NUL)";
    for args in [
        vec!["status", "--socket", &long],
        vec!["run", "-c", path(&config), "--socket", &long],
    ] {
        let ran = finish(command(&args), &args, PATIENCE).await;
        assert_ne!(ran.code, 0, "{}", ran.stderr);
        assert!(
            ran.stderr
                .contains(&format!("{long}: the path is 120 bytes long, and {limit}"))
                && ran.stderr.contains("shorter path"),
            "`linesman {}`: {}",
            args[0],
            ran.stderr
        );
        assert_no_panic(&ran, args[0]);
    }
}

#[tokio::test]
async fn a_planted_configurations_escape_sequences_never_reach_the_terminal() {
    let dir = TempDir::new("cli-planted").expect("temp dir");
    let long = "x".repeat(300);
    let files = [
        // YAML unescapes `\e` and `\u009b`: a retitle, a clear screen and
        // a C1 CSI, in a value every rendering quotes.
        (
            "escapes.yaml",
            "connections:\n  a:\n    endpoint: tcp://127.0.0.1:1\n    restart: \"x\\e]0;owned\\a\\e[2J\\u009b31m\"\n".to_owned(),
        ),
        // Raw ESC and BEL bytes, which the parser refuses with a snippet.
        (
            "raw.yaml",
            "connections:\n  a:\n    endpoint: \"tcp://h:1\u{1b}]0;owned\u{7}\"\n".to_owned(),
        ),
        // A lone carriage return and a raw escape on a line too long to show whole.
        (
            "long.yaml",
            format!("connections:\n  a:\n    endpoint: tcp://h:1\r  kind: {long}\u{1b}[2J\n"),
        ),
        // A valid file whose name is an escape sequence.
        (
            "\u{1b}]0;owned\u{7}.yaml",
            "connections:\n  a: { endpoint: tcp://127.0.0.1:1 }\n".to_owned(),
        ),
        // Newlines in the name, which `graph` writes in a comment line.
        (
            "z\n\"pwned\" -> \"a\";\n.yaml",
            "connections:\n  a: { endpoint: tcp://127.0.0.1:1 }\n".to_owned(),
        ),
    ];
    for (name, yaml) in &files {
        let file = dir.join(name);
        std::fs::write(&file, yaml).expect("write the file");
        let args = ["graph", path(&file)];
        let drawn = finish(command(&args), &args, PATIENCE).await;
        assert_no_panic(&drawn, name);
        assert!(
            !format!("{}{}", drawn.stdout, drawn.stderr)
                .chars()
                .any(|c| linesman_stream::is_hidden(c) && c != '\n'),
            "graph of {name:?}: {drawn:?}"
        );
        for format in ["human", "short", "json"] {
            let args = ["check", "--format", format, path(&file)];
            let ran = finish(command(&args), &args, PATIENCE).await;
            assert_no_panic(&ran, name);
            for (stream, text) in [("stdout", &ran.stdout), ("stderr", &ran.stderr)] {
                assert!(
                    !text.chars().any(|c| c.is_control() && c != '\n'),
                    "{name:?} --format {format}: a control character on {stream}:\n{text:?}"
                );
            }
        }
    }
}

#[tokio::test]
async fn names_and_socket_paths_from_outside_are_written_out_in_every_answer() {
    // A name from a script, a socket path from a planted environment:
    // echoed in errors, they reached the terminal raw (a window title, a
    // colour, a direction override).
    let hostile = "x\u{1b}]0;owned\u{7}\u{1b}[31m\u{202e}\u{9b}Y";
    let daemon = Daemon::start(TempDir::new("cli-echoes").expect("temp dir"), &one_down()).await;
    let mut answers = Vec::new();
    for args in [
        vec!["status", hostile],
        vec!["stop", hostile],
        vec!["status", "--kind", hostile],
        vec!["status", "--tag", hostile],
        vec!["wait", "--up", hostile, "--timeout", "0"],
    ] {
        answers.push((format!("{args:?}"), daemon.cli(&args).await));
    }
    let missing = format!("{}/{hostile}.sock", path(daemon.dir.path()));
    for verb in ["status", "deps", "events"] {
        let args = [verb, "--socket", missing.as_str()];
        answers.push((
            format!("{args:?}"),
            finish(command(&args), &args, PATIENCE).await,
        ));
    }
    // A value clap refuses is repeated in its usage error (clap strips
    // escape sequences off a pipe, but not a direction override, and on a
    // terminal not even the escapes).
    let args = ["status", "--output", hostile];
    let usage = finish(command(&args), &args, PATIENCE).await;
    assert_eq!(usage.code, 2, "bad usage: {}", usage.stderr);
    assert!(
        usage.stderr.contains("invalid value") && usage.stderr.contains("\\u{202e}"),
        "{}",
        usage.stderr
    );
    answers.push(("a usage error".to_owned(), usage));
    for (what, ran) in &answers {
        assert_no_panic(ran, what);
        assert_ne!(ran.code, 0, "{what}: {}", ran.stderr);
        for text in [&ran.stdout, &ran.stderr] {
            assert!(
                !text
                    .chars()
                    .any(|c| linesman_stream::is_hidden(c) && c != '\n'),
                "{what}: a hidden character reached the output: {text:?}"
            );
        }
        assert!(
            what == "a usage error" || ran.stderr.contains("\\u{1b}]0;owned\\u{7}"),
            "{what}: {}",
            ran.stderr
        );
    }
}

#[tokio::test]
async fn graph_writes_a_file_name_with_newlines_on_its_comment_line() {
    let dir = TempDir::new("cli-graph-name").expect("temp dir");
    let file = dir.join("z\n\"pwned\" -> \"a\";\n.yaml");
    std::fs::write(
        &file,
        "connections:\n  a: { endpoint: tcp://127.0.0.1:1 }\n",
    )
    .expect("write");
    for format in ["dot", "mermaid"] {
        let args = ["graph", "--format", format, path(&file)];
        let drawn = finish(command(&args), &args, PATIENCE).await;
        assert_eq!(drawn.code, 0, "{}", drawn.stderr);
        let lines: Vec<&str> = drawn.stdout.lines().collect();
        assert!(
            lines[0].contains("z\\n\"pwned\" -> \"a\";\\n.yaml"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with("digraph") || lines[1].starts_with("flowchart"),
            "the name ended the comment: {lines:?}"
        );
        assert!(
            !drawn.stdout.contains("\"pwned\" -> \"a\";\n"),
            "{}",
            drawn.stdout
        );
    }
}

/// `linesman run --socket DIR/ctl.sock` of one connection, `loop`, whose
/// endpoint is the path `endpoint` makes of the socket's; it must refuse,
/// exit 2, bind nothing.
async fn run_refused_pointing_at(label: &str, endpoint: impl Fn(&Path) -> PathBuf) {
    let dir = TempDir::new(label).expect("temp dir");
    let socket = dir.join("ctl.sock");
    let config = dir.join("linesman.yaml");
    std::fs::write(
        &config,
        format!(
            "connections:\n  loop: {{ endpoint: unix://{} }}\n",
            path(&endpoint(&socket))
        ),
    )
    .expect("write the config");
    let args = ["run", "-c", path(&config), "--socket", path(&socket)];
    let ran = finish(command(&args), &args, PATIENCE).await;
    assert_no_panic(&ran, "run");
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("connection `loop` points at")
            && ran.stderr.contains("the control socket this daemon serves"),
        "{}",
        ran.stderr
    );
    assert!(!socket.exists(), "nothing was bound");
}

#[tokio::test]
async fn run_refuses_a_connection_to_its_own_control_socket() {
    // Given with --socket, which `check` cannot know: each such connection
    // took a control slot and reconnected forever (70 locked the CLI out).
    run_refused_pointing_at("cli-own-socket", Path::to_owned).await;
}

#[tokio::test]
async fn run_refuses_a_connection_to_its_own_control_socket_through_a_link() {
    // A link to the control socket passed the comparison of paths, and
    // 200 such connections made the daemon flood its own control plane
    // (hostile run h22 F7).
    run_refused_pointing_at("cli-own-link", |socket| {
        let link = socket.with_file_name("peer.sock");
        std::os::unix::fs::symlink(socket, &link).expect("a link to the socket-to-be");
        link
    })
    .await;
    // A chain of links, the last to a socket not bound yet (hostile run
    // h23: one link was followed, two were not).
    run_refused_pointing_at("cli-own-chain", |socket| {
        let first = socket.with_file_name("one.sock");
        let second = socket.with_file_name("two.sock");
        std::os::unix::fs::symlink(socket, &first).expect("a link to the socket-to-be");
        std::os::unix::fs::symlink("one.sock", &second).expect("a relative link to the link");
        second
    })
    .await;
}
