//! [`Client`]: the control API from the other side of the socket, for the
//! CLI and for scripts written in Rust. One HTTP/1.1 connection per call
//! (hyper's `http1` handshake over a tokio `UnixStream`): calls are rare and
//! a local connect costs microseconds, so there is no pool to go stale.
//!
//! Every call is bounded: the connect by the connect timeout (2 s), the
//! answer by the response timeout (10 s), and an events stream by its
//! silence timeout (15 s: the server sends a keep-alive line every 5 s), so
//! a stopped or hung daemon is an error, never a hang. Right after
//! connecting, the client checks who serves the socket (`SO_PEERCRED`) and
//! refuses a server of another uid before sending it anything.

mod connect;
mod events;
mod filter;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio_util::task::AbortOnDropHandle;

pub use events::EventStream;
pub use filter::EventFilter;

use crate::api::{ErrorBody, ReloadResponse, StatusResponse};
use crate::error::ClientError;
use linesman_connection::FAR_FUTURE;

/// A client of the control API on the Unix socket `socket`.
///
/// Creating one does not connect; each call does, so a daemon that restarts
/// between calls is simply found again.
///
/// ```
/// use std::time::Duration;
/// use linesman_control::Client;
///
/// let client = Client::new("/run/user/1000/linesman/linesman.sock")
///     .response_timeout(Duration::from_secs(30));
/// assert_eq!(client.timeouts().1, Duration::from_secs(30));
/// assert_eq!(client.timeouts().0, Client::DEFAULT_CONNECT_TIMEOUT);
/// ```
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
    connect_timeout: Duration,
    response_timeout: Duration,
    silence_timeout: Duration,
}

impl Client {
    /// How long a connect may take by default: 2 s.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
    /// How long the daemon may take to answer by default: 10 s.
    pub const DEFAULT_RESPONSE_TIMEOUT: Duration = Duration::from_secs(10);
    /// How long an events stream may stay silent by default: 15 s, three
    /// times the server's default keep-alive interval.
    pub const DEFAULT_SILENCE_TIMEOUT: Duration = Duration::from_secs(15);

