//! `raise_nofile_limit` and the `linesman-peer` binary lift the soft
//! open-file limit to the hard one. A test binary of its own: it lowers this
//! process's limit, which no other test should feel.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use linesman_testkit::raise_nofile_limit;

/// The soft limit these tests lower to, well below any usual hard limit.
const LOW: u64 = 256;

fn limits() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a pointer to a live local.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit
}

fn lower_soft_limit() {
    let limit = libc::rlimit {
        rlim_cur: LOW,
        rlim_max: limits().rlim_max,
    };
    // SAFETY: setrlimit reads one `rlimit` through a pointer to a live local.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

/// The soft and hard "Max open files" of a process, from /proc.
fn proc_limits(pid: u32) -> (u64, u64) {
    let text = std::fs::read_to_string(format!("/proc/{pid}/limits"))
        .expect("/proc/PID/limits is readable");
    let line = text
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .expect("a Max open files line");
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|word| word.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn the_soft_limit_is_raised_to_the_hard_limit_in_process_and_in_the_binary() {
    let hard = limits().rlim_max;
    if hard <= LOW {
        eprintln!("skipped: the hard open-file limit {hard} is not above {LOW}, nothing to raise");
        return;
    }
    lower_soft_limit();
    assert_eq!(limits().rlim_cur, LOW);
    assert_eq!(
        raise_nofile_limit().expect("raising to the hard limit is allowed"),
        hard
    );
    assert_eq!(limits().rlim_cur, hard);

    // the child inherits the lowered limit and raises it itself
    lower_soft_limit();
    let mut child = Command::new(env!("CARGO_BIN_EXE_linesman-peer"))
        .args(["--listen", "tcp://127.0.0.1:0", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    let stdout = child.stdout.take().expect("stdout is piped");
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the first line");
    assert!(line.starts_with("listening "), "{line:?}");
    let (soft, child_hard) = proc_limits(child.id());
    drop(child.stdin.take());
    child.wait().expect("the child ends");
    assert_eq!((soft, child_hard), (hard, hard));
}
