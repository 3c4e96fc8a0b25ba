//! Out of file descriptors: a connect that cannot create its socket says so,
//! with the limit and what to raise, instead of "check that the peer is
//! up"; and the soft limit can be raised to the hard one. The test lowers
//! the limit, so it runs in a child process (this test binary, re-run on
//! this one test), where nothing else shares the limit.

use std::fs::File;
use std::process::Command;

use linesman_stream::{
    ConnectError, ConnectOptions, Endpoint, SocketHooks, connect, nofile_limit, raise_nofile_limit,
};

/// Set in the child run of [`out_of_fds_names_the_limit_and_what_to_raise`].
const CHILD: &str = "LINESMAN_STREAM_TEST_NOFILE_CHILD";
/// The soft limit the child lowers itself to.
const LOW: u64 = 64;

#[test]
fn out_of_fds_names_the_limit_and_what_to_raise() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    let output = Command::new(exe)
        .args([
            "--exact",
            "limits::out_of_fds_names_the_limit_and_what_to_raise",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("1 passed"),
        "the child ran no test:\n{stdout}"
    );
}

fn child() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = Endpoint::Tcp {
        host: "127.0.0.1".into(),
        port: listener.local_addr().expect("address").port(),
    };
    lower_soft_limit(LOW);
    assert_eq!(nofile_limit().expect("getrlimit"), LOW);
    let mut hog = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        hog.push(file);
    }
    let error = runtime
        .block_on(connect(
            &endpoint,
            &ConnectOptions::default(),
            &SocketHooks::default(),
        ))
        .expect_err("no descriptor is left");
    assert!(
        matches!(
            error,
            ConnectError::TooManyOpenFiles {
                limit: Some(LOW),
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.contains("too many open files (limit 64): raise LimitNOFILE (systemd) or `ulimit -n`"),
        "{text}"
    );
    assert!(!text.contains("check that the peer is up"), "{text}");
    drop(hog);
    let raised = raise_nofile_limit().expect("raise the soft limit");
    assert!(raised >= LOW);
    assert_eq!(nofile_limit().expect("getrlimit"), raised);
    runtime
        .block_on(connect(
            &endpoint,
            &ConnectOptions::default(),
            &SocketHooks::default(),
        ))
        .expect("descriptors are free again");
}

fn lower_soft_limit(soft: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit read or write one `rlimit` through a
    // pointer to a live, aligned local and keep nothing after returning.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = soft;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
}
