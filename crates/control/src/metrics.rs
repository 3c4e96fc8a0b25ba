//! `GET /metrics`: the Prometheus (OpenMetrics) text of every connection's
//! state, restarts, connect failures and disconnects by reason, and
//! traffic, of the bus, and of the build, via prometheus-client.
//!
//! The values live elsewhere (bus registry, connection counters, bus
//! counters), so each scrape builds a fresh registry from them: nothing is
//! kept in step, and nothing can drift.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;

use linesman_connection::ReasonClass;

use crate::api::State;
use crate::state::ControlState;

/// The content type of the text [`render`] returns.
pub(crate) const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels = Vec<(String, String)>;

fn conn(name: &str) -> Labels {
    vec![("connection".to_owned(), name.to_owned())]
}

/// Every metric, as text, appended to `out` (the answer's buffer).
pub(crate) fn render_into(state: &ControlState, out: &mut Vec<u8>) -> Result<(), std::fmt::Error> {
    out.extend_from_slice(render(state)?.as_bytes());
    Ok(())
}

/// Every metric, as text.
pub(crate) fn render(state: &ControlState) -> Result<String, std::fmt::Error> {
    let mut registry = Registry::with_prefix("linesman");

    let states = Family::<Labels, Gauge>::default();
    let up = Family::<Labels, Gauge>::default();
    let restarts = Family::<Labels, Gauge>::default();
    let connect_failures = Family::<Labels, Gauge>::default();
    let attempt = Family::<Labels, Gauge>::default();
    let sessions = Family::<Labels, Counter>::default();
    let frames_in = Family::<Labels, Counter>::default();
    let frames_out = Family::<Labels, Counter>::default();
    let bytes_in = Family::<Labels, Counter>::default();
    let bytes_out = Family::<Labels, Counter>::default();
    let restarts_total = Family::<Labels, Counter>::default();
    let failures_total = Family::<Labels, Counter>::default();
    let disconnects_total = Family::<Labels, Counter>::default();
    let info = Family::<Labels, Info<Labels>, fn() -> Info<Labels>>::new_with_constructor(|| {
        Info::new(Vec::new())
    });

    let status = state.status();
    for c in &status.connections {
        let mut labels = conn(&c.name);
        labels.push(("kind".to_owned(), c.kind.clone().unwrap_or_default()));
        labels.push(("tags".to_owned(), c.tags.join(",")));
        drop(info.get_or_create(&labels));
        let total = state
            .supervisor()
            .state(&c.name)
            .map_or(0, |s| s.restarts_total);
        restarts_total.get_or_create(&conn(&c.name)).inc_by(total);
        for s in State::ALL {
            let mut labels = conn(&c.name);
            labels.push(("state".to_owned(), s.as_str().to_owned()));
            states.get_or_create(&labels).set(i64::from(c.state == s));
        }
        up.get_or_create(&conn(&c.name))
            .set(i64::from(c.state == State::Up));
        restarts
            .get_or_create(&conn(&c.name))
            .set(i64::try_from(c.restarts).unwrap_or(i64::MAX));
        connect_failures
            .get_or_create(&conn(&c.name))
            .set(i64::try_from(c.connect_failures).unwrap_or(i64::MAX));
        attempt
            .get_or_create(&conn(&c.name))
            .set(i64::from(c.attempt));
    }
    for (name, counters) in state.counters() {
        let labels = conn(&name);
        sessions.get_or_create(&labels).inc_by(counters.sessions);
        frames_in.get_or_create(&labels).inc_by(counters.frames_in);
        frames_out
            .get_or_create(&labels)
            .inc_by(counters.frames_out);
        bytes_in.get_or_create(&labels).inc_by(counters.bytes_in);
        bytes_out.get_or_create(&labels).inc_by(counters.bytes_out);
        for (class, count) in counters.ends.iter_connect_failures() {
            failures_total
                .get_or_create(&with_reason(&name, class))
                .inc_by(count);
        }
        for (class, count) in counters.ends.iter_disconnects() {
            disconnects_total
                .get_or_create(&with_reason(&name, class))
                .inc_by(count);
        }
    }

    registry.register(
        "build",
        "The daemon's version",
        Info::new(vec![(
            "version".to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        )]),
    );
    registry.register(
        "connection",
        "1 for each connection, labelled with its kind and tags (comma-separated): join on `connection`",
        info,
    );
    registry.register(
        "restarts",
        "Restarts after a session that had come up, over the daemon's life (never reset)",
        restarts_total,
    );
    registry.register(
        "connect_failures",
        "Connect attempts that failed, by reason (refused, timeout, dns, unreachable, no_socket, denied, fd_limit, handshake, io), over the daemon's life",
        failures_total,
    );
    registry.register(
        "disconnects",
        "Sessions that were up and ended, by reason (peer_closed, reset, io, timeout, protocol, handler, stopped, dependency, shutdown, finished), over the daemon's life",
        disconnects_total,
    );

    registry.register(
        "connection_state",
        "1 for the connection's current state (waiting, connecting, up, backoff, stopped, failed), 0 for the others",
        states,
    );
    registry.register("connection_up", "1 when the connection is up", up);
    registry.register(
        "connection_restarts",
        "Restarts after a session that had come up, since the connection was last started",
        restarts,
    );
    registry.register(
        "connection_connect_failures",
        "Connect attempts that failed (refused, timed out, handshake failed) since the connection was last started",
        connect_failures,
    );
    registry.register(
        "connection_attempt",
        "The connection's current or next attempt number",
        attempt,
    );
    registry.register("connection_sessions", "Sessions that came up", sessions);
    registry.register(
        "connection_frames_received",
        "Frames received, over all sessions",
        frames_in,
    );
    registry.register(
        "connection_frames_sent",
        "Frames written, over all sessions",
        frames_out,
    );
    registry.register(
        "connection_bytes_received",
        "Bytes received, frame headers included",
        bytes_in,
    );
    registry.register(
        "connection_bytes_sent",
        "Bytes written, frame headers included",
        bytes_out,
    );

    let bus = state.bus().metrics();
    let counter = |value: u64| {
        let c = Counter::<u64>::default();
        c.inc_by(value);
        c
    };
    registry.register(
        "bus_events_published",
        "Events published on the bus",
        counter(bus.published),
    );
    registry.register(
        "bus_events_delivered",
        "Events handed to listeners and streams, once per receiver",
        counter(bus.delivered),
    );
    registry.register(
        "bus_events_lagged",
        "Events that listeners or streams missed because their queue was full",
        counter(bus.lagged),
    );
    registry.register(
        "bus_listener_panics",
        "Listener panics caught by the bus",
        counter(bus.panics),
    );
    registry.register(
        "bus_listeners_removed",
        "Listeners removed for panicking too often",
        counter(bus.listeners_removed),
    );
    let receivers = Gauge::<i64>::default();
    receivers.set(i64::try_from(bus.receivers).unwrap_or(i64::MAX));
    registry.register(
        "bus_receivers",
        "Listeners and streams registered now",
        receivers,
    );

    let reloads = Family::<Vec<(String, String)>, Counter>::default();
    let (ok, error) = state.reloads();
    for (result, count) in [("ok", ok), ("error", error)] {
        reloads
            .get_or_create(&vec![("result".to_owned(), result.to_owned())])
            .inc_by(count);
    }
    registry.register(
        "reloads",
        "Reloads of the configuration: applied (ok) or refused (error: a file with errors, or a reload already in progress)",
        reloads,
    );

    if let Some(count) = state.inner.log_lines_dropped {
        registry.register(
            "log_lines_dropped",
            "Log lines dropped rather than let a full or closed log stall or kill the process",
            counter(count()),
        );
    }

    let mut text = String::new();
    encode(&mut text, &registry)?;
    Ok(sorted(&text))
}

