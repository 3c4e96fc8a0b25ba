//! The command line's parsing: flags, defaults, conflicts and usage codes.

use super::*;
use clap::CommandFactory;

#[test]
fn the_command_line_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn wait_takes_several_names_and_a_humantime_timeout() {
    let cli = Cli::try_parse_from([
        "linesman",
        "wait",
        "--up",
        "a",
        "b",
        "--any",
        "--timeout",
        "1m 30s",
    ])
    .expect("valid");
    let Command::Wait(args) = cli.command else {
        panic!("parsed as {:?}", cli.command);
    };
    assert_eq!(args.up, ["a", "b"]);
    assert!(args.any && !args.all);
    assert_eq!(args.timeout, Duration::from_secs(90));
}

#[test]
fn check_takes_the_file_as_argument_or_with_c_but_not_both() {
    for args in [
        ["linesman", "check", "a.yaml"].as_slice(),
        ["linesman", "check", "-c", "a.yaml"].as_slice(),
        ["linesman", "check", "--config", "a.yaml"].as_slice(),
    ] {
        let cli = Cli::try_parse_from(args).expect("valid");
        let Command::Check(check) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(check.path(), Some(Path::new("a.yaml")), "{args:?}");
        assert_eq!(check.format, CheckFormat::Human);
    }
    for args in [
        ["linesman", "check", "a.yaml", "-c", "b.yaml"].as_slice(),
        ["linesman", "check"].as_slice(),
        ["linesman", "check", "a.yaml", "--format", "xml"].as_slice(),
    ] {
        let error = Cli::try_parse_from(args).expect_err("refused");
        assert_eq!(error.exit_code(), 2, "{args:?}");
    }
}

#[test]
fn actions_take_names_or_selectors_and_graph_takes_c() {
    let cli =
        Cli::try_parse_from(["linesman", "stop", "a", "b", "--timeout", "5s"]).expect("valid");
    let Command::Stop(args) = cli.command else {
        panic!("parsed as {:?}", cli.command);
    };
    assert_eq!(args.selection.names, ["a", "b"]);
    assert_eq!(args.timeout, Duration::from_secs(5));
    let cli = Cli::try_parse_from(["linesman", "restart", "--kind", "feed", "--tag", "eu"])
        .expect("valid");
    let Command::Restart(args) = cli.command else {
        panic!("parsed as {:?}", cli.command);
    };
    assert_eq!(args.selection.kind.as_deref(), Some("feed"));
    assert_eq!(args.selection.tag, ["eu"]);
    for args in [
        ["linesman", "start"].as_slice(),
        ["linesman", "start", "a", "--all"].as_slice(),
        ["linesman", "start", "--kind", "k", "--all"].as_slice(),
        ["linesman", "stop", "a", "--no-block", "--timeout", "1s"].as_slice(),
        ["linesman", "graph"].as_slice(),
        ["linesman", "graph", "a.yaml", "-c", "b.yaml"].as_slice(),
    ] {
        let error = Cli::try_parse_from(args).expect_err("refused");
        assert_eq!(error.exit_code(), 2, "{args:?}");
    }
    for args in [
        ["linesman", "graph", "a.yaml"].as_slice(),
        ["linesman", "graph", "-c", "a.yaml"].as_slice(),
    ] {
        let cli = Cli::try_parse_from(args).expect("valid");
        let Command::Graph(graph) = cli.command else {
            panic!("parsed as {:?}", cli.command);
        };
        assert_eq!(graph.path(), Some(Path::new("a.yaml")), "{args:?}");
    }
}

#[test]
fn reload_takes_json_and_a_timeout() {
    let cli =
        Cli::try_parse_from(["linesman", "reload", "--json", "--timeout", "1m"]).expect("valid");
    let Command::Reload(args) = cli.command else {
        panic!("parsed as {:?}", cli.command);
    };
    assert!(args.json);
    assert_eq!(args.timeout, Duration::from_secs(60));
    let error = Cli::try_parse_from(["linesman", "reload", "quotes"]).expect_err("no names");
    assert_eq!(error.exit_code(), 2);
}

#[test]
fn usage_errors_exit_with_2() {
    let error = Cli::try_parse_from(["linesman", "wait", "--up", "a", "--all", "--any"])
        .expect_err("--all and --any conflict");
    assert_eq!(error.exit_code(), 2);
    let error = Cli::try_parse_from(["linesman", "status", "-o", "yaml"]).expect_err("no yaml");
    assert_eq!(error.exit_code(), 2);
}
