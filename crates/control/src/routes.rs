//! The HTTP API: routes, handlers, and the uid check in front of them.
//!
//! | route | answer |
//! | --- | --- |
//! | `GET /v1/status` | [`StatusResponse`](crate::StatusResponse) |
//! | `GET /v1/events` | one [`EventLine`](crate::EventLine) per line (`application/x-ndjson`), the current state first; `?conn=&kind=&tag=&type=` filter (repeatable, comma lists), `?since=SEQ` resumes after SEQ (or starts with a `gap` line); 400 for a bad filter, 404 for a `conn`, `kind` or `tag` no connection has |
//! | `POST /v1/connections/{name}/start`, `/stop`, `/restart` | [`ActionResponse`](crate::ActionResponse); 404 for an unknown name, 429 when the connection has too many commands waiting |
//! | `POST /v1/reload` | [`ReloadResponse`](crate::ReloadResponse): 200 applied, 422 the file has errors (nothing changed), 409 a reload is in progress, 501 no file to reload |
//! | `GET /metrics` | Prometheus (OpenMetrics) text |
//!
//! No route takes a request body. A body is nonetheless received whole
//! before any route acts (a request cut short must not reload or stop
//! anything): one announced larger than [`MAX_BODY`] bytes is refused
//! unread (413), one that does not arrive within the header timeout is 408,
//! one that ends early 400; what arrives is dropped.
//!
//! Every error is an [`ErrorBody`](crate::ErrorBody); a peer of another uid
//! gets 403 whatever it asks. The peer's credentials come with each request
//! as a `ConnectInfo<Peer>` extension, put there by the accept loop.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path, RawQuery, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use linesman_observer::Missed;
use linesman_supervisor::ControlError as SupervisorControlError;
use linesman_supervisor::ReloadError;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::answers::{Answers, Refused};
use crate::api::{ActionResponse, ErrorBody};
use crate::events::EventsBody;
use crate::filter::{self, QueryError};
use crate::metrics;
use crate::places::BodyArrival;
use crate::socket::{Peer, authorize};
use crate::state::ControlState;

/// What every handler gets.
#[derive(Clone)]
pub(crate) struct App {
    pub(crate) state: ControlState,
    /// Cancelled when the server shuts down: ends every events stream.
    pub(crate) shutdown: CancellationToken,
    /// The uid the socket belongs to; only it is served.
    pub(crate) own_uid: u32,
    /// How often a quiet events stream gets an empty line.
    pub(crate) keepalive: Duration,
    /// How many overflows in a row an events watcher is allowed.
    pub(crate) max_lags: u32,
    /// How long a request's body may take to arrive (the header timeout).
    pub(crate) body_timeout: Duration,
    /// The places of `/v1/events` streams: fewer than the connections, so
    /// that streams nobody reads (an idle stream sends a byte per
    /// keep-alive, never enough to fill the socket and trip the write
    /// timeout) cannot take every connection from `status` and the
    /// actions ([`stream_slots`]).
    pub(crate) streams: Arc<Semaphore>,
    /// The budget of `/v1/status` and `/metrics` answers not yet read by
    /// their clients.
    pub(crate) answers: Arc<Answers>,
}

/// How many of `max_connections` may be `/v1/events` streams: all but a
/// quarter, which is kept for short requests; at least one is kept (a low
/// open-file limit leaves 3 connections: 3 deaf streams held them all),
/// and at least one may stream.
pub(crate) fn stream_slots(max_connections: usize) -> usize {
    max_connections
        .saturating_sub((max_connections / 4).max(1))
        .max(1)
}

pub(crate) fn router(app: App) -> Router {
    Router::new()
        .route("/v1/status", get(status))
        .route("/v1/events", get(events))
        .route("/v1/connections/{name}/{action}", post(action))
        .route("/v1/reload", post(reload))
        .route("/metrics", get(metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), whole_body))
        .layer(middleware::from_fn_with_state(app.clone(), same_uid))
        .with_state(app)
}

/// A JSON error response.
pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Response {
    error_with_known(status, message, Vec::new())
}

fn error_with_known(
    status: StatusCode,
    message: impl Into<String>,
    known: Vec<String>,
) -> Response {
    let body = ErrorBody {
        error: message.into(),
        known,
    };
    (status, axum::Json(body)).into_response()
}

async fn same_uid(
    State(app): State<App>,
    ConnectInfo(peer): ConnectInfo<Peer>,
    request: Request,
    next: Next,
) -> Response {
    if authorize(peer.uid, app.own_uid) {
        return next.run(request).await;
    }
    let who = match (peer.uid, peer.pid) {
        (Some(uid), Some(pid)) => format!("uid {uid} (pid {pid})"),
        (Some(uid), None) => format!("uid {uid}"),
        (None, _) => "a peer whose credentials cannot be read".to_owned(),
    };
    tracing::warn!(peer = %who, own_uid = app.own_uid, "refused a control request from another user");
    error(
        StatusCode::FORBIDDEN,
        format!(
            "refused: this control socket serves only uid {}, and the request came from {who}; run the command as the daemon's user",
            app.own_uid
        ),
    )
}

