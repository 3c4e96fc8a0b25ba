//! The control socket's path cannot be taken over: the default lives in a
//! private directory (created 0700 by the daemon, checked by daemon and
//! client), a lock file planted as a symlink, a hard link or another
//! user's file is refused, and the CLI refuses a socket served by another
//! uid. Parts that need a second uid (chown, setuid) run only as root and
//! say so otherwise.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::process::Stdio;

use linesman_testkit::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::cli_harness::{Daemon, Launch, PATIENCE, Ran, command, finish, path, refused_port};
use crate::support::peer_binary;

const NOBODY: u32 = 65534;

fn yaml() -> String {
    format!(
        "connections:\n  c0: {{ endpoint: 'tcp://127.0.0.1:{}' }}\n",
        refused_port()
    )
}

/// Whether this process can give files away (root); prints why not.
fn can_chown(dir: &Path, test: &str) -> bool {
    let uid = std::fs::metadata(dir).expect("the temp dir").uid();
    if uid != 0 {
        eprintln!(
            "{test}: skipped the parts that need a second uid: running as uid {uid}, not root"
        );
    }
    uid == 0
}

/// A runtime directory of our own, mode 0700, like `/run/user/UID`.
fn runtime_dir(dir: &TempDir) -> std::path::PathBuf {
    let xdg = dir.join("xdg");
    std::fs::create_dir(&xdg).expect("mkdir xdg");
    std::fs::set_permissions(&xdg, PermissionsExt::from_mode(0o700)).expect("chmod xdg");
    xdg
}

