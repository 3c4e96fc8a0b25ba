//! Requests from another uid are refused. The unit test of `authorize` is in
//! the crate; here a real child process runs `curl` as `nobody` (uid 65534)
//! against the socket — possible only when the tests run as root and curl
//! is installed; otherwise the test says why it skips.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Command;

use linesman_control::{Client, ControlServer};
use linesman_testkit::TempDir;

use crate::support::idle_state;

const NOBODY: u32 = 65534;

fn curl_as_nobody(socket: &std::path::Path) -> std::io::Result<std::process::Output> {
    Command::new("curl")
        .args(["--silent", "--show-error", "--unix-socket"])
        .arg(socket)
        .args(["--write-out", "\n%{http_code}", "http://linesman/v1/status"])
        .uid(NOBODY)
        .gid(NOBODY)
        .output()
}

#[tokio::test]
async fn another_uid_is_refused_with_403() {
    let dir = TempDir::new("control-uid").expect("a temp dir");
    let socket = dir.join("control.sock");
    let server = ControlServer::bind(&socket, idle_state())
        .expect("binds")
        .spawn();
    let own_uid = std::fs::metadata(&socket).expect("the socket").uid();
    if own_uid != 0 {
        eprintln!("skipped: switching to another uid needs root (running as uid {own_uid})");
        return server.shutdown().await.expect("a clean shutdown");
    }
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("skipped: curl is not installed");
        return server.shutdown().await.expect("a clean shutdown");
    }
    // Nobody must be able to reach the socket at all for the uid check to
    // be what refuses it: open the directory and the socket's mode.
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))
        .expect("chmod the dir");

    // Mode 0600: the kernel refuses the connect itself.
    let out = tokio::task::spawn_blocking({
        let socket = socket.clone();
        move || curl_as_nobody(&socket)
    })
    .await
    .expect("curl ran")
    .expect("curl starts");
    assert!(!out.status.success(), "nobody connected to a 0600 socket");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ermission denied") || stderr.contains("onnect"),
        "{stderr}"
    );

    // Mode 0666: the connect succeeds, the peer-credential check refuses.
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666))
        .expect("chmod the socket");
    let out = tokio::task::spawn_blocking({
        let socket = socket.clone();
        move || curl_as_nobody(&socket)
    })
    .await
    .expect("curl ran")
    .expect("curl starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (body, code) = stdout.rsplit_once('\n').expect("a body and a code");
    assert_eq!(code, "403", "{stdout}");
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON error");
    let message = body["error"].as_str().expect("an error message");
    assert!(message.contains("serves only uid 0"), "{message}");
    assert!(message.contains("uid 65534"), "{message}");

    // The owner is still served.
    Client::new(&socket).status().await.expect("root is served");
    server.shutdown().await.expect("a clean shutdown");
}
