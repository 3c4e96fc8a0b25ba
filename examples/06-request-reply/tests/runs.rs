//! Runs the lesson as a newcomer would (`cargo run -p example-request-reply`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let _stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-request-reply"),
        &[
            "our 100 requests: 100 replies matched, 0 mismatched",
            "the peer's 100 requests, ids 1..=100 like ours: 100 answers matched, 0 mismatched",
            "replies that matched no request of ours (dropped): 0",
        ],
    )
    .await
    .stdout;
}
