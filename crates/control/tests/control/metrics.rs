//! `GET /metrics`: the Prometheus text.

use crate::support::Daemon;

#[tokio::test]
async fn metrics_have_every_family_with_per_connection_values() {
    let daemon = Daemon::start("control-metrics").await;
    let text = daemon.client.metrics().await.expect("the metrics");
    for family in [
        "# TYPE linesman_connection_state gauge",
        "# TYPE linesman_connection_up gauge",
        "# TYPE linesman_connection_restarts gauge",
        "# TYPE linesman_connection_connect_failures gauge",
        "# TYPE linesman_connection_sessions counter",
        "# TYPE linesman_connection_frames_received counter",
        "# TYPE linesman_connection_frames_sent counter",
        "# TYPE linesman_connection_bytes_received counter",
        "# TYPE linesman_connection_bytes_sent counter",
        "# TYPE linesman_bus_events_published counter",
        "# TYPE linesman_bus_events_lagged counter",
        "# TYPE linesman_bus_listener_panics counter",
        "# TYPE linesman_bus_listeners_removed counter",
        "# TYPE linesman_build info",
        "# TYPE linesman_connection info",
        "# TYPE linesman_restarts counter",
    ] {
        assert!(text.contains(family), "no `{family}` in:\n{text}");
    }
    for sample in [
        r#"linesman_connection_state{connection="quotes",state="up"} 1"#,
        r#"linesman_connection_state{connection="quotes",state="backoff"} 0"#,
        r#"linesman_connection_up{connection="audit"} 1"#,
        r#"linesman_connection_connect_failures{connection="audit"} 0"#,
        r#"linesman_connection_sessions_total{connection="orders"} 1"#,
        "linesman_bus_listener_panics_total 0",
        "linesman_bus_events_lagged_total 0",
        r#"linesman_connection_info{connection="quotes",kind="feed",tags="eu"} 1"#,
        r#"linesman_restarts_total{connection="quotes"} 0"#,
        concat!(
            r#"linesman_build_info{version=""#,
            env!("CARGO_PKG_VERSION"),
            r#""} 1"#
        ),
    ] {
        assert!(text.contains(sample), "no `{sample}` in:\n{text}");
    }
    assert!(
        text.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF"
    );
    daemon.stop().await;
}

#[tokio::test]
async fn samples_come_sorted_by_metric_then_labels() {
    let daemon = Daemon::start("control-metrics-sorted").await;
    // Many scrapes: the samples come out of hash maps, so an unsorted
    // family would show another order within a few.
    for _ in 0..20 {
        let text = daemon.client.metrics().await.expect("the metrics");
        let mut family: Vec<&str> = Vec::new();
        for line in text.lines().chain(["# end"]) {
            if line.starts_with('#') {
                let mut sorted = family.clone();
                sorted.sort_unstable();
                assert_eq!(family, sorted, "a family's samples are sorted in:\n{text}");
                family.clear();
            } else {
                family.push(line);
            }
        }
    }
    daemon.stop().await;
}
