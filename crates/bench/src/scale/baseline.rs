//! The scale baseline: 10,000 plain tokio `TcpStream`s to the peer, each
//! held by a task that reads into a 1 KiB buffer until the peer closes. It
//! runs in a child process of its own (see the parent module) and reports
//! its figures as JSON lines, which the parent reads back.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use linesman_stream::Endpoint;
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::{BENCH, CONNECTIONS, Common, PEER_ENV, child_command, rss_bytes};
use crate::report::{Better, Measurement};

/// Pause before a failed connect is tried again (linesman's default backoff).
const RETRY: Duration = Duration::from_millis(100);

/// Runs the baseline in a child process and reads its figures.
pub(super) fn in_child(endpoint: &Endpoint) -> anyhow::Result<Common> {
    let output = child_command("baseline")?
        .env(PEER_ENV, endpoint.to_string())
        .output()
        .context("cannot run the baseline child")?;
    anyhow::ensure!(
        output.status.success(),
        "the baseline child failed: {}",
        output.status
    );
    let mut all_up_ms = None;
    let mut rss_per_conn = None;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).context("the baseline child printed no JSON")?;
        let figure = value["linesman"].as_f64();
        match value["case"].as_str() {
            Some("all up 10k") => all_up_ms = figure,
            Some("rss per connection") => rss_per_conn = figure,
            _ => {}
        }
    }
    Ok(Common {
        all_up_ms: all_up_ms.context("the baseline child gave no all-up time")?,
        rss_per_conn: rss_per_conn.context("the baseline child gave no memory figure")?,
    })
}

/// The child's part: connect, measure, print (through `main`, as JSON).
pub(super) fn run() -> anyhow::Result<Vec<Measurement>> {
    linesman_testkit::raise_nofile_limit().context("cannot raise RLIMIT_NOFILE")?;
    let endpoint: Endpoint = std::env::var(PEER_ENV)
        .context("no peer endpoint given")?
        .parse()
        .context("the peer endpoint does not parse")?;
    let Endpoint::Tcp { host, port } = endpoint else {
        anyhow::bail!("the scale peer listens on TCP");
    };
    let addr = format!("{host}:{port}");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let figures = runtime.block_on(async {
        let before = rss_bytes()?;
        let connected = Arc::new(AtomicUsize::new(0));
        let all = Arc::new(Notify::new());
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            let (addr, connected, all) = (addr.clone(), Arc::clone(&connected), Arc::clone(&all));
            tasks.push(tokio::spawn(async move {
                let mut stream = loop {
                    match TcpStream::connect(&addr).await {
                        Ok(stream) => break stream,
                        Err(_) => tokio::time::sleep(RETRY).await,
                    }
                };
                if connected.fetch_add(1, Ordering::AcqRel) + 1 == CONNECTIONS {
                    all.notify_one();
                }
                let mut buf = [0u8; 1024];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            }));
        }
        all.notified().await;
        let all_up = start.elapsed();
        let after = rss_bytes()?;
        for task in &tasks {
            task.abort();
        }
        anyhow::Ok((all_up, after.saturating_sub(before)))
    })?;
    runtime.shutdown_timeout(Duration::from_secs(1));
    let (all_up, rss) = figures;
    let figure = |case: &str, unit: &'static str, value: f64| Measurement {
        bench: BENCH,
        case: case.to_owned(),
        unit,
        linesman: value,
        baseline: None,
        better: Better::Lower,
    };
    Ok(vec![
        figure("all up 10k", "ms", all_up.as_secs_f64() * 1000.0),
        figure(
            "rss per connection",
            "bytes",
            rss as f64 / CONNECTIONS as f64,
        ),
    ])
}
