//! `linesman check` and `linesman graph` on files: the summary or every
//! problem (miette's report, exit 2), and the graph in dot and Mermaid
//! (snapshots).

use linesman_testkit::TempDir;

use crate::cli_harness::{path, run};

const GOOD: &str = "\
defaults:
  restart: { backoff: { initial: 250ms } }
connections:
  quotes:
    endpoint: tcp://127.0.0.1:7001
    kind: feed
  orders:
    endpoint: unix:///run/orders.sock
    kind: feed
  hw-programmer:
    endpoint: tcp://127.0.0.1:7003
    depends_on: [quotes, orders]
    on_dependency_down: keep
  audit:
    endpoint: tcp://127.0.0.1:7004
    start_when: { all: [ { up: quotes }, { any: [ { up: orders }, { up: hw-programmer } ] } ] }
";

const BAD: &str = "\
connections:
  quotes:
    endpoint: tcp://127.0.0.1:7001
  audit:
    endpiont: tcp://127.0.0.1:7004
    depends_on: [qoutes]
  late:
    endpoint: tcp://127.0.0.1:7005
    connect_timeout: soon
";

fn file(dir: &TempDir, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).expect("write the file");
    path(&file).to_owned()
}

#[tokio::test]
async fn check_summarises_a_good_file_in_one_line() {
    let dir = TempDir::new("cli-check").expect("temp dir");
    let good = file(&dir, "good.yaml", GOOD);
    let ran = run(&["check", &good]).await;
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stdout.replace(path(dir.path()), "[DIR]"),
        "[DIR]/good.yaml: ok, 4 connections, 2 start rules, default control socket\n"
    );
    assert!(ran.stderr.is_empty(), "{}", ran.stderr);
}

#[tokio::test]
async fn check_reports_every_problem_with_its_place_and_exits_2() {
    let dir = TempDir::new("cli-check-bad").expect("temp dir");
    let bad = file(&dir, "bad.yaml", BAD);
    let ran = run(&["check", &bad]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    for expected in [
        "did you mean `endpoint`?",
        "did you mean `quotes`?",
        "bad.yaml:5:5",
        "bad.yaml:9:22",
    ] {
        assert!(
            ran.stderr.contains(expected),
            "no {expected:?} in:\n{}",
            ran.stderr
        );
    }
    insta::assert_snapshot!("check_bad", ran.stderr.replace(path(dir.path()), "[DIR]"));

    let missing = run(&["check", path(&dir.join("missing.yaml"))]).await;
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);
}

#[tokio::test]
async fn graph_draws_dot_and_mermaid() {
    let dir = TempDir::new("cli-graph").expect("temp dir");
    let good = file(&dir, "good.yaml", GOOD);
    let dot = run(&["graph", &good]).await;
    assert_eq!(dot.code, 0, "{}", dot.stderr);
    insta::assert_snapshot!("graph_dot", dot.stdout.replace(path(dir.path()), "[DIR]"));
    let mermaid = run(&["graph", &good, "--format", "mermaid"]).await;
    assert_eq!(mermaid.code, 0, "{}", mermaid.stderr);
    insta::assert_snapshot!(
        "graph_mermaid",
        mermaid.stdout.replace(path(dir.path()), "[DIR]")
    );

    let bad = file(&dir, "bad.yaml", BAD);
    assert_eq!(run(&["graph", &bad]).await.code, 2);
}

#[tokio::test]
async fn usage_errors_exit_2() {
    let ran = run(&["status", "-o", "yaml"]).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let ran = run(&["wait", "--timeout", "1s"]).await;
    assert_eq!(ran.code, 2, "--up is required: {}", ran.stderr);
    let help = run(&["--help"]).await;
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("Exit codes:"), "{}", help.stdout);
}
