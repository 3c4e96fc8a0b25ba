//! The rendered reports: plain `Display` (insta snapshots) and the miette
//! diagnostics' labels pointing at the right bytes of the source.

use miette::Diagnostic;

use crate::invalid;

const THREE_MISTAKES: &str = "defaults:
  restart:
    backoff: { jitter: 2 }
connections:
  quotes:
    endpiont: tcp://127.0.0.1:7001
  hw:
    endpoint: tcp://127.0.0.1:7003
    depends_on: [quotes, ordres]
  orders:
    endpoint: unix:///run/orders.sock
";

#[test]
fn plain_report_of_three_mistakes() {
    let errors = invalid(THREE_MISTAKES);
    insta::assert_snapshot!(errors.to_string());
}

#[test]
fn plain_report_of_a_cycle_and_a_duplicate() {
    let errors = invalid(
        "connections:
  a: { endpoint: tcp://h:1, depends_on: [b] }
  b: { endpoint: tcp://h:2, depends_on: [a] }
  a: { endpoint: tcp://h:3 }
",
    );
    insta::assert_snapshot!(errors.to_string());
}

#[test]
fn diagnostic_labels_point_at_the_offending_text() {
    let errors = invalid(THREE_MISTAKES);
    let text = errors.source().text();
    let related: Vec<&dyn Diagnostic> = errors.related().expect("related").collect();
    assert_eq!(related.len(), errors.len());
    let spans: Vec<&str> = related
        .iter()
        .map(|d| {
            let label = d
                .labels()
                .expect("labelled")
                .next()
                .expect("a primary label");
            &text[label.offset()..label.offset() + label.len()]
        })
        .collect();
    assert_eq!(spans, ["2", "quotes", "endpiont", "ordres"]);
    assert_eq!(
        related[2].code().map(|c| c.to_string()).as_deref(),
        Some("linesman::config::unknown_key")
    );
    assert_eq!(
        related[2].help().map(|h| h.to_string()).as_deref(),
        Some("did you mean `endpoint`?")
    );
    assert!(errors.source_code().is_some());
    let view = errors.diagnostic();
    assert_eq!(view.to_string(), "4 problems in test.yaml");
    assert_eq!(view.related().map(|r| r.count()), Some(4));
}