    /// A client of the daemon serving on `socket`, with the default
    /// timeouts.
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
            connect_timeout: Client::DEFAULT_CONNECT_TIMEOUT,
            response_timeout: Client::DEFAULT_RESPONSE_TIMEOUT,
            silence_timeout: Client::DEFAULT_SILENCE_TIMEOUT,
        }
    }

    /// How long connecting may take, a full backlog retried included
    /// (default [`DEFAULT_CONNECT_TIMEOUT`](Self::DEFAULT_CONNECT_TIMEOUT));
    /// then the call fails with [`ClientError::Timeout`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Client {
        self.connect_timeout = timeout.min(FAR_FUTURE);
        self
    }

    /// How long the daemon may take to answer once connected (default
    /// [`DEFAULT_RESPONSE_TIMEOUT`](Self::DEFAULT_RESPONSE_TIMEOUT)): the
    /// whole answer, or the head of an events stream; then the call fails
    /// with [`ClientError::Timeout`].
    #[must_use]
    pub fn response_timeout(mut self, timeout: Duration) -> Client {
        self.response_timeout = timeout.min(FAR_FUTURE);
        self
    }

    /// How long an events stream may go without a byte (default
    /// [`DEFAULT_SILENCE_TIMEOUT`](Self::DEFAULT_SILENCE_TIMEOUT)); then it
    /// yields [`ClientError::Silent`] and ends. Keep it above the server's
    /// keep-alive interval.
    #[must_use]
    pub fn silence_timeout(mut self, timeout: Duration) -> Client {
        self.silence_timeout = timeout.min(FAR_FUTURE);
        self
    }

    /// The connect, response and silence timeouts.
    pub fn timeouts(&self) -> (Duration, Duration, Duration) {
        (
            self.connect_timeout,
            self.response_timeout,
            self.silence_timeout,
        )
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /v1/status`: every connection's state, counters and detail.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoDaemon`] when nothing listens on the socket,
    /// [`ClientError::Timeout`] when the daemon does not accept or answer
    /// in time, [`ClientError::ForeignServer`] when another user serves the
    /// socket; see [`ClientError`] for the rest.
    pub async fn status(&self) -> Result<StatusResponse, ClientError> {
        const WHAT: &str = "GET /v1/status";
        let body = self.call(Method::GET, "/v1/status").await?;
        serde_json::from_slice(&body).map_err(|source| ClientError::Decode { what: WHAT, source })
    }

    /// `POST /v1/reload`: the daemon reads its configuration file again
    /// and applies it. A file with errors is an `Ok` answer with `ok:
    /// false` and the errors (nothing changed). The whole reload must fit
    /// the response timeout (stopping removed connections may take the
    /// daemon's shutdown timeout).
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status); [`ClientError::Api`] with 409 while
    /// another reload is in progress, 501 from a server with no file to
    /// reload.
    pub async fn reload(&self) -> Result<ReloadResponse, ClientError> {
        const WHAT: &str = "POST /v1/reload";
        let (response, _driver) = self.send(Method::POST, "/v1/reload").await?;
        let status = response.status();
        let body = self.bounded(self.collect(response.into_body())).await??;
        if status.is_success() || status == StatusCode::UNPROCESSABLE_ENTITY {
            serde_json::from_slice(&body)
                .map_err(|source| ClientError::Decode { what: WHAT, source })
        } else {
            Err(api_error(status, &body))
        }
    }

    /// `GET /v1/events`: the current state of every connection (lines with
    /// `replay: true`), then every event as it happens. The stream ends when
    /// the daemon shuts down; drop it to stop following.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status) (the response timeout bounds the head
    /// only); the stream's items fail with [`ClientError::Http`] if the
    /// connection breaks, [`ClientError::Silent`] if the daemon sends
    /// nothing for the silence timeout, [`ClientError::Dropped`] if the
    /// daemon ends the stream saying why (a watcher too slow to keep up),
    /// and [`ClientError::Decode`] for a line that is not an event.
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        self.events_with(&EventFilter::default()).await
    }

    /// `GET /v1/events?…`: as [`events`](Self::events), only the events
    /// `filter` admits, resumed after its `since` if it has one.
    ///
    /// # Errors
    ///
    /// As [`events`](Self::events); [`ClientError::Api`] with status 400
    /// for a filter the daemon refuses (its message says why) and 404 for
    /// an unknown connection name.
    pub async fn events_with(&self, filter: &EventFilter) -> Result<EventStream, ClientError> {
        let query = filter.query();
        let path = if query.is_empty() {
            "/v1/events".to_owned()
        } else {
            format!("/v1/events?{query}")
        };
        let (response, driver) = self.send(Method::GET, &path).await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = self.bounded(self.collect(response.into_body())).await??;
            return Err(api_error(status, &body));
        }
        Ok(EventStream::new(
            self.socket.clone(),
            response.into_body(),
            self.silence_timeout,
            driver,
        ))
    }

    /// `POST /v1/connections/{name}/start`: starts a stopped or failed
    /// connection.
    ///
    /// # Errors
    ///
    /// [`ClientError::Api`] with status 404 for an unknown name (its
    /// `known` lists the daemon's connections); as [`status`](Self::status).
    pub async fn start(&self, name: &str) -> Result<(), ClientError> {
        self.action(name, "start").await
    }

    /// `POST /v1/connections/{name}/stop`: stops a connection until started.
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub async fn stop(&self, name: &str) -> Result<(), ClientError> {
        self.action(name, "stop").await
    }

    /// `POST /v1/connections/{name}/restart`: reconnects now (skipping a
    /// running backoff).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub async fn restart(&self, name: &str) -> Result<(), ClientError> {
        self.action(name, "restart").await
    }

    /// `GET /metrics`: the Prometheus text.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status); [`ClientError::Decode`] if it is not
    /// UTF-8.
    pub async fn metrics(&self) -> Result<String, ClientError> {
        let body = self.call(Method::GET, "/metrics").await?;
        String::from_utf8(body.to_vec()).map_err(|e| ClientError::Decode {
            what: "GET /metrics",
            source: serde::de::Error::custom(e),
        })
    }

    async fn action(&self, name: &str, action: &str) -> Result<(), ClientError> {
        let path = format!("/v1/connections/{}/{action}", encode_segment(name));
        self.call(Method::POST, &path).await.map(drop)
    }

    /// Sends a request and returns the body of a successful answer.
    async fn call(&self, method: Method, path: &str) -> Result<Bytes, ClientError> {
        let (response, _driver) = self.send(method, path).await?;
        let status = response.status();
        let body = self.bounded(self.collect(response.into_body())).await??;
        if status.is_success() {
            Ok(body)
        } else {
            Err(api_error(status, &body))
        }
    }

    async fn collect(&self, body: Incoming) -> Result<Bytes, ClientError> {
        match body.collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(source) => Err(self.http(source)),
        }
    }

    /// `work` within the response timeout.
    async fn bounded<T>(&self, work: impl Future<Output = T>) -> Result<T, ClientError> {
        tokio::time::timeout(self.response_timeout, work)
            .await
            .map_err(|_| ClientError::Timeout {
                socket: self.socket.clone(),
                after: self.response_timeout,
            })
    }

    /// Connects (within the connect timeout, to a server of our uid), sends
    /// the request and waits for the response's head (within the response
    /// timeout). A connection the server closed before it acted on the
    /// request (it closes a client that has sent nothing yet when every
    /// place and every waiting place is taken) is tried again, six times at
    /// most, after pauses that add up to 4.8 s ([`unread`]): a crowd of
    /// silent clients that reconnect at once can close a fresh connection
    /// before it writes several times in a row.
    async fn send(
        &self,
        method: Method,
        path: &str,
    ) -> Result<(Response<Incoming>, AbortOnDropHandle<()>), ClientError> {
        let mut pauses = [50, 250, 500, 1000, 1000, 2000]
            .map(Duration::from_millis)
            .into_iter();
        loop {
            match self.send_once(method.clone(), path).await {
                Err(error) if unread(&error) => match pauses.next() {
                    Some(pause) => tokio::time::sleep(pause).await,
                    None => return Err(error),
                },
                sent => return sent,
            }
        }
    }

    /// One try of [`send`](Self::send).
    async fn send_once(
        &self,
        method: Method,
        path: &str,
    ) -> Result<(Response<Incoming>, AbortOnDropHandle<()>), ClientError> {
        let stream = connect::connect(&self.socket, self.connect_timeout).await?;
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "linesman")
            .body(Empty::<Bytes>::new());
        let request = request.map_err(|source| ClientError::Request {
            path: path.to_owned(),
            source,
        })?;
        self.bounded(async {
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .map_err(|source| self.http(source))?;
            let driver = AbortOnDropHandle::new(tokio::spawn(async move {
                if let Err(error) = connection.await {
                    tracing::debug!(%error, "control connection ended with an error");
                }
            }));
            let response = sender
                .send_request(request)
                .await
                .map_err(|source| self.http(source))?;
            Ok((response, driver))
        })
        .await?
    }

    fn http(&self, source: hyper::Error) -> ClientError {
        ClientError::Http {
            socket: self.socket.clone(),
            source,
        }
    }
}

