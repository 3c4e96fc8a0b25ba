//! What `linesman` generates from its clap definitions: shell completion
//! scripts (bash checked by `bash -n`) and man pages naming every command.

use std::process::Stdio;

use linesman_testkit::TempDir;
use tokio::io::AsyncWriteExt;

use crate::cli_harness::{PATIENCE, path, run};

/// Every command of `linesman --help`.
const COMMANDS: [&str; 14] = [
    "run",
    "status",
    "check",
    "graph",
    "deps",
    "events",
    "wait",
    "start",
    "stop",
    "restart",
    "reload",
    "demo",
    "completions",
    "man",
];

#[tokio::test]
async fn completions_for_bash_zsh_and_fish() {
    let bash = run(&["completions", "bash"]).await;
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    assert!(bash.stdout.contains("linesman"), "{}", bash.stdout);
    for command in COMMANDS {
        assert!(
            bash.stdout.contains(command),
            "no `{command}` in the bash completions"
        );
    }
    assert_eq!(bash_syntax_errors(&bash.stdout).await, "");

    let zsh = run(&["completions", "zsh"]).await;
    let fish = run(&["completions", "fish"]).await;
    for (shell, ran) in [("zsh", &zsh), ("fish", &fish)] {
        assert_eq!(ran.code, 0, "{shell}: {}", ran.stderr);
        assert!(ran.stdout.contains("check"), "{shell}: {}", ran.stdout);
    }
    assert_ne!(zsh.stdout, fish.stdout);
    assert_ne!(zsh.stdout, bash.stdout);

    let unknown = run(&["completions", "tcsh"]).await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("bash"), "{}", unknown.stderr);
}

/// What `bash -n` (parse, do not run) says of `script`: empty if it parses.
async fn bash_syntax_errors(script: &str) -> String {
    let mut bash = tokio::process::Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("bash runs");
    let mut stdin = bash.stdin.take().expect("stdin");
    stdin
        .write_all(script.as_bytes())
        .await
        .expect("write the script");
    drop(stdin);
    let output = tokio::time::timeout(PATIENCE, bash.wait_with_output())
        .await
        .expect("bash -n ends")
        .expect("bash runs");
    let errors = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success() || !errors.is_empty(),
        "bash -n failed silently"
    );
    errors
}

#[tokio::test]
async fn the_man_page_names_every_command_and_each_has_its_own() {
    let page = run(&["man"]).await;
    assert_eq!(page.code, 0, "{}", page.stderr);
    assert!(page.stdout.contains(".TH linesman 1"), "{}", page.stdout);
    for command in COMMANDS {
        assert!(
            page.stdout.contains(&format!("linesman\\-{command}(1)")),
            "no `{command}` in the man page"
        );
    }
    let check = run(&["man", "check"]).await;
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stdout.contains(".TH linesman-check 1"),
        "{}",
        check.stdout
    );
    assert!(check.stdout.contains("\\-\\-format"), "{}", check.stdout);
    let unknown = run(&["man", "nope"]).await;
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(
        unknown.stderr.contains("give one of run,"),
        "{}",
        unknown.stderr
    );

    let dir = TempDir::new("cli-man").expect("temp dir");
    let out = dir.join("man1");
    let written = run(&["man", "--dir", path(&out)]).await;
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(written.stdout.lines().count(), COMMANDS.len() + 1);
    for name in std::iter::once("linesman".to_owned())
        .chain(COMMANDS.iter().map(|c| format!("linesman-{c}")))
    {
        let text = std::fs::read_to_string(out.join(format!("{name}.1")))
            .unwrap_or_else(|e| panic!("{name}.1: {e}"));
        assert!(text.contains(&format!(".TH {name} 1")), "{name}.1");
    }
}
