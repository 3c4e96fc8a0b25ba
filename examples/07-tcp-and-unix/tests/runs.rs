//! Runs the lesson as a newcomer would (`cargo run -p example-tcp-and-unix`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let _stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-tcp-and-unix"),
        &[
            "over_tcp  -> tcp://127.0.0.1:",
            "over_unix -> unix:///",
            "over_tcp: connected to 127.0.0.1:",
            "over_unix: connected to /",
            "over_tcp: greeted, the peer answered \"hello from over_tcp\"",
            "over_unix: greeted, the peer answered \"hello from over_unix\"",
            "over_tcp: asked through its handle, the peer answered \"what is the time?\"",
            "over_unix: asked through its handle, the peer answered \"what is the time?\"",
            "the tcp peer saw 2 frames, the unix peer 2",
        ],
    )
    .await
    .stdout;
}
