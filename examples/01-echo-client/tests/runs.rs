//! Runs the lesson as a newcomer would (`cargo run -p example-echo-client`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let _stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-echo-client"),
        &[
            "connecting to tcp://127.0.0.1:",
            "connecting to unix:///",
            "on_open: socket fd",
            "received Quote { symbol: \"ACME\", price_cents: 12345 }",
            "id Some(7), reply true",
            "before_close: fd",
            "(a Unix socket)",
            "tcp peer saw 1 connection(s) and 2 frame(s)",
        ],
    )
    .await
    .stdout;
}
