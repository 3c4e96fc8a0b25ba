//! [`Client`]: the control API from the other side of the socket, for the
//! CLI and for scripts written in Rust. One HTTP/1.1 connection per call
//! (hyper's `http1` handshake over a tokio `UnixStream`): calls are rare and
//! a local connect costs microseconds, so there is no pool to go stale.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use http_body_util::{BodyExt, Empty};
use hyper::body::{Body, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::UnixStream;
use tokio_util::task::AbortOnDropHandle;

use crate::api::{ErrorBody, EventLine, StatusResponse};
use crate::error::ClientError;

/// A client of the control API on the Unix socket `socket`.
///
/// Creating one does not connect; each call does, so a daemon that restarts
/// between calls is simply found again.
#[derive(Debug, Clone)]
pub struct Client {
    socket: PathBuf,
}

impl Client {
    /// A client of the daemon serving on `socket`.
    pub fn new(socket: impl Into<PathBuf>) -> Client {
        Client {
            socket: socket.into(),
        }
    }

    /// The socket this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /v1/status`: every connection's state, counters and detail.
    ///
    /// # Errors
    ///
    /// [`ClientError::NoDaemon`] when nothing listens on the socket; see
    /// [`ClientError`] for the rest.
    pub async fn status(&self) -> Result<StatusResponse, ClientError> {
        const WHAT: &str = "GET /v1/status";
        let body = self.call(Method::GET, "/v1/status").await?;
        serde_json::from_slice(&body).map_err(|source| ClientError::Decode { what: WHAT, source })
    }

    /// `GET /v1/events`: the current state of every connection (lines with
    /// `replay: true`), then every event as it happens. The stream ends when
    /// the daemon shuts down; drop it to stop following.
    ///
    /// # Errors
    ///
    /// As [`status`](Self::status); the stream's items fail with
    /// [`ClientError::Http`] if the connection breaks and
    /// [`ClientError::Decode`] for a line that is not an event.
    pub async fn events(&self) -> Result<EventStream, ClientError> {
        let (response, driver) = self.send(Method::GET, "/v1/events").await?;
        if !response.status().is_success() {
            let status = response.status();
            let body = self.collect(response.into_body()).await?;
            return Err(api_error(status, &body));
        }
        Ok(EventStream {
            socket: self.socket.clone(),
            body: response.into_body(),
            buffer: BytesMut::new(),
            done: false,
            _driver: driver,
        })
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
        let body = self.collect(response.into_body()).await?;
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

    async fn send(
        &self,
        method: Method,
        path: &str,
    ) -> Result<(Response<Incoming>, AbortOnDropHandle<()>), ClientError> {
        let stream = UnixStream::connect(&self.socket)
            .await
            .map_err(|source| self.connect_error(source))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|source| self.http(source))?;
        let driver = AbortOnDropHandle::new(tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, "control connection ended with an error");
            }
        }));
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, "linesman")
            .body(Empty::<Bytes>::new());
        let request = request.map_err(|source| ClientError::Request {
            path: path.to_owned(),
            source,
        })?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|source| self.http(source))?;
        Ok((response, driver))
    }

    fn connect_error(&self, source: io::Error) -> ClientError {
        let socket = self.socket.clone();
        match source.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
                ClientError::NoDaemon { socket, source }
            }
            _ => ClientError::Connect { socket, source },
        }
    }

    fn http(&self, source: hyper::Error) -> ClientError {
        ClientError::Http {
            socket: self.socket.clone(),
            source,
        }
    }
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

/// The events of `GET /v1/events`, one [`EventLine`] per item, made by
/// [`Client::events`]. Ends when the daemon ends the stream; dropping it
/// closes the connection.
pub struct EventStream {
    socket: PathBuf,
    body: Incoming,
    buffer: BytesMut,
    done: bool,
    _driver: AbortOnDropHandle<()>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("socket", &self.socket)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// The next complete line in the buffer, without its newline.
    fn next_line(&mut self) -> Option<Bytes> {
        loop {
            let end = self.buffer.iter().position(|b| *b == b'\n')?;
            let line = self.buffer.split_to(end + 1).freeze();
            let line = line.slice(..end);
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Some(line);
            }
        }
    }
}

fn parse(line: &[u8]) -> Result<EventLine, ClientError> {
    serde_json::from_slice(line).map_err(|source| ClientError::Decode {
        what: "GET /v1/events",
        source,
    })
}

impl Stream for EventStream {
    type Item = Result<EventLine, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(line) = this.next_line() {
                return Poll::Ready(Some(parse(&line)));
            }
            if this.done {
                // A last line without its newline still counts.
                if this.buffer.iter().all(u8::is_ascii_whitespace) {
                    this.buffer.clear();
                    return Poll::Ready(None);
                }
                let rest = this.buffer.split().freeze();
                return Poll::Ready(Some(parse(&rest)));
            }
            match ready!(Pin::new(&mut this.body).poll_frame(cx)) {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            this.buffer.extend_from_slice(chunk);
                            let n = chunk.len();
                            data.advance(n);
                        }
                    }
                }
                Some(Err(source)) => {
                    this.done = true;
                    this.buffer.clear();
                    return Poll::Ready(Some(Err(ClientError::Http {
                        socket: this.socket.clone(),
                        source,
                    })));
                }
                None => this.done = true,
            }
        }
    }
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