/// The most bytes of a request body the server reads: no route takes a
/// body, so this is room for the `{}` or form some tools send with a POST,
/// not for data.
pub(crate) const MAX_BODY: usize = 1024;

/// Receives the request's body whole (and drops it) before the route runs,
/// within [`MAX_BODY`] bytes and [`App::body_timeout`]; else answers 413,
/// 408 or 400 and the route never runs.
async fn whole_body(State(app): State<App>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let announced = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let too_large = |said: String| {
        tracing::debug!(method = %parts.method, path = %shown(parts.uri.path()), "refused a control request with a body too large");
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "{} {} takes no request body, and this one {said}, more than the {MAX_BODY} bytes the control API reads: nothing was done; send the request without a body",
                parts.method,
                shown(parts.uri.path())
            ),
        )
    };
    if let Some(length) = announced
        && length > MAX_BODY as u64
    {
        return too_large(format!("is {length} bytes"));
    }
    let limited = http_body_util::Limited::new(body, MAX_BODY);
    let collected =
        tokio::time::timeout(app.body_timeout, http_body_util::BodyExt::collect(limited)).await;
    // From here the request is being answered: it holds its connection's
    // place (until then a client waiting for one may take it).
    if let Some(arrival) = parts.extensions.get::<BodyArrival>() {
        arrival.received();
    }
    match collected {
        Ok(Ok(_dropped)) => next.run(Request::from_parts(parts, Body::empty())).await,
        Ok(Err(cause)) if cause.is::<http_body_util::LengthLimitError>() => {
            too_large("goes on".to_owned())
        }
        Ok(Err(cause)) => {
            tracing::debug!(%cause, "a control request's body ended early");
            error(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body of {} {} ended before the length it announced ({cause}): nothing was done; send the whole request, or none of a body",
                    parts.method,
                    shown(parts.uri.path())
                ),
            )
        }
        Err(_) => error(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the body of {} {} did not arrive within {} s: nothing was done; send the whole request at once (no route takes a body)",
                parts.method,
                shown(parts.uri.path()),
                app.body_timeout.as_secs_f32()
            ),
        ),
    }
}

async fn status(State(app): State<App>) -> Response {
    let status = app.state.status();
    let made = app.answers.make(&app.answers.status, |text| {
        // Writing JSON into a Vec fails only for a value serde cannot
        // encode, which a status never holds.
        let _ = serde_json::to_writer(text, &status);
    });
    answer(made, "application/json")
}

/// A `200` with `made`'s bytes, or the `503` of why they were not made.
fn answer(made: Result<bytes::Bytes, Refused>, content_type: &'static str) -> Response {
    match made {
        Ok(text) => ([(header::CONTENT_TYPE, content_type)], text).into_response(),
        Err(refused) => {
            tracing::debug!(why = %refused.message(), "refused a control answer");
            error(StatusCode::SERVICE_UNAVAILABLE, refused.message())
        }
    }
}

async fn events(State(app): State<App>, RawQuery(query): RawQuery) -> Response {
    let query = match filter::parse(query.as_deref(), || app.state.known()) {
        Ok(query) => query,
        Err(QueryError::Bad(message)) => return error(StatusCode::BAD_REQUEST, message),
        Err(QueryError::UnknownLabel(message)) => return error(StatusCode::NOT_FOUND, message),
        Err(QueryError::UnknownConnection(message)) => {
            return error_with_known(StatusCode::NOT_FOUND, message, app.state.names());
        }
    };
    // Subscribed before the response starts: the replay is the state as of
    // now, and no later event can be missed.
    let bus = app.state.bus().clone();
    // Resumed: the kept events after `since` instead of the current
    // state, or a `gap` line when they are gone.
    let (subscription, gap) = match query.since {
        None => (bus.subscribe(query.interest), None),
        Some(since) => match bus.subscribe_since(query.interest, since) {
            (subscription, Missed::Gone { from, to }) => (subscription, Some((since, from, to))),
            (subscription, _) => (subscription, None),
        },
    };
    // A server shutdown cuts the stream only while the bus is still open: a
    // closed bus has published its last events and ends every subscription
    // once they are delivered, so followers read the final `stopped` lines.
    let shutdown = app.shutdown.clone();
    let closing = bus.clone();
    let cut = async move {
        shutdown.cancelled().await;
        if closing.is_closed() {
            std::future::pending::<()>().await;
        }
    };
    let Ok(slot) = Arc::clone(&app.streams).try_acquire_owned() else {
        let mut refused = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "daemon busy: every place for an events stream is taken (a quarter of the control connections is kept for status and actions); end a `linesman events` or `status --watch`, or try again",
        );
        // Closed after the answer: kept alive, the refused client would
        // hold one of the connections kept for requests.
        refused.headers_mut().insert(
            header::CONNECTION,
            header::HeaderValue::from_static("close"),
        );
        return refused;
    };
    let reloads = query.asked.is_filtered().then(|| app.state.reloaded());
    let mut body =
        EventsBody::new(subscription, bus, cut, app.keepalive, app.max_lags).holding(slot);
    if let Some(reloads) = reloads {
        let (state, asked) = (app.state.clone(), query.asked);
        body = body.ending_when_unmatched(reloads, move || state.any_matches(&asked));
    }
    if let Some((since, from, to)) = gap {
        body = body.gap(since, from, to);
    }
    (
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(body),
    )
        .into_response()
}

