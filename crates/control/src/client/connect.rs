//! Connecting to the control socket: within a timeout, retrying a full
//! backlog, and only to a server of our own uid.
//!
//! Why the uid check: the socket's path may be in a directory others can
//! write to, and whoever binds it first serves every client that trusts the
//! path. The kernel tells us who is on the other end (`SO_PEERCRED`, the
//! credentials of the process that called `listen`); a server of another
//! uid is refused before anything is sent to it.

use std::io;
use std::path::Path;
use std::time::Duration;

use tokio::net::UnixStream;
use tokio::time::Instant;

use crate::error::ClientError;
use crate::user;

/// The first pause before retrying a connect refused for a full backlog.
const FIRST_RETRY: Duration = Duration::from_millis(5);
/// The longest pause between those retries.
const MAX_RETRY: Duration = Duration::from_millis(200);

/// Connects to `socket` within `timeout` and checks who serves it.
pub(super) async fn connect(socket: &Path, timeout: Duration) -> Result<UnixStream, ClientError> {
    if let Some(len) = crate::socket::too_long(socket) {
        return Err(ClientError::PathTooLong {
            socket: socket.to_owned(),
            len,
        });
    }
    let deadline = Instant::now() + timeout;
    let timed_out = || ClientError::Timeout {
        socket: socket.to_owned(),
        after: timeout,
    };
    let mut pause = FIRST_RETRY;
    let stream = loop {
        match tokio::time::timeout_at(deadline, UnixStream::connect(socket)).await {
            Err(_) => return Err(timed_out()),
            Ok(Ok(stream)) => break stream,
            // The server's backlog is full: it is busy accepting; retry.
            Ok(Err(error)) if error.kind() == io::ErrorKind::WouldBlock => {
                if Instant::now() + pause >= deadline {
                    return Err(timed_out());
                }
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(MAX_RETRY);
            }
            Ok(Err(source)) => return Err(connect_error(socket, source)),
        }
    };
    check_server(socket, &stream)?;
    Ok(stream)
}

/// Refuses a server whose uid is not our effective uid.
fn check_server(socket: &Path, stream: &UnixStream) -> Result<(), ClientError> {
    let cred = stream
        .peer_cred()
        .map_err(|source| ClientError::PeerCredentials {
            socket: socket.to_owned(),
            source,
        })?;
    let own = user::effective_uid();
    if cred.uid() == own {
        return Ok(());
    }
    Err(ClientError::ForeignServer {
        socket: socket.to_owned(),
        uid: cred.uid(),
        user: user::name_text(cred.uid()),
        own,
    })
}

fn connect_error(socket: &Path, source: io::Error) -> ClientError {
    let socket = socket.to_owned();
    match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            ClientError::NoDaemon { socket, source }
        }
        _ => ClientError::Connect { socket, source },
    }
}
