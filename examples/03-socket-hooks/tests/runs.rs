//! Runs the lesson as a newcomer would (`cargo run -p example-socket-hooks`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-socket-hooks"),
        &[
            "on_open:      fd",
            "no peer yet",
            "set TOS 0x10 and SO_SNDBUF 64 KiB",
            "still open, never connected (the attempt failed)",
            "still open, connected 127.0.0.1:",
            "TOS 0x10",
            "2 sessions; on_open ran",
            "every socket linesman opened, it closed after before_close",
        ],
    )
    .await
    .stdout;
    // Each socket: on_open first, before_close last, never two open at once
    // (one connection, one attempt at a time).
    let hooks: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split(':').next())
        .filter(|name| matches!(*name, "on_open" | "before_close"))
        .collect();
    assert!(hooks.len() >= 6, "{stdout}");
    for pair in hooks.chunks(2) {
        assert_eq!(pair, ["on_open", "before_close"], "{stdout}");
    }
}
