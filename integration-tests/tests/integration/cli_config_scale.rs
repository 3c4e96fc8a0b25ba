//! `linesman check` on large and hostile files: 10,000 and 20,000
//! connections of ten keys pass; an alias bomb is refused in words; a
//! mistake in a 500 KB line is reported in a few lines, not by echoing it.

use std::time::Duration;

use linesman_testkit::TempDir;

use crate::cli_harness::{PATIENCE, Ran, command, finish, path};

/// Parsing 20,000 connections takes tens of seconds in a debug build on a
/// loaded machine: a hang guard, not a measure.
const PATIENCE_FOR_LARGE_FILES: Duration = Duration::from_secs(300);

async fn check(file: &str) -> Ran {
    let args = ["check", file];
    finish(
        command(&args),
        &args,
        PATIENCE_FOR_LARGE_FILES.max(PATIENCE),
    )
    .await
}

/// miette's report with its wrapped lines joined: words separated by one
/// space, the frame's `│` left out.
fn unwrapped(report: &str) -> String {
    report
        .split_whitespace()
        .filter(|word| *word != "│")
        .collect::<Vec<_>>()
        .join(" ")
}

fn file(dir: &TempDir, name: &str, text: &str) -> String {
    let file = dir.join(name);
    std::fs::write(&file, text).expect("write the file");
    path(&file).to_owned()
}

/// `n` connections (plus the `hub` they depend on) of ten keys each.
fn connections(n: usize) -> String {
    let mut yaml = String::with_capacity(n * 400);
    yaml.push_str("connections:\n  hub:\n    endpoint: tcp://127.0.0.1:9\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  conn-{i:05}:
    endpoint: tcp://127.0.0.1:{port}
    kind: feed
    tags: [eu, equities]
    depends_on: [hub]
    on_dependency_down: keep
    connect_timeout: 2s
    idle_timeout: 30s
    nodelay: true
    max_frame: 64KiB
    restart: {{ policy: always, backoff: {{ initial: 100ms, max: 30s }}, intensity: {{ max_restarts: 10, window: 10m }} }}
",
            port = 10_000 + i % 50_000,
        ));
    }
    yaml
}

#[tokio::test]
async fn check_passes_ten_and_twenty_thousand_connections() {
    let dir = TempDir::new("cli-check-large").expect("temp dir");
    for n in [10_000, 20_000] {
        let large = file(&dir, &format!("{n}.yaml"), &connections(n));
        let ran = check(&large).await;
        assert_eq!(ran.code, 0, "{n} connections: {}", ran.stderr);
        let expected = format!(
            "{large}: ok, {} connections, {n} start rules, default control socket\n",
            n + 1
        );
        assert_eq!(ran.stdout, expected);
    }
}

#[tokio::test]
async fn check_refuses_an_alias_bomb_in_words() {
    let dir = TempDir::new("cli-check-bomb").expect("temp dir");
    let mut yaml = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10 {
        let items = vec![format!("*a{}", level - 1); 10].join(", ");
        yaml.push_str(&format!("a{level}: &a{level} [{items}]\n"));
    }
    yaml.push_str("connections:\n  a:\n    endpoint: tcp://h:1\n    tags: *a9\n");
    let bomb = file(&dir, "bomb.yaml", &yaml);
    let ran = check(&bomb).await;
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let said = unwrapped(&ran.stderr);
    for expected in [
        "aliases (`*name`) in the file expand to more than 100,000 YAML items (a configuration file may expand to at most that many)",
        "(an alias bomb)",
        // Placed in the file: the header names a line and column, the
        // snippet shows the aliases.
        "bomb.yaml:",
        "[*a",
    ] {
        assert!(
            said.contains(expected),
            "no {expected:?} in:\n{}",
            ran.stderr
        );
    }
    for debug in ["{ ", "Budget", "Nodes", "Replay", "breach"] {
        assert!(!ran.stderr.contains(debug), "{debug:?} in:\n{}", ran.stderr);
    }
}

#[tokio::test]
async fn check_reports_a_mistake_in_a_500_kb_line_in_a_few_lines() {
    let dir = TempDir::new("cli-check-long-line").expect("temp dir");
    let line = format!(
        "connections: {{ a: {{ endpoint: tcp://h:1, kind: \"{}\", idle_timout: 5s }} }}\n",
        "x".repeat(500_000)
    );
    let long = file(&dir, "long.yaml", &line);
    let ran = check(&long).await;
    assert_eq!(
        ran.code,
        2,
        "{}",
        &ran.stderr[..ran.stderr.len().min(2_000)]
    );
    assert!(
        ran.stderr.len() < 4_096,
        "{} bytes of errors:\n{}",
        ran.stderr.len(),
        &ran.stderr[..4_096]
    );
    for expected in [
        "long.yaml:1:500052",
        "idle_timout",
        "did you mean `idle_timeout`?",
        "…",
    ] {
        assert!(
            ran.stderr.contains(expected),
            "no {expected:?} in:\n{}",
            ran.stderr
        );
    }
}

