//! Finding (and, when missing, building) the binaries the tests run.
//!
//! `cargo test --workspace` builds every binary of the workspace, but
//! `cargo test -p linesman-integration-tests` alone does not (and leaves a
//! binary stale after a change to its crate), and cargo only tells a package
//! the paths of its own binaries. So the tests build each binary once per
//! process with the same cargo, profile and target folder (a no-op when it
//! is fresh) and run it from next to their own executable.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The target folder this test binary was built into (`…/target`).
fn target_dir() -> PathBuf {
    profile_dir()
        .parent()
        .expect("test binaries live in target/<profile>/deps")
        .to_path_buf()
}

/// The profile's folder of the target folder (`…/target/debug`).
fn profile_dir() -> PathBuf {
    // …/target/debug/deps/integration-HASH → …/target/debug
    let exe = std::env::current_exe().expect("the test binary knows its own path");
    exe.ancestors()
        .nth(2)
        .expect("test binaries live in target/<profile>/deps")
        .to_path_buf()
}

/// The path of binary `bin` of package `package`, brought up to date first.
///
/// Always asks cargo (a no-op when the binary is fresh): a binary that merely
/// exists may be stale when this package is tested on its own after a change
/// to the binary's crate. Callers keep the path in a `OnceLock`, so this runs
/// once per test process.
pub(crate) fn binary(package: &str, bin: &str) -> PathBuf {
    let path = profile_dir().join(bin);
    build(package, bin, &path);
    path
}

fn build(package: &str, bin: &str, expected: &Path) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let release = profile_dir()
        .file_name()
        .is_some_and(|name| name == "release");
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "--quiet",
            "-p",
            package,
            "--bin",
            bin,
            "--target-dir",
        ])
        .arg(target_dir());
    if release {
        command.arg("--release");
    }
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("running cargo to build {bin}: {error}"));
    assert!(
        status.success(),
        "cargo build -p {package} --bin {bin} failed"
    );
    assert!(
        expected.exists(),
        "cargo built {bin} but it is not at {}",
        expected.display()
    );
}

/// The `linesman-peer` binary of `linesman-testkit` (built first if needed),
/// for `PeerProcess::spawn_with`.
pub(crate) fn peer_binary() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| binary("linesman-testkit", "linesman-peer"))
}
