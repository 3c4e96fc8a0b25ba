//! Runs the lesson as a newcomer would (`cargo run -p example-signals`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-signals"),
        &[
            "orders  connected to 127.0.0.1:",
            "sending myself SIGTERM (pid",
            "run_until_signal returned after SIGTERM",
            "SIGINT and SIGTERM have their default action again",
            "tasks still alive in the runtime: 0;",
        ],
    )
    .await
    .stdout;
    // Dependents first: orders stopped before quotes.
    let stopped = |conn: &str| {
        stdout
            .lines()
            .position(|l| l.contains(conn) && l.ends_with("stopped: shutdown"))
            .unwrap_or_else(|| panic!("{conn} never stopped:\n{stdout}"))
    };
    assert!(stopped("orders") < stopped("quotes"), "{stdout}");
}