async fn action(
    State(app): State<App>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Response {
    let Path((name, action)) = match path {
        Ok(path) => path,
        Err(rejection) => return bad_path(&rejection),
    };
    let supervisor = app.state.supervisor();
    let result = match action.as_str() {
        "start" => supervisor.start(&name),
        "stop" => supervisor.stop(&name),
        "restart" => supervisor.restart(&name),
        other => {
            return error(
                StatusCode::NOT_FOUND,
                format!("unknown action `{other}`: use start, stop or restart"),
            );
        }
    };
    match result {
        Ok(()) => {
            tracing::info!(connection = %name, action = %action, "control command queued");
            axum::Json(ActionResponse {
                connection: name,
                action,
                accepted: true,
            })
            .into_response()
        }
        Err(SupervisorControlError::UnknownConnection { suggestion, .. }) => {
            let known = app.state.names();
            let hint = suggestion
                .map(|s| format!("did you mean `{s}`? "))
                .unwrap_or_default();
            error_with_known(
                StatusCode::NOT_FOUND,
                format!(
                    "unknown connection `{}`: {hint}known connections: {}",
                    shown(&name),
                    crate::shown::listed(&known)
                ),
                known,
            )
        }
        Err(other @ SupervisorControlError::NotRunning { .. }) => {
            error(StatusCode::CONFLICT, other.to_string())
        }
        Err(other @ SupervisorControlError::QueueFull { .. }) => {
            error(StatusCode::TOO_MANY_REQUESTS, other.to_string())
        }
        Err(other) => error(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
    }
}

async fn reload(State(app): State<App>) -> Response {
    match app.state.run_reloader().await {
        None => error(
            StatusCode::NOT_IMPLEMENTED,
            "this server cannot reload: it was started without a configuration file to read again",
        ),
        Some(Ok(response)) if response.ok => axum::Json(response).into_response(),
        Some(Ok(refused)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, axum::Json(refused)).into_response()
        }
        Some(Err(other @ ReloadError::InProgress)) => {
            error(StatusCode::CONFLICT, other.to_string())
        }
        Some(Err(other)) => error(StatusCode::SERVICE_UNAVAILABLE, other.to_string()),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    let mut encoded = Ok(());
    let made = app.answers.make(&app.answers.metrics, |text| {
        encoded = metrics::render_into(&app.state, text);
    });
    if encoded.is_err() {
        return error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot encode the metrics; this is a bug in linesman-control",
        );
    }
    answer(made, metrics::CONTENT_TYPE)
}

async fn method_not_allowed(request: Request) -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        format!(
            "{} is not allowed on {}: status, events and metrics are GET, start/stop/restart are POST",
            request.method(),
            shown(request.uri().path())
        ),
    )
}

async fn not_found(request: Request) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no route {} {}: the API has GET /v1/status, GET /v1/events, POST /v1/connections/NAME/start|stop|restart and GET /metrics",
            request.method(),
            shown(request.uri().path())
        ),
    )
}

/// A path that does not decode (a percent-encoded byte sequence that is
/// not UTF-8): the same JSON error as every other, not axum's plain text.
fn bad_path(rejection: &PathRejection) -> Response {
    tracing::debug!(%rejection, "a control request's path did not decode");
    error(
        StatusCode::BAD_REQUEST,
        "the request path does not decode to UTF-8 text: percent-encode connection names as UTF-8",
    )
}

/// The most of a requested path an error message repeats, in bytes.
const SHOWN_PATH: usize = 200;

/// `path` as an error message repeats it: at most [`SHOWN_PATH`] bytes,
/// hidden characters escaped (see [`crate::shown`]).
pub(crate) fn shown(path: &str) -> String {
    crate::shown::shown(path, SHOWN_PATH)
}