/// Whether `error` says the server closed the connection before it acted
/// on the request: writing it failed (a broken pipe, a reset), the
/// connection ended before the request could be sent (hyper's "canceled":
/// `connection closed before message completed`), or it ended with no
/// answer begun. The daemon closes a connection
/// only before a request is whole (a silent client, a waiting client when
/// every waiting place is taken, an idle one given up for another) or
/// after its answer is written, never while it acts on one, so no request
/// is done twice.
fn unread(error: &ClientError) -> bool {
    let ClientError::Http { source, .. } = error else {
        return false;
    };
    if source.is_incomplete_message() || source.is_canceled() {
        return true;
    }
    let mut cause = std::error::Error::source(source);
    while let Some(inner) = cause {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return matches!(
                io.kind(),
                std::io::ErrorKind::BrokenPipe | std::io::ErrorKind::ConnectionReset
            );
        }
        cause = inner.source();
    }
    false
}

/// The error of a non-2xx answer, in the daemon's own words when it sent an
/// [`ErrorBody`].
fn api_error(status: StatusCode, body: &[u8]) -> ClientError {
    let (message, known) = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(error) => (error.error, error.known),
        Err(_) => (String::from_utf8_lossy(body).trim().to_owned(), Vec::new()),
    };
    ClientError::Api {
        status: status.as_u16(),
        message,
        known,
    }
}

/// Percent-encodes a path segment (everything but RFC 3986's unreserved
/// characters), so any connection name makes a valid request.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::encode_segment;

    #[test]
    fn names_are_percent_encoded() {
        assert_eq!(encode_segment("hw-programmer_2.x~"), "hw-programmer_2.x~");
        assert_eq!(encode_segment("a b/c?é"), "a%20b%2Fc%3F%C3%A9");
    }
}
