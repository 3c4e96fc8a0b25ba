//! Runs the lesson as a newcomer would (`cargo run -p example-listeners`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-listeners"),
        &[
            "gateway watch: gateway connected to 127.0.0.1:",
            "gateway watch: gateway stopped: shutdown",
            "the current state of every connection follows",
        ],
    )
    .await
    .stdout;
    // The kind filter: the gateway watch heard of the gateway only.
    assert!(
        stdout
            .lines()
            .filter(|line| line.starts_with("gateway watch:"))
            .all(|line| line.starts_with("gateway watch: gateway ")),
        "{stdout}"
    );
    let missed = |name: &str| -> u64 {
        let line = stdout
            .lines()
            .find(|line| line.starts_with(name) && line.contains("delivered"))
            .unwrap_or_else(|| panic!("no line for {name} in:\n{stdout}"));
        line.rsplit(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("no count in {line:?}"))
    };
    // The slow listener lagged; the gateway watch, with its few events, did
    // not; and the fast counter, beside the slow one, missed fewer (none,
    // unless the machine stalled it too).
    assert!(missed("slow audit") > 0, "{stdout}");
    assert_eq!(missed("gateway watch"), 0, "{stdout}");
    assert!(missed("fast counter") < missed("slow audit"), "{stdout}");
}
