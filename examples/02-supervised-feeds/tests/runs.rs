//! Runs the lesson as a newcomer would (`cargo run -p example-supervised-feeds`)
//! and checks that it ends by itself, exits 0 and says what happened, so
//! the lesson cannot rot.

#[tokio::test]
async fn runs_to_the_end_and_says_what_happened() {
    let stdout = linesman_testkit::run_example(
        env!("CARGO_BIN_EXE_example-supervised-feeds"),
        &[
            "quotes  connected to 127.0.0.1:",
            "trader  waiting on [orders",
            "orders  disconnected: peer closed the connection",
            "trader  connected to 127.0.0.1:",
            "trader  stopped: shutdown",
            "quotes  stopped: shutdown",
        ],
    )
    .await
    .stdout;
    // `trader` started once, then again after each return of `orders`.
    let summary = stdout
        .lines()
        .find_map(|line| line.split("trader's peer saw ").nth(1))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    let sessions: u64 = summary
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count in {summary:?}"));
    assert!(sessions >= 3, "{stdout}");
    // And `trader` never ran without `orders`: each of its connects comes
    // after a connect of `orders`.
    let order: Vec<&str> = stdout
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace().skip(1);
            match (words.next(), words.next()) {
                (Some(conn @ ("orders" | "trader")), Some("connected")) => Some(conn),
                _ => None,
            }
        })
        .collect();
    // (The shutdown may come between the last two.)
    assert!(order.len() >= 5, "{order:?}");
    for pair in order.chunks(2) {
        assert_eq!(pair, &["orders", "trader"][..pair.len()], "{order:?}");
    }
}
