//! [`EventStream`]: the lines of `GET /v1/events` as [`EventLine`]s.
//!
//! Blank lines are the server's keep-alives: skipped, but they prove the
//! daemon is alive, so the silence timer starts over at every byte. A line
//! that is an [`ErrorBody`] is the server's reason for ending the stream
//! early ([`ClientError::Dropped`]).

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures_util::Stream;
use hyper::body::{Body, Incoming};
use tokio::time::{Instant, Sleep};
use tokio_util::task::AbortOnDropHandle;

use crate::api::{ErrorBody, EventLine};
use crate::error::ClientError;

/// The longest line accepted: far more than any event takes, and what a
/// daemon gone wrong can make the client buffer at most.
const MAX_LINE: usize = 1 << 20;

/// The events of `GET /v1/events`, one [`EventLine`] per item, made by
/// [`Client::events`](crate::Client::events). Ends when the daemon ends the
/// stream; dropping it closes the connection.
pub struct EventStream {
    socket: PathBuf,
    body: Incoming,
    buffer: BytesMut,
    done: bool,
    silence: Pin<Box<Sleep>>,
    silence_timeout: Duration,
    _driver: AbortOnDropHandle<()>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("socket", &self.socket)
            .field("buffered", &self.buffer.len())
            .field("done", &self.done)
            .field("silence_timeout", &self.silence_timeout)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    pub(super) fn new(
        socket: PathBuf,
        body: Incoming,
        silence_timeout: Duration,
        driver: AbortOnDropHandle<()>,
    ) -> EventStream {
        EventStream {
            socket,
            body,
            buffer: BytesMut::new(),
            done: false,
            silence: Box::pin(tokio::time::sleep(silence_timeout)),
            silence_timeout,
            _driver: driver,
        }
    }

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

    /// An event, or the daemon's reason for ending the stream.
    fn parse(&mut self, line: &[u8]) -> Result<EventLine, ClientError> {
        serde_json::from_slice(line).map_err(|source| {
            match serde_json::from_slice::<ErrorBody>(line) {
                Ok(reason) => {
                    self.done = true;
                    self.buffer.clear();
                    ClientError::Dropped {
                        socket: self.socket.clone(),
                        message: reason.error,
                    }
                }
                Err(_) => ClientError::Decode {
                    what: "GET /v1/events",
                    source,
                },
            }
        })
    }

    /// Ends the stream with `error`.
    fn fail(&mut self, error: ClientError) -> Poll<Option<Result<EventLine, ClientError>>> {
        self.done = true;
        self.buffer.clear();
        Poll::Ready(Some(Err(error)))
    }
}

impl Stream for EventStream {
    type Item = Result<EventLine, ClientError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(line) = this.next_line() {
                return Poll::Ready(Some(this.parse(&line)));
            }
            if this.done {
                // A last line without its newline still counts.
                if this.buffer.iter().all(u8::is_ascii_whitespace) {
                    this.buffer.clear();
                    return Poll::Ready(None);
                }
                let rest = this.buffer.split().freeze();
                return Poll::Ready(Some(this.parse(&rest)));
            }
            if this.buffer.len() > MAX_LINE {
                let error = ClientError::Decode {
                    what: "GET /v1/events",
                    source: serde::de::Error::custom(format!(
                        "a line longer than {MAX_LINE} bytes"
                    )),
                };
                return this.fail(error);
            }
            let frame = match Pin::new(&mut this.body).poll_frame(cx) {
                Poll::Ready(frame) => frame,
                Poll::Pending => {
                    ready!(this.silence.as_mut().poll(cx));
                    let error = ClientError::Silent {
                        socket: this.socket.clone(),
                        after: this.silence_timeout,
                    };
                    return this.fail(error);
                }
            };
            match frame {
                Some(Ok(frame)) => {
                    if let Ok(mut data) = frame.into_data() {
                        let deadline = Instant::now() + this.silence_timeout;
                        this.silence.as_mut().reset(deadline);
                        while data.has_remaining() {
                            let chunk = data.chunk();
                            this.buffer.extend_from_slice(chunk);
                            let n = chunk.len();
                            data.advance(n);
                        }
                    }
                }
                Some(Err(source)) => {
                    let error = ClientError::Http {
                        socket: this.socket.clone(),
                        source,
                    };
                    return this.fail(error);
                }
                None => this.done = true,
            }
        }
    }
}
