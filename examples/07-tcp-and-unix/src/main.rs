//! Run with: cargo run -p example-tcp-and-unix
//!
//! Lesson 7: the transport is a detail of the endpoint. The same handler
//! type and the same code run a connection over loopback TCP
//! (`tcp://127.0.0.1:PORT`) and one over a Unix socket
//! (`unix:///absolute/path`); nothing but the endpoint string differs.
//! Endpoints parse from strings (as in YAML) and print back the same way.
//! Each connection greets its peer with a request from `on_connect`, then
//! application code asks each one more question through its handle.
//! (The greeting is printed before "connected": a connection is announced
//! up only once its handler's `on_connect` handshake has succeeded.)

use linesman::prelude::*;
use linesman_testkit::{Behavior, Listen, Peer, TempDir};
use std::time::Duration;
use tokio::sync::mpsc;

/// The frame type of a greeting and of a question.
const HELLO: u32 = 1;

/// One handler type for both transports: greets the peer when the session
/// comes up and reports the answer.
struct Greeter {
    answers: mpsc::Sender<String>,
}

impl Handler for Greeter {
    async fn on_connect(&mut self, link: &Link) -> Result<(), HandlerError> {
        let greeting = format!("hello from {}", link.name());
        let reply = link
            .request(Frame::new(HELLO, greeting), Duration::from_secs(5))
            .await?;
        let answer = format!(
            "{}: greeted, the peer answered {:?}",
            link.name(),
            String::from_utf8_lossy(&reply.payload)
        );
        // The example waits for two answers; a later session's is not needed.
        let _ = self.answers.try_send(answer);
        Ok(())
    }

    async fn on_frame(&mut self, frame: Frame, link: &Link) -> Result<(), HandlerError> {
        // Replies go to their requests; anything else the peer sends lands here.
        println!("{}: unasked frame of type {}", link.name(), frame.ty);
        Ok(())
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let sockets = TempDir::new("tcp-and-unix")?;
    let tcp_peer = Peer::start(Listen::tcp(), Behavior::Echo).await?;
    let unix_peer = Peer::start(Listen::unix(sockets.join("peer.sock")), Behavior::Echo).await?;

    // As they would be written in a configuration file.
    let over_tcp: Endpoint = tcp_peer.endpoint().to_string().parse()?;
    let over_unix: Endpoint = format!("unix://{}", sockets.join("peer.sock").display()).parse()?;
    println!("over_tcp  -> {over_tcp}");
    println!("over_unix -> {over_unix}");

    let spec = Spec::builder()
        .connection(ConnectionSpec::new("over_tcp", over_tcp))
        .connection(ConnectionSpec::new("over_unix", over_unix))
        .build()?;
    let (answers, mut answered) = mpsc::channel(2);
    let supervisor = Supervisor::new(spec)
        .handler(
            "over_tcp",
            Greeter {
                answers: answers.clone(),
            },
        )?
        .handler("over_unix", Greeter { answers })?;
    let _ups = supervisor.bus().on::<Connected>(|event, up| {
        println!("{}: connected to {}", event.conn, up.peer);
    });
    // `Connected` comes once `on_connect` (the greeting) returned: only then
    // do sends from application code go out.
    let mut up = supervisor
        .bus()
        .subscribe(Interest::all().event::<Connected>());
    let mut handles = Vec::new();
    for name in ["over_tcp", "over_unix"] {
        let handle = supervisor.handle(name);
        handles.push(handle.ok_or_else(|| anyhow::anyhow!("the spec declares `{name}`"))?);
    }
    let control = supervisor.control();
    let running = tokio::spawn(supervisor.run());

    let exchange = tokio::time::timeout(Duration::from_secs(20), async {
        // Both greetings answered, then both connections up.
        for _ in 0..2 {
            if let Some(answer) = answered.recv().await {
                println!("{answer}");
            }
        }
        for _ in 0..2 {
            up.next().await;
        }
        // The same call from application code, whatever the transport.
        for handle in &handles {
            let question = Frame::new(HELLO, "what is the time?");
            let reply = handle.request(question, Duration::from_secs(5)).await?;
            println!(
                "{}: asked through its handle, the peer answered {:?}",
                handle.name(),
                String::from_utf8_lossy(&reply.payload)
            );
        }
        anyhow::Ok(())
    })
    .await;
    control.shutdown();
    running.await?;
    exchange.map_err(|_| anyhow::anyhow!("the exchange did not finish within 20 s"))??;

    println!(
        "the tcp peer saw {} frames, the unix peer {}",
        tcp_peer.stats().frames_received,
        unix_peer.stats().frames_received
    );
    Ok(())
}