fn with_reason(name: &str, class: ReasonClass) -> Labels {
    let mut labels = conn(name);
    labels.push(("reason".to_owned(), class.as_str().to_owned()));
    labels
}

/// `text` with the samples of each metric family sorted (by metric name,
/// then labels, as written): the families keep their order, but a family's
/// samples come out of a hash map, in a different order on every scrape.
fn sorted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut samples: Vec<&str> = Vec::new();
    let flush = |samples: &mut Vec<&str>, out: &mut String| {
        samples.sort_unstable();
        for line in samples.drain(..) {
            out.push_str(line);
            out.push('\n');
        }
    };
    for line in text.lines() {
        if line.starts_with('#') {
            flush(&mut samples, &mut out);
            out.push_str(line);
            out.push('\n');
        } else {
            samples.push(line);
        }
    }
    flush(&mut samples, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::sorted;

    #[test]
    fn samples_are_sorted_within_their_family() {
        let text = "# HELP a x\n# TYPE a gauge\na{c=\"b\"} 1\na{c=\"a\"} 2\n# HELP b y\nb{c=\"z\"} 3\nb{c=\"y\"} 4\n# EOF\n";
        assert_eq!(
            sorted(text),
            "# HELP a x\n# TYPE a gauge\na{c=\"a\"} 2\na{c=\"b\"} 1\n# HELP b y\nb{c=\"y\"} 4\nb{c=\"z\"} 3\n# EOF\n"
        );
    }
}
