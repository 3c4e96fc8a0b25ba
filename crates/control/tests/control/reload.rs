//! `POST /v1/reload` through [`Client::reload`]: the reloader's answer as
//! the status the CLI tells apart (200 applied, 422 a file with errors, 409
//! a reload in progress, 501 nothing to reload), the status described from
//! the new spec, and `linesman_reloads_total{result}` counting both.

use std::sync::Arc;

use futures_util::StreamExt;
use linesman_connection::ConnectionSpec;
use linesman_control::{
    Client, ClientError, ControlServer, ControlState, EventFilter, ReloadResponse, Reloader,
    ServerHandle,
};
use linesman_supervisor::{ReloadError, Spec, Supervisor, SupervisorHandle};
use linesman_testkit::{Peer, TempDir};

use crate::support::patiently;

struct Served {
    _dir: TempDir,
    client: Client,
    control: SupervisorHandle,
    server: ServerHandle,
    run: tokio::task::JoinHandle<linesman_supervisor::RunReport>,
}

fn spec(connections: &[(&str, &Peer)]) -> Spec {
    connections
        .iter()
        .fold(Spec::builder(), |spec, (name, peer)| {
            spec.connection(ConnectionSpec::new(*name, peer.endpoint()))
        })
        .build()
        .expect("a valid spec")
}

/// A supervisor of `quotes` served with `reloader`, if any.
fn serve(label: &str, quotes: &Peer, reloader: Option<Reloader>) -> Served {
    let dir = TempDir::new(label).expect("a temp dir");
    let supervisor = Supervisor::new(spec(&[("quotes", quotes)]));
    let control = supervisor.control();
    let mut state = ControlState::new(&supervisor);
    if let Some(reloader) = reloader {
        state = state.with_reloader(reloader);
    }
    let socket = dir.join("control.sock");
    let server = ControlServer::bind(&socket, state)
        .expect("the control socket binds")
        .spawn();
    let run = tokio::spawn(supervisor.run());
    Served {
        client: Client::new(&socket),
        _dir: dir,
        control,
        server,
        run,
    }
}

impl Served {
    async fn counted(&self) -> String {
        let text = self.client.metrics().await.expect("the metrics");
        let mut lines: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("linesman_reloads_total"))
            .collect();
        // The family's samples come in no fixed order.
        lines.sort_unstable();
        lines.join("\n")
    }

    async fn stop(self) {
        self.control.shutdown();
        patiently("the supervisor to finish", self.run)
            .await
            .expect("the supervisor task ends");
        patiently("the server to shut down", self.server.shutdown())
            .await
            .expect("a clean server shutdown");
    }
}

fn answering(answer: Result<ReloadResponse, ReloadError>) -> Reloader {
    Arc::new(move |_state| {
        let answer = answer.clone();
        Box::pin(async move { answer })
    })
}

#[tokio::test]
async fn an_applied_reload_is_200_and_the_status_shows_the_new_spec() {
    let quotes = Peer::echo().await.expect("a peer");
    let orders = Arc::new(Peer::echo().await.expect("a peer"));
    let endpoint = orders.endpoint();
    let reloader: Reloader = Arc::new(move |state: ControlState| {
        let endpoint = endpoint.clone();
        Box::pin(async move {
            let spec = Spec::builder()
                .connection(ConnectionSpec::new("orders", endpoint))
                .build()
                .expect("a valid spec");
            let report = state.reload(spec).await?;
            Ok(ReloadResponse {
                ok: true,
                added: report.added,
                removed: report.removed,
                ..ReloadResponse::default()
            })
        })
    });
    let served = serve("control-reload-ok", &quotes, Some(reloader));
    // A stream of `quotes` alone, and one of everything.
    let mut of_quotes = served
        .client
        .events_with(&EventFilter::default().conn("quotes"))
        .await
        .expect("a filtered stream");
    let mut of_all = served.client.events().await.expect("a stream");
    let answer = served.client.reload().await.expect("applied");
    assert!(answer.ok);
    assert_eq!(
        (answer.added, answer.removed),
        (vec!["orders".to_owned()], vec!["quotes".to_owned()])
    );
    let status = served.client.status().await.expect("a status");
    let names: Vec<&str> = status.connections.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["orders"]);
    assert_eq!(
        status.get("orders").map(|c| c.endpoint.clone()),
        Some(orders.endpoint().to_string())
    );
    assert_eq!(
        served.counted().await,
        "linesman_reloads_total{result=\"error\"} 0\nlinesman_reloads_total{result=\"ok\"} 1"
    );
    // Nothing is left for the filtered stream: it ends, saying why, after
    // its connection's last lines (hostile run of 2026-12-03, F5: it stayed
    // open and silent for good).
    let mut last_state = None;
    let ended = patiently("the filtered stream to end", async {
        loop {
            match of_quotes.next().await {
                Some(Ok(line)) => last_state = line.state,
                Some(Err(error)) => return error,
                None => panic!("ended without saying why"),
            }
        }
    })
    .await;
    assert!(
        matches!(&ended, ClientError::Dropped { message, .. }
            if message.contains("a reload left no connection this events stream's filter matches")),
        "{ended}"
    );
    assert_eq!(last_state, Some(linesman_control::State::Stopped));
    // The stream of everything goes on: `orders` comes up on it.
    patiently("orders up on the unfiltered stream", async {
        loop {
            let line = of_all.next().await.expect("a line").expect("an event");
            if line.conn == "orders" && line.state == Some(linesman_control::State::Up) {
                return;
            }
        }
    })
    .await;
    served.stop().await;
}

#[tokio::test]
async fn a_refused_file_is_422_a_reload_in_progress_409_and_both_count_as_errors() {
    let quotes = Peer::echo().await.expect("a peer");
    let refused = ReloadResponse {
        file: "/etc/l.yaml".to_owned(),
        errors: vec!["/etc/l.yaml:1:1: bad".to_owned()],
        ..ReloadResponse::default()
    };
    let served = serve(
        "control-reload-422",
        &quotes,
        Some(answering(Ok(refused.clone()))),
    );
    assert_eq!(served.client.reload().await.expect("an answer"), refused);
    served.stop().await;

    let served = serve(
        "control-reload-409",
        &quotes,
        Some(answering(Err(ReloadError::InProgress))),
    );
    match served.client.reload().await {
        Err(ClientError::Api {
            status: 409,
            message,
            ..
        }) => {
            assert!(message.contains("in progress"), "{message}");
        }
        other => panic!("a 409: {other:?}"),
    }
    assert_eq!(
        served.counted().await,
        "linesman_reloads_total{result=\"error\"} 1\nlinesman_reloads_total{result=\"ok\"} 0"
    );
    served.stop().await;

    let served = serve("control-reload-501", &quotes, None);
    match served.client.reload().await {
        Err(ClientError::Api { status: 501, .. }) => {}
        other => panic!("a 501: {other:?}"),
    }
    served.stop().await;
}