/// Runs `linesman ARGS` with `XDG_RUNTIME_DIR=xdg` and no `--socket`.
async fn run_in(xdg: &Path, args: &[&str]) -> Ran {
    let mut command = command(args);
    command.env("XDG_RUNTIME_DIR", xdg);
    finish(command, args, PATIENCE).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_socket_lives_in_a_private_directory() {
    let dir = TempDir::new("hard-default").expect("temp dir");
    let xdg = runtime_dir(&dir);
    let socket = xdg.join("linesman").join("linesman.sock");
    let launch = Launch {
        env: &[("XDG_RUNTIME_DIR", Some(path(&xdg)))],
        default_socket: Some(socket.clone()),
        ..Launch::default()
    };
    let mut daemon = Daemon::launch(dir, &yaml(), launch).await;

    let meta = std::fs::symlink_metadata(xdg.join("linesman")).expect("the socket's directory");
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o700, "private to its owner");
    let status = run_in(&xdg, &["status", "-o", "json"]).await;
    assert_eq!(status.code, 3, "the client finds it too: {}", status.stderr);

    daemon.signal("TERM").await;
    assert_eq!(daemon.exit().await.0, 0);
    assert!(!socket.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_socket_directory_is_refused_by_daemon_and_client() {
    let dir = TempDir::new("hard-planted").expect("temp dir");
    let xdg = runtime_dir(&dir);
    let config = dir.join("config.yaml");
    std::fs::write(&config, yaml()).expect("write the configuration");
    let planted = xdg.join("linesman");
    let refused = |ran: &Ran, why: &str| {
        assert_eq!(ran.code, 1, "{ran:?}");
        assert!(
            ran.stderr.contains(path(&planted)) && ran.stderr.contains(why),
            "expected `{why}` about {}:\n{}",
            planted.display(),
            ran.stderr
        );
    };

    // A directory of ours that others may enter.
    std::fs::create_dir(&planted).expect("mkdir");
    std::fs::set_permissions(&planted, PermissionsExt::from_mode(0o755)).expect("chmod");
    refused(
        &run_in(&xdg, &["run", "-c", path(&config)]).await,
        "mode 0755",
    );
    refused(&run_in(&xdg, &["status"]).await, "chmod 700");
    std::fs::remove_dir(&planted).expect("rmdir");

    // A symbolic link to a directory of ours.
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir(&elsewhere).expect("mkdir");
    std::fs::set_permissions(&elsewhere, PermissionsExt::from_mode(0o700)).expect("chmod");
    std::os::unix::fs::symlink(&elsewhere, &planted).expect("symlink");
    refused(
        &run_in(&xdg, &["run", "-c", path(&config)]).await,
        "symbolic link",
    );
    refused(&run_in(&xdg, &["status"]).await, "symbolic link");
    assert!(
        std::fs::read_dir(&elsewhere).expect("ls").next().is_none(),
        "nothing was made through the link"
    );
    std::fs::remove_file(&planted).expect("rm the link");

    // Another user's directory, even one with a private mode.
    if can_chown(dir.path(), "a_planted_socket_directory_is_refused") {
        std::fs::create_dir(&planted).expect("mkdir");
        std::fs::set_permissions(&planted, PermissionsExt::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&planted, Some(NOBODY), Some(NOBODY)).expect("chown");
        refused(
            &run_in(&xdg, &["run", "-c", path(&config)]).await,
            "owned by uid 65534",
        );
        refused(&run_in(&xdg, &["status"]).await, "owned by uid 65534");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_planted_lock_file_is_refused() {
    let dir = TempDir::new("hard-lock").expect("temp dir");
    let config = dir.join("config.yaml");
    std::fs::write(&config, yaml()).expect("write the configuration");
    let socket = dir.join("control.sock");
    let lock = dir.join("control.sock.lock");
    let run_daemon = || async {
        let ran =
            crate::cli_harness::run(&["run", "-c", path(&config), "--socket", path(&socket)]).await;
        assert_eq!(ran.code, 1, "{ran:?}");
        assert!(ran.stderr.contains(path(&lock)), "{}", ran.stderr);
        ran.stderr
    };

    // A symbolic link to where root would create or truncate a file.
    let victim = dir.join("victim");
    std::os::unix::fs::symlink(&victim, &lock).expect("symlink");
    let stderr = run_daemon().await;
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(!victim.exists(), "nothing was created through the link");
    std::fs::remove_file(&lock).expect("rm");

    // A hard link to a file of ours.
    let other = dir.join("other");
    std::fs::write(&other, "keep me").expect("write");
    std::fs::hard_link(&other, &lock).expect("link");
    let stderr = run_daemon().await;
    assert!(stderr.contains("2 links"), "{stderr}");
    std::fs::remove_file(&lock).expect("rm");
    assert_eq!(std::fs::read_to_string(&other).expect("read"), "keep me");

    // Another user's file.
    if can_chown(dir.path(), "a_planted_lock_file_is_refused") {
        std::fs::write(&lock, "").expect("write");
        std::os::unix::fs::chown(&lock, Some(NOBODY), Some(NOBODY)).expect("chown");
        let stderr = run_daemon().await;
        assert!(stderr.contains("owned by uid 65534"), "{stderr}");
    }
    assert!(!socket.exists(), "no daemon served");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_a_socket_served_by_another_uid() {
    let dir = TempDir::new("hard-foreign").expect("temp dir");
    if !can_chown(dir.path(), "the_cli_refuses_a_socket_served_by_another_uid") {
        return;
    }
    // A folder nobody may write to, and a server running as nobody in it:
    // a test peer stands in for a fake daemon, the client must not talk to it.
    let theirs = dir.join("theirs");
    std::fs::create_dir(&theirs).expect("mkdir");
    std::os::unix::fs::chown(&theirs, Some(NOBODY), Some(NOBODY)).expect("chown");
    std::fs::set_permissions(dir.path(), PermissionsExt::from_mode(0o755)).expect("chmod");
    let socket = theirs.join("fake.sock");
    let mut fake = Command::new(peer_binary())
        .arg("--listen")
        .arg(format!("unix://{}", path(&socket)))
        .uid(NOBODY)
        .gid(NOBODY)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the fake server starts");
    let mut lines = BufReader::new(fake.stdout.take().expect("its stdout")).lines();
    let listening = tokio::time::timeout(PATIENCE, lines.next_line())
        .await
        .expect("the fake server says where it listens")
        .expect("read its stdout");
    assert!(listening.is_some_and(|l| l.starts_with("listening")));
    std::fs::set_permissions(&socket, PermissionsExt::from_mode(0o666)).expect("chmod");

    let ran = crate::cli_harness::run(&["status", "--socket", path(&socket)]).await;
    assert_eq!(ran.code, 1, "{ran:?}");
    assert!(
        ran.stderr.contains(&format!(
            "the socket {} is served by uid 65534 (user nobody), not by you (uid 0); refusing to trust it",
            socket.display()
        )),
        "{}",
        ran.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_in_a_missing_directory_says_to_create_it() {
    let dir = TempDir::new("hard-nodir").expect("temp dir");
    let config_file = dir.path().join("config.yaml");
    std::fs::write(&config_file, yaml()).expect("write the config");
    let socket_file = dir.path().join("missing").join("control.sock");
    let (config, socket) = (path(&config_file), path(&socket_file));
    let ran = finish(
        command(&["run", "-c", config, "--socket", socket]),
        &[],
        PATIENCE,
    )
    .await;
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("its directory does not exist: create it (RuntimeDirectory="),
        "{}",
        ran.stderr
    );
}
