//! The socket's private directory and lock file, checked on real files:
//! what a daemon creates passes, and everything someone could have planted
//! — a symbolic link, a hard link, an open mode, another user's file or
//! directory — is refused without being touched. Giving a file to another
//! uid needs root; without it those cases say so and are skipped.

use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};
use std::path::Path;

use linesman_control::{
    ControlError, ControlServer, SocketDirError, check_private_dir, ensure_private_dir,
};
use linesman_testkit::TempDir;

use crate::support::idle_state;

const NOBODY: u32 = 65534;

fn is_root(dir: &Path, test: &str) -> bool {
    let uid = std::fs::metadata(dir).expect("the temp dir").uid();
    if uid != 0 {
        eprintln!("{test}: skipped the other-owner case: needs root, running as uid {uid}");
    }
    uid == 0
}

#[test]
fn a_private_directory_is_made_0700_and_then_accepted() {
    let dir = TempDir::new("private-made").expect("a temp dir");
    let private = dir.join("linesman");
    assert!(!check_private_dir(&private).expect("a missing dir is no error"));
    ensure_private_dir(&private).expect("made");
    let meta = std::fs::symlink_metadata(&private).expect("it exists");
    assert!(meta.is_dir());
    assert_eq!(meta.mode() & 0o777, 0o700);
    ensure_private_dir(&private).expect("and accepted when it exists");
    assert!(check_private_dir(&private).expect("private"));
}

#[test]
fn anything_but_a_private_directory_of_ours_is_refused() {
    let dir = TempDir::new("private-refused").expect("a temp dir");
    let private = dir.join("linesman");

    std::fs::create_dir(&private).expect("mkdir");
    std::fs::set_permissions(&private, PermissionsExt::from_mode(0o750)).expect("chmod");
    let error = ensure_private_dir(&private).expect_err("group may enter");
    assert!(
        matches!(error, SocketDirError::Mode { mode: 0o750, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("chmod 700"), "{error}");
    std::fs::remove_dir(&private).expect("rmdir");

    let target = dir.join("target");
    std::fs::create_dir(&target).expect("mkdir");
    std::fs::set_permissions(&target, PermissionsExt::from_mode(0o700)).expect("chmod");
    symlink(&target, &private).expect("symlink");
    let error = check_private_dir(&private).expect_err("a link");
    assert!(matches!(error, SocketDirError::Symlink { .. }), "{error}");
    std::fs::remove_file(&private).expect("rm");

    std::fs::write(&private, "").expect("a file");
    let error = ensure_private_dir(&private).expect_err("a file");
    assert!(
        matches!(error, SocketDirError::NotADirectory { .. }),
        "{error}"
    );
    std::fs::remove_file(&private).expect("rm");

    if is_root(
        dir.path(),
        "anything_but_a_private_directory_of_ours_is_refused",
    ) {
        std::fs::create_dir(&private).expect("mkdir");
        std::fs::set_permissions(&private, PermissionsExt::from_mode(0o700)).expect("chmod");
        std::os::unix::fs::chown(&private, Some(NOBODY), Some(NOBODY)).expect("chown");
        let error = ensure_private_dir(&private).expect_err("someone else's");
        assert!(
            error
                .to_string()
                .contains("is owned by uid 65534 (user nobody), not by you (uid 0)"),
            "{error}"
        );
    }
}

/// The problem `bind` finds with a planted `control.sock.lock`.
fn lock_problem(dir: &TempDir) -> String {
    match ControlServer::bind(dir.join("control.sock"), idle_state()) {
        Err(ControlError::UnsafeLock { lock, problem }) => {
            assert_eq!(lock, dir.join("control.sock.lock"));
            assert!(!dir.join("control.sock").exists(), "nothing was bound");
            problem
        }
        other => panic!("expected UnsafeLock, got {other:?}"),
    }
}

#[tokio::test]
async fn a_planted_lock_file_is_refused_and_left_alone() {
    let dir = TempDir::new("private-lock").expect("a temp dir");
    let lock = dir.join("control.sock.lock");

    let victim = dir.join("victim");
    symlink(&victim, &lock).expect("symlink");
    assert_eq!(lock_problem(&dir), "a symbolic link");
    assert!(!victim.exists(), "nothing was created through the link");
    std::fs::remove_file(&lock).expect("rm");

    let other = dir.join("other");
    std::fs::write(&other, "precious").expect("write");
    std::fs::hard_link(&other, &lock).expect("link");
    assert_eq!(
        lock_problem(&dir),
        "a file with 2 links (a hard link to another file)"
    );
    assert_eq!(std::fs::read_to_string(&other).expect("read"), "precious");
    std::fs::remove_file(&lock).expect("rm");

    std::fs::create_dir(&lock).expect("mkdir");
    assert_eq!(lock_problem(&dir), "not a regular file");
    std::fs::remove_dir(&lock).expect("rmdir");

    if is_root(dir.path(), "a_planted_lock_file_is_refused_and_left_alone") {
        std::fs::write(&lock, "").expect("write");
        std::os::unix::fs::chown(&lock, Some(NOBODY), Some(NOBODY)).expect("chown");
        assert_eq!(
            lock_problem(&dir),
            "owned by uid 65534 (user nobody), not by you (uid 0)"
        );
        std::fs::remove_file(&lock).expect("rm");
    }

    // A lock file of our own, left by an earlier daemon, is fine.
    std::fs::write(&lock, "").expect("write");
    let server = ControlServer::bind(dir.join("control.sock"), idle_state())
        .expect("binds")
        .spawn();
    server.shutdown().await.expect("a clean shutdown");
}
