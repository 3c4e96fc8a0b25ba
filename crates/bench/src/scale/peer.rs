//! The scale peer child: a testkit echo [`Peer`] (default backlog 4096)
//! that prints `listening <endpoint>` (deferred: `ready` first, and it
//! listens at a `listen` line), then obeys stdin: `drop` drops every
//! connection at once ([`Peer::drop_all`]) and answers `dropped`; end of
//! file stops it.

use std::io::Write;

use anyhow::Context;
use linesman_testkit::{Behavior, Listen, Peer, raise_nofile_limit};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Serves until stdin closes.
pub(super) fn serve() -> anyhow::Result<()> {
    raise_nofile_limit().context("the peer cannot raise RLIMIT_NOFILE")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let port: u16 = match std::env::var(super::PORT_ENV) {
            Ok(port) => port.parse().context("the peer port is not a port number")?,
            Err(_) => 0,
        };
        let listen = Listen::Tcp((std::net::Ipv4Addr::LOCALHOST, port).into());
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        if std::env::var_os(super::child::DEFER_ENV).is_some() {
            say("ready")?;
            while lines.next_line().await?.context("no `listen` came")?.trim() != "listen" {}
        }
        let peer = Peer::start(listen, Behavior::Echo)
            .await
            .context("the peer cannot listen")?;
        say(&format!("listening {}", peer.endpoint()))?;
        while let Some(line) = lines.next_line().await? {
            if line.trim() == "drop" {
                peer.drop_all().await;
                say("dropped")?;
            }
        }
        peer.stop().await;
        Ok(())
    })
}

fn say(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}
