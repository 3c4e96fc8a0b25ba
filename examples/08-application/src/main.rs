//! Run with: cargo run -p example-application
//! (or `cargo run -p example-application -- --hold` to keep it running and
//! try `linesman status --socket PATH` from another terminal; Ctrl-C ends it)
//!
//! Lesson 8: the main path of an application that embeds linesman.
//!
//! 1. The connections, their dependency rules and restart policies come
//!    from YAML (`application.yaml`), where operators can tune them;
//!    `linesman check` validates the same file.
//! 2. What only code can give is added to the file's spec by name: the
//!    spec goes back to its builder (`into_builder`, which keeps every
//!    setting of the file), `configure("risk", …)` gives `risk` a socket
//!    hook, and `build` validates the whole again. Handlers come from code
//!    too and are attached by connection name.
//! 3. Listeners come from code too, each with its interest (here: every
//!    connection of kind `feed`).
//! 4. The application serves the control socket, so `linesman status`
//!    (and `--watch`, `deps`, `restart NAME`, …) works against it exactly
//!    as against the daemon. The example asks it itself, with the same
//!    client the CLI uses, and prints what `linesman status` would.
//! 5. A tracing subscriber makes linesman's warnings visible (connect
//!    failures, dropped replies, a listener that lags); without one they
//!    go nowhere. `RUST_LOG=debug` shows more.

use linesman::control::{Client, ControlServer, ControlState};
use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The configuration, as operators would ship it next to the binary.
const CONFIG: &str = include_str!("../application.yaml");

/// The frame type of the risk service's limits request.
const LIMITS: u32 = 0x40;

/// Counts the quotes of the `quotes` feed; one instance lives across
/// restarts.
struct QuoteBook {
    quotes: Arc<AtomicU64>,
}

impl Handler for QuoteBook {
    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        self.quotes.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Asks the risk service for its limits at every session, before the
/// connection is announced up.
struct RiskLimits;

impl Handler for RiskLimits {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        let reply = link
            .request(Frame::new(LIMITS, "limits?"), Duration::from_secs(2))
            .await?;
        println!(
            "risk handler: limits received ({} bytes)",
            reply.payload.len()
        );
        Ok(())
    }

    async fn on_frame(&mut self, _frame: Frame, _link: &Link) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// Prints what happens to the feeds, and nothing else.
struct FeedWatch;

impl Listener for FeedWatch {
    async fn on_event(&self, event: &Event) {
        println!("feed watch: {} {}", event.conn, event.what);
    }

    fn interest(&self) -> Interest {
        Interest::all().kind("feed")
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Warnings (and, with RUST_LOG, more) on stderr.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let hold = std::env::args().skip(1).any(|arg| arg == "--hold");

    // The example's own peers stand in for the real services.
    let feed = |every| Behavior::SendForever {
        ty: 1,
        payload_len: 16,
        interval: Some(Duration::from_millis(every)),
    };
    let quotes_peer = Peer::start(Listen::tcp(), feed(50)).await?;
    let orders_peer = Peer::start(Listen::tcp(), feed(100)).await?;
    let risk_peer = Peer::echo().await?;
    let runtime_dir = TempDir::new("application")?;

    // 1. Connections and rules from YAML, ${VARS} filled in.
    let env = |name: &str| match name {
        "QUOTES_ENDPOINT" => Some(quotes_peer.endpoint().to_string()),
        "ORDERS_ENDPOINT" => Some(orders_peer.endpoint().to_string()),
        "RISK_ENDPOINT" => Some(risk_peer.endpoint().to_string()),
        "APP_RUNTIME_DIR" => Some(runtime_dir.path().display().to_string()),
        _ => None,
    };
    let config = linesman::config::parse_with_env("application.yaml", CONFIG, &env)
        .map_err(|errors| anyhow::anyhow!("application.yaml is not valid:\n{errors}"))?;
    println!("application.yaml: {}", config.summary());
    let socket = config
        .control
        .socket
        .clone()
        .ok_or_else(|| anyhow::anyhow!("application.yaml sets control.socket"))?;

    // 2. What only code can give, amended into the file's spec by name.
    let hooked = Arc::new(AtomicU64::new(0));
    let opened = hooked.clone();
    let spec = config
        .spec
        .into_builder()
        .configure("risk", move |c| {
            c.connection.hooks = SocketHooks::default().on_open(move |sock| {
                opened.fetch_add(1, Ordering::Relaxed);
                sock.set_reuse_address(true)
            });
        })
        .build()?;

    // Handlers and 3. listeners from code.
    let quotes = Arc::new(AtomicU64::new(0));
    let supervisor = Supervisor::new(spec)
        .handler(
            "quotes",
            QuoteBook {
                quotes: quotes.clone(),
            },
        )?
        .handler("risk", RiskLimits)?
        .listen(FeedWatch);

    // 4. The control socket, served from what the supervisor will run.
    let server = ControlServer::bind(&socket, ControlState::new(&supervisor))?.spawn();
    let mut risk_up = supervisor
        .bus()
        .subscribe(Interest::all().conn("risk").event::<Connected>());
    let control = supervisor.control();
    let running = tokio::spawn(async move {
        if hold {
            supervisor.run_until_signal().await.map(drop)
        } else {
            supervisor.run().await;
            Ok(())
        }
    });

    // `risk` starts only once both feeds are up; then let a few quotes in.
    let up = tokio::time::timeout(Duration::from_secs(20), async {
        risk_up.next().await;
        quotes_peer.wait_for(|s| s.frames_sent >= 10).await;
    })
    .await;
    let status = match up {
        Ok(_) => Some(Client::new(&socket).status().await),
        Err(_) => None,
    };
    match &status {
        Some(Ok(status)) => {
            println!(
                "what `linesman status --socket {}` shows now:",
                socket.display()
            );
            println!(
                "{:<8} {:<8} {:>8} {:>9}  DETAIL",
                "NAME", "STATE", "RESTARTS", "FRAMES IN"
            );
            for c in &status.connections {
                println!(
                    "{:<8} {:<8} {:>8} {:>9}  {}",
                    c.name,
                    c.state.as_str(),
                    c.restarts,
                    c.frames_in,
                    c.detail
                );
            }
        }
        Some(Err(error)) => println!("asking the control socket failed: {error}"),
        None => println!("risk did not come up within 20 s"),
    }
    if hold {
        println!(
            "holding: try `linesman status --socket {}`; Ctrl-C ends it",
            socket.display()
        );
    } else {
        control.shutdown();
    }
    running.await??;
    server.shutdown().await?;
    println!(
        "quotes handler counted {} quotes; risk's socket hook (added in code) ran {} time(s); control socket removed: {}",
        quotes.load(Ordering::Relaxed),
        hooked.load(Ordering::Relaxed),
        !socket.exists()
    );
    match status {
        Some(Ok(_)) => Ok(()),
        Some(Err(error)) => Err(error.into()),
        None => anyhow::bail!("risk did not come up within 20 s"),
    }
}