/// `top` over `levels` stacked diamonds: `l{i}` and `r{i}` both depend on
/// `j{i+1}`, and `j{i}` on both of them.
fn diamonds(levels: usize) -> String {
    let mut yaml = String::from("connections:\n");
    let mut port = 20_000;
    let mut add = |yaml: &mut String, name: &str, deps: &[String]| {
        port += 1;
        yaml.push_str(&format!(
            "  {name}: {{ endpoint: tcp://127.0.0.1:{port}, depends_on: [{}] }}\n",
            deps.join(", ")
        ));
    };
    add(&mut yaml, "top", &["j0".to_owned()]);
    for i in 0..levels {
        let (l, r, below) = (format!("l{i}"), format!("r{i}"), format!("j{}", i + 1));
        add(&mut yaml, &format!("j{i}"), &[l.clone(), r.clone()]);
        add(&mut yaml, &l, std::slice::from_ref(&below));
        add(&mut yaml, &r, std::slice::from_ref(&below));
    }
    yaml.push_str(&format!(
        "  j{levels}: {{ endpoint: tcp://127.0.0.1:{} }}\n",
        port + 1
    ));
    yaml
}

#[tokio::test]
async fn deps_draws_forty_stacked_diamonds_whole_and_at_once() {
    let dir = TempDir::new("cli-deps-diamonds").expect("temp dir");
    let levels = 40;
    let yaml = file(&dir, "diamonds.yaml", &diamonds(levels));
    let nobody = dir.join("nobody.sock");
    // No daemon: the tree of the file, without states (exit 1). Drawn
    // naively, it has 2^40 paths; the guard is PATIENCE.
    for reverse in [false, true] {
        let mut args = vec!["deps", "-c", &yaml, "--socket", path(&nobody)];
        if reverse {
            args.push("--reverse");
        }
        let ran = finish(command(&args), &args, PATIENCE).await;
        assert_eq!(ran.code, 1, "{}", ran.stderr);
        assert!(ran.stderr.contains("without states"), "{}", ran.stderr);
        let names = 2 + 3 * levels;
        let lines = ran.stdout.lines().count();
        assert!(
            (names..=3 * names).contains(&lines),
            "{lines} lines for {names} connections (reverse: {reverse}):\n{}",
            ran.stdout
        );
        // Nothing is cut silently: every connection is drawn, and a branch
        // cut at the depth limit goes on as a tree of its own.
        for i in 0..=levels {
            assert!(
                ran.stdout.contains(&format!("j{i} ")) || ran.stdout.contains(&format!("j{i}\n")),
                "j{i} missing:\n{}",
                ran.stdout
            );
        }
        assert!(ran.stdout.contains("(see above)"), "{}", ran.stdout);
        assert!(
            ran.stdout.contains("(continued from above)"),
            "{}",
            ran.stdout
        );
    }
}

#[tokio::test]
async fn check_shows_the_first_fifty_of_thousands_of_problems_and_counts_the_rest() {
    let dir = TempDir::new("cli-check-many-errors").expect("temp dir");
    let n = 5_000;
    let mut yaml = String::from("connections:\n");
    for i in 0..n {
        yaml.push_str(&format!(
            "  c{i}: {{ endpoint: tcp://127.0.0.1:1, idle_timout: 5s }}\n"
        ));
    }
    let many = file(&dir, "many.yaml", &yaml);
    let ran = check(&many).await;
    assert_eq!(
        ran.code,
        2,
        "{}",
        &ran.stderr[..ran.stderr.len().min(2_000)]
    );
    let said = unwrapped(&ran.stderr);
    assert!(
        said.contains(&format!("{n} problems in {many}")),
        "{said:.2000}"
    );
    assert_eq!(
        ran.stderr.matches("did you mean `idle_timeout`?").count(),
        50,
        "{said:.2000}"
    );
    assert!(
        said.contains(&format!(
            "... and {} more problems in {many} (the first 50 are shown above): fix these and check again",
            n - 50
        )),
        "{}",
        &said[said.len().saturating_sub(2_000)..]
    );
}
