//! Runs the lesson as a newcomer would (`cargo run -p example-blocking-driver`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-blocking-driver"),
        &[
            "driver: unit 7 opened",
            "handler: unit 7 reading 1: 20.1 C",
            "handler: unit 7 reading 5: 20.5 C",
            "device reset (vendor status 0x2a)",
            "event:   sensor connected to blocking:vendor-rx",
            "driver: unit 7 closed",
            "event:   sensor stopped: shutdown",
            "every driver opened was closed",
        ],
    )
    .await
    .stdout;
    let count = |needle: &str| stdout.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(count("driver: unit 7 opened"), 3, "{stdout}");
    assert_eq!(count("driver: unit 7 closed"), 3, "{stdout}");
    // Five readings in each of the two sessions that failed.
    assert!(count("handler: unit 7 reading 5:") >= 2, "{stdout}");
}
