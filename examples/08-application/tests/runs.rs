//! Runs the lesson as a newcomer would (`cargo run -p example-application`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot. (integration-tests runs it with `--hold` and asks
//! it with the real `linesman status`.)

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let run = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-application"),
        &[
            "application.yaml: 3 connections, 1 start rule, control socket /",
            "feed watch: quotes connected to 127.0.0.1:",
            "feed watch: orders connected to 127.0.0.1:",
            "risk handler: limits received (7 bytes)",
            "what `linesman status --socket /",
            "control socket removed: true",
        ],
    )
    .await;
    let (stdout, stderr) = (run.stdout, run.stderr);
    // The listener's interest is the feeds: it never hears of `risk`.
    assert!(!stdout.contains("feed watch: risk"), "{stdout}");
    // Every connection up in the status table, in the file's order.
    let table: Vec<(&str, &str)> = stdout
        .lines()
        .skip_while(|line| !line.starts_with("NAME"))
        .skip(1)
        .take(3)
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    assert_eq!(
        table,
        [("quotes", "up"), ("orders", "up"), ("risk", "up")],
        "{stdout}"
    );
    // Nothing went wrong: the subscriber printed no warning.
    assert!(!stderr.contains("WARN"), "{stderr}");
}
