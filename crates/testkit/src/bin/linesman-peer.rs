//! `linesman-peer`: one testkit peer in its own process, for tests that kill
//! the peer. Prints `listening <endpoint>` once it listens (a refusing peer
//! prints `reserved <endpoint>` first), then serves until killed, interrupted,
//! or — with `--exit-on-stdin-eof` — until its stdin closes.
//!
//! Exit codes: 0 after a clean stop, 1 when the peer cannot start, 2 for bad
//! flags (clap's own code).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use linesman_testkit::{BehaviorArgs, Listen, Peer, PeerOptions, raise_nofile_limit};
use tokio::io::AsyncReadExt;

/// Serve one linesman test peer on TCP or a Unix socket.
#[derive(Debug, Parser)]
#[command(name = "linesman-peer", version)]
struct Cli {
    /// Where to listen: tcp://IP:PORT (port 0 picks a free one) or unix:///path.
    #[arg(long, default_value = "tcp://127.0.0.1:0")]
    listen: Listen,
    #[command(flatten)]
    behavior: BehaviorArgs,
    /// Exit when stdin reaches end of file (the parent holds the pipe; when it
    /// goes, so does this peer).
    #[arg(long)]
    exit_on_stdin_eof: bool,
    /// Append every frame received whole to this file (it outlives the peer).
    #[arg(long)]
    record: Option<std::path::PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("linesman-peer: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    if let Err(e) = raise_nofile_limit() {
        eprintln!("linesman-peer: cannot raise the open-file limit: {e}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the tokio runtime")?;
    runtime.block_on(serve(cli))
}

async fn serve(cli: Cli) -> anyhow::Result<()> {
    let behavior = cli.behavior.to_behavior();
    let mut options = PeerOptions::default();
    if let Some(path) = &cli.record {
        options = options.record(path);
    }
    let peer = Peer::start_with(cli.listen.clone(), behavior, options)
        .await
        .with_context(|| format!("cannot listen on {}", cli.listen))?;
    if peer.behavior().refuse_period().is_some() {
        say(&format!("reserved {}", peer.endpoint()))?;
    }
    peer.wait_listening()
        .await
        .context("cannot listen after the refuse period")?;
    say(&format!("listening {}", peer.endpoint()))?;

    let stdin_closed = async {
        if cli.exit_on_stdin_eof {
            let mut stdin = tokio::io::stdin();
            let mut buf = [0u8; 256];
            while matches!(stdin.read(&mut buf).await, Ok(n) if n > 0) {}
        } else {
            std::future::pending::<()>().await;
        }
    };
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch SIGTERM")?;
    tokio::select! {
        () = stdin_closed => {}
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    peer.stop().await;
    Ok(())
}

/// Prints one line to stdout and flushes it, so a parent reading a pipe sees it at once.
fn say(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}").context("cannot write to stdout")?;
    stdout.flush().context("cannot write to stdout")
}
